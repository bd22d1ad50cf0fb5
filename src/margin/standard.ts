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
  // every column but the margin ratio, available and status is one the run has, in the units' order: taken
  // as it is (IM and standard_im are one array, MM and standard_mm another); fillDerived the rest
  const rows = allocMarginRows('standard', units.count, units.names, units.names, ['marginRatio', 'available'], {
    account: units.account,
    unit: units.currency,
    currency: units.currency,
    im: unit.standardIm,
    mm: unit.standardMm,
    standardIm: unit.standardIm,
    standardMm: unit.standardMm,
    equity: unit.equity,
    liquidityAddon: unit.liquidityAddon,
  });
  fillDerived(rows); // standard_im = IM, standard_mm = MM (the same arrays), margin ratio, available, status
  return rows;
}
