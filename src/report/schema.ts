/**
 * The DuckDB report's schema: tables keyed by run_id, the views analysts query, and the schema version
 * recorded in `schema_meta`. docs/report.md documents every column (units, currency, sign).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { STATUS_NAMES, type ModelName } from '../margin/types.js';
import type { Family } from '../scenarios/types.js';
import {
  ACCOUNT_TOTAL,
  AVAILABLE,
  DERIVED,
  RATIO,
  STATUS,
  STANDARD_FROM_PM as STANDARD_FROM_PM_FORMULAS,
  SUMMARY_DERIVED as SUMMARY_DERIVED_FORMULAS,
  derivedSql,
  nanToNull,
} from '../margin/derived.js';
import { sqlString } from './sql.js';
import { CAPITAL_EFFICIENCY_VIEW, capitalEfficiencyDdl } from './capitalEfficiency.js';
import { VOL_SURFACE_DDL, VOL_SURFACE_TABLE } from './volSurface.js';
import { ATTRIBUTION_DDL, ATTRIBUTION_TABLE, TOP_MARGIN_DRIVERS_VIEW, topMarginDriversDdl } from './attribution.js';
import { LIQUIDATION_MACRO_DDL, LIQUIDATION_TABLE_DDL, LIQUIDATION_VIEW_DDL } from './liquidation.js';

/**
 * Version of the layout below; bump it (and add a migration in migrations.ts) on any change.
 * 1: account_margin / account_summary were tables holding the account, unit and currency strings per row.
 * 2: they are views over margin_rows / summary_rows (integer account and symbol ids) joined with
 *    `accounts` and `symbols`, one key string per account or symbol per run (a faster write).
 * 3: margin rows are stored per model (`margin_deribit_pm`, `margin_span`, `margin_var_hs`,
 *    `margin_var_mc`, `margin_standard`), each with only the columns its model produces; columns that
 *    are constant, NULL or computed from others for a model (e.g. `saving`, `risk_matrix_margin`,
 *    `currency`) are given by the account_margin view; summary_rows keeps equity, IM, MM, status and the
 *    standard margins (margin_ratio, available and saving come from the view). About a third less for
 *    DuckDB to write per run.
 * 4: a run that has deribit-pm stores no `standard` rows: they are its deribit-pm rows' standard_im,
 *    standard_mm, equity and liquidity_addon (the same units, the same numbers), and the account_margin
 *    view derives them (STANDARD_FROM_PM). Same tables as 3; the view changes.
 * 5: a run stores no summary rows: account_summary derives them from its margin rows, each account's
 *    USD equity (new column accounts.equity_usd) and each unit's USD rate (new column symbols.usd_rate),
 *    adding the rows in their stored order as src/margin/summary.ts does (summaryFromRows), so the
 *    numbers are the engine's to the last bit. Runs written before keep their summary_rows.
 *    margin_deribit_pm no longer stores im, margin_ratio, available and status: the view derives them
 *    from worst_case, roll_shock, liquidity_addon, mm and equity (PM_IM, ratioSql, availableSql, statusSql);
 *    margin_span no longer stores worst_case, which is its scan_risk.
 * 6: the capital_efficiency view (capitalEfficiency.ts). Same tables as 5.
 * 7: the margin_attribution table and the top_margin_drivers view (attribution.ts), written by
 *    `run --attribution` (docs/methodology.md §9).
 * 8: liquidation risk (liquidation.ts): the liquidation_distance table (`run --distance`), the cascade
 *    tables cascade_runs, cascade_rounds, cascade_accounts (`margin-engine cascade`), the
 *    accounts_near_liquidation view and the near_liquidation(t) table macro.
 * 9: the vol_surface table (volSurface.ts): every run's implied-volatility surface (docs/methodology.md §11).
 * 10: runs.warnings (VARCHAR[]): what the run warned about (an empty book, unknown columns, summed
 *    duplicate rows, …), as its summary printed them; NULL for runs written before (RUN_WARNINGS_MIGRATION).
 * 11: margin_span no longer stores margin_ratio, available and status: the view derives them from the row's
 *    equity (the account's) and the account's IM and MM, its span rows' sums in row order (ACCOUNT_TOTAL of
 *    src/margin/derived.ts; SPAN_ACCOUNT_MIGRATION). Three of ten value columns fewer on span's ~127,000 rows
 *    (intraday, 100,000 accounts), at the end of the run's report.
 */
