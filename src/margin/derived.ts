/**
 * Every column a margin model derives from the other columns of the same row (or from its account's totals,
 * ACCOUNT_TOTAL: span's account-level ratio, available and status), defined once with its
 * JavaScript form and its SQL form side by side. The models fill their rows with the JavaScript forms
 * (fillDerived); the report stores only what a model does not derive and gives the rest back through
 * its views with the SQL forms (src/report/schema.ts), and checks before COMMIT that the two agree on
 * every row (src/report/rowChecks.ts). The account summaries' derived columns are here too.
 *
 * The SQL forms read the other columns through expressions the caller gives (a stored column `m.mm`,
 * or the SQL of another derived column), and write the engine's NaN as NULL, as the report stores
 * every NaN. The JavaScript forms are plain loops over whole columns, in the engine's arithmetic order
 * (so the view gives the same doubles).
 */
import { marginRatio, marginStatus } from './status.js';
import type { MarginRows, ModelName } from './types.js';

/** A report column's name (account_margin / account_summary). */
export type Column = string;

/** A formula over other columns of the row: docs/methodology.md gives each. */
export interface Formula {
  /** how a refusal names it */
  readonly what: string;
  /** the columns it reads, in the order of `sql`'s and `fill`'s arguments */
  readonly inputs: readonly Column[];
  /** SQL, given the SQL expression of each input */
  sql(...x: string[]): string;
  /** JavaScript: out[r] for r in [0, n) from the input columns */
  fill(out: Float64Array | Uint8Array, n: number, ...x: Float64Array[]): void;
  /** set when the formula is its one input as it is (copyOf): its values are that column's */
  readonly copy?: true;
}

/** A derived column: a formula, a constant, or NULL (the engine's NaN; −1 for worst_scenario). */
export type Derivation =
  | { readonly kind: 'formula'; readonly formula: Formula }
  | { readonly kind: 'constant'; readonly value: number; readonly sql: string }
  | { readonly kind: 'null'; readonly sqlType: string };

/**
 * A derived amount as the engine stores amounts: NaN (DuckDB gives it for inf − inf, inf / inf) becomes
 * NULL, as the writer writes every NaN (DuckDB's NaN equals NaN, so nullif catches it).
 */
export const nanToNull = (expr: string) => `nullif(${expr}, 'NaN'::DOUBLE)`;

/** marginRatio (§5): `mm / equity`, +Infinity when equity ≤ 0 or NaN. */
export const RATIO: Formula = {
  what: 'mm / equity (+inf when equity ≤ 0)',
  inputs: ['mm', 'equity'],
  sql: (mm, equity) => nanToNull(`CASE WHEN ${equity} > 0 THEN ${mm} / ${equity} ELSE 'Infinity'::DOUBLE END`),
  fill: (out, n, mm, equity) => {
    for (let r = 0; r < n; r++) out[r] = marginRatio(mm![r]!, equity![r]!);
  },
};

/** available (§5): `equity − im`. */
export const AVAILABLE: Formula = {
  what: 'equity − im',
  inputs: ['equity', 'im'],
  sql: (equity, im) => nanToNull(`${equity} - ${im}`),
  fill: (out, n, equity, im) => {
    for (let r = 0; r < n; r++) out[r] = equity![r]! - im![r]!;
  },
};

/** status (§5): liquidation when not equity ≥ MM, margin_call when not equity ≥ IM (NULL/NaN as below), else ok. */
export const STATUS: Formula = {
  what: 'the status of equity against mm and im',
  inputs: ['equity', 'im', 'mm'],
  sql: (equity, im, mm) =>
    `(CASE WHEN NOT coalesce(${equity} >= ${mm}, false) THEN 'liquidation' WHEN NOT coalesce(${equity} >= ${im}, false) THEN 'margin_call' ELSE 'ok' END)::margin_status`,
  fill: (out, n, equity, im, mm) => {
    for (let r = 0; r < n; r++) out[r] = marginStatus(equity![r]!, im![r]!, mm![r]!);
  },
};

/** saving: the standard margin less the model's, `standard_im − im` (positive when portfolio margin asks less). */
export const SAVING: Formula = {
  what: 'standard_im − im',
  inputs: ['standard_im', 'im'],
  sql: (std, im) => nanToNull(`${std} - ${im}`),
  fill: (out, n, std, im) => {
    for (let r = 0; r < n; r++) out[r] = std![r]! - im![r]!;
  },
};

