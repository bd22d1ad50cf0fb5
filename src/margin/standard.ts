/**
 * The `standard` model: Deribit's per-position margin, no offsets (docs/methodology.md §4d), as rows.
 * Its formulas are standardFormulas.ts; the per-unit sums come from the run's UnitTables. Units are
 * (account, settlement currency) as in deribit-pm, amounts in the unit's currency.
 */
import { allocMarginRows } from './rows.js';
import { buildUnitTables, type RunTables, type UnitTables } from './runTables.js';
import { fillDerived } from './derived.js';
import type { MarginRows } from './types.js';

/**
 * The `standard` model as MarginRows: one row per (account, settlement currency) unit holding a
 * position or a balance, IM/MM the standard margin (also copied to standardIm/standardMm), the
 * unit's equity (docs/methodology.md §5, as deribit-pm) and status. The liquidity add-on is reported in
 * its column but, as in Deribit's standard margin, not added to IM. No scenario components (NaN, −1).
 * `unit`: the run's UnitTables of `tables` (built here when not given).
 */
export function standardRows(tables: RunTables, unit: UnitTables = buildUnitTables(tables)): MarginRows {
  const units = tables.units;
  // every row sets these (fillDerived the rest)
  const rows = allocMarginRows('standard', units.count, units.names, units.names, [
    'im',
    'mm',
    'standardIm',
    'standardMm',
    'equity',
    'liquidityAddon',
    'marginRatio',
    'available',
  ]);
  const { standardIm: im, standardMm: mm, equity, liquidityAddon: addon } = unit;
  for (let k = 0; k < units.count; k++) {
    rows.account[k] = units.account[k];
    rows.unit[k] = units.currency[k];
    rows.currency[k] = units.currency[k];
    rows.im[k] = im[k];
    rows.mm[k] = mm[k];
    rows.equity[k] = equity[k];
    rows.liquidityAddon[k] = addon[k];
  }
  fillDerived(rows); // standard_im = IM, standard_mm = MM, margin ratio, available, status
  return rows;
}
