/**
 * The checks of the margin rows a report does not store in full (schema 4 and 5): every value a model's
 * table leaves out must be what the account_margin view gives back for it (checkDerived), and standard
 * rows left to the view must be what it derives from the run's deribit-pm rows (checkStandardFromPm).
 * RowChecks applies them to a run's blocks in the order they are written. They need no database: a
 * RunWriter runs them as its blocks arrive, or leaves them to its caller (ReportSession runs them on
 * the main thread while the report thread appends, before it lets the run commit).
 */
import { STATUS_NAMES, type MarginRows } from '../margin/types.js';
import {
  DERIVED,
  DerivedScratch,
  FIELD_OF,
  STANDARD_FROM_PM,
  derivedValues,
  type AccountTotals,
} from '../margin/derived.js';
import { MODEL_STORAGE } from './schema.js';

/** x and y are the same number, NaN included (what SQL NULL = NULL would not say). */
const same = (x: number, y: number) => x === y || (x !== x && y !== y);

/**
 * The first row where two columns differ (NaN equal to NaN), −1 when none; none when they are one array (a
 * block's columns taken from the run's tables, allocMarginRows `given`). One function per element type, so
 * that each loop sees one kind of array (a loop over both ran several times slower: checks of a 155,460-row
 * block took 10–25 ms, on the command's tail).
 */
function firstDiffering(a: Float64Array | Uint8Array, b: Float64Array | Uint8Array, n: number): number {
  if (a === b) return -1;
  return a instanceof Float64Array && b instanceof Float64Array
    ? firstDiffering64(a, b, n)
    : firstDifferingAny(a, b, n);
}

function firstDiffering64(a: Float64Array, b: Float64Array, n: number): number {
  for (let r = 0; r < n; r++) {
    const x = a[r]!;
    const y = b[r]!;
    if (x !== y && (x === x || y === y)) return r;
  }
  return -1;
}

function firstDifferingAny(a: Float64Array | Uint8Array, b: Float64Array | Uint8Array, n: number): number {
  for (let r = 0; r < n; r++) {
    const x = a[r]!;
    const y = b[r]!;
    if (x !== y && (x === x || y === y)) return r;
  }
  return -1;
}

/** The first row whose value is not `v` (NaN: not NaN), −1 when none; `same` over a Float64Array. */
function firstNot64(a: Float64Array, v: number, n: number): number {
  if (v !== v) {
    for (let r = 0; r < n; r++) if (a[r]! === a[r]!) return r;
  } else {
    for (let r = 0; r < n; r++) if (a[r]! !== v) return r;
  }
  return -1;
}

/**
 * Checks that every value a model's table leaves out is what the account_margin view gives back for it:
 * each column of DERIVED (src/margin/derived.ts) that the table does not store must equal its JavaScript
 * form over the row (NULL columns NaN, worst_scenario −1; constants that value); and the currency is the
 * unit's name or USD. A model that starts producing a value its table does not store fails here, loudly,
 * rather than losing it.
 * `scratch`: arrays for the formulas' values (a new array per formula without).
 * @throws Error naming the model, row, column and both values
 */
