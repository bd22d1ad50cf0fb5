#!/usr/bin/env python3
"""The numpy peer of `margin-engine run` (issue 17): deribit-pm, span, var-hs, var-mc and standard margin with equity
and status, written from docs/methodology.md sections 1-6 and docs/data.md, not from the engine's code.

  python3 margin_peer.py --market DIR --positions F --balances F --out F [--format csv|npz]
      [--models deribit-pm,span[,var-hs,var-mc]] [--history DIR] [--mc-scenarios FILE] [--set NAME[.KEY]=VALUE]

DIR holds instruments.csv and underlyings.csv; the book is positions.csv and balances.csv (bench/peer/exportCsv.ts
writes them from the engine's Arrow files; times in epoch ms). Writes one CSV row per (model, account, unit): mm, im,
the worst scenario id, equity, status and the liquidity add-on, in the unit's currency (span: USD per underlying, with
the account's equity and status; var-hs and var-mc: USD per account, unit ALL); prints one JSON line: phase times (s)
and row counts. numpy, pandas, scipy only.
Where the page leaves a choice open: a unit exists for each (account, unit) with a position or a non-zero balance in
it, and a unit without positions has no worst id; the worst id is the first scenario whose loss is the largest (a
one-underlying unit keeps its vector, §4a, so a unit that never loses names its first zero-loss scenario, where the
engine, docs/conventions.md, applies adj() and names id 0); standard rows carry the deribit-pm unit's equity and
add-on, and standard IM has no add-on (standard rows are written whatever --models says, as the engine does); for
linear options, standard margin multiplies the coin rates (0.15, 0.10, 0.075) by S and keeps the USD mark as it is.
History (--history DIR: <U>-USD_1d.csv with datetime and close, gapless; dvol_<u>.csv with date and dvol): a close
dated D counts as "on or before the snapshot" when D is on or before the snapshot's UTC date; span's PSR comes from
the last psr_window closes of each underlying with a price file (the defaults for the others); var-hs and var-mc
need a price file for every underlying. var: every account of the book gets one row (unit ALL; coin balances are spot
positions, cash has no P&L), its worst id is the set's scenario id (0-based, in the set) of the first largest loss;
k = ceil(N(1 - alpha)) and span's nearest rank ceil(q n) ignore float noise within 1e-9 (docs/conventions.md: N =
1,000, alpha = 0.99 gives k = 10). var-mc draws its own scenarios (numpy's PCG64 seeded with mc_seed, normals and a
chi-square from it; the EWMA covariance from the first date every underlying has a close) unless --mc-scenarios
names a scenario file (`margin-engine scenarios --family monte-carlo --out F.csv`: columns dt_days, <U>_move,
<U>_vol_mult), which it then revalues as it is. The var P&L (instruments and spot x scenarios, USD) is aggregated in
blocks of accounts (sparse positions @ dense P&L), each block's k largest losses by np.partition.
"""
import argparse, json, os, sys, time
import numpy as np, pandas as pd
from scipy import sparse
from scipy.special import ndtr

# §6 defaults (those of the engine's parameter file); per-underlying tables fall back to 'other'
P = dict(R={'BTC': .16, 'ETH': .18, 'other': .25}, B=4, vru={'BTC': .5, 'ETH': .4, 'other': .5}, vrd=.25, pst=.30,
         plt=.13, minvol=.5, etf=1., ext=[-.66, -.33, .5, 1., 2., 3., 4., 5.], mm_factor=.8, offset=0.,
         amr={'BTC': .075, 'ETH': .05, 'USDC': .1, 'other': .1},
         mam={'BTC': .01, 'ETH': .005, 'USDC': .01, 'other': .01},
         psr={'BTC': .12, 'ETH': .15, 'other': .20}, vsr={'other': .25}, xmult=2., xcover=.35, som=.01, im_factor=1.1,
         im_base={'other': .02}, mm_base={'other': .01}, im_per_coin={'BTC': .00005, 'ETH': .000004, 'other': .00005},
         oi_share=.05, half_spread=.0005, max_conc=5.,
         # span's PSR from history (§4b), var (§3c, §3d, §4c); counts and days are read as integers
         psr_q=.99, psr_h=2, psr_window=365, alpha=.99, var_h=2, lookback=1000, lam=.94, seed_days=30, filtered=1.,
         mc_n=10000, nu=4, mc_seed=20260201, beta={'other': -1.}, var_mm=.8)
