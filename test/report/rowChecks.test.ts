/**
 * The row checks a run passes before its COMMIT (src/report/rowChecks.ts), on the fixture run: each check
 * accepts the rows as the models give them, and refuses the first row that breaks it, naming the row and the
 * column (a value past the first row, so that a check that stopped early would not see it).
 */
import { describe, expect, test } from 'vitest';
import { checkDerived, checkStandardFromPm } from '../../src/report/rowChecks.js';
import { sampleRunWithStandard } from './fixtures/sampleRun.js';

function blocks() {
  const run = sampleRunWithStandard();
  const of = (model: string) => run.margin.find((m) => m.model === model)!;
  return { pm: of('deribit-pm'), span: of('span'), std: of('standard') };
}

describe('checkDerived', () => {
  test('accepts every block of the fixture run', () => {
    const { pm, span, std } = blocks();
    for (const m of [pm, span, std]) expect(() => checkDerived(m)).not.toThrow();
  });

  test('refuses a worst scenario where the report stores NULL (standard)', () => {
    const { std } = blocks();
    std.worstScenario[2] = 4;
    expect(() => checkDerived(std)).toThrow(/MarginRows\(standard\) row 2: worst_scenario is 4, .* as NULL/);
  });

  test('refuses a constant that differs (deribit-pm: delta_shock 0)', () => {
    const { pm } = blocks();
    pm.deltaShock[2] = 0.5;
    expect(() => checkDerived(pm)).toThrow(/MarginRows\(deribit-pm\) row 2: delta_shock is 0.5, .* as 0.0::DOUBLE/);
  });

  test('refuses a copied column that differs from its input (span: worst_case is scan_risk)', () => {
    const { span } = blocks();
    const r = span.count - 1;
    span.worstCase = Float64Array.from(span.worstCase);
    span.worstCase[r] = span.scanRisk[r]! + 1;
    expect(() => checkDerived(span)).toThrow(new RegExp(`MarginRows\\(span\\) row ${r}: worst_case is `));
  });

  test("refuses a currency other than the unit's own (deribit-pm) or USD (span)", () => {
    const { pm, span } = blocks();
    const n = pm.count;
    const r = n - 2;
    // two rows wrong: the first is named
    for (const k of [r, n - 1]) pm.currency[k] = (pm.unit[k]! + 1) % pm.unitNames.length;
    expect(() => checkDerived(pm)).toThrow(
      new RegExp(
        `MarginRows\\(deribit-pm\\) row ${r}: currency is ${pm.currencyNames[pm.currency[r]!]}, .* as the unit`,
      ),
    );
    span.currencyNames = ['USD', 'BTC'];
    span.currency[span.count - 1] = 1;
    expect(() => checkDerived(span)).toThrow(
      new RegExp(`MarginRows\\(span\\) row ${span.count - 1}: currency is BTC, .* as 'USD'`),
    );
  });
});

describe('checkStandardFromPm', () => {
  test('accepts the standard rows derived from the deribit-pm rows', () => {
    const { pm, std } = blocks();
    expect(() => checkStandardFromPm(std, pm)).not.toThrow();
  });

  test('refuses a standard amount that differs from the deribit-pm column it copies, and one it computes', () => {
    for (const [field, col] of [
      ['im', 'im'],
      ['mm', 'mm'],
      ['equity', 'equity'],
      ['liquidityAddon', 'liquidity_addon'],
      ['standardIm', 'standard_im'],
      ['standardMm', 'standard_mm'],
      ['available', 'available'],
      ['marginRatio', 'margin_ratio'],
    ] as const) {
      const { pm, std } = blocks();
      const r = std.count - 1;
      const a = Float64Array.from(std[field]);
      a[r] = a[r]! + 0.5;
      (std as unknown as Record<string, Float64Array>)[field] = a;
      expect(() => checkStandardFromPm(std, pm), col).toThrow(
        new RegExp(`MarginRows\\(standard\\) row ${r}: ${col} is `),
      );
    }
  });

  test('refuses a row of another account, or of another unit', () => {
    const { pm, std } = blocks();
    // (the fixture's standard rows share deribit-pm's account and unit arrays)
    std.account = Int32Array.from(std.account);
    std.unit = Int32Array.from(std.unit);
    const r = std.count - 1;
    const q = r - 1;
    // an earlier row of another account, a later one of another unit: the earlier is named, then the later
    const account = std.account[q]!;
    std.account[q] = account + 100;
    std.unit[r] = (std.unit[r]! + 1) % std.unitNames.length;
    expect(() => checkStandardFromPm(std, pm)).toThrow(
      new RegExp(`MarginRows\\(standard\\) row ${q}: account id is ${account + 100}, .* as ${account}`),
    );
    std.account[q] = account;
    expect(() => checkStandardFromPm(std, pm)).toThrow(
      new RegExp(
        `MarginRows\\(standard\\) row ${r}: unit is ${std.unitNames[std.unit[r]!]}, .* as ${pm.unitNames[pm.unit[r]!]}`,
      ),
    );
  });
});
