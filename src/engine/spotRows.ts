/**
 * The spot rows of the P&L matrix (rows [2I, 2I + U)): the USD P&L of one coin of underlying u held as
 * collateral, S_u · m[s, u], computed in float64 on the host for every backend.
 */
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { spotRow } from './types.js';

/** Writes S_u · move[s·U + u] (USD per coin, gain to a holder positive) into row spotRow(u) of `out`. */
export function writeSpotRows(market: Market, scenarios: ScenarioSet, out: Float64Array | Float32Array): void {
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const S = scenarios.count;
  for (let u = 0; u < U; u++) {
    const spot = market.indexPrice[u]!;
    const base = spotRow(u, I) * S;
    for (let s = 0; s < S; s++) out[base + s] = spot * scenarios.move[s * U + u]!;
  }
}