CASH = ('USD', 'USDC', 'USDT')
MODELS = ('deribit-pm', 'span', 'var-hs', 'var-mc')
DAY_MS = 86400e3
STATUS = np.array(['ok', 'margin_call', 'liquidation'], dtype=object)


def per(table, keys):
    return np.array([table.get(k, table['other']) for k in keys], dtype=float)


def col(df, name):
    """A float column; all NaN when the file does not have this optional column."""
    return df[name].to_numpy(float) if name in df else np.full(len(df), np.nan)


def black76(F, K, T, sig, r, call):
    """Black-76 value in USD; the discounted intrinsic value where sig*sqrt(T) < 1e-12. Arrays broadcast."""
    sd = sig * np.sqrt(T)
    live = sd >= 1e-12
    sds = np.where(live, sd, 1.0)
    d1 = (np.log(F / K) + 0.5 * sds * sds) / sds
    d2 = d1 - sds
    w = np.where(call, 1.0, -1.0)  # a put is -(F N(-d1) - K N(-d2)): the same bits as K N(-d2) - F N(-d1)
    v = w * (F * ndtr(w * d1) - K * ndtr(w * d2))
    return np.exp(-r * T) * np.where(live, v, np.maximum(np.where(call, F - K, K - F), 0.0))


def group_sum(rows, nrows, values):
    """The rows of the dense matrix `values` summed into `nrows` groups (row k into group rows[k]): a sparse product."""
    g = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(nrows, len(rows)))
    return g @ values


def fail(msg):
    sys.stderr.write(f'margin_peer: {msg}\n')
    sys.exit(2)


def ceil_noise(x):
    """ceil(x), where x within 1e-9 of an integer counts as that integer (docs/conventions.md: float noise)."""
    n = round(x)
    return int(n) if abs(x - n) <= 1e-9 else int(np.ceil(x))


def read_days(values):
    """'YYYY-MM-DD' strings as days since 1970-01-01."""
    return np.asarray(values, dtype=str).astype('datetime64[D]').astype(np.int64)


def load_history(hdir, ulist, snap_day):
    """Per underlying with a price file: (days, closes) up to the snapshot's date; per underlying with a vol index
    file: (days, values), all of them (a value is looked up on or before a date)."""
    closes, index = {}, {}
    for u in ulist:
        f = os.path.join(hdir, f'{u}-USD_1d.csv')
        if os.path.exists(f):
            h = pd.read_csv(f, usecols=['datetime', 'close'], dtype={'datetime': str}, float_precision='round_trip')
            days, c = read_days(h['datetime']), h['close'].to_numpy(float)
            if len(days) and not (np.diff(days) == 1).all():
                fail(f'{f}: the dates are not consecutive days')
            if not (np.isfinite(c) & (c > 0)).all():
                fail(f'{f}: a close is not a positive number')
            keep = days <= snap_day
            closes[u] = (days[keep], c[keep])
        f = os.path.join(hdir, f'dvol_{u.lower()}.csv')
        if os.path.exists(f):
            v = pd.read_csv(f, dtype={'date': str}, float_precision='round_trip')
            index[u] = (read_days(v['date']), v['dvol'].to_numpy(float))
    return closes, index


def psr_from_history(c):
    """§4b: e^q - 1, q the nearest-rank psr_q quantile of |psr_h-day overlapping log returns| over the last
    psr_window closes."""
    h, c = int(P['psr_h']), c[-int(P['psr_window']):]
    a = np.sort(np.abs(np.log(c[h:] / c[:-h])))
    return np.exp(a[ceil_noise(P['psr_q'] * len(a)) - 1]) - 1


def ewma_seeded(x, lam, n0):
    """The EWMA of the rows of x (axis 0), aligned with the closes (x[t - 1] is the return at close t): nan before
    close n0, the mean of the first n0 rows at close n0, then v[t] = lam v[t-1] + (1 - lam) x[t-1]. A recursion over
    the dates (a few thousand), so a loop: scipy.signal's lfilter does the same but costs 0.1-0.4 s to import."""
    v = np.full((len(x) + 1,) + x.shape[1:], np.nan)
    if len(x) < n0:
        return v
    v[n0] = np.mean(x[:n0], axis=0)
    for t in range(n0, len(x)):
        v[t + 1] = lam * v[t] + (1 - lam) * x[t]
    return v