/** deribit-pm's risk matrix margin (§4a): `worst_case + roll_shock` (delta_shock is 0). */
export const RISK_MATRIX_MARGIN: Formula = {
  what: 'worst_case + roll_shock',
  inputs: ['worst_case', 'roll_shock'],
  sql: (wc, rs) => nanToNull(`${wc} + ${rs}`),
  fill: (out, n, wc, rs) => {
    for (let r = 0; r < n; r++) out[r] = wc![r]! + rs![r]!;
  },
};

/** deribit-pm's IM (§4a): the risk matrix margin plus the add-on, `(worst_case + roll_shock) + liquidity_addon`. */
export const PM_IM: Formula = {
  what: '(worst_case + roll_shock) + liquidity_addon',
  inputs: ['worst_case', 'roll_shock', 'liquidity_addon'],
  sql: (wc, rs, liq) => nanToNull(`(${wc} + ${rs}) + ${liq}`),
  fill: (out, n, wc, rs, liq) => {
    for (let r = 0; r < n; r++) out[r] = wc![r]! + rs![r]! + liq![r]!;
  },
};

/** A copy of another column. */
export const copyOf = (column: Column): Formula => ({
  what: column,
  inputs: [column],
  sql: (x) => x!,
  fill: (out, n, x) => {
    for (let r = 0; r < n; r++) out[r] = x![r]!;
  },
  copy: true,
});

const formula = (f: Formula): Derivation => ({ kind: 'formula', formula: f });
const nulls = (cols: readonly Column[], type = 'DOUBLE'): Record<Column, Derivation> =>
  Object.fromEntries(cols.map((c) => [c, { kind: 'null', sqlType: type } as const]));
const SCENARIO_SET_NULL: Record<Column, Derivation> = { scenario_set: { kind: 'null', sqlType: 'scenario_family' } };
const scenarioSet = (family: string): Derivation => ({
  kind: 'constant',
  value: NaN,
  sql: `'${family}'::scenario_family`,
});

/**
 * Per model, in dependency order: every account_margin column the model derives from the row's other
 * columns (and its account's totals, ACCOUNT_TOTAL). A model fills these with fillDerived; the report stores the
 * others (src/report/schema.ts).
 */
export const DERIVED: Readonly<Record<ModelName, Readonly<Record<Column, Derivation>>>> = {
  'deribit-pm': {
    risk_matrix_margin: formula(RISK_MATRIX_MARGIN),
    im: formula(PM_IM),
    margin_ratio: formula(RATIO),
    available: formula(AVAILABLE),
    status: formula(STATUS),
    saving: formula(SAVING),
    scenario_set: scenarioSet('deribit-pm'),
    delta_shock: { kind: 'constant', value: 0, sql: '0.0::DOUBLE' },
    ...nulls(['scan_risk', 'som', 'var', 'es']),
  },
  span: {
    // each of an account's rows carries the account's (USD) equity; its margin ratio, available and status are
    // the account's, from the account's IM and MM (its rows' sums: ACCOUNT_TOTAL)
    margin_ratio: formula({ ...RATIO, what: `the account's ${RATIO.what}`, inputs: ['account_mm', 'equity'] }),
    available: formula({ ...AVAILABLE, what: `the account's ${AVAILABLE.what}`, inputs: ['equity', 'account_im'] }),
    status: formula({ ...STATUS, what: `the account's status`, inputs: ['equity', 'account_im', 'account_mm'] }),
    worst_case: formula(copyOf('scan_risk')),
    scenario_set: scenarioSet('span'),
    ...nulls(['roll_shock', 'delta_shock', 'risk_matrix_margin', 'var', 'es', 'standard_im', 'standard_mm', 'saving']),
  },
  'var-hs': varDerived('historical'),
  'var-mc': varDerived('monte-carlo'),
  standard: {
    margin_ratio: formula(RATIO),
    available: formula(AVAILABLE),
    status: formula(STATUS),
    standard_im: formula(copyOf('im')),
    standard_mm: formula(copyOf('mm')),
    saving: formula(SAVING),
    ...SCENARIO_SET_NULL,
    ...nulls(['worst_scenario'], 'INTEGER'),
    ...nulls(['worst_case', 'roll_shock', 'delta_shock', 'risk_matrix_margin', 'scan_risk', 'som', 'var', 'es']),
  },
};

