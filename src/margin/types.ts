/**
 * The columnar result of one margin model over a book: one row per (account, risk unit). This is what
 * the report writes into `account_margin`. Amounts are in the row's currency (coin for a coin unit of
 * deribit-pm, USDC for its USDC unit, USD for span / var / the account summary), positive numbers for
 * losses and margins. NaN means "does not apply" (a SQL NULL); worstScenario −1 likewise.
 */
export const STATUS_OK = 0;
export const STATUS_MARGIN_CALL = 1;
export const STATUS_LIQUIDATION = 2;
export const STATUS_NAMES = ['ok', 'margin_call', 'liquidation'] as const;

export type ModelName = 'deribit-pm' | 'span' | 'var-hs' | 'var-mc' | 'standard';

export interface MarginRows {
  model: ModelName;
  count: number;
  /** account id in the PositionBook (its key is book.accountKey[id]) */
  account: Int32Array;
  /** index into unitNames: 'BTC', 'ETH', 'USDC' (deribit-pm, standard), the underlying (span), 'ALL' (var) */
  unit: Int32Array;
  unitNames: string[];
  /** index into currencyNames: the currency the amounts of the row are in */
  currency: Int32Array;
  currencyNames: string[];
  im: Float64Array;
  mm: Float64Array;
  equity: Float64Array;
  /** MM / equity; +Infinity when equity ≤ 0 */
  marginRatio: Float64Array;
  /** equity − IM */
  available: Float64Array;
  /** STATUS_* */
  status: Uint8Array;
  /** scenario id of the worst scenario (first attaining the maximum loss), −1 when none */
  worstScenario: Int32Array;
  worstCase: Float64Array;
  rollShock: Float64Array;
  /** deribit-pm: Deribit's delta shock, not modelled (its formula is unpublished): 0 */
  deltaShock: Float64Array;
  /** deribit-pm: worst_case + roll_shock + delta_shock */
  riskMatrixMargin: Float64Array;
  scanRisk: Float64Array;
  som: Float64Array;
  var: Float64Array;
  es: Float64Array;
  liquidityAddon: Float64Array;
  /** the standard (per-position) margin of the same unit where the model's units allow the comparison; NaN otherwise */
  standardIm: Float64Array;
  standardMm: Float64Array;
}
