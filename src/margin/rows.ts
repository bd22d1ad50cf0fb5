/**
 * Allocation of a MarginRows result with every component "not applicable" (NaN, worst scenario −1).
 */
import type { MarginRows, ModelName } from './types.js';

/** A MarginRows of `count` rows: account/unit/currency 0, every amount NaN, status 0, worstScenario −1. */
export function allocMarginRows(model: ModelName, count: number, unitNames: string[], currencyNames: string[]): MarginRows {
  const nan = (): Float64Array => new Float64Array(count).fill(NaN);
  return {
    model,
    count,
    account: new Int32Array(count),
    unit: new Int32Array(count),
    unitNames,
    currency: new Int32Array(count),
    currencyNames,
    im: nan(),
    mm: nan(),
    equity: nan(),
    marginRatio: nan(),
    available: nan(),
    status: new Uint8Array(count),
    worstScenario: new Int32Array(count).fill(-1),
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