export function checkDerived(m: MarginRows, scratch?: DerivedScratch): void {
  const spec = MODEL_STORAGE[m.model];
  const n = m.count;
  const fail = (r: number, col: string, found: unknown, expected: string): never => {
    throw new Error(
      `MarginRows(${m.model}) row ${r}: ${col} is ${String(found)}, but the report stores only ${spec.stored.join(', ')} for this model and gives ${col} as ${expected}`,
    );
  };
  // columns found all NaN already (a model's not-applicable amounts share one array: allocMarginRows)
  const allNaN = new Set<Float64Array>();
  // the block's account totals, for the formulas that read them (span's: the account's IM and MM)
  const totals: AccountTotals = new Map();
  for (const [col, d] of Object.entries(DERIVED[m.model])) {
    const field = FIELD_OF[col];
    if (!field || spec.stored.includes(col)) continue; // saving, scenario_set: not carried by MarginRows
    const found = m[field] as Float64Array | Uint8Array | Int32Array;
    if (field === 'worstScenario') {
      const r = firstNonNegative(found as Int32Array, n);
      if (r >= 0) fail(r, col, found[r], 'NULL');
      continue;
    }
    if (d.kind === 'formula') {
      const expected = derivedValues(m, d.formula, col, scratch, totals);
      const r = firstDiffering(found as Float64Array | Uint8Array, expected, n);
      if (r >= 0) {
        const e = expected[r]!;
        fail(r, col, found[r], `${d.formula.what} (${col === 'status' ? STATUS_NAMES[e] : e})`);
      }
      continue;
    }
    const v = d.kind === 'constant' ? d.value : NaN;
    const expected = d.kind === 'null' ? 'NULL' : d.sql;
    if (found instanceof Float64Array) {
      if (v !== v && allNaN.has(found)) continue;
      const r = firstNot64(found, v, n);
      if (r >= 0) fail(r, col, found[r], expected);
      if (v !== v) allNaN.add(found);
      continue;
    }
    const r = firstNotSame(found, v, n);
    if (r >= 0) fail(r, col, found[r], expected);
  }
  // the currency of each row: the unit's own name, or USD
  const byCode = Int32Array.from(m.currencyNames, (name) =>
    spec.currency === 'USD' ? (name === 'USD' ? -2 : -3) : m.unitNames.indexOf(name),
  );
  const r = firstWrongCurrency(byCode, m.currency, spec.currency === 'USD' ? null : m.unit, n);
  if (r >= 0) fail(r, 'currency', m.currencyNames[m.currency[r]!], spec.currency === 'USD' ? "'USD'" : 'the unit');
}

// Each check's loop over the rows is a function of its own (firstNonNegative … firstInfinite): the checks run
// once per block on the main thread, on the run's tail, where V8 optimised a function of several such loops again
// at each loop whose code had not run yet (checkDerived four times; docs/conventions.md, "Backends").

/** The first row whose value is ≥ 0, −1 when none. */
function firstNonNegative(a: Int32Array, n: number): number {
  for (let r = 0; r < n; r++) if (a[r]! >= 0) return r;
  return -1;
}

/** The first row whose value is not `v` (`same`), −1 when none. */
function firstNotSame(a: Uint8Array | Int32Array, v: number, n: number): number {
  for (let r = 0; r < n; r++) if (!same(a[r]!, v)) return r;
  return -1;
}

/**
 * The first row whose currency code (through `byCode`) is not its unit's (`unit`), or not USD (−2) when `unit`
 * is null; −1 when none.
 */
function firstWrongCurrency(byCode: Int32Array, currency: Int32Array, unit: Int32Array | null, n: number): number {
  if (unit === null) {
    for (let r = 0; r < n; r++) if (byCode[currency[r]!] !== -2) return r;
  } else {
    for (let r = 0; r < n; r++) if (byCode[currency[r]!] !== unit[r]) return r;
  }
  return -1;
}

/**
 * Checks that `std` is exactly what the account_margin view derives from the deribit-pm rows `pm` of
 * the same run (STANDARD_FROM_PM of src/margin/derived.ts): the same (account, unit) rows in the same
 * order, and every column the JavaScript form of its formula over pm's row. `scratch`: as checkDerived's.
 * @throws Error naming the row and the column that differ
 */
export function checkStandardFromPm(std: MarginRows, pm: MarginRows, scratch?: DerivedScratch): void {
  const fail = (r: number, what: string, found: unknown, expected: unknown): never => {
    throw new Error(
      `MarginRows(standard) row ${r}: ${what} is ${String(found)}, but the report derives it from the run's deribit-pm rows as ${String(expected)}`,
    );
  };
  if (std.count !== pm.count) fail(0, 'the row count', std.count, pm.count);
  const n = std.count;
  // the unit of a standard row's code, as a deribit-pm unit code (−1: a name deribit-pm has not)
  const pmCode = Int32Array.from(std.unitNames, (name) => pm.unitNames.indexOf(name));
  const r = firstOtherRow(std, pm, pmCode, n);
  if (r >= 0) {
    if (std.account[r] !== pm.account[r]) fail(r, 'account id', std.account[r], pm.account[r]);
    fail(r, 'unit', std.unitNames[std.unit[r]!], pm.unitNames[pm.unit[r]!]);
  }
  for (const [col, f] of Object.entries(STANDARD_FROM_PM)) {
    const field = FIELD_OF[col];
    if (!field) continue; // saving
    const found = std[field] as Float64Array | Uint8Array;
    const expected = derivedValues(pm, f, col, scratch);
    const r = firstDiffering(found, expected, n);
    if (r >= 0) fail(r, col, found[r], col === 'status' ? STATUS_NAMES[expected[r]!] : expected[r]);
  }
}

