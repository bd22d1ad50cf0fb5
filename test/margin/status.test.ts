/** Margin ratio and status thresholds (docs/methodology.md §5). */
import { describe, expect, test } from 'vitest';
import { marginRatio, marginStatus } from '../../src/margin/status.js';
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL, STATUS_NAMES, STATUS_OK } from '../../src/margin/types.js';

describe('marginStatus: liquidation when equity < MM, margin_call when equity < IM, else ok', () => {
  test.each([
    { equity: 100, im: 50, mm: 40, status: STATUS_OK },
    { equity: 50, im: 50, mm: 40, status: STATUS_OK }, // equal to IM: not below
    { equity: 49.999, im: 50, mm: 40, status: STATUS_MARGIN_CALL },
    { equity: 40, im: 50, mm: 40, status: STATUS_MARGIN_CALL }, // equal to MM: not below
    { equity: 39.999, im: 50, mm: 40, status: STATUS_LIQUIDATION },
    { equity: -5, im: 0, mm: 0, status: STATUS_LIQUIDATION },
    { equity: 0, im: 0, mm: 0, status: STATUS_OK },
    { equity: NaN, im: 0, mm: 0, status: STATUS_LIQUIDATION },
  ])('equity $equity, IM $im, MM $mm', ({ equity, im, mm, status }) => {
    expect(STATUS_NAMES[marginStatus(equity, im, mm)]).toBe(STATUS_NAMES[status]);
  });
});

describe('marginRatio = MM / equity, +Infinity when equity ≤ 0', () => {
  test.each([
    { mm: 40, equity: 100, ratio: 0.4 },
    { mm: 0, equity: 100, ratio: 0 },
    { mm: 40, equity: 0, ratio: Infinity },
    { mm: 40, equity: -1, ratio: Infinity },
    { mm: 0, equity: -1, ratio: Infinity },
  ])('MM $mm, equity $equity → $ratio', ({ mm, equity, ratio }) => {
    expect(marginRatio(mm, equity)).toBe(ratio);
  });
});
