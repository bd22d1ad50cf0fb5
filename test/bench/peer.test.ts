/**
 * Issue 17's numpy peer (bench/peer/margin_peer.py, an independent implementation of docs/methodology.md §1–6)
 * computes the engine's numbers: on each book below the engine runs into a DuckDB report, the peer reads the same
 * inputs as CSV (bench/peer/exportCsv.ts), and every (model, account, unit) row of account_margin must be in the
 * peer's output and the reverse, with MM, IM, equity and the liquidity add-on equal to 1e-9 relative (1e-9 absolute
 * floor), the same status, and the same worst scenario wherever the unit loses something (bench/peer.ts,
 * comparePeer, says why a unit that loses nothing may name another). A peer with one parameter changed must fail.
 * The eod models (docs/performance.md: `--models deribit-pm,span,var-hs,var-mc --history data/history`) are checked
 * on the same books: span with its PSR calibrated from history, var-hs on the historical set the peer builds from
 * data/history, var-mc on the engine's own Monte Carlo set (`margin-engine scenarios --family monte-carlo`, read by the
 * peer's --mc-scenarios: the engine's generator is its own, docs/conventions.md).
 *
 * The peer runs under MARGIN_ENGINE_PEER_PYTHON (default /usr/bin/python3: Debian's python3-numpy, python3-pandas,
 * python3-scipy).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { comparePeer, peerArgs, type PeerComparison, type PeerRunOptions } from '../../bench/peer.js';
import { exportCsv, type PeerCsv } from '../../bench/peer/exportCsv.js';
import { COMMAND } from '../helpers/command.js';
import { tempDir, writeBook, writeMarket } from '../fixtures/io/arrowTables.js';
import { writeSynthetic } from '../fixtures/io/syntheticBook.js';

const ROOT = join(import.meta.dirname, '../..');
const PYTHON = process.env.MARGIN_ENGINE_PEER_PYTHON ?? '/usr/bin/python3';
const HISTORY = join(ROOT, 'data/history');
const EOD_MODELS = ['deribit-pm', 'span', 'var-hs', 'var-mc'];

interface Inputs {
  marketDir: string;
  positions: string;
  balances: string;
}

let dir: string;
/** Each book's engine report and CSV inputs, made once. */
const made = new Map<string, { db: string; csv: PeerCsv }>();
/** Each book's eod report and the engine's Monte Carlo set for its market (CSV), made once. */
const eod = new Map<string, { db: string; mc: string }>();

/**
 * The books: the bundled sample (the real Deribit chain of data/sample/market, 1,000 generated accounts); a synthetic
 * one with linear (USDC) instruments on BTC and ETH (USDC units of two underlyings), duplicate rows, Int64 accounts,
 * no quotes, open interest or rates; the small hand-made one (a rate of 1 %, a zero row, USDT, a negative balance,
 * a zero balance, an account of USDC alone).
 */
function books(): Record<string, Inputs> {
  const syn = join(dir, 'synthetic');
  mkdirSync(syn);
  writeSynthetic(syn, { instruments: 120, accounts: 300, positions: 3000, seed: 5, accountType: 'int64' });
  const small = join(dir, 'small');
  mkdirSync(small);
  writeMarket(undefined, 'file', small);
  // dave holds nothing (a zero balance), erin only USDC: units of balances alone
  writeBook(small, (_p, b) => {
    b.account!.values.push('dave', 'erin');
    b.currency!.values.push('ETH', 'USDC');
    b.amount!.values.push(0, 2500);
  });
  const own = (d: string) => ({
    marketDir: d,
    positions: join(d, 'positions.arrow'),
    balances: join(d, 'balances.arrow'),
  });
  return {
    sample: {
      marketDir: join(ROOT, 'data/sample/market'),
      positions: join(ROOT, 'data/sample/book/positions.arrow'),
      balances: join(ROOT, 'data/sample/book/balances.arrow'),
    },
    synthetic: own(syn),
    small: own(small),
  };
}