/** var-hs and var-mc derive the same columns; only their scenario family differs. */
function varDerived(family: string): Record<Column, Derivation> {
  return {
    margin_ratio: formula(RATIO),
    available: formula(AVAILABLE),
    status: formula(STATUS),
    scenario_set: scenarioSet(family),
    ...nulls([
      'roll_shock',
      'delta_shock',
      'risk_matrix_margin',
      'scan_risk',
      'som',
      'standard_im',
      'standard_mm',
      'saving',
    ]),
  };
}

/**
 * The standard rows of a run with deribit-pm, derived from its deribit-pm rows (same units, same numbers):
 * account_margin column → formula over the deribit-pm row's columns (report schema 4).
 */
export const STANDARD_FROM_PM: Readonly<Record<Column, Formula>> = {
  im: copyOf('standard_im'),
  mm: copyOf('standard_mm'),
  equity: copyOf('equity'),
  margin_ratio: { ...RATIO, inputs: ['standard_mm', 'equity'] },
  available: { ...AVAILABLE, inputs: ['equity', 'standard_im'] },
  status: { ...STATUS, inputs: ['equity', 'standard_im', 'standard_mm'] },
  liquidity_addon: copyOf('liquidity_addon'),
  standard_im: copyOf('standard_im'),
  standard_mm: copyOf('standard_mm'),
  saving: { ...SAVING, inputs: ['standard_im', 'standard_im'] },
};

/** The account summary's derived columns (account_summary, summary.ts), over its USD totals. */
export const SUMMARY_DERIVED: Readonly<Record<Column, Formula>> = {
  margin_ratio: RATIO,
  available: AVAILABLE,
  saving: SAVING,
};

/** account_margin value column → its MarginRows field (saving and scenario_set have none). */
export const FIELD_OF: Readonly<Record<Column, keyof MarginRows>> = {
  im: 'im',
  mm: 'mm',
  equity: 'equity',
  margin_ratio: 'marginRatio',
  available: 'available',
  status: 'status',
  worst_scenario: 'worstScenario',
  worst_case: 'worstCase',
  roll_shock: 'rollShock',
  delta_shock: 'deltaShock',
  risk_matrix_margin: 'riskMatrixMargin',
  scan_risk: 'scanRisk',
  som: 'som',
  var: 'var',
  es: 'es',
  liquidity_addon: 'liquidityAddon',
  standard_im: 'standardIm',
  standard_mm: 'standardMm',
};

/**
 * The SQL of `column` of a `model` row whose stored columns are read through `alias`: its derivation
 * when the model derives it (inputs resolved the same way, so a derived input's SQL is inlined), else
 * the stored column.
 */
export function derivedSql(model: ModelName, column: Column, alias: string): string {
  const d = DERIVED[model][column];
  if (!d) return `${alias}.${column}`;
  if (d.kind === 'null') return `NULL::${d.sqlType}`;
  if (d.kind === 'constant') return d.sql;
  return d.formula.sql(...d.formula.inputs.map((c) => derivedSql(model, c, alias)));
}

/**
 * Formula inputs that are not a column of the row but a total of its account: the column's sum over the account's
 * rows of the block, added in row order from 0. The report's view adds them the same way (schema.ts, orderedSum):
 * the same doubles.
 */
export const ACCOUNT_TOTAL: Readonly<Record<Column, Column>> = { account_im: 'im', account_mm: 'mm' };

/** Per row, the sum of `x` over the rows of the row's account (whatever their order), from 0 in row order. */
export function accountTotals(rows: MarginRows, x: Float64Array): Float64Array {
  const n = rows.count;
  const account = rows.account;
  let accounts = 0;
  for (let r = 0; r < n; r++) accounts = Math.max(accounts, account[r]! + 1);
  const sum = new Float64Array(accounts);
  for (let r = 0; r < n; r++) sum[account[r]!] += x[r]!;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = sum[account[r]!]!;
  return out;
}

/** The account totals of one block computed so far, by ACCOUNT_TOTAL column (each computed once a call). */
export type AccountTotals = Map<Column, Float64Array>;

/**
 * The column of `rows` for an account_margin column (NaN-filled when MarginRows has none), or an account total
 * (kept in `totals` for the next formula that reads it).
 */
function columnOf(rows: MarginRows, column: Column, totals: AccountTotals): Float64Array {
  const of = ACCOUNT_TOTAL[column];
  if (of === undefined) return rows[FIELD_OF[column]!] as Float64Array;
  let t = totals.get(column);
  if (!t) totals.set(column, (t = accountTotals(rows, columnOf(rows, of, totals))));
  return t;
}