def historical_set(closes, index, ulist):
    """§3c: the moves m and vol multipliers g (dates x underlyings) of the last `lookback` qualifying dates."""
    h, lam, n0 = int(P['var_h']), P['lam'], int(P['seed_days'])
    if any(u not in closes for u in ulist):
        fail(f'var-hs: no price history for {[u for u in ulist if u not in closes]}')
    first = np.array([closes[u][0][0] for u in ulist])
    # t qualifies when every underlying has closes at t and t - h and its EWMA (from its own first close) at t - h
    lo, hi = int((first + n0 + h).max()), int(min(closes[u][0][-1] for u in ulist))
    if lo > hi:
        fail('var-hs: no date has the history it needs')
    dates = np.arange(max(lo, hi - int(P['lookback']) + 1), hi + 1)
    m, g = np.empty((len(dates), len(ulist))), np.ones((len(dates), len(ulist)))
    for j, u in enumerate(ulist):
        c = closes[u][1]
        v = ewma_seeded(np.log(c[1:] / c[:-1]) ** 2, lam, n0)
        t = dates - first[j]
        r = np.log(c[t] / c[t - h])
        if P['filtered']:
            r = r * np.sqrt(v[t[-1]] / v[t - h])
        m[:, j] = np.exp(r) - 1
        if u in index:  # g = I[t] / I[t - h], each the last value on or before its date; 1 without one at t - h
            idays, ival = index[u]
            at, before = (np.searchsorted(idays, x, side='right') - 1 for x in (dates, dates - h))
            g[:, j] = np.where(before >= 0, ival[at] / ival[np.maximum(before, 0)], 1.0)
    return m, g, np.zeros(len(dates))


def monte_carlo_set(closes, ulist):
    """§3d, the peer's own draws: Student-t (nu) h-day log returns with covariance h x the EWMA covariance of daily
    log returns at the last common date (from the first date every underlying has a close)."""
    if any(u not in closes for u in ulist):
        fail(f'var-mc: no price history for {[u for u in ulist if u not in closes]}')
    lo, hi = max(closes[u][0][0] for u in ulist), min(closes[u][0][-1] for u in ulist)
    c = np.column_stack([closes[u][1][lo - closes[u][0][0]:hi - closes[u][0][0] + 1] for u in ulist])
    d = np.log(c[1:] / c[:-1])
    NU, N, nu = len(ulist), int(P['mc_n']), int(P['nu'])
    cov = ewma_seeded((d[:, :, None] * d[:, None, :]).reshape(len(d), NU * NU), P['lam'], int(P['seed_days']))[-1]
    L = np.linalg.cholesky(int(P['var_h']) * cov.reshape(NU, NU))
    rng = np.random.default_rng(int(P['mc_seed']))
    z, chi2 = rng.standard_normal((N, NU)), rng.chisquare(nu, N)
    r = np.sqrt((nu - 2) / nu) * (z @ L.T) / np.sqrt(chi2 / nu)[:, None]
    return np.exp(r) - 1, np.exp(per(P['beta'], ulist) * r), np.zeros(N)


