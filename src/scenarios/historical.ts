/**
 * The `historical` scenario family (docs/methodology.md §3c): joint h-day moves of every underlying on past
 * dates, optionally EWMA-filtered, with the implied-vol index ratio as vol multiplier.
 */
import { fileError } from '../errors.js';
import { dayOfMs, formatDay } from '../history/dates.js';
import { commonSpan } from '../history/commonSpan.js';
import { volIndexOnOrBefore } from '../history/lookup.js';
import type { History } from '../history/types.js';
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import { allocateSet } from './allocate.js';
import { ewmaVariance } from './ewma.js';
import { VOL_MULT, type ScenarioSet } from './types.js';

/**
 * Builds one scenario per date t, for the last `lookbackDays` (or `lookbackDays` override) dates at
 * which every underlying of the market has a close at t and at t−h and an EWMA variance at t−h, ending at
 * the last such date dated on or before the snapshot's UTC date; ascending.
 * - r[t,u] = ln(P[t,u]/P[t−h,u]); filtered (default): r ← r·sqrt(v[T_last,u]/v[t−h,u]) with v the EWMA
 *   variance (λ = `ewmaLambda`, seeded by the mean of the first `ewmaSeedDays` squared daily returns of
 *   each underlying's own history) and T_last the last date used. Move m = e^r − 1 (relative), for options
 *   and delta-one alike.
 * - Vol: rule `mult` with g = I[t]/I[t−h] where the underlying has an index series (last value on or
 *   before each date; g = 1 when the index has no value on or before t−h), else g = 1.
 * Weight 1, Δt = 0, label = the date t (YYYY-MM-DD). meta: firstDate, lastDate, volIndex (which
 * underlyings had one, and from which file), filtered, horizonDays, lambda.
 * @throws InputError naming the closes file that limits the window when fewer dates are available.
 */
export function buildHistorical(market: Market, params: Params, history: History, lookbackDays?: number): ScenarioSet {
  const vp = params.var;
  const h = vp.horizonDays;
  const L = lookbackDays ?? vp.lookbackDays;
  const seed = vp.ewmaSeedDays;
  const us = market.underlyings;
  const U = us.length;
  const snapDay = dayOfMs(market.snapshotTimeMs);
  // First usable date of each underlying: v at t−h needs index t−h ≥ seed.
  const { series, first, last, limiting } = commonSpan(history, us, snapDay, seed + h);
  const available = Math.max(0, last - first + 1);
  if (available < L) {
    throw fileError(
      limiting.file,
      `does not reach back far enough: historical scenarios need ${L} dates with closes at t and t−${h} and an EWMA variance at t−${h} (${seed} returns of seed) for every underlying, ending on or before ${formatDay(snapDay)}; only ${available} such dates exist${available > 0 ? ` (${formatDay(first)} to ${formatDay(last)})` : ''}`,
    );
  }
  const t0 = last - L + 1;
  const v = series.map((s) => ewmaVariance(s.close, vp.ewmaLambda, seed));
  const set = allocateSet('historical', L, us);
  const volIndexUsed: Record<string, string> = {};
  const volIndexMissing: Record<string, number> = {};
  for (let u = 0; u < U; u++) {
    const s = series[u]!;
    const vi = history.volIndex.get(us[u]!);
    if (vi) {
      volIndexUsed[us[u]!] = vi.file;
      volIndexMissing[us[u]!] = 0;
    }
    const base = s.day[0]!;
    const vLast = v[u]![last - base]!;
    for (let k = 0; k < L; k++) {
      const t = t0 + k;
      const i = t - base;
      let r = Math.log(s.close[i]! / s.close[i - h]!);
      if (vp.filtered) r *= Math.sqrt(vLast / v[u]![i - h]!);
      const x = k * U + u;
      set.move[x] = Math.expm1(r);
      set.deltaOneMove[x] = set.move[x]!;
      set.volRule[x] = VOL_MULT;
      let g = 1;
      if (vi) {
        const a = volIndexOnOrBefore(vi, t),
          b = volIndexOnOrBefore(vi, t - h);
        if (Number.isNaN(a) || Number.isNaN(b)) volIndexMissing[us[u]!]!++;
        else g = a / b;
      }
      set.volParam[x] = g;
    }
  }
  for (let k = 0; k < L; k++) set.label[k] = formatDay(t0 + k);
  set.meta = {
    family: 'historical',
    firstDate: formatDay(t0),
    lastDate: formatDay(last),
    snapshotDate: formatDay(snapDay),
    horizonDays: h,
    lookbackDays: L,
    filtered: vp.filtered,
    ewmaLambda: vp.ewmaLambda,
    ewmaSeedDays: seed,
    volIndex: volIndexUsed,
    underlyingsWithVolIndex: Object.keys(volIndexUsed),
    volIndexDatesWithoutValue: volIndexMissing,
    historyDir: history.dir,
  };
  return set;
}
