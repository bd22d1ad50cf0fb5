/**
 * The float64 revaluation of a tile of instruments × scenarios (the cpu backend's body, and the reference
 * every float32 backend is checked against). Calls kernels/revalue.ts `revalueNormalised` directly.
 */
import { KIND_OPTION } from '../model/market.js';
import { revalueNormalised } from '../../kernels/revalue.js';
import type { RevalueColumns } from './revalueColumns.js';

export type { RevalueColumns } from './revalueColumns.js';

/**
 * Writes rows usdRow(i) and coinRow(i) for instruments [i0, i1) and scenarios [s0, s1) into `c.out`:
 * USD row F·norm (USD per unit of underlying), coin row (norm + v0)/(1+m) − v0 for options and
 * 1 − 1/(1+m') for futures and perpetuals (coin per unit), norm = revalueNormalised(…). Sign: gain to a
 * long position of one unit.
 */
export function revalueTile(c: RevalueColumns, i0: number, i1: number, s0: number, s1: number): void {
  const S = c.scenarios;
  const U = c.underlyings;
  const I = c.instruments;
  const out = c.out;
  const { volRangeDown, minVolForShockUp, shortTermVegaPower, longTermVegaPower } = c;
  for (let i = i0; i < i1; i++) {
    const u = c.underlying[i]!;
    const kind = c.kind[i]!;
    const isCall = c.isCall[i]!;
    const k = c.k[i]!;
    const t = c.tYears[i]!;
    const sigma = c.sigma[i]!;
    const rate = c.rate[i]!;
    const F = c.forward[i]!;
    const v0 = c.v0[i]!;
    const vru = c.volRangeUp[i]!;
    const usd = i * S;
    const coin = (I + i) * S;
    const option = kind === KIND_OPTION;
    for (let s = s0; s < s1; s++) {
      const j = s * U + u;
      const m = c.move[j]!;
      const m1 = c.deltaOneMove[j]!;
      const norm = revalueNormalised(kind, isCall, k, t, sigma, rate, m, m1, c.volRule[j]!, c.volParam[j]!, c.dtYears[s]!,
        vru, volRangeDown, minVolForShockUp, shortTermVegaPower, longTermVegaPower);
      out[usd + s] = F * norm;
      out[coin + s] = option ? (norm + v0) / (1 + m) - v0 : 1 - 1 / (1 + m1);
    }
  }
}
