/**
 * Margin ratio and status (docs/methodology.md §5) of one equity, IM and MM (derived.ts applies them to whole columns).
 */
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL, STATUS_OK } from './types.js';

/** `MM / equity`, in the same currency (dimensionless); +Infinity when equity ≤ 0 (or NaN). */
export function marginRatio(mm: number, equity: number): number {
  return equity > 0 ? mm / equity : Infinity;
}

/**
 * STATUS_LIQUIDATION when equity < MM, STATUS_MARGIN_CALL when equity < IM, else STATUS_OK. Equity,
 * IM and MM in one currency. A NaN equity counts as below every threshold (liquidation).
 */
export function marginStatus(equity: number, im: number, mm: number): number {
  if (!(equity >= mm)) return STATUS_LIQUIDATION;
  if (!(equity >= im)) return STATUS_MARGIN_CALL;
  return STATUS_OK;
}
