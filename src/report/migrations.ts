/**
 * Schema migrations of the report: from each older version to the next, as SQL run inside the writing
 * transaction (so a migration is committed together with the run that needed it, or not at all).
 * A version with no migration to the next is refused with a message naming the file and both versions.
 * Each migration is frozen SQL of its own version pair (it never refers to the current DDL, which moves on).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError } from '../errors.js';
import { SCHEMA_VERSION, createViews } from './schema.js';
import { V6_TO_V7 as LIQUIDATION_V7_TO_V8 } from './liquidation.js';
import { VOL_SURFACE_MIGRATION } from './volSurface.js';

/** version v -> statements that turn a version-v report into version v+1. */
export type Migrations = Record<number, string[]>;

const MARGIN_VALUES_V2 = `im, mm, equity, margin_ratio, available, status, scenario_set, worst_scenario, worst_case,
  roll_shock, delta_shock, risk_matrix_margin, scan_risk, som, var, es, liquidity_addon, standard_im, standard_mm, saving`;
const SUMMARY_VALUES_V2 = 'equity, im, mm, margin_ratio, available, status, standard_im, standard_mm, saving';
const prefixed = (alias: string, cols: string) =>
  cols
    .split(',')
    .map((c) => `${alias}.${c.trim()}`)
    .join(', ');

/**
 * Version 1 -> 2: the account_margin and account_summary tables (account, unit and currency strings per
 * row) become margin_rows / summary_rows with integer ids, plus `accounts` (ids numbered per run in
 * key order) and `symbols` (the run's unit and currency names, numbered in name order); the views of
 * the same names, created afterwards, give back the same rows. account_summary.currency was always 'USD'.
 */
const V1_TO_V2: string[] = [
  `CREATE TABLE accounts (run_id INTEGER NOT NULL, account_id INTEGER NOT NULL, account VARCHAR NOT NULL)`,
  `CREATE TABLE symbols (run_id INTEGER NOT NULL, symbol_id INTEGER NOT NULL, symbol VARCHAR NOT NULL)`,
  `CREATE TABLE margin_rows (run_id INTEGER NOT NULL, model model_name NOT NULL, account_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL, currency_id INTEGER NOT NULL, im DOUBLE, mm DOUBLE, equity DOUBLE, margin_ratio DOUBLE,
    available DOUBLE, status margin_status NOT NULL, scenario_set scenario_family, worst_scenario INTEGER,
    worst_case DOUBLE, roll_shock DOUBLE, delta_shock DOUBLE, risk_matrix_margin DOUBLE, scan_risk DOUBLE, som DOUBLE,
    var DOUBLE, es DOUBLE, liquidity_addon DOUBLE, standard_im DOUBLE, standard_mm DOUBLE, saving DOUBLE)`,
  `CREATE TABLE summary_rows (run_id INTEGER NOT NULL, model model_name NOT NULL, account_id INTEGER NOT NULL,
    equity DOUBLE, im DOUBLE, mm DOUBLE, margin_ratio DOUBLE, available DOUBLE, status margin_status NOT NULL,
    standard_im DOUBLE, standard_mm DOUBLE, saving DOUBLE)`,
  `INSERT INTO accounts
    SELECT run_id, (row_number() OVER (PARTITION BY run_id ORDER BY account) - 1)::INTEGER, account
    FROM (SELECT run_id, account FROM account_margin UNION SELECT run_id, account FROM account_summary)`,
  `INSERT INTO symbols
    SELECT run_id, (row_number() OVER (PARTITION BY run_id ORDER BY symbol) - 1)::INTEGER, symbol
    FROM (SELECT run_id, unit AS symbol FROM account_margin UNION SELECT run_id, currency FROM account_margin)`,
  `INSERT INTO margin_rows
    SELECT m.run_id, m.model, a.account_id, u.symbol_id, c.symbol_id, ${prefixed('m', MARGIN_VALUES_V2)}
    FROM account_margin m
    JOIN accounts a ON a.run_id = m.run_id AND a.account = m.account
    JOIN symbols u ON u.run_id = m.run_id AND u.symbol = m.unit
    JOIN symbols c ON c.run_id = m.run_id AND c.symbol = m.currency
    ORDER BY m.run_id`,
  `INSERT INTO summary_rows
    SELECT s.run_id, s.model, a.account_id, ${prefixed('s', SUMMARY_VALUES_V2)}
    FROM account_summary s JOIN accounts a ON a.run_id = s.run_id AND a.account = s.account
    ORDER BY s.run_id`,
  'DROP VIEW IF EXISTS margin_calls',
  'DROP VIEW IF EXISTS top_margin_consumers',
  'DROP VIEW IF EXISTS pm_saving_by_underlying',
  'DROP VIEW IF EXISTS worst_scenarios_by_frequency',
  'DROP TABLE account_margin',
  'DROP TABLE account_summary',
];

