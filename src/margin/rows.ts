/**
 * Allocation of a MarginRows result with every component "not applicable" (NaN, worst scenario −1).
 */
import type { MarginRows, ModelName } from './types.js';

/**
 * Typed arrays over a SharedArrayBuffer: a run hands its margin rows and summaries to the report's
 * worker thread (src/report/reportSession.ts) without copying them.
 */
export const sharedFloat64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * n));
export const sharedInt32 = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));
export const sharedUint8 = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));

/**
 * A MarginRows of `count` rows: account/unit/currency 0, every amount NaN, status 0, worstScenario −1
 * (shared memory, see above).
 */
export function allocMarginRows(model: ModelName, count: number, unitNames: string[], currencyNames: string[]): MarginRows {
  const nan = (): Float64Array => sharedFloat64(count).fill(NaN);
  return {
    model,
    count,
    account: sharedInt32(count),
    unit: sharedInt32(count),
    unitNames,
    currency: sharedInt32(count),
    currencyNames,
    im: nan(),
    mm: nan(),
    equity: nan(),
    marginRatio: nan(),
    available: nan(),
    status: sharedUint8(count),
    worstScenario: sharedInt32(count).fill(-1),
    worstCase: nan(),
    rollShock: nan(),
    deltaShock: nan(),
    riskMatrixMargin: nan(),
    scanRisk: nan(),
    som: nan(),
    var: nan(),
    es: nan(),
    liquidityAddon: nan(),
    standardIm: nan(),
    standardMm: nan(),
  };
}