export const SCHEMA_VERSION = 11;

/**
 * Whether the report stores the `standard` rows of a run of these models: since schema 4 a run with
 * deribit-pm has them derived from its deribit-pm rows by the account_margin view (checked before COMMIT).
 */
export function storesStandardRows(models: readonly ModelName[]): boolean {
  return !models.includes('deribit-pm');
}

/** Values of the `model_name` enum, in code order (code = index). */
export const MODEL_NAMES: readonly ModelName[] = ['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard'];
/** Values of the `scenario_family` enum, in code order. */
export const FAMILY_NAMES: readonly Family[] = ['deribit-pm', 'span', 'historical', 'monte-carlo', 'stress'];

const enumOf = (values: readonly string[]) => `ENUM (${values.map(sqlString).join(', ')})`;

/** Enum types of closed vocabularies (stored as one byte, read and compared as strings). */
export const TYPE_DDL: Record<string, string> = {
  model_name: `CREATE TYPE model_name AS ${enumOf(MODEL_NAMES)}`,
  margin_status: `CREATE TYPE margin_status AS ${enumOf(STATUS_NAMES)}`,
  scenario_family: `CREATE TYPE scenario_family AS ${enumOf(FAMILY_NAMES)}`,
};

/** The value columns of account_margin after (run_id, model, account, unit, currency), in order. */
export const MARGIN_VALUE_COLUMNS: readonly (readonly [string, string])[] = [
  ['im', 'DOUBLE'],
  ['mm', 'DOUBLE'],
  ['equity', 'DOUBLE'],
  ['margin_ratio', 'DOUBLE'],
  ['available', 'DOUBLE'],
  ['status', 'margin_status NOT NULL'],
  ['scenario_set', 'scenario_family'],
  ['worst_scenario', 'INTEGER'],
  ['worst_case', 'DOUBLE'],
  ['roll_shock', 'DOUBLE'],
  ['delta_shock', 'DOUBLE'],
  ['risk_matrix_margin', 'DOUBLE'],
  ['scan_risk', 'DOUBLE'],
  ['som', 'DOUBLE'],
  ['var', 'DOUBLE'],
  ['es', 'DOUBLE'],
  ['liquidity_addon', 'DOUBLE'],
  ['standard_im', 'DOUBLE'],
  ['standard_mm', 'DOUBLE'],
  ['saving', 'DOUBLE'],
];
/** The value columns of account_summary after (run_id, model, account, currency), in order. */
export const SUMMARY_VALUE_COLUMNS: readonly (readonly [string, string])[] = [
  ['equity', 'DOUBLE'],
  ['im', 'DOUBLE'],
  ['mm', 'DOUBLE'],
  ['margin_ratio', 'DOUBLE'],
  ['available', 'DOUBLE'],
  ['status', 'margin_status NOT NULL'],
  ['standard_im', 'DOUBLE'],
  ['standard_mm', 'DOUBLE'],
  ['saving', 'DOUBLE'],
];

/**
 * How one model's margin rows are stored (schema 3): its table, the account_margin value columns it
 * stores (after run_id, account_id, unit_id; in this order), and for every other value column the SQL
 * the account_margin view gives instead (over the table's alias `m`). `currency`: the unit's own name
 * (coin or USDC units) or the constant 'USD'. Every run is checked, row by row, before it commits: what
 * a table leaves out is exactly what the view gives back (rowChecks.ts, checkDerived).
 */