function command(args: string[]): void {
  const r = spawnSync(process.execPath, [COMMAND, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`margin-engine ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
}

/** The engine's report of `models` (and `--history` when given) on a book. */
function runEngine(name: string, inputs: Inputs, models = ['deribit-pm', 'span'], history?: string): string {
  const db = join(dir, `${name}.duckdb`);
  const args = ['run', '--market', inputs.marketDir, '--positions', inputs.positions, '--balances', inputs.balances];
  command([...args, '--models', models.join(','), ...(history ? ['--history', history] : []), '--db', db, '--quiet']);
  return db;
}

/** Runs the peer on a book's CSV files into `out`; returns its JSON line (phase times, counts). */
function runPeer(csv: PeerCsv, out: string, extra: string[] = [], opts: PeerRunOptions = {}): Record<string, number> {
  const args = [...peerArgs(csv, out, 'csv', opts), ...extra];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/** The peer's options for the eod models on a book, var-mc on the engine's set. */
const eodPeer = (name = 'sample'): PeerRunOptions => ({
  models: EOD_MODELS,
  history: HISTORY,
  mcScenarios: eod.get(name)!.mc,
});

function expectAgreement(c: PeerComparison): void {
  expect(c.examples).toEqual([]);
  expect(c.engineRows).toBeGreaterThan(0);
  expect(c.peerRows).toBe(c.engineRows);
  expect([c.unmatched, c.valueMismatches, c.worstMismatches, c.statusMismatches]).toEqual([0, 0, 0, 0]);
  expect(c.maxRelMm).toBeLessThan(1e-9);
  expect(c.maxRelIm).toBeLessThan(1e-9);
}

beforeAll(() => {
  dir = tempDir('me-peer-');
  for (const [name, inputs] of Object.entries(books())) {
    made.set(name, { db: runEngine(name, inputs), csv: exportCsv(inputs, join(dir, `${name}-csv`)) });
    const mc = join(dir, `${name}-mc.csv`);
    command(['scenarios', '--family', 'monte-carlo', '--market', inputs.marketDir, '--history', HISTORY, '--out', mc]);
    eod.set(name, { db: runEngine(`${name}-eod`, inputs, EOD_MODELS, HISTORY), mc });
  }
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the numpy peer and the engine', () => {
  test.each(['sample', 'synthetic', 'small'])('agree on every unit of the %s book', async (name) => {
    const { db, csv } = made.get(name)!;
    const out = join(dir, `${name}-peer.csv`);
    const info = runPeer(csv, out);
    expect(info.scenarios).toBe(35 + 16);
    expectAgreement(await comparePeer(db, out));
  });

  test.each(['synthetic', 'sample eod'])(
    'its npz report (the lean one bench/peer.ts also times) holds the rows of its CSV report (%s)',
    (name) => {
      const isEod = name === 'sample eod';
      const { csv } = made.get(isEod ? 'sample' : name)!;
      const opts = isEod ? eodPeer() : {};
      const stem = join(dir, `${name.replace(' ', '-')}-peer`);
      const out = `${stem}.npz`;
      const info = runPeer(csv, out, ['--format', 'npz'], opts);
      expect(info.rows).toBeGreaterThan(0);
      // the CSV of the same inputs, rebuilt from the npz columns, must equal the CSV the peer writes (floats by bits)
      const code = `
import sys, numpy as np, pandas as pd
z, c = np.load(sys.argv[1]), pd.read_csv(sys.argv[2], float_precision='round_trip', keep_default_na=False)
acc, names = z['accounts'], z['status_names']
def rows(model, p, units, mm, im, worst, eq, liq):
    a = z[p + '_account'] if p != 'standard' else z['pm_account']
    u = z[p + '_unit'] if p != 'standard' else z['pm_unit']
    return pd.DataFrame(dict(model=model, account=acc[a], unit=units[u], mm=mm, im=im, worst_scenario=worst,
                             equity=eq, status=names[z[p + '_status']], liquidity_addon=liq))
pmw = [str(w) if w >= 0 else '' for w in z['pm_worst']]
got = pd.concat([
    rows('deribit-pm', 'pm', z['units_pm'], z['pm_mm'], z['pm_im'], pmw, z['pm_equity'], z['pm_liquidity']),
    rows('span', 'span', z['units_span'], z['span_mm'], z['span_im'], [str(w) for w in z['span_worst']],
         z['span_equity'], z['span_liquidity']),
    rows('standard', 'standard', z['units_pm'], z['standard_mm'], z['standard_im'], [''] * len(pmw), z['pm_equity'],
         z['pm_liquidity'])] + [
    pd.DataFrame(dict(model=m, account=acc, unit='ALL', mm=z[p + '_mm'], im=z[p + '_im'],
                      worst_scenario=[str(w) for w in z[p + '_worst']], equity=z['account_equity'],
                      status=names[z[p + '_status']], liquidity_addon=z['account_liquidity']))
    for m, p in (('var-hs', 'var_hs'), ('var-mc', 'var_mc')) if p + '_mm' in z], ignore_index=True)
c['worst_scenario'] = c['worst_scenario'].astype(str)
c['account'] = c['account'].astype(str)
pd.testing.assert_frame_equal(got.astype({'account': str}), c, check_dtype=False, check_exact=True)
print(len(got))`;
      const csvOut = `${stem}-for-npz.csv`;
      runPeer(csv, csvOut, [], opts);
      const r = spawnSync(PYTHON, ['-c', code, out, csvOut], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(Number(r.stdout.trim())).toBe(info.rows);
      if (isEod) expect(info.rows_var_mc).toBe(1000);
    },
  );

  test('a peer whose roll shock is off (min_annualised_move BTC 0.011, not 0.01) disagrees on BTC units', async () => {
    const { db, csv } = made.get('sample')!;
    const out = join(dir, 'sample-peer-roll.csv');
    runPeer(csv, out, ['--set', 'mam.BTC=0.011']);
    const c = await comparePeer(db, out);
    expect(c.valueMismatches).toBeGreaterThan(0);
    expect(new Set(c.examples.map((r) => `${String(r.model)} ${String(r.unit)}`))).toEqual(new Set(['deribit-pm BTC']));
  });

  test('one changed MM, a changed worst scenario and a missing row are each found', async () => {
    const { db } = made.get('sample')!;
    const good = join(dir, 'sample-peer.csv');
    const lines = readFileSync(good, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    const at = (name: string) => header.indexOf(name);
    // the first deribit-pm row that loses something: MM × (1 + 1e-8); the next one: its worst scenario + 1
    const rows = lines.map((l) => l.split(','));
    const [r1, r2] = rows.filter(
      (r) => r[at('model')] === 'deribit-pm' && r[at('worst_scenario')] !== '' && Number(r[at('mm')]) > 1,
    ) as [string[], string[]];
    r1[at('mm')] = String(Number(r1[at('mm')]) * (1 + 1e-8));
    r2[at('worst_scenario')] = String((Number(r2[at('worst_scenario')]) + 1) % 35);
    const bad = join(dir, 'sample-peer-bad.csv');
    writeFileSync(
      bad,
      rows
        .filter((_, i) => i !== rows.length - 1)
        .map((r) => r.join(','))
        .join('\n') + '\n',
    );
    const c = await comparePeer(db, bad);
    expect([c.unmatched, c.valueMismatches, c.worstMismatches, c.statusMismatches]).toEqual([1, 1, 1, 0]);
    expect(c.examples.map((r) => r.account).sort()).toEqual(
      [r1[at('account')], r2[at('account')], lines.at(-1)!.split(',')[at('account')]].sort(),
    );
  });
});

describe('the numpy peer and the engine, eod models (history, var)', () => {
  test.each(['sample', 'synthetic', 'small'])(
    'agree on every unit of the %s book: span with its PSR from history, var-hs, var-mc',
    async (name) => {
      const { csv } = made.get(name)!;
      const out = join(dir, `${name}-eod-peer.csv`);
      const info = runPeer(csv, out, [], eodPeer(name));
      expect(info.scenarios).toBe(35 + 16 + 1000 + 10000);
      // the nearest-rank 99th percentile of |2-day log returns| of the last 365 closes (as the engine's
      // `scenarios --family span --market data/sample/market --history` prints it), not the defaults 0.12 and 0.15
      if (name === 'sample')
        expect([info.psr_BTC, info.psr_ETH].map((x) => x!.toFixed(6))).toEqual(['0.115431', '0.173204']);
      const c = await comparePeer(eod.get(name)!.db, out);
      expectAgreement(c);
      expect(Object.keys(c.byModel).sort()).toEqual([...EOD_MODELS, 'standard'].sort());
      // one var row per account (a zero balance alone makes one too), in USD (unit ALL)
      expect([c.byModel['var-hs']!.engineRows, c.byModel['var-mc']!.engineRows]).toEqual([
        info.accounts,
        info.accounts,
      ]);
    },
  );

  test.each([
    ['alpha=0.975', 'α 0.99', ['var-hs', 'var-mc']],
    ['lam=0.95', 'λ 0.94', ['var-hs']],
  ])('a var peer with %s (the engine: %s) disagrees on %j only', async (set, _engine, bad) => {
    const { csv } = made.get('sample')!;
    const out = join(dir, `sample-eod-peer-${set}.csv`);
    runPeer(csv, out, ['--set', set], eodPeer());
    const c = await comparePeer(eod.get('sample')!.db, out);
    const wrong = Object.entries(c.byModel).filter(([, m]) => m.valueMismatches > 0);
    expect(wrong.map(([m]) => m).sort()).toEqual(bad);
    // nearly every account's ES moves (λ does not touch var-mc here: its draws are the engine's, read from its set)
    for (const [, m] of wrong) expect(m.valueMismatches).toBeGreaterThan(900);
  });
});
