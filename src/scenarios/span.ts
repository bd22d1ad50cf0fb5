/**
 * The `span` scenario family (docs/methodology.md §3b): the 16 scenarios of a SPAN risk array.
 */
import { dayOfMs } from '../history/dates.js';
import type { History } from '../history/types.js';
import type { Market } from '../model/market.js';
import { forUnderlying, type Params } from '../params/params.js';
import { allocateSet } from './allocate.js';
import { psrFromHistory, type PsrCalibration } from './psr.js';
import { VOL_NONE, VOL_REL_DOWN, VOL_REL_UP, type ScenarioSet } from './types.js';

/**
 * The classic SPAN order (golden `span_risk_arrays_mcmillan.json`): [fraction of PSR, vol rule, extreme?].
 * Extremes move `extreme_multiple` × PSR.
 */
export const SPAN_ORDER: ReadonlyArray<readonly [number, 'up' | 'down' | 'none', boolean]> = [
  [0, 'up', false],
  [0, 'down', false],
  [1 / 3, 'up', false],
  [1 / 3, 'down', false],
  [-1 / 3, 'up', false],
  [-1 / 3, 'down', false],
  [2 / 3, 'up', false],
  [2 / 3, 'down', false],
  [-2 / 3, 'up', false],
  [-2 / 3, 'down', false],
  [1, 'up', false],
  [1, 'down', false],
  [-1, 'up', false],
  [-1, 'down', false],
  [1, 'none', true],
  [-1, 'none', true],
];

/**
 * Builds the 16 SPAN scenarios. Layout for several underlyings: **all underlyings move together in the
 * same 16 rows**, each by its own PSR_u (row s moves u by fraction_s · PSR_u, vol relative by VSR_u);
 * a span risk unit (account, underlying) only looks at its own underlying's column, so this is exactly
 * 16 per-underlying risk arrays side by side, in 16 rows instead of 16·U.
 * - PSR_u: from `history` when given (nearest-rank `psrQuantile` of |`psrHorizonDays`-day overlapping log
 *   returns| over the last `psrWindowDays` closes dated on or before the snapshot's UTC date;
 *   PSR = e^q − 1), else `span.psr` (defaults BTC 0.12, ETH 0.15, other 0.20).
 * - Vol: rel_up / rel_down with volParam = VSR_u; extremes vol none, weight `extremeCover`; others 1.
 * Δt = 0. ids 0..15; labels `1 unchanged, vol up` … `16 down extreme`. meta.psr records PSR per underlying.
 * @throws InputError when the history is too short for the PSR window.
 */
export function buildSpan(market: Market, params: Params, history?: History): ScenarioSet {
  const sp = params.span;
  const us = market.underlyings;
  const U = us.length;
  const snapDay = dayOfMs(market.snapshotTimeMs);
  const psr = new Float64Array(U);
  const vsr = new Float64Array(U);
  const calib: Record<string, PsrCalibration | { psr: number; source: string }> = {};
  for (let u = 0; u < U; u++) {
    const name = us[u]!;
    vsr[u] = forUnderlying(sp.vsr, name);
    const series = history?.prices.get(name);
    if (history && !series) throw new Error(`history was loaded without ${name}`);
    if (series) {
      const c = psrFromHistory(series, snapDay, sp.psrQuantile, sp.psrHorizonDays, sp.psrWindowDays);
      psr[u] = c.psr;
      calib[name] = c;
    } else {
      psr[u] = forUnderlying(sp.psr, name);
      calib[name] = { psr: psr[u]!, source: 'default (no history)' };
    }
  }
  const set = allocateSet('span', SPAN_ORDER.length, us);
  SPAN_ORDER.forEach(([f, vol, extreme], s) => {
    const mult = extreme ? sp.extremeMultiple : 1;
    set.label[s] =
      `${s + 1} ${extreme ? (f > 0 ? 'up extreme' : 'down extreme') : f === 0 ? 'unchanged' : `${f > 0 ? 'up' : 'down'} ${Math.round(Math.abs(f) * 3)}/3`}${vol === 'none' ? '' : `, vol ${vol}`}`;
    for (let u = 0; u < U; u++) {
      const i = s * U + u;
      const m = f * mult * psr[u]!;
      set.move[i] = m;
      set.deltaOneMove[i] = m;
      set.weight[i] = extreme ? sp.extremeCover : 1;
      set.volRule[i] = vol === 'up' ? VOL_REL_UP : vol === 'down' ? VOL_REL_DOWN : VOL_NONE;
      set.volParam[i] = vol === 'none' ? 1 : vsr[u]!;
    }
  });
  set.meta = {
    family: 'span',
    layout: 'all underlyings move together in the same 16 rows, each by its own PSR',
    psr: Object.fromEntries(us.map((u, i) => [u, psr[i]])),
    vsr: Object.fromEntries(us.map((u, i) => [u, vsr[i]])),
    psrCalibration: calib,
    extremeMultiple: sp.extremeMultiple,
    extremeCover: sp.extremeCover,
  };
  return set;
}