export interface ModelStorage {
  table: string;
  stored: readonly string[];
  derived: Readonly<Record<string, string>>;
  currency: 'unit' | 'USD';
  /**
   * The FROM item the view reads the table through, as `m`: the table itself, or (when a derivation reads an
   * account total) the table with each row's account totals (`m.account_im`, …) beside its columns
   */
  from: string;
  /** the SQL of the row's stored order over `m` */
  rowOrder: string;
}

/** SQL of the §5 formulas over SQL operands (src/margin/derived.ts defines them once, with their JS forms). */
export const ratioSql = (mm: string, equity: string) => RATIO.sql(mm, equity);
export const availableSql = (equity: string, im: string) => AVAILABLE.sql(equity, im);
export const statusSql = (equity: string, im: string, mm: string) => STATUS.sql(equity, im, mm);
export { nanToNull };
/** deribit-pm's IM as the view derives it from a margin_deribit_pm row `m`. */
export const PM_IM = derivedSql('deribit-pm', 'im', 'm');

/** The account_margin value columns each model's table stores (after run_id, account_id, unit_id; in this order). */
/** What every model but deribit-pm stores first: the row's margins, equity and status. */
const COMMON = ['im', 'mm', 'equity', 'margin_ratio', 'available', 'status'] as const;
/** var-hs and var-mc store the same columns. */
const VAR_STORED = [...COMMON, 'worst_scenario', 'worst_case', 'var', 'es', 'liquidity_addon'];
const STORED: Readonly<Record<ModelName, readonly string[]>> = {
  'deribit-pm': [
    'mm',
    'equity',
    'worst_scenario',
    'worst_case',
    'roll_shock',
    'liquidity_addon',
    'standard_im',
    'standard_mm',
  ],
  // the account's margin ratio, available and status are the view's (DERIVED: from the account's totals)
  span: ['im', 'mm', 'equity', 'worst_scenario', 'scan_risk', 'som', 'liquidity_addon'],
  'var-hs': VAR_STORED,
  'var-mc': VAR_STORED,
  standard: [...COMMON, 'liquidity_addon'],
};
const TABLE: Readonly<Record<ModelName, string>> = {
  'deribit-pm': 'margin_deribit_pm',
  span: 'margin_span',
  'var-hs': 'margin_var_hs',
  'var-mc': 'margin_var_mc',
  standard: 'margin_standard',
};

/**
 * 0 plus the values of field `f` of the sorted list `t0.l`, added in order (as the engine adds an account's rows:
 * summary.ts, derived.ts accountTotals); NULL in, NULL out; a NaN sum (∞ − ∞) as NULL.
 */
const orderedSum = (f: string) =>
  nanToNull(`0.0 + list_reduce(list_transform(t0.l, lambda e: e.${f}), lambda p, q: p + q)`);

/** A model's storage: what it stores, and every other value column as the model derives it (DERIVED), in SQL. */
function storageOf(model: ModelName): ModelStorage {
  const stored = STORED[model];
  const derived: Record<string, string> = {};
  const totals = new Set<string>();
  for (const [c] of MARGIN_VALUE_COLUMNS) {
    if (stored.includes(c)) continue;
    const d = DERIVED[model][c];
    if (!d) throw new Error(`report schema: ${model} neither stores nor derives ${c}`);
    if (d.kind === 'formula') for (const x of d.formula.inputs) if (ACCOUNT_TOTAL[x]) totals.add(x);
    derived[c] = derivedSql(model, c, 'm');
  }
  const table = TABLE[model];
  for (const x of totals)
    if (!stored.includes(ACCOUNT_TOTAL[x]!))
      throw new Error(`report schema: ${model} sums ${ACCOUNT_TOTAL[x]}, which it does not store`);
  return {
    table,
    stored,
    derived,
    currency: model === 'deribit-pm' || model === 'standard' ? 'unit' : 'USD',
    ...(totals.size === 0 ? { from: `${table} m`, rowOrder: 'm.rowid' } : withAccountTotals(table, [...totals])),
  };
}