def scenario_file(path, ulist):
    """A scenario set as `margin-engine scenarios` writes it (CSV): moves, vol multipliers and dt_days per row."""
    t = pd.read_csv(path, float_precision='round_trip')
    miss = [c for u in ulist for c in (f'{u}_move', f'{u}_vol_mult') if c not in t]
    if miss or 'dt_days' not in t:
        fail(f'{path}: no column {(miss or ["dt_days"])[0]}')
    rules = {u: set(t[f'{u}_vol_rule'].astype(str)) for u in ulist if f'{u}_vol_rule' in t}
    if any(r - {'mult'} for r in rules.values()):
        fail(f'{path}: a vol rule other than mult ({rules})')
    return (np.column_stack([t[f'{u}_move'].to_numpy(float) for u in ulist]),
            np.column_stack([t[f'{u}_vol_mult'].to_numpy(float) for u in ulist]), t['dt_days'].to_numpy(float))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for a in ('--market', '--positions', '--balances', '--out'):
        ap.add_argument(a, required=True)
    ap.add_argument('--set', action='append', default=[], metavar='NAME[.KEY]=VALUE', help='change a parameter of P')
    ap.add_argument('--format', choices=('csv', 'npz'), default='csv',
                    help='csv: one text row per (model, account, unit); npz: the same columns as numpy arrays '
                         '(account ids into one accounts array, unit and status as codes), uncompressed')
    ap.add_argument('--models', default='deribit-pm,span', help=f'some of {",".join(MODELS)} (standard is always '
                    'written); eod: deribit-pm,span,var-hs,var-mc')
    ap.add_argument('--history', metavar='DIR', help="daily closes and vol indices: span's PSR, var-hs, var-mc")
    ap.add_argument('--mc-scenarios', metavar='FILE', help="var-mc revalues this set (the engine's, as CSV) instead "
                    'of drawing its own')
    ap.add_argument('--chunk-mib', type=float, default=128, help='var: the P&L block of one group of accounts, MiB')
    args = ap.parse_args()
    models = args.models.split(',')
    if not models or any(m not in MODELS for m in models) or len(set(models)) < len(models):
        fail(f'--models {args.models}: each of {", ".join(MODELS)} at most once')
    var_models = [m for m in models if m.startswith('var-')]
    if 'var-hs' in models and not args.history or 'var-mc' in models and not (args.history or args.mc_scenarios):
        fail('var-hs needs --history, var-mc --history or --mc-scenarios')
    for s in args.set:  # e.g. --set mam.BTC=0.011 (the tests show that a changed peer disagrees)
        name, _, value = s.partition('=')
        k, _, sub = name.partition('.')
        if k not in P or bool(sub) != isinstance(P[k], dict):
            fail(f'--set {s}: no parameter {name}')
        P[k] = {**P[k], sub: float(value)} if sub else float(value)
    t0 = time.perf_counter()
    # ---- read (the market's few rows parsed exactly; the book with the default parser)
    ins = pd.read_csv(os.path.join(args.market, 'instruments.csv'), float_precision='round_trip')
    und = pd.read_csv(os.path.join(args.market, 'underlyings.csv'), float_precision='round_trip')
    pos = pd.read_csv(args.positions, dtype={'account': str, 'instrument': str})
    bal = pd.read_csv(args.balances, dtype={'account': str, 'currency': str})
    snap_day = int(float(und['snapshot_time'].iloc[0]) // DAY_MS)
    closes, vindex = load_history(args.history, list(und['underlying']), snap_day) if args.history else ({}, {})
    mc_file = scenario_file(args.mc_scenarios, list(und['underlying'])) if 'var-mc' in models and args.mc_scenarios \
        else None
    t1 = time.perf_counter()
    # ---- validate (instruments and currencies exist, numbers finite), merge duplicate rows, drop zeros
    ulist = list(und['underlying'])
    NU, NI = len(ulist), len(ins)
    ii = pd.Index(ins['instrument']).get_indexer(pos['instrument'])
    if (ii < 0).any():
        row = int(np.argmax(ii < 0))
        fail(f"positions row {row}: instrument {pos['instrument'][row]!r} is not in instruments")
    qty, amount = pos['quantity'].to_numpy(float), bal['amount'].to_numpy(float)
    if not (np.isfinite(qty).all() and np.isfinite(amount).all()):
        fail('a quantity or balance amount is not a finite number')
    bcur = bal['currency'].to_numpy(object)
    bu, cash = pd.Index(ulist).get_indexer(bcur), np.isin(bcur, CASH)
    if ((bu < 0) & ~cash).any():
        fail(f'balance currency {bcur[(bu < 0) & ~cash][0]!r} is neither an underlying nor cash')
    a_pos, accounts = pd.factorize(pd.concat([pos['account'], bal['account']], ignore_index=True))
    a_pos, a_bal, NA = a_pos[:len(pos)], a_pos[len(pos):], len(accounts)
    # per instrument (§1): underlying, index S, rate, forward F, strike K, T in 365-day years, vol, kind, settlement
    iu = pd.Index(ulist).get_indexer(ins['underlying'])
    S_u, r_u = und['index_price'].to_numpy(float), np.nan_to_num(col(und, 'rate'), nan=0.0)
    S, r, F = S_u[iu], r_u[iu], ins['forward'].to_numpy(float)
    T = np.nan_to_num((ins['expiry'].to_numpy(float) - float(und['snapshot_time'].iloc[0])) / (365 * 86400e3), nan=0.0)
    T = np.maximum(T, 0.0)
    opt, call = (ins['kind'] == 'option').to_numpy(), (ins['option_type'] == 'C').to_numpy()
    inv = (ins['settlement'] == 'inverse').to_numpy()
    K = np.where(opt, ins['strike'].to_numpy(float), 1.0)
    sig = np.where(opt, ins['mark_iv'].to_numpy(float), 0.2)
    mark = ins['mark_price'].to_numpy(float)
    keep = qty != 0
    kx, keys = pd.factorize(a_pos[keep].astype(np.int64) * NI + ii[keep])
    q = np.bincount(kx, qty[keep])
    # unrealised P&L of futures and perpetuals with an entry price (§5), row by row, summed like the quantities
    e, fk = col(pos, 'entry_price')[keep], F[ii[keep]]
    has = ~np.isnan(e) & ~opt[ii[keep]]
    upl_coin = np.bincount(kx, np.where(has, qty[keep] * (1 - e / fk), 0.0))
    upl_usd = np.bincount(kx, np.where(has, qty[keep] * (fk - e), 0.0))
    nz = q != 0
    keys, q, upl_coin, upl_usd = keys[nz], q[nz], upl_coin[nz], upl_usd[nz]
    pa, pi = (keys // NI).astype(np.intp), (keys % NI).astype(np.intp)
    aq, pu, popt, pinv, Fp, Sp = np.abs(q), iu[pi], opt[pi], inv[pi], F[pi], S[pi]
    # ---- §2, §3: vol shocks and both scenario sets, instruments x scenarios
    d = 365.0 * T
    f = (30.0 / np.maximum(d, 1.0)) ** np.where(d < 30, P['pst'], P['plt'])
    sig_up = sig + np.maximum(sig, P['minvol']) * per(P['vru'], ulist)[iu] * f
    sig_dn = np.maximum(sig * (1 - P['vrd'] * f), 0.01)
    V0 = black76(F, K, T, sig, r, call)
    R, B, ext = per(P['R'], ulist), P['B'], np.array(P['ext'])[:, None]
    grid = np.repeat(np.arange(-B, B + 1) / B, 3)[:, None] * R  # 27 x NU, ids (j + B)*3 + v
    m_opt = np.vstack([grid, np.repeat(ext, NU, axis=1)])  # 35 x NU: options move by the extended moves
    m_fut = np.vstack([grid, np.sign(ext) * R])  # futures: the standard edge move of the same sign
    w_pm = np.vstack([np.ones((len(grid), NU)), P['etf'] * R / np.abs(ext)])
    vrule = np.r_[np.tile([0, 1, 2], 2 * B + 1), np.zeros(len(ext), int)][:, None]  # 0 up, 1 none, 2 down
    frac = np.r_[[0, 0, 1, 1, -1, -1, 2, 2, -2, -2, 3, 3, -3, -3], [3 * P['xmult'], -3 * P['xmult']]] / 3.0
    psr = np.array([psr_from_history(closes[u][1]) if u in closes else p for u, p in zip(ulist, per(P['psr'], ulist))])
    m_sp = frac[:, None] * psr  # 16 x NU, the SPAN order
    vdir = np.r_[[1, -1] * 7, [0, 0]][:, None]
    w_sp = np.r_[np.ones(14), [P['xcover']] * 2][:, None]
    with np.errstate(invalid='ignore', divide='ignore'):
        Fs = F * (1 + m_opt[:, iu])
        Vs = black76(Fs, K, T, np.where(vrule == 0, sig_up, np.where(vrule == 1, sig, sig_dn)), r, call)
        pnl_o = np.where(inv, Vs / Fs - V0 / F, Vs - V0)  # coin for inverse options, USD for linear
        pnl_f = np.where(inv, 1 - 1 / (1 + m_fut[:, iu]), F * m_fut[:, iu])
        pnl_pm = (np.where(opt, pnl_o, pnl_f) * w_pm[:, iu]).T  # NI x 35, weighted
        sig_sp = np.where(vdir == 0, sig, np.maximum(sig * (1 + vdir * per(P['vsr'], ulist)[iu]), 0.01))
        Vs = black76(F * (1 + m_sp[:, iu]), K, T, sig_sp, r, call)
        pnl_sp = np.vstack([np.where(opt, Vs - V0, F * m_sp[:, iu]).T, (S_u * m_sp).T]) * w_sp.T  # (NI + NU spot) x 16
    # ---- §4e liquidity add-on per position: half spread in the unit's currency, times the concentration factor
    bid, ask, oi = (col(ins, c) for c in ('bid_price', 'ask_price', 'open_interest'))
    quoted = ~np.isnan(bid) & ~np.isnan(ask) & (ask >= bid)
    h = np.where(quoted, (ask - bid) / 2, 0.0)  # in the instrument's price unit: coin for inverse options
    h_usd = np.where(quoted, np.where(opt & inv, h * F, h), P['half_spread'] * F)
    h_pm = np.where(inv, np.where(quoted, np.where(opt, h, h / F), P['half_spread']), h_usd)
    oip = np.nan_to_num(oi[pi], nan=0.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        c = np.where(oip > 0, np.minimum(P['max_conc'], np.maximum(1.0, aq / (P['oi_share'] * oip))), 1.0)
    # ---- §4a deribit-pm per (account, settlement currency): currency code u for inverse instruments of u, NU USDC
    cnames = ulist + ['USDC']
    held = amount != 0  # a zero balance makes no unit
    ukey_b = (a_bal * (NU + 1) + np.where(cash, NU, bu))[held]
    ux, units = pd.factorize(np.r_[pa * (NU + 1) + np.where(pinv, pu, NU), ukey_b])
    up, ub, NPM = ux[:len(pa)], ux[len(pa):], len(units)
    sx, subs = pd.factorize(up.astype(np.int64) * NU + pu)  # one weighted vector p_u per underlying of a unit
    p_sub = sparse.csr_matrix((q, (sx, pi)), shape=(len(subs), NI)) @ pnl_pm
    s_unit = (subs // NU).astype(np.intp)
    multi = np.bincount(s_unit, minlength=NPM)[s_unit] > 1  # Σ_u adj(p_u) where a unit has several underlyings
    p_sub[multi] = np.where(p_sub[multi] < 0, p_sub[multi], P['offset'] * p_sub[multi])
    p_pm = group_sum(s_unit, NPM, p_sub)
    worst_pm = np.argmax(-p_pm, axis=1)
    wc = np.maximum(0.0, -p_pm[np.arange(NPM), worst_pm])
    ucur = (units % (NU + 1)).astype(np.intp)
    usdc = ucur[up] == NU
    mam, amr = per(P['mam'], cnames)[ucur[up]], per(P['amr'], cnames)[ucur[up]]  # keyed by the unit's currency
    roll = np.bincount(up, np.where(popt, 0.0, aq * np.maximum(mam, amr * T[pi]) * np.where(usdc, Fp, 1.0)), NPM)
    liq_pm = np.bincount(up, aq * h_pm[pi] * c, NPM)
    mm_pm, im_pm = P['mm_factor'] * (wc + roll), wc + roll + liq_pm
    value = np.where(popt, q * np.where(pinv, V0[pi] / Fp, V0[pi]), np.where(pinv, upl_coin, upl_usd))
    eq_pm = np.bincount(ub, amount[held], NPM) + np.bincount(up, value, NPM)
    # ---- §4d standard margin per position, in the settlement currency
    cm = np.where(pinv, 1.0, Sp)
    mk, Kp = mark[pi], K[pi]
    s_call, s_put = (q < 0) & popt & call[pi], (q < 0) & popt & ~call[pi]
    im_c = (np.maximum(0.15 - np.maximum(Kp - Fp, 0) / Sp, 0.10) * cm + mk) * aq
    mm_c = (0.075 * cm + mk) * aq
    mm_p = (np.maximum(0.075 * cm, 0.075 * mk) + mk) * aq
    im_p = np.maximum((np.maximum(0.15 - np.maximum(Fp - Kp, 0) / Sp, 0.10) * cm + mk) * aq, mm_p)
    ipc, fmul = per(P['im_per_coin'], ulist)[pu], aq * np.where(pinv, 1.0, Fp)
    im_f = (per(P['im_base'], ulist)[pu] + ipc * aq) * fmul
    mm_f = (per(P['mm_base'], ulist)[pu] + ipc * aq) * fmul
    std_im = np.bincount(up, np.where(popt, np.where(s_call, im_c, np.where(s_put, im_p, 0.0)), im_f), NPM)
    std_mm = np.bincount(up, np.where(popt, np.where(s_call, mm_c, np.where(s_put, mm_p, 0.0)), mm_f), NPM)
    # ---- §4b span per (account, underlying), USD, coin balances as spot positions (columns NI + u)
    coin = ~cash & held
    sx2, sunits = pd.factorize(np.r_[pa * NU + pu, a_bal[coin] * NU + bu[coin]])
    NS, sp_p = len(sunits), sx2[:len(pa)]
    Qs = sparse.csr_matrix((np.r_[q, amount[coin]], (sx2, np.r_[pi, NI + bu[coin]])), shape=(NS, NI + NU))
    p_sp = Qs @ pnl_sp
    worst_sp = np.argmax(-p_sp, axis=1)
    scan = np.maximum(0.0, -p_sp[np.arange(NS), worst_sp])
    som = P['som'] * np.bincount(sp_p, np.where((q < 0) & popt, aq * Sp, 0.0), NS)
    liq_sp = np.bincount(sp_p, aq * h_usd[pi] * c, NS)
    mm_sp = np.maximum(scan, som)
    im_sp = P['im_factor'] * mm_sp + liq_sp
    # §5 account equity in USD: balances at the index (cash at 1), option values, futures' unrealised P&L
    eq_acc = (np.bincount(a_bal, amount * np.where(cash, 1.0, S_u[bu]), NA)
              + np.bincount(pa, np.where(popt, q * V0[pi], upl_usd), NA))
    sacc = (sunits // NU).astype(np.intp)
    mm_acc, im_acc = np.bincount(sacc, mm_sp, NA), np.bincount(sacc, im_sp, NA)
    # ---- §3c, §3d, §4c var per account, USD (all underlyings jointly, coin balances as spot): per set, the P&L of
    # every instrument and of one spot row per underlying, then each group of accounts' P&L (sparse @ dense) and its
    # largest losses
    tv, var_rows, nscen = {}, {}, {}
    if var_models:
        t = time.perf_counter()
        sets = [historical_set(closes, vindex, ulist) if k == 'var-hs' else mc_file if mc_file is not None
                else monte_carlo_set(closes, ulist) for k in var_models]
        tv['var_sets'] = time.perf_counter() - t
        nscen = {k: len(st[0]) for k, st in zip(var_models, sets)}
        # each set's P&L as blocks of `cb` scenarios (instruments and spot rows x scenarios, contiguous): a block
        # stays in cache while the sparse positions of a group of accounts are multiplied into it
        oix, fix, cb = np.flatnonzero(opt), np.flatnonzero(~opt), 512
        X = []
        for m, g, dt in sets:
            X.append([])
            for b in range(0, len(m), cb):
                mb, gb = m[b:b + cb], g[b:b + cb]
                x = np.empty((NI + NU, len(mb)))
                x[NI:] = (S_u * mb).T
                x[fix] = (F[fix] * mb[:, iu[fix]]).T
                Tb = np.maximum(T[oix] - dt[b:b + cb, None] / 365, 0.0)
                Vs = black76(F[oix] * (1 + mb[:, iu[oix]]), K[oix], Tb, sig[oix] * gb[:, iu[oix]], r[oix], call[oix])
                x[oix] = (Vs - V0[oix]).T
                X[-1].append(x)
        tv['var_revalue'] = time.perf_counter() - t - tv['var_sets']
        Qv = sparse.csr_matrix((np.r_[q, amount[coin]], (np.r_[pa, a_bal[coin]], np.r_[pi, NI + bu[coin]])),
                               shape=(NA, NI + NU))
        worst_v, es_v, tp = {}, {}, 0.0
        for k, blocks in zip(var_models, X):
            n = nscen[k]
            kk = max(1, ceil_noise(n * (1 - P['alpha'])))
            step = max(1, int(args.chunk_mib * 2 ** 20 // (8 * n)))  # accounts per group
            buf, worst_v[k], es_v[k] = np.empty((min(step, NA), n)), np.empty(NA, np.int64), np.empty(NA)
            for a0 in range(0, NA, step):
                Qb = Qv[a0:a0 + step]
                pb = buf[:Qb.shape[0]]  # the group's P&L, accounts x scenarios
                t0p = time.perf_counter()
                for j, x in enumerate(blocks):
                    pb[:, j * cb:j * cb + x.shape[1]] = Qb @ x
                tp += time.perf_counter() - t0p
                worst_v[k][a0:a0 + step] = np.argmin(pb, axis=1)  # the first largest loss
                pb.partition(kk - 1, axis=1)  # in place: the kk smallest P&L (the kk largest losses) first
                es_v[k][a0:a0 + step] = -pb[:, :kk].sum(axis=1) / kk
        liq_acc = np.bincount(pa, aq * h_usd[pi] * c, NA)
        for k in var_models:
            es = np.maximum(es_v[k], 0.0)
            var_rows[k] = (P['var_mm'] * es, es + liq_acc, worst_v[k])
        tv['var_aggregate'] = time.perf_counter() - t - tv['var_sets'] - tv['var_revalue']
        tv['var_aggregate_product'] = tp  # of which the sparse @ dense products (the rest: argmin, partition, sums)
    t2 = time.perf_counter()

    # ---- report: §5 status, then the rows as CSV (floats as repr: they read back to the same bits) or npz
    def status_code(eq, mm, im):
        return np.where(eq < mm, 2, np.where(eq < im, 1, 0)).astype(np.int8)

    def status(eq, mm, im):
        return STATUS[status_code(eq, mm, im)]

    has_pos = np.bincount(up, minlength=NPM) > 0
    pm, sp = 'deribit-pm' in models, 'span' in models
    if args.format == 'npz':
        z = dict(accounts=np.asarray(accounts, dtype=str), units_pm=np.array(cnames), units_span=np.array(ulist),
                 status_names=STATUS.astype(str), pm_account=(units // (NU + 1)).astype(np.int32),
                 pm_unit=ucur.astype(np.int8), pm_mm=mm_pm, pm_im=im_pm,
                 pm_worst=np.where(has_pos, worst_pm, -1).astype(np.int16), pm_equity=eq_pm,
                 pm_status=status_code(eq_pm, mm_pm, im_pm), pm_liquidity=liq_pm,
                 span_account=sacc.astype(np.int32), span_unit=(sunits % NU).astype(np.int8), span_mm=mm_sp,
                 span_im=im_sp, span_worst=worst_sp.astype(np.int16), span_equity=eq_acc[sacc],
                 span_status=status_code(eq_acc, mm_acc, im_acc)[sacc], span_liquidity=liq_sp,
                 standard_mm=std_mm, standard_im=std_im, standard_status=status_code(eq_pm, std_mm, std_im))
        if not pm:  # the pm unit columns stay: standard's rows are on them
            z = {k: v for k, v in z.items() if k not in ('pm_mm', 'pm_im', 'pm_worst', 'pm_status')}
        if not sp:
            z = {k: v for k, v in z.items() if not k.startswith('span_')}
        if var_models:  # var: row i is account i; equity and add-on are the account's
            z.update(account_equity=eq_acc, account_liquidity=liq_acc)
        for k, (mm, im, worst) in var_rows.items():
            p = k.replace('-', '_')
            z.update({f'{p}_mm': mm, f'{p}_im': im, f'{p}_worst': worst.astype(np.int32),
                      f'{p}_status': status_code(eq_acc, mm, im)})
        with open(args.out, 'wb') as out:
            np.savez(out, **z)
    else:
        def floats(x):
            return list(map(repr, np.asarray(x, dtype=float).tolist()))

        acc = np.asarray(accounts, dtype=object)
        pm_acc, pm_unit = acc[(units // (NU + 1)).astype(np.intp)], np.array(cnames, dtype=object)[ucur]
        pm_worst = np.where(has_pos, worst_pm.astype(str), '').astype(object)
        liq_s, eq_s = floats(liq_pm), floats(eq_pm)
        parts = []
        if pm:
            parts.append((['deribit-pm'] * NPM, pm_acc, pm_unit, floats(mm_pm), floats(im_pm), pm_worst, eq_s,
                          status(eq_pm, mm_pm, im_pm), liq_s))
        if sp:
            parts.append((['span'] * NS, acc[sacc], np.array(ulist, dtype=object)[sunits % NU], floats(mm_sp),
                          floats(im_sp), worst_sp.astype(str).astype(object), floats(eq_acc[sacc]),
                          status(eq_acc, mm_acc, im_acc)[sacc], floats(liq_sp)))
        parts.append((['standard'] * NPM, pm_acc, pm_unit, floats(std_mm), floats(std_im), [''] * NPM, eq_s,
                      status(eq_pm, std_mm, std_im), liq_s))
        if var_models:
            eqa_s, liqa_s = floats(eq_acc), floats(liq_acc)
        for k, (mm, im, worst) in var_rows.items():
            parts.append(([k] * NA, acc, ['ALL'] * NA, floats(mm), floats(im), worst.astype(str).astype(object), eqa_s,
                          status(eq_acc, mm, im), liqa_s))
        with open(args.out, 'w') as out:
            out.write('model,account,unit,mm,im,worst_scenario,equity,status,liquidity_addon\n')
            for part in parts:
                out.write(''.join(map('{},{},{},{},{},{},{},{},{}\n'.format, *part)))
    t3 = time.perf_counter()
    rows = dict(rows_deribit_pm=NPM if pm else 0, rows_span=NS if sp else 0, rows_standard=NPM,
                **{f"rows_{k.replace('-', '_')}": NA for k in var_models})
    print(json.dumps(dict(read=t1 - t0, compute=t2 - t1, write=t3 - t2, total=t3 - t0, **tv, positions_read=len(pos),
                          positions=len(q), balances=len(bal), accounts=NA, instruments=NI, rows=sum(rows.values()),
                          **rows, scenarios=len(w_pm) + len(w_sp) + sum(nscen.values()),
                          **{f'psr_{u}': float(x) for u, x in zip(ulist, psr)})))


if __name__ == '__main__':
    main()
