/**
 * The spot rows of the P&L matrix (rows [2I, 2I + U)): the USD P&L of one coin of underlying u held as
 * collateral, S_u · m[s, u] (kernels/revalue.ts spotRowValues), in float64 on the host for every backend.
 */
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { spotRow } from './types.js';
import { spotRowValues } from '../../kernels/revalue.js';

/** Writes S_u · move[s·U + u] (USD per coin, gain to a holder positive) into row spotRow(u) of `out`. */
export function writeSpotRows(market: Market, scenarios: ScenarioSet, out: Float64Array | Float32Array): void {
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const S = scenarios.count;
  for (let u = 0; u < U; u++) spotRowValues(market.indexPrice[u]!, scenarios.move, u, U, S, out, spotRow(u, I) * S);
}