/**
 * The rows of `table` with their account totals (ACCOUNT_TOTAL: `account_im` the sum of the account's im …) as
 * columns, aliased `m`, and their stored order as `m.row_order`: per (run, account), its rows' values listed
 * in their stored order, added from 0 as the engine adds them (orderedSum), joined back to each row.
 */
function withAccountTotals(table: string, totals: readonly string[]): Pick<ModelStorage, 'from' | 'rowOrder'> {
  const fields = [...new Set(totals.map((x) => ACCOUNT_TOTAL[x]!))];
  return {
    from: `(SELECT s.*, s.rowid AS row_order, ${totals.map((x) => `t.${x}`).join(', ')}
      FROM ${table} s
      JOIN (SELECT t0.run_id, t0.account_id, ${totals.map((x) => `${orderedSum(ACCOUNT_TOTAL[x]!)} AS ${x}`).join(', ')}
            FROM (SELECT run_id, account_id, list_sort(list({o: rowid, ${fields.map((f) => `${f}: ${f}`).join(', ')}})) AS l
                  FROM ${table} GROUP BY run_id, account_id) t0) t
        ON t.run_id = s.run_id AND t.account_id = s.account_id) m`,
    rowOrder: 'm.row_order',
  };
}

export const MODEL_STORAGE: Readonly<Record<ModelName, ModelStorage>> = Object.fromEntries(
  (Object.keys(TABLE) as ModelName[]).map((m) => [m, storageOf(m)]),
) as Record<ModelName, ModelStorage>;

/**
 * The `standard` rows of a run that has deribit-pm, as the account_margin view derives them from that
 * run's margin_deribit_pm rows (alias `m`): src/margin/derived.ts, STANDARD_FROM_PM. The run's rows are
 * checked against this before the standard block is left out (rowChecks.ts).
 */
export const STANDARD_FROM_PM: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(STANDARD_FROM_PM_FORMULAS).map(([c, f]) => [c, f.sql(...f.inputs.map((x) => `m.${x}`))]),
);

/**
 * The summary_rows columns after (run_id, model, account_id); margin_ratio, available and saving come from the view.
 */
export const SUMMARY_STORED: readonly string[] = ['equity', 'im', 'mm', 'status', 'standard_im', 'standard_mm'];
/** The view's expressions for the summary columns that are not stored (alias `s`): src/margin/derived.ts. */
export const SUMMARY_DERIVED: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SUMMARY_DERIVED_FORMULAS).map(([c, f]) => [c, f.sql(...f.inputs.map((x) => `s.${x}`))]),
);

/**
 * Models whose rows are in their unit's own currency (coin or USDC), converted to USD by the unit's usd_rate; the
 * others' rows are in USD.
 */
export const PER_UNIT_MODELS: readonly ModelName[] = (Object.keys(MODEL_STORAGE) as ModelName[]).filter(
  (m) => MODEL_STORAGE[m].currency === 'unit',
);

const inList = (models: readonly string[]) => models.map(sqlString).join(', ');
/**
 * The summary rows (run_id, model, account_id, then SUMMARY_STORED) of the runs written with schema 5
 * or later (runs.schema_version; earlier runs keep their summary_rows, or have none): one per account of
 * the run and model of runs.models, derived from account_margin_ids
 * exactly as src/margin/summary.ts (summarizeRows) computes them:
 * - im, mm (and, for models in a unit's currency, equity): 0 plus each of the account's rows in their
 *   stored order (row_order), `amount × usd_rate` (× 1 for rows in USD): the same additions in the same
 *   order, so the same doubles; a NULL (the engine's NaN) makes the sum NULL; a NaN sum (∞ − ∞) is NULL;
 * - an account without rows of the model: IM = MM = 0;
 * - equity: the sum above for models in a unit's currency when the account has rows of the model, else
 *   the account's USD equity (accounts.equity_usd);
 * - status: the worst of the account's unit statuses for models in a unit's currency when it has rows,
 *   else from equity, IM and MM (docs/methodology.md §5; NULL compares as below);
 * - standard_im, standard_mm: the same sums over the account's `standard` rows.
 * `run`: a SQL expression of the one run to derive (the filter applied before the rows are aggregated),
 * or null for every such run.
 */