/**
 * Version 2 -> 3: margin_rows is split into one table per model holding only the columns that model
 * produces (the account_margin view derives the rest: constants, NULLs, `saving`, `risk_matrix_margin`,
 * `currency`); summary_rows drops margin_ratio, available and saving (derived by account_summary).
 * Frozen copy of the version-3 layout of schema.ts.
 */
const V3_COMMON =
  'run_id INTEGER NOT NULL, account_id INTEGER NOT NULL, unit_id INTEGER NOT NULL, im DOUBLE, mm DOUBLE, equity DOUBLE, margin_ratio DOUBLE, available DOUBLE, status margin_status NOT NULL';
const V3_TABLES: Array<[table: string, model: string, extra: string]> = [
  [
    'margin_deribit_pm',
    'deribit-pm',
    'worst_scenario INTEGER, worst_case DOUBLE, roll_shock DOUBLE, liquidity_addon DOUBLE, standard_im DOUBLE, standard_mm DOUBLE',
  ],
  [
    'margin_span',
    'span',
    'worst_scenario INTEGER, worst_case DOUBLE, scan_risk DOUBLE, som DOUBLE, liquidity_addon DOUBLE',
  ],
  [
    'margin_var_hs',
    'var-hs',
    'worst_scenario INTEGER, worst_case DOUBLE, var DOUBLE, es DOUBLE, liquidity_addon DOUBLE',
  ],
  [
    'margin_var_mc',
    'var-mc',
    'worst_scenario INTEGER, worst_case DOUBLE, var DOUBLE, es DOUBLE, liquidity_addon DOUBLE',
  ],
  ['margin_standard', 'standard', 'liquidity_addon DOUBLE'],
];
const namesOf = (ddl: string) =>
  ddl
    .split(',')
    .map((c) => c.trim().split(' ')[0])
    .join(', ');
/** Marks the error a migration raises when the file holds what the new layout cannot (see migrateSchema). */
export const CANNOT_MIGRATE = 'cannot migrate:';
const isNull = (...cols: string[]) => cols.map((c) => `r.${c} IS NULL`);
const same = (col: string, expr: string) => `r.${col} IS NOT DISTINCT FROM ${expr}`;
/** NaN (from infinite operands) as NULL, as the engine stores it (frozen copy of schema.ts nanToNull) */
const nan = (expr: string) => `nullif(${expr}, 'NaN'::DOUBLE)`;
const currency = (name: string | null) =>
  name === null
    ? 'r.currency_id = r.unit_id'
    : `(SELECT y.symbol FROM symbols y WHERE y.run_id = r.run_id AND y.symbol_id = r.currency_id) = '${name}'`;
