/**
 * An empty scenario set of a given size, for the family builders to fill.
 */
import { VOL_NONE, type Family, type ScenarioSet } from './types.js';

/**
 * A set of `count` scenarios over `underlyings`: ids 0..count−1, weights 1, Δt 0, moves 0, vol rule none
 * with parameter 1, labels empty, meta empty.
 */
export function allocateSet(family: Family, count: number, underlyings: string[]): ScenarioSet {
  const n = count * underlyings.length;
  const id = new Int32Array(count);
  for (let s = 0; s < count; s++) id[s] = s;
  return {
    family,
    count,
    underlyings: [...underlyings],
    id,
    label: new Array<string>(count).fill(''),
    weight: new Float64Array(n).fill(1),
    dtDays: new Float64Array(count),
    move: new Float64Array(n),
    deltaOneMove: new Float64Array(n),
    volRule: new Uint8Array(n).fill(VOL_NONE),
    volParam: new Float64Array(n).fill(1),
    meta: {},
  };
}