export function summaryFromRows(run: string | null): string {
  const runs = `q.schema_version >= 5${run === null ? '' : ` AND q.run_id = ${run}`}`;
  return `SELECT v.run_id, v.model, v.account_id, v.equity, v.im, v.mm,
            coalesce(v.worst, ${statusSql('v.equity', 'v.im', 'v.mm')}) AS status,
            v.standard_im, v.standard_mm
          FROM (
            WITH t AS (
              -- per (run, model, account) of the runs that derive their summaries: the rows' USD amounts
              -- as one list sorted by row_order (a plain list() and a sort of a few values per account:
              -- an ordered aggregate sorts every row of the run and took ten times as long), then added
              SELECT t0.run_id, t0.model, t0.account_id, t0.worst, ${orderedSum('im')} AS im, ${orderedSum('mm')} AS mm, ${orderedSum('eq')} AS equity
              FROM (
                SELECT r.run_id, r.model, r.account_id, max(r.status) AS worst,
                  list_sort(list({o: r.row_order, im: r.im * u.rate, mm: r.mm * u.rate, eq: r.equity * u.rate})) AS l
                FROM account_margin_ids r
                JOIN runs q ON q.run_id = r.run_id AND ${runs}
                JOIN (SELECT y.run_id, y.symbol_id, y.usd_rate AS rate FROM symbols y) u ON u.run_id = r.run_id AND u.symbol_id = r.unit_id
                WHERE r.model IN (${inList(PER_UNIT_MODELS)})
                GROUP BY r.run_id, r.model, r.account_id
                UNION ALL
                SELECT r.run_id, r.model, r.account_id, max(r.status) AS worst,
                  list_sort(list({o: r.row_order, im: r.im, mm: r.mm, eq: r.equity})) AS l
                FROM account_margin_ids r
                JOIN runs q ON q.run_id = r.run_id AND ${runs}
                WHERE r.model NOT IN (${inList(PER_UNIT_MODELS)})
                GROUP BY r.run_id, r.model, r.account_id
              ) t0
            )
            SELECT x.run_id, x.model, a.account_id,
              CASE WHEN x.model IN (${inList(PER_UNIT_MODELS)}) AND t.worst IS NOT NULL THEN t.equity ELSE a.equity_usd END AS equity,
              CASE WHEN t.worst IS NULL THEN 0.0 ELSE t.im END AS im,
              CASE WHEN t.worst IS NULL THEN 0.0 ELSE t.mm END AS mm,
              CASE WHEN x.model IN (${inList(PER_UNIT_MODELS)}) THEN t.worst END AS worst,
              CASE WHEN sd.worst IS NULL THEN 0.0 ELSE sd.im END AS standard_im,
              CASE WHEN sd.worst IS NULL THEN 0.0 ELSE sd.mm END AS standard_mm
            FROM (SELECT q.run_id, unnest(q.models)::model_name AS model FROM runs q WHERE ${runs}) x
            JOIN accounts a ON a.run_id = x.run_id
            LEFT JOIN t ON t.run_id = x.run_id AND t.model = x.model AND t.account_id = a.account_id
            LEFT JOIN t sd ON sd.run_id = x.run_id AND sd.model = 'standard' AND sd.account_id = a.account_id
          ) v`;
}