/** Arrays derivedValues fills instead of new ones (a check of many columns reuses one of each type). */
export class DerivedScratch {
  private f64 = new Float64Array(0);
  private u8 = new Uint8Array(0);
  /** An array of `n` values for `column` (its first `n`; what it held before is overwritten). */
  take(column: Column, n: number): Float64Array | Uint8Array {
    if (column === 'status') {
      if (this.u8.length < n) this.u8 = new Uint8Array(n);
      return this.u8.subarray(0, n);
    }
    if (this.f64.length < n) this.f64 = new Float64Array(n);
    return this.f64.subarray(0, n);
  }
}

/**
 * The JavaScript value of the derived `column` of `rows`, for every row (the model's own rows give the
 * inputs: a derived input is read from its column, which fillDerived filled first). A copy's values are its
 * input column itself, not a new array: read them, do not write them. With `scratch`, the values are in its
 * array, valid until its next use. `totals`: the block's account totals computed so far (several formulas of one
 * block read them; pass one map for the same, unchanged rows).
 */
export function derivedValues(
  rows: MarginRows,
  f: Formula,
  column: Column,
  scratch?: DerivedScratch,
  totals: AccountTotals = new Map(),
): Float64Array | Uint8Array {
  // a copy's values are its input column's (read them, do not write them)
  if (f.copy === true) return columnOf(rows, f.inputs[0]!, totals);
  const out =
    scratch?.take(column, rows.count) ??
    (column === 'status' ? new Uint8Array(rows.count) : new Float64Array(rows.count));
  f.fill(out, rows.count, ...f.inputs.map((c) => columnOf(rows, c, totals)));
  return out;
}

/**
 * Fills every column `rows.model` derives (DERIVED) from the row's other columns, in the table's order;
 * columns without a MarginRows field (saving, scenario_set) are the report's alone. A not-applicable amount
 * column ('null') is left NaN: it is checked, and filled only where it is not (allocMarginRows gives the
 * model's not-applicable columns one NaN array, which is read once however many columns share it).
 */
export function fillDerived(rows: MarginRows): void {
  const checked = new Set<Float64Array>();
  const totals: AccountTotals = new Map();
  for (const [column, d] of Object.entries(DERIVED[rows.model])) {
    const field = FIELD_OF[column];
    if (!field) continue;
    if (d.kind === 'formula') {
      const out = rows[field] as Float64Array | Uint8Array;
      const inputs = d.formula.inputs.map((c) => columnOf(rows, c, totals));
      // a copy that is its input's array already (allocMarginRows `given`)
      if (d.formula.copy === true && out === inputs[0]) continue;
      d.formula.fill(out, rows.count, ...inputs);
    } else if (field === 'worstScenario') rows.worstScenario.fill(-1);
    else if (d.kind === 'constant') (rows[field] as Float64Array).fill(d.value);
    else {
      const out = rows[field] as Float64Array;
      if (checked.has(out)) continue;
      checked.add(out);
      fillNaNWhereNot(out);
    }
  }
}

/** The amount columns `model` does not apply (DERIVED's 'null' columns that MarginRows has a field for). */
export function notApplicable(model: ModelName): ReadonlySet<keyof MarginRows> {
  return NOT_APPLICABLE[model];
}

const NOT_APPLICABLE = Object.fromEntries(
  Object.entries(DERIVED).map(([model, derived]) => [
    model,
    new Set(
      Object.entries(derived)
        .filter(([column, d]) => d.kind === 'null' && FIELD_OF[column] !== undefined && column !== 'worst_scenario')
        .map(([column]) => FIELD_OF[column]!),
    ),
  ]),
) as unknown as Record<ModelName, ReadonlySet<keyof MarginRows>>;

/** Sets every element of `a` that is not NaN to NaN (a read of the array when all already are). */
function fillNaNWhereNot(a: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x === x) a[i] = NaN;
  }
}

/** Fills `marginRatio`, `available` and `status` of every row from its equity, IM and MM (§5). */
export function fillStatus(rows: MarginRows): void {
  const n = rows.count;
  RATIO.fill(rows.marginRatio, n, rows.mm, rows.equity);
  AVAILABLE.fill(rows.available, n, rows.equity, rows.im);
  STATUS.fill(rows.status, n, rows.equity, rows.im, rows.mm);
}