/** Per model: what version 3 derives instead of storing, as conditions every version-2 row must meet. */
const V3_DERIVED: Array<[model: string, conditions: string[]]> = [
  [
    'deribit-pm',
    [
      same('scenario_set', `'deribit-pm'`),
      same('delta_shock', '0.0'),
      same('risk_matrix_margin', nan('r.worst_case + r.roll_shock')),
      ...isNull('scan_risk', 'som', 'var', 'es'),
      same('saving', nan('r.standard_im - r.im')),
      currency(null),
    ],
  ],
  [
    'span',
    [
      same('scenario_set', `'span'`),
      ...isNull('roll_shock', 'delta_shock', 'risk_matrix_margin', 'var', 'es', 'standard_im', 'standard_mm', 'saving'),
      currency('USD'),
    ],
  ],
  [
    'var-hs',
    [
      same('scenario_set', `'historical'`),
      ...isNull(
        'roll_shock',
        'delta_shock',
        'risk_matrix_margin',
        'scan_risk',
        'som',
        'standard_im',
        'standard_mm',
        'saving',
      ),
      currency('USD'),
    ],
  ],
  [
    'var-mc',
    [
      same('scenario_set', `'monte-carlo'`),
      ...isNull(
        'roll_shock',
        'delta_shock',
        'risk_matrix_margin',
        'scan_risk',
        'som',
        'standard_im',
        'standard_mm',
        'saving',
      ),
      currency('USD'),
    ],
  ],
  [
    'standard',
    [
      same('standard_im', 'r.im'),
      same('standard_mm', 'r.mm'),
      same('saving', nan('r.im - r.im')),
      ...isNull(
        'scenario_set',
        'worst_scenario',
        'worst_case',
        'roll_shock',
        'delta_shock',
        'risk_matrix_margin',
        'scan_risk',
        'som',
        'var',
        'es',
      ),
      currency(null),
    ],
  ],
];
const V2_TO_V3: string[] = [
  // refuse (before changing anything) a file holding values that version 3 would give back differently
  `SELECT CASE WHEN count(*) > 0 THEN error('${CANNOT_MIGRATE} ' || count(*) || ' margin_rows rows (first: run ' || min(r.run_id) || ', model ' || min(r.model::VARCHAR)
      || ') hold values the version-3 layout does not store and would give back differently') END
    FROM margin_rows r WHERE ${V3_DERIVED.map(([m, c]) => `(r.model = '${m}' AND NOT (${c.join(' AND ')}))`).join(' OR ')}`,
  `SELECT CASE WHEN count(*) > 0 THEN error('${CANNOT_MIGRATE} ' || count(*) || ' summary_rows rows hold a margin_ratio, available or saving other than mm / equity, equity − im, standard_im − im') END
    FROM summary_rows r WHERE NOT (${same('margin_ratio', `CASE WHEN r.equity > 0 THEN r.mm / r.equity ELSE 'Infinity'::DOUBLE END`)}
      AND ${same('available', 'r.equity - r.im')} AND ${same('saving', nan('r.standard_im - r.im'))})`,
  ...[
    'margin_calls',
    'top_margin_consumers',
    'pm_saving_by_underlying',
    'worst_scenarios_by_frequency',
    'account_margin',
    'account_summary',
  ].map((v) => `DROP VIEW IF EXISTS ${v}`),
  ...V3_TABLES.map(([t, , extra]) => `CREATE TABLE ${t} (${V3_COMMON}, ${extra})`),
  ...V3_TABLES.map(
    ([t, model, extra]) =>
      `INSERT INTO ${t} SELECT ${namesOf(V3_COMMON)}, ${namesOf(extra)} FROM margin_rows WHERE model = '${model}' ORDER BY run_id`,
  ),
  'DROP TABLE margin_rows',
  'ALTER TABLE summary_rows DROP COLUMN margin_ratio',
  'ALTER TABLE summary_rows DROP COLUMN available',
  'ALTER TABLE summary_rows DROP COLUMN saving',
];

/** The migrations this engine knows. */
/**
 * Version 3 -> 4: no table changes; the account_margin view (recreated after every migration) also
 * derives the standard rows of runs that stored none but have deribit-pm rows (schema.ts STANDARD_FROM_PM).
 * Version-3 runs stored their standard rows and keep them.
 */
const V3_TO_V4: string[] = [];

/**
 * Version 4 -> 5: accounts gains equity_usd, symbols usd_rate and runs schema_version (NULL for the runs
 * already there); new runs store no summary rows (account_summary derives them, for runs whose
 * schema_version is 5 or more, from those and the margin rows). Runs written before keep their
 * summary_rows (or none, if they had none), which the view reads as before. margin_deribit_pm drops im,
 * margin_ratio, available and status, which the view derives from its other columns, and margin_span
 * drops worst_case (its scan_risk); a file whose rows do not keep those relations is refused before
 * anything changes. Frozen copy of the version-5 formulas.
 */