const typeOf = (cols: readonly (readonly [string, string])[], name: string) => cols.find(([n]) => n === name)![1];
/** Tables, in creation order. Amounts are DOUBLE in the row's currency; NULL = does not apply. */
export const TABLE_DDL: Record<string, string> = {
  schema_meta: `CREATE TABLE schema_meta (
    version INTEGER NOT NULL,
    engine_version VARCHAR,
    updated_at TIMESTAMP NOT NULL
  )`,
  runs: `CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    written_at TIMESTAMP NOT NULL,
    snapshot_time TIMESTAMP NOT NULL,
    models VARCHAR[] NOT NULL,
    params JSON NOT NULL,
    params_hash VARCHAR NOT NULL,
    inputs JSON NOT NULL,
    backends JSON NOT NULL,
    timings_ms JSON NOT NULL,
    scenario_sets JSON NOT NULL,
    engine_version VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    schema_version INTEGER,
    warnings VARCHAR[]
  )`,
  scenarios: `CREATE TABLE scenarios (
    run_id INTEGER NOT NULL,
    scenario_set scenario_family NOT NULL,
    scenario INTEGER NOT NULL,
    label VARCHAR,
    dt_days DOUBLE NOT NULL,
    underlying VARCHAR NOT NULL,
    weight DOUBLE NOT NULL,
    move DOUBLE NOT NULL,
    delta_one_move DOUBLE NOT NULL,
    vol_rule VARCHAR NOT NULL,
    vol_param DOUBLE NOT NULL
  )`,
  instruments: `CREATE TABLE instruments (
    run_id INTEGER NOT NULL,
    instrument_id INTEGER NOT NULL,
    instrument VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    option_type VARCHAR,
    settlement VARCHAR NOT NULL,
    strike DOUBLE,
    expiry TIMESTAMP,
    t_years DOUBLE NOT NULL,
    mark_price DOUBLE NOT NULL,
    mark_iv DOUBLE,
    forward DOUBLE NOT NULL,
    bid_price DOUBLE,
    ask_price DOUBLE,
    open_interest DOUBLE,
    index_price DOUBLE NOT NULL,
    model_value DOUBLE,
    model_minus_mark DOUBLE
  )`,
  accounts: `CREATE TABLE accounts (
    run_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    account VARCHAR NOT NULL,
    equity_usd DOUBLE
  )`,
  symbols: `CREATE TABLE symbols (
    run_id INTEGER NOT NULL,
    symbol_id INTEGER NOT NULL,
    symbol VARCHAR NOT NULL,
    usd_rate DOUBLE
  )`,
  ...Object.fromEntries(
    Object.values(MODEL_STORAGE).map((m) => [
      m.table,
      `CREATE TABLE ${m.table} (
    run_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
${m.stored.map((c) => `    ${c} ${typeOf(MARGIN_VALUE_COLUMNS, c)}`).join(',\n')}
  )`,
    ]),
  ),
  summary_rows: `CREATE TABLE summary_rows (
    run_id INTEGER NOT NULL,
    model model_name NOT NULL,
    account_id INTEGER NOT NULL,
${SUMMARY_STORED.map((c) => `    ${c} ${typeOf(SUMMARY_VALUE_COLUMNS, c)}`).join(',\n')}
  )`,
  [ATTRIBUTION_TABLE]: ATTRIBUTION_DDL,
  rejected_rows: `CREATE TABLE rejected_rows (
    run_id INTEGER NOT NULL,
    file VARCHAR NOT NULL,
    "row" BIGINT,
    "column" VARCHAR,
    value VARCHAR,
    rule VARCHAR NOT NULL
  )`,
  ...LIQUIDATION_TABLE_DDL,
  [VOL_SURFACE_TABLE]: VOL_SURFACE_DDL,
};

const LATEST = '(SELECT max(run_id) FROM runs)';