/**
 * The first row whose account or unit (its code through `pmCode`) differs between std and pm, −1 when none (none
 * when both take them from the same arrays, with the same unit names).
 */
function firstOtherRow(std: MarginRows, pm: MarginRows, pmCode: Int32Array, n: number): number {
  const sa = std.account;
  const pa = pm.account;
  const su = std.unit;
  const pu = pm.unit;
  if (sa === pa && su === pu && pmCode.every((c, k) => c === k)) return -1;
  for (let r = 0; r < n; r++) if (sa[r] !== pa[r] || pmCode[su[r]!] !== pu[r]) return r;
  return -1;
}

/** marginRatio is +∞ where equity ≤ 0 (MarginRows); every other amount is finite or NaN (does not apply, NULL). */
const MAY_BE_INFINITE = new Set(['marginRatio']);

/**
 * Checks that no amount of a block is ±∞: a run never commits a non-finite margin (the inputs' bounds,
 * docs/data.md E10–E12, keep every real one finite; this is the engine's own guard, an internal error when
 * it fails). NaN is "does not apply" and stored as NULL. ReportSession.finish runs it on every block of a
 * run before the COMMIT. `seen`: the arrays checked already, by this call or an earlier one (a column a block
 * shares with another block, allocMarginRows `given`, is checked once; the rows do not change until the COMMIT).
 * @throws Error naming the model, row, account id, column and value
 */
export function checkFinite(m: MarginRows, seen: Set<Float64Array> = new Set()): void {
  const fail = (r: number, col: string, v: number): never => {
    throw new Error(
      `internal check: MarginRows(${m.model}) row ${r} (account id ${m.account[r]}): ${col} is ${v}, not a finite number; the run is not written`,
    );
  };
  const n = m.count;
  // an array shared by several columns (the not-applicable amounts) or blocks once
  for (const [col, a] of Object.entries(m)) {
    if (!(a instanceof Float64Array) || MAY_BE_INFINITE.has(col) || seen.has(a)) continue;
    seen.add(a);
    const r = firstInfinite(a, n);
    if (r >= 0) fail(r, col, a[r]!);
  }
}

/** The first row whose value is ±∞, −1 when none. */
function firstInfinite(a: Float64Array, n: number): number {
  for (let r = 0; r < n; r++) if (a[r] === Infinity || a[r] === -Infinity) return r;
  return -1;
}

/**
 * The checks of one run's blocks, in the order the run writes them (RunWriter.margin): each block's
 * derived columns, and standard rows left to the view against the deribit-pm rows, whichever comes
 * first. @throws Error naming the model, row and column of the first value that differs
 */
export class RowChecks {
  private deribitPm: MarginRows | null = null;
  private readonly scratch = new DerivedScratch();
  /** standard rows to be derived, waiting for the deribit-pm rows */
  private heldStandard: MarginRows | null = null;

  /** One block; `standardFromDeribitPm`: standard rows the report derives from the run's deribit-pm rows. */
  margin(m: MarginRows, standardFromDeribitPm: boolean): void {
    checkDerived(m, this.scratch);
    if (standardFromDeribitPm) {
      if (this.deribitPm) checkStandardFromPm(m, this.deribitPm, this.scratch);
      else this.heldStandard = m;
      return;
    }
    if (m.model === 'deribit-pm') {
      this.deribitPm = m;
      if (this.heldStandard) {
        checkStandardFromPm(this.heldStandard, m, this.scratch);
        this.heldStandard = null;
      }
    }
  }

  /**
   * After the run's last block. @throws Error when standard rows were to be derived from deribit-pm rows the run never
   * wrote
   */
  finish(dbFile: string): void {
    if (this.heldStandard)
      throw new Error(
        `${dbFile}: the standard rows were to be derived from the run's deribit-pm rows, but the run wrote none`,
      );
  }
}
