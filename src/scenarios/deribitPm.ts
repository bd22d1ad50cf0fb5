/**
 * The `deribit-pm` scenario family (docs/methodology.md §3a): Deribit's risk matrix.
 */
import type { Market } from '../model/market.js';
import { forUnderlying, type Params } from '../params/params.js';
import { allocateSet } from './allocate.js';
import { VOL_DOWN, VOL_NONE, VOL_UP, type ScenarioSet } from './types.js';

const VOL_BY_V = [VOL_UP, VOL_NONE, VOL_DOWN] as const;
const VOL_LABEL = ['up', 'none', 'down'] as const;

/**
 * Builds the Deribit portfolio-margin grid for every underlying of `market` at once.
 * - Standard: for j = −B..B and v = 0 (vol up), 1 (none), 2 (down), scenario id (j + B)·3 + v moves every
 *   underlying u by R_u·j/B (R_u = `priceRange`, B = `bucketsCount`); weight 1. With B = 4: ids 0..26.
 * - Extended: ids (2B+1)·3 + k (27..34 by default) move u by `extendedMoves[k]` (the same relative move
 *   for every underlying), vol up, weight `extendedTableFactor · R_u / |m|` (per underlying);
 *   `deltaOneMove` (futures, perpetuals) is the standard edge ±R_u of the same sign.
 * Moves are relative (F' = F(1+m)); Δt = 0. Labels: `std j/B <vol>` and `ext <m> up`.
 */
export function buildDeribitPm(market: Market, params: Params): ScenarioSet {
  const p = params.deribitPm;
  const B = p.bucketsCount;
  const ext = p.extendedMoves;
  const nStd = (2 * B + 1) * 3;
  const count = nStd + ext.length;
  const us = market.underlyings;
  const U = us.length;
  const R = us.map((u) => forUnderlying(p.priceRange, u));
  const set = allocateSet('deribit-pm', count, us);
  for (let j = -B; j <= B; j++) {
    for (let v = 0; v < 3; v++) {
      const s = (j + B) * 3 + v;
      set.label[s] = `std ${j}/${B} ${VOL_LABEL[v]}`;
      for (let u = 0; u < U; u++) {
        const m = (R[u]! * j) / B;
        set.move[s * U + u] = m;
        set.deltaOneMove[s * U + u] = m;
        set.volRule[s * U + u] = VOL_BY_V[v]!;
      }
    }
  }
  for (let k = 0; k < ext.length; k++) {
    const s = nStd + k;
    const m = ext[k]!;
    set.label[s] = `ext ${m} up`;
    for (let u = 0; u < U; u++) {
      set.move[s * U + u] = m;
      set.deltaOneMove[s * U + u] = m < 0 ? -R[u]! : R[u]!;
      set.volRule[s * U + u] = VOL_UP;
      set.weight[s * U + u] = (p.extendedTableFactor * R[u]!) / Math.abs(m);
    }
  }
  set.meta = {
    family: 'deribit-pm',
    bucketsCount: B,
    priceRange: Object.fromEntries(us.map((u, i) => [u, R[i]])),
    extendedMoves: [...ext],
    extendedTableFactor: p.extendedTableFactor,
    standardIds: [0, nStd - 1],
    extendedIds: ext.length ? [nStd, count - 1] : [],
  };
  return set;
}