/**
 * The rows of account_summary: stored summary_rows (runs before schema 5) and derived ones
 * (summaryFromRows), with the account names and the computed columns. `run`: a SQL expression of the
 * one run to give (filtering before anything is derived), or null for every run.
 */
export function accountSummarySql(run: string | null): string {
  const stored = run === null ? '' : ` WHERE run_id = ${run}`;
  return `SELECT s.run_id, s.model, a.account, 'USD' AS currency,
      ${SUMMARY_VALUE_COLUMNS.map(([c]) => (SUMMARY_STORED.includes(c) ? `s.${c}` : `${SUMMARY_DERIVED[c]} AS ${c}`)).join(', ')}
    FROM (SELECT run_id, model, account_id, ${SUMMARY_STORED.join(', ')} FROM summary_rows${stored}
          UNION ALL
          ${summaryFromRows(run)}) s
    JOIN accounts a ON a.run_id = s.run_id AND a.account_id = s.account_id`;
}

/**
 * Views, in creation order: account_margin_ids (every model's rows of every run by account and unit id,
 * with their stored order), account_margin and account_summary (every run, with the account, unit and
 * currency names joined in), then the common questions, each answering for the latest run (the largest run_id).
 */
export const VIEW_DDL: Record<string, string> = {
  account_margin_ids: `CREATE OR REPLACE VIEW account_margin_ids AS
    ${(Object.entries(MODEL_STORAGE) as Array<[ModelName, ModelStorage]>)
      .map(
        ([
          model,
          m,
        ]) => `SELECT m.run_id, ${sqlString(model)}::model_name AS model, m.account_id, m.unit_id, ${m.rowOrder} AS row_order,
      ${MARGIN_VALUE_COLUMNS.map(([c]) => (m.stored.includes(c) ? `m.${c}` : `${m.derived[c]} AS ${c}`)).join(', ')}
    FROM ${m.from}`,
      )
      .join('\n    UNION ALL\n    ')}
    UNION ALL
    SELECT m.run_id, 'standard'::model_name AS model, m.account_id, m.unit_id, m.rowid AS row_order,
      ${MARGIN_VALUE_COLUMNS.map(([c]) => `${STANDARD_FROM_PM[c] ?? MODEL_STORAGE.standard.derived[c]} AS ${c}`).join(', ')}
    FROM margin_deribit_pm m
    WHERE m.run_id IN (SELECT run_id FROM runs WHERE list_contains(models, 'standard'))
      AND m.run_id NOT IN (SELECT DISTINCT run_id FROM margin_standard)`,
  account_margin: `CREATE OR REPLACE VIEW account_margin AS
    SELECT r.run_id, r.model, a.account, u.symbol AS unit,
      CASE WHEN r.model IN (${PER_UNIT_MODELS.map(sqlString).join(', ')}) THEN u.symbol ELSE 'USD' END AS currency,
      ${MARGIN_VALUE_COLUMNS.map(([c]) => `r.${c}`).join(', ')}
    FROM account_margin_ids r
    JOIN accounts a ON a.run_id = r.run_id AND a.account_id = r.account_id
    JOIN symbols u ON u.run_id = r.run_id AND u.symbol_id = r.unit_id`,
  account_summary: `CREATE OR REPLACE VIEW account_summary AS
    ${accountSummarySql(null)}`,
  margin_calls: `CREATE OR REPLACE VIEW margin_calls AS
    SELECT run_id, model, account, unit, currency, status, equity, im, mm, margin_ratio,
           im - equity AS im_shortfall, greatest(mm - equity, 0) AS mm_shortfall
    FROM account_margin
    WHERE run_id = ${LATEST} AND status IN ('margin_call', 'liquidation')
    ORDER BY status = 'liquidation' DESC, model, unit, im - equity DESC, account`,
  top_margin_consumers: `CREATE OR REPLACE VIEW top_margin_consumers AS
    SELECT run_id, model,
           row_number() OVER (PARTITION BY model ORDER BY im DESC, account) AS im_rank,
           account, currency, im, mm, equity, available, status,
           im / nullif(sum(im) OVER (PARTITION BY model), 0) AS im_share
    -- account_summary of the latest run, the run filter applied before the summaries are derived (a
    -- filter on the view is applied after: it would derive every run of the file)
    FROM (${accountSummarySql(LATEST)})
    WHERE im IS NOT NULL
    ORDER BY model, im_rank`,
  pm_saving_by_underlying: `CREATE OR REPLACE VIEW pm_saving_by_underlying AS
    SELECT run_id, model, unit, currency, count(*) AS units,
           sum(im) AS im, sum(standard_im) AS standard_im, sum(mm) AS mm, sum(standard_mm) AS standard_mm,
           sum(saving) AS saving, sum(saving) / nullif(sum(standard_im), 0) AS saving_share
    FROM account_margin
    WHERE run_id = ${LATEST} AND model <> 'standard' AND standard_im IS NOT NULL AND im IS NOT NULL
    GROUP BY run_id, model, unit, currency
    ORDER BY model, unit`,
  worst_scenarios_by_frequency: `CREATE OR REPLACE VIEW worst_scenarios_by_frequency AS
    WITH w AS (
      SELECT run_id, model, scenario_set, worst_scenario AS scenario, count(*) AS units
      FROM account_margin
      WHERE run_id = ${LATEST} AND worst_scenario IS NOT NULL
      GROUP BY run_id, model, scenario_set, worst_scenario
    ), l AS (
      SELECT run_id, scenario_set, scenario, any_value(label) AS label, any_value(dt_days) AS dt_days
      FROM scenarios WHERE run_id = ${LATEST}
      GROUP BY run_id, scenario_set, scenario
    )
    SELECT w.run_id, w.model, w.scenario_set, w.scenario, l.label, l.dt_days, w.units,
           w.units / sum(w.units) OVER (PARTITION BY w.model) AS share
    FROM w LEFT JOIN l USING (run_id, scenario_set, scenario)
    ORDER BY w.model, w.units DESC, w.scenario`,
  [CAPITAL_EFFICIENCY_VIEW]: capitalEfficiencyDdl(LATEST, accountSummarySql(LATEST)),
  [TOP_MARGIN_DRIVERS_VIEW]: topMarginDriversDdl(LATEST, PER_UNIT_MODELS.map(sqlString).join(', ')),
  ...LIQUIDATION_VIEW_DDL,
};

