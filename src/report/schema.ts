/**
 * The DuckDB report's schema: tables keyed by run_id, the views analysts query, and the schema version
 * recorded in `schema_meta`. docs/report.md documents every column (units, currency, sign).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { STATUS_NAMES, type ModelName } from '../margin/types.js';
import type { Family } from '../scenarios/types.js';
import { sqlString } from './sql.js';

/**
 * Version of the layout below; bump it (and add a migration in migrations.ts) on any change.
 * 1: account_margin / account_summary were tables holding the account, unit and currency strings per row.
 * 2: they are views over margin_rows / summary_rows (integer account and symbol ids) joined with
 *    `accounts` and `symbols`, one key string per account or symbol per run (a faster write).
 */
export const SCHEMA_VERSION = 2;

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
  ['im', 'DOUBLE'], ['mm', 'DOUBLE'], ['equity', 'DOUBLE'], ['margin_ratio', 'DOUBLE'], ['available', 'DOUBLE'],
  ['status', 'margin_status NOT NULL'], ['scenario_set', 'scenario_family'], ['worst_scenario', 'INTEGER'],
  ['worst_case', 'DOUBLE'], ['roll_shock', 'DOUBLE'], ['delta_shock', 'DOUBLE'], ['risk_matrix_margin', 'DOUBLE'],
  ['scan_risk', 'DOUBLE'], ['som', 'DOUBLE'], ['var', 'DOUBLE'], ['es', 'DOUBLE'], ['liquidity_addon', 'DOUBLE'],
  ['standard_im', 'DOUBLE'], ['standard_mm', 'DOUBLE'], ['saving', 'DOUBLE'],
];
/** The value columns of account_summary after (run_id, model, account, currency), in order. */
export const SUMMARY_VALUE_COLUMNS: readonly (readonly [string, string])[] = [
  ['equity', 'DOUBLE'], ['im', 'DOUBLE'], ['mm', 'DOUBLE'], ['margin_ratio', 'DOUBLE'], ['available', 'DOUBLE'],
  ['status', 'margin_status NOT NULL'], ['standard_im', 'DOUBLE'], ['standard_mm', 'DOUBLE'], ['saving', 'DOUBLE'],
];
const ddlOf = (cols: readonly (readonly [string, string])[]) => cols.map(([n, t]) => `    ${n} ${t}`).join(',\n');
const MARGIN_VALUE_DDL = ddlOf(MARGIN_VALUE_COLUMNS);
const SUMMARY_VALUE_DDL = ddlOf(SUMMARY_VALUE_COLUMNS);
const valuesOf = (alias: string, cols: readonly (readonly [string, string])[]) => cols.map(([n]) => `${alias}.${n}`).join(', ');

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
    status VARCHAR NOT NULL
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
    account VARCHAR NOT NULL
  )`,
  symbols: `CREATE TABLE symbols (
    run_id INTEGER NOT NULL,
    symbol_id INTEGER NOT NULL,
    symbol VARCHAR NOT NULL
  )`,
  margin_rows: `CREATE TABLE margin_rows (
    run_id INTEGER NOT NULL,
    model model_name NOT NULL,
    account_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    currency_id INTEGER NOT NULL,
${MARGIN_VALUE_DDL}
  )`,
  summary_rows: `CREATE TABLE summary_rows (
    run_id INTEGER NOT NULL,
    model model_name NOT NULL,
    account_id INTEGER NOT NULL,
${SUMMARY_VALUE_DDL}
  )`,
  rejected_rows: `CREATE TABLE rejected_rows (
    run_id INTEGER NOT NULL,
    file VARCHAR NOT NULL,
    "row" BIGINT,
    "column" VARCHAR,
    value VARCHAR,
    rule VARCHAR NOT NULL
  )`,
};

const LATEST = '(SELECT max(run_id) FROM runs)';

/**
 * Views, in creation order: account_margin and account_summary (every run, with the account, unit and
 * currency names joined in), then the common questions, each answering for the latest run (the largest run_id).
 */
export const VIEW_DDL: Record<string, string> = {
  account_margin: `CREATE OR REPLACE VIEW account_margin AS
    SELECT m.run_id, m.model, a.account, u.symbol AS unit, c.symbol AS currency, ${valuesOf('m', MARGIN_VALUE_COLUMNS)}
    FROM margin_rows m
    JOIN accounts a ON a.run_id = m.run_id AND a.account_id = m.account_id
    JOIN symbols u ON u.run_id = m.run_id AND u.symbol_id = m.unit_id
    JOIN symbols c ON c.run_id = m.run_id AND c.symbol_id = m.currency_id`,
  account_summary: `CREATE OR REPLACE VIEW account_summary AS
    SELECT s.run_id, s.model, a.account, 'USD' AS currency, ${valuesOf('s', SUMMARY_VALUE_COLUMNS)}
    FROM summary_rows s
    JOIN accounts a ON a.run_id = s.run_id AND a.account_id = s.account_id`,
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
    FROM account_summary
    WHERE run_id = ${LATEST} AND im IS NOT NULL
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
};

/** Every table of the report, in creation order. */
export const REPORT_TABLES = Object.keys(TABLE_DDL);
/** Every view of the report. */
export const REPORT_VIEWS = Object.keys(VIEW_DDL);

/** Creates every table and view and records SCHEMA_VERSION (inside the caller's transaction). */
export async function createSchema(connection: DuckDBConnection, engineVersion: string): Promise<void> {
  for (const ddl of Object.values(TYPE_DDL)) await connection.run(ddl);
  for (const ddl of Object.values(TABLE_DDL)) await connection.run(ddl);
  await createViews(connection);
  await connection.run('INSERT INTO schema_meta VALUES ($1, $2, epoch_ms($3::BIGINT))', [SCHEMA_VERSION, engineVersion, Date.now()]);
}

/** Creates or replaces every view (after a migration too). */
export async function createViews(connection: DuckDBConnection): Promise<void> {
  for (const ddl of Object.values(VIEW_DDL)) await connection.run(ddl);
}
