/**
 * What a scenario-based margin model hands to a backend (a GroupBook and a ReduceRequest) and keeps
 * for assembling its rows from the backend's Reduced answer. One group per result row.
 */
import type { GroupBook, ReduceRequest } from '../engine/types.js';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { ModelName } from './types.js';

/** Everything a model reads (runTables.ts). The scenario set must be built for the market's underlyings (by name). */
export type { MarginInput } from './runTables.js';

export interface ModelPlan {
  model: ModelName;
  groups: GroupBook;
  request: ReduceRequest;
  /** per group (= result row): account id */
  account: Int32Array;
  /** per group: index into unitNames */
  unit: Int32Array;
  unitNames: string[];
  /** per group: index into currencyNames */
  currency: Int32Array;
  currencyNames: string[];
  /** per entry of `groups`: the book's position index, −1 for a collateral (spot) entry */
  entryPosition: Int32Array;
}

/**
 * The scenario set's weights laid out for buckets = the market's underlyings: [s · U + u] with u in
 * `market.underlyings` order (the set's own array when the orders agree).
 * @throws Error when the set lacks one of the market's underlyings (the set was built for another market).
 */
export function bucketWeights(scenarios: ScenarioSet, market: Market): Float64Array {
  const U = market.underlyings.length;
  const V = scenarios.underlyings.length;
  if (V === U && scenarios.underlyings.every((n, u) => n === market.underlyings[u])) return scenarios.weight;
  const from = market.underlyings.map((n) => {
    const j = scenarios.underlyings.indexOf(n);
    if (j < 0)
      throw new Error(`scenario set (${scenarios.family}) has no underlying ${JSON.stringify(n)} of the market`);
    return j;
  });
  const w = new Float64Array(scenarios.count * U);
  for (let s = 0; s < scenarios.count; s++)
    for (let u = 0; u < U; u++) w[s * U + u] = scenarios.weight[s * V + from[u]];
  return w;
}

/**
 * The scenario id of the worst scenario of group g: the set's id at the reduced index, −1 when the group has no
 * entries.
 */
export function worstScenarioId(plan: ModelPlan, scenarios: ScenarioSet, worstIndex: Int32Array, g: number): number {
  const empty = plan.groups.groupStart[g] === plan.groups.groupStart[g + 1];
  return empty || scenarios.count === 0 ? -1 : scenarios.id[worstIndex[g]];
}
