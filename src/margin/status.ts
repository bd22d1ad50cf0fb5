/**
 * Margin ratio, status and available margin (docs/methodology.md §5), for one number or a whole MarginRows.
 */
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL, STATUS_OK, type MarginRows } from './types.js';

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

/**
 * For rows sorted by account, each carrying a part of its account's IM and MM: sets every row's equity
 * to the account's (USD) and its margin ratio, available and status from the account's totals.
 */
export function fillAccountStatus(rows: MarginRows, equityUsd: Float64Array): void {
  let r = 0;
  while (r < rows.count) {
    const a = rows.account[r];
    let end = r;
    let im = 0;
    let mm = 0;
    while (end < rows.count && rows.account[end] === a) {
      im += rows.im[end];
      mm += rows.mm[end];
      end++;
    }
    const eq = equityUsd[a];
    const ratio = marginRatio(mm, eq);
    const status = marginStatus(eq, im, mm);
    for (let k = r; k < end; k++) {
      rows.equity[k] = eq;
      rows.marginRatio[k] = ratio;
      rows.available[k] = eq - im;
      rows.status[k] = status;
    }
    r = end;
  }
}