/** Every table of the report, in creation order. */
export const REPORT_TABLES = Object.keys(TABLE_DDL);
/** Every view of the report. */
export const REPORT_VIEWS = Object.keys(VIEW_DDL);

/**
 * Every statement that makes the schema, in order: the types, the tables, the views, the table macros (what
 * createSchema runs before schema_meta's row; reportTemplate.ts names its template by their digest).
 */
export function schemaStatements(): string[] {
  return [...Object.values(TYPE_DDL), ...Object.values(TABLE_DDL), ...viewStatements()];
}

/** The views and the table macros, in order (createViews runs them; after a migration too). */
function viewStatements(): string[] {
  return [...Object.values(VIEW_DDL), ...Object.values(LIQUIDATION_MACRO_DDL)];
}

/** Creates every table and view and records SCHEMA_VERSION (inside the caller's transaction). */
export async function createSchema(connection: DuckDBConnection, engineVersion: string): Promise<void> {
  for (const ddl of schemaStatements()) await connection.run(ddl);
  await connection.run('INSERT INTO schema_meta VALUES ($1, $2, epoch_ms($3::BIGINT))', [
    SCHEMA_VERSION,
    engineVersion,
    Date.now(),
  ]);
}

/** Creates or replaces every view and table macro (after a migration too). */
export async function createViews(connection: DuckDBConnection): Promise<void> {
  for (const ddl of viewStatements()) await connection.run(ddl);
}
