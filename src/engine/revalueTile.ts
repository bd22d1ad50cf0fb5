/**
 * The float64 revaluation of a tile of instruments × scenarios (the cpu backend's body, and the reference
 * every float32 backend is checked against).
 *
 * Bit for bit kernels/revalue.ts `revalueNormalised`, evaluated in two parts: its base term
 * e^{−rT}·black76Norm(k, σ√T) does not depend on the scenario, so it is computed once per instrument
 * (RevalueColumns.v0, the same expression), and per cell only the moved term is evaluated, with the same
 * scalar kernels (shockedVol, black76Norm) and the same operations in the same order:
 * norm = (1+m)·e^{−rT'}·black76Norm(k/(1+m), σ'√T') − v0. That halves the Black-76 work per cell; the
 * tests check every cell against revalueNormalised to the bit.
 */
import { KIND_OPTION } from '../model/market.js';
import { shockedVol } from '../../kernels/revalue.js';
import { black76Norm } from '../../kernels/black76.js';
import type { RevalueColumns } from './revalueColumns.js';

export type { RevalueColumns } from './revalueColumns.js';

/**
 * Writes rows usdRow(i) and coinRow(i) for instruments [i0, i1) and scenarios [s0, s1) into `c.out`:
 * USD row F·norm (USD per unit of underlying), coin row (norm + v0)/(1+m) − v0 for options and
 * 1 − 1/(1+m') for futures and perpetuals (coin per unit), norm = revalueNormalised(…) (see above; for
 * futures and perpetuals norm = m'). Sign: gain to a long position of one unit.
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
    if (!option) {
      for (let s = s0; s < s1; s++) {
        const m1 = c.deltaOneMove[s * U + u]!;
        out[usd + s] = F * m1;
        out[coin + s] = 1 - 1 / (1 + m1);
      }
      continue;
    }
    for (let s = s0; s < s1; s++) {
      const j = s * U + u;
      const m = c.move[j]!;
      // = revalueNormalised(kind, isCall, k, t, sigma, rate, m, m1, volRule, volParam, dt, vru, …) to the bit
      const shocked = shockedVol(
        sigma,
        t,
        c.volRule[j]!,
        c.volParam[j]!,
        vru,
        volRangeDown,
        minVolForShockUp,
        shortTermVegaPower,
        longTermVegaPower,
      );
      const t1 = Math.max(t - c.dtYears[s]!, 0.0);
      const growth = 1.0 + m;
      const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / growth, shocked * Math.sqrt(t1));
      const norm = growth * moved - v0;
      out[usd + s] = F * norm;
      out[coin + s] = (norm + v0) / (1 + m) - v0;
    }
  }
}
