/**
 * Allocation of a MarginRows result with every component "not applicable" (NaN, worst scenario −1).
 */
import { notApplicable } from './derived.js';
import type { MarginRows, ModelName } from './types.js';

/**
 * Typed arrays over a SharedArrayBuffer: a run hands its margin rows and summaries to the report's
 * worker thread (src/report/reportSession.ts) without copying them. Below SHARED_MIN elements they are
 * plain arrays: a SharedArrayBuffer costs more to make than such an array costs to copy (the receiving
 * thread, or the cpu pool through src/engine/sharedCopy.ts, gets a copy). Measured on the what-if
 * service's one-account books (src/margin/whatif.ts, 100,000-account book, loaded 2-core machine):
 * median what-if 0.24 → 0.15 ms.
 */
const SHARED_MIN = 4096;
export const sharedFloat64 = (n: number): Float64Array =>
  n < SHARED_MIN ? new Float64Array(n) : new Float64Array(new SharedArrayBuffer(8 * n));
export const sharedInt32 = (n: number): Int32Array =>
  n < SHARED_MIN ? new Int32Array(n) : new Int32Array(new SharedArrayBuffer(4 * n));
export const sharedUint8 = (n: number): Uint8Array =>
  n < SHARED_MIN ? new Uint8Array(n) : new Uint8Array(new SharedArrayBuffer(n));

/** The Float64 columns of a MarginRows. */
export type AmountColumn =
  | 'im'
  | 'mm'
  | 'equity'
  | 'marginRatio'
  | 'available'
  | 'worstCase'
  | 'rollShock'
  | 'deltaShock'
  | 'riskMatrixMargin'
  | 'scanRisk'
  | 'som'
  | 'var'
  | 'es'
  | 'liquidityAddon'
  | 'standardIm'
  | 'standardMm';

/** Columns a MarginRows takes as they are from the run's tables (allocMarginRows `given`). */
export type GivenColumns = Partial<
  Record<AmountColumn, Float64Array> & Record<'account' | 'unit' | 'currency', Int32Array>
>;

/**
 * A MarginRows of `count` rows: account/unit/currency 0, every amount NaN, status 0, worstScenario −1
 * (shared memory, see above). `filled`: columns the caller sets on every row ('worstScenario' and amount
 * columns), left at 0 rather than filled first (the fill is wasted work on the run's path).
 * `given`: columns that are arrays the run already has, used as they are rather than copied (deribit-pm's and
 * standard's rows take their account, unit, equity, add-on and standard margins from the run's
 * SettlementUnits and UnitTables, the same values in the same order): the rows share them, so neither side
 * may write them (nothing does after they are built); a column given twice (standard's IM and standard_im)
 * is one array.
 * The amount columns the model does not apply (derived.ts DERIVED: 'null', which the report derives as
 * NULL and never stores) are one NaN array, shared: read them, never write them (fillDerived checks).
 * That is 3 (deribit-pm), 6 (span, var) or 7 (standard) fewer arrays of `count` doubles.
 * @throws Error when `filled` or `given` names a column the model does not apply, or a given column is not
 *   `count` long.
 */
export function allocMarginRows(
  model: ModelName,
  count: number,
  unitNames: string[],
  currencyNames: string[],
  filled: ReadonlyArray<AmountColumn | 'worstScenario'> = [],
  given: GivenColumns = {},
): MarginRows {
  const na = notApplicable(model);
  const wrong = [...filled, ...(Object.keys(given) as AmountColumn[])].filter((c) => na.has(c));
  if (wrong.length > 0) throw new Error(`${model} does not apply ${wrong.join(', ')}, but its rows fill them`);
  for (const [c, a] of Object.entries(given))
    if (a.length !== count) throw new Error(`${model} rows: the given ${c} has ${a.length} values, not ${count}`);
  let naColumn: Float64Array | null = null;
  const nan = (c: AmountColumn): Float64Array =>
    given[c] ??
    (na.has(c)
      ? (naColumn ??= sharedFloat64(count).fill(NaN))
      : filled.includes(c)
        ? sharedFloat64(count)
        : sharedFloat64(count).fill(NaN));
  return {
    model,
    count,
    account: given.account ?? sharedInt32(count),
    unit: given.unit ?? sharedInt32(count),
    unitNames,
    currency: given.currency ?? sharedInt32(count),
    currencyNames,
    im: nan('im'),
    mm: nan('mm'),
    equity: nan('equity'),
    marginRatio: nan('marginRatio'),
    available: nan('available'),
    status: sharedUint8(count),
    worstScenario: filled.includes('worstScenario') ? sharedInt32(count) : sharedInt32(count).fill(-1),
    worstCase: nan('worstCase'),
    rollShock: nan('rollShock'),
    deltaShock: nan('deltaShock'),
    riskMatrixMargin: nan('riskMatrixMargin'),
    scanRisk: nan('scanRisk'),
    som: nan('som'),
    var: nan('var'),
    es: nan('es'),
    liquidityAddon: nan('liquidityAddon'),
    standardIm: nan('standardIm'),
    standardMm: nan('standardMm'),
  };
}