const V5_PM_IM = nan('(r.worst_case + r.roll_shock) + r.liquidity_addon');
const V4_TO_V5: string[] = [
  `SELECT CASE WHEN count(*) > 0 THEN error('${CANNOT_MIGRATE} ' || count(*) || ' margin_deribit_pm rows (first: run ' || min(r.run_id)
      || ') hold an im other than (worst_case + roll_shock) + liquidity_addon, or a margin_ratio, available or status that does not follow from equity, im and mm') END
    FROM margin_deribit_pm r WHERE NOT (${same('im', V5_PM_IM)}
      AND ${same('margin_ratio', nan(`CASE WHEN r.equity > 0 THEN r.mm / r.equity ELSE 'Infinity'::DOUBLE END`))}
      AND ${same('available', nan(`r.equity - ${V5_PM_IM}`))}
      AND ${same('status', `(CASE WHEN NOT coalesce(r.equity >= r.mm, false) THEN 'liquidation' WHEN NOT coalesce(r.equity >= ${V5_PM_IM}, false) THEN 'margin_call' ELSE 'ok' END)::margin_status`)})`,
  `SELECT CASE WHEN count(*) > 0 THEN error('${CANNOT_MIGRATE} ' || count(*) || ' margin_span rows (first: run ' || min(r.run_id)
      || ') hold a worst_case other than their scan_risk') END
    FROM margin_span r WHERE NOT (${same('worst_case', 'r.scan_risk')})`,
  ...[
    'margin_calls',
    'top_margin_consumers',
    'pm_saving_by_underlying',
    'worst_scenarios_by_frequency',
    'account_margin',
    'account_summary',
  ].map((v) => `DROP VIEW IF EXISTS ${v}`),
  'ALTER TABLE margin_span DROP COLUMN worst_case',
  'ALTER TABLE margin_deribit_pm DROP COLUMN im',
  'ALTER TABLE margin_deribit_pm DROP COLUMN margin_ratio',
  'ALTER TABLE margin_deribit_pm DROP COLUMN available',
  'ALTER TABLE margin_deribit_pm DROP COLUMN status',
  'ALTER TABLE accounts ADD COLUMN equity_usd DOUBLE',
  'ALTER TABLE symbols ADD COLUMN usd_rate DOUBLE',
  // NULL for the runs already there: account_summary derives the summaries of runs written with 5 or later only
  'ALTER TABLE runs ADD COLUMN schema_version INTEGER',
];

/**
 * Version 5 -> 6: no table changes; the new capital_efficiency view (capitalEfficiency.ts) is created
 * with the others after the migration (createViews), over the runs already in the file too.
 */
const V5_TO_V6: string[] = [];

/**
 * Version 6 -> 7: the margin_attribution table (attribution.ts; empty for the runs already in the file,
 * which were written without --attribution); the top_margin_drivers view is created with the others
 * (createViews). Frozen copy of the version-7 DDL.
 */
const V6_TO_V7: string[] = [
  `CREATE TABLE margin_attribution (
    run_id INTEGER NOT NULL,
    model model_name NOT NULL,
    account_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    instrument_id INTEGER,
    collateral VARCHAR,
    quantity DOUBLE NOT NULL,
    scenario_part DOUBLE,
    roll_shock DOUBLE,
    som DOUBLE,
    liquidity_addon DOUBLE NOT NULL,
    mm DOUBLE NOT NULL,
    im DOUBLE NOT NULL
  )`,
];

/**
 * runs.warnings (schema 10): the warnings of each run, NULL for the runs written before (they were only
 * printed). Self-contained (one ALTER, no view refers to the column; IF NOT EXISTS: a test's report made
 * older by hand may have it): renumber freely when merging.
 */
export const RUN_WARNINGS_MIGRATION: string[] = ['ALTER TABLE runs ADD COLUMN IF NOT EXISTS warnings VARCHAR[]'];

/**
 * Version 10 -> 11: margin_span drops margin_ratio, available and status, which the view derives from the row's
 * equity (the account's) and the account's IM and MM, the sums of its span rows in their stored order, from 0
 * (schema.ts, derived.ts ACCOUNT_TOTAL); a file whose span rows do not keep that relation is refused before
 * anything changes. Frozen copy of the version-11 formulas.
 */
const V11_SPAN_TOTAL = (f: string) =>
  nan(`0.0 + list_reduce(list_transform(t.l, lambda e: e.${f}), lambda p, q: p + q)`);
export const SPAN_ACCOUNT_MIGRATION: string[] = [
  `SELECT CASE WHEN count(*) > 0 THEN error('${CANNOT_MIGRATE} ' || count(*) || ' margin_span rows (first: run ' || min(r.run_id)
      || ') hold a margin_ratio, available or status that does not follow from their equity and their account''s im and mm (the sums of its rows)') END
    FROM (SELECT s.*, a.im_total, a.mm_total FROM margin_span s
          JOIN (SELECT t.run_id, t.account_id, ${V11_SPAN_TOTAL('im')} AS im_total, ${V11_SPAN_TOTAL('mm')} AS mm_total
                FROM (SELECT run_id, account_id, list_sort(list({o: rowid, im: im, mm: mm})) AS l
                      FROM margin_span GROUP BY run_id, account_id) t) a
            ON a.run_id = s.run_id AND a.account_id = s.account_id) r
    WHERE NOT (${same('margin_ratio', nan(`CASE WHEN r.equity > 0 THEN r.mm_total / r.equity ELSE 'Infinity'::DOUBLE END`))}
      AND ${same('available', nan('r.equity - r.im_total'))}
      AND ${same('status', `(CASE WHEN NOT coalesce(r.equity >= r.mm_total, false) THEN 'liquidation' WHEN NOT coalesce(r.equity >= r.im_total, false) THEN 'margin_call' ELSE 'ok' END)::margin_status`)})`,
  'ALTER TABLE margin_span DROP COLUMN margin_ratio',
  'ALTER TABLE margin_span DROP COLUMN available',
  'ALTER TABLE margin_span DROP COLUMN status',
];

export const MIGRATIONS: Migrations = {
  1: V1_TO_V2,
  2: V2_TO_V3,
  3: V3_TO_V4,
  4: V4_TO_V5,
  5: V5_TO_V6,
  6: V6_TO_V7,
  7: LIQUIDATION_V7_TO_V8, // liquidation.ts: liquidation_distance and the cascade tables
  8: VOL_SURFACE_MIGRATION, // volSurface.ts: the vol_surface table
  9: RUN_WARNINGS_MIGRATION, // runs.warnings
  10: SPAN_ACCOUNT_MIGRATION, // margin_span's account-level values derived
};

/**
 * Brings a report at version `found` to `expected` (default SCHEMA_VERSION), recreating the views and
 * recording the new version in schema_meta.
 * @throws InputError naming the file and the versions when `found` is newer, or older with no migration path
 */
export async function migrateSchema(
  connection: DuckDBConnection,
  file: string,
  found: number,
  engineVersion: string,
  migrations: Migrations = MIGRATIONS,
  expected: number = SCHEMA_VERSION,
): Promise<void> {
  if (found === expected) return;
  if (found > expected) {
    throw fileError(
      file,
      `report schema version ${found} is newer than this engine's version ${expected}: use a newer margin-engine or write to a new file`,
      'schema_meta.version',
      String(found),
    );
  }
  for (let v = found; v < expected; v++) {
    if (!migrations[v]) {
      throw fileError(
        file,
        `report schema version ${found} is older than this engine's version ${expected} and cannot be migrated (no migration from version ${v}): write to a new file, or export the old runs with \`margin-engine export\` first`,
        'schema_meta.version',
        String(found),
      );
    }
  }
  for (let v = found; v < expected; v++) {
    for (const sql of migrations[v]!) {
      try {
        await connection.run(sql);
      } catch (e) {
        // a file the migration cannot read as the version it claims (e.g. an early version-1 layout) or
        // holding what the next version cannot store: refused as bad input (nothing is changed)
        const m = (e as Error).message;
        const at = m.indexOf(CANNOT_MIGRATE);
        const why =
          at >= 0
            ? m.slice(at + CANNOT_MIGRATE.length).trim()
            : `migrating version ${v} to ${v + 1} failed (${m.split('\n')[0]})`;
        throw fileError(
          file,
          `report schema version ${found} cannot be migrated to version ${expected}: ${why}; write to a new file, or export the old runs with \`margin-engine export\` first`,
          'schema_meta.version',
          String(found),
        );
      }
    }
  }
  await createViews(connection);
  await connection.run('DELETE FROM schema_meta');
  await connection.run('INSERT INTO schema_meta VALUES ($1, $2, epoch_ms($3::BIGINT))', [
    expected,
    engineVersion,
    Date.now(),
  ]);
}
