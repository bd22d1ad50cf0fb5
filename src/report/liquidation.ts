/**
 * The report's liquidation-risk tables (schema 8): `liquidation_distance` (a run's distances to
 * liquidation, docs/methodology.md §7, written with the run by `run --distance`), the cascade tables
 * `cascade_runs`, `cascade_rounds`, `cascade_accounts` (§8, written by `margin-engine cascade`, one
 * transaction per command), the `accounts_near_liquidation` view and the `near_liquidation(t)` table
 * macro. Kept apart from schema.ts, which includes the DDL; the migration from version 6 is self-contained
 * here (V6_TO_V7). docs/report.md documents every column.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DIRECTION_NAMES, JOINT, type DistanceRows } from '../margin/distance.js';
import { perUnitModel } from '../margin/remargin.js';
import { appendColumns, type AppendColumn } from './appendColumns.js';

/** Version-8 DDL of the tables (frozen as the 7 -> 8 migration: V6_TO_V7 here, key 7 in migrations.ts). */
const TABLES_V7: Record<string, string> = {
  liquidation_distance: `CREATE TABLE liquidation_distance (
    run_id INTEGER NOT NULL,
    model VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    underlying VARCHAR NOT NULL,
    direction VARCHAR NOT NULL,
    move DOUBLE,
    price DOUBLE,
    equity DOUBLE,
    mm DOUBLE
  )`,
  cascade_runs: `CREATE TABLE cascade_runs (
    cascade_id INTEGER NOT NULL,
    sweep_id INTEGER,
    written_at TIMESTAMP NOT NULL,
    snapshot_time TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL,
    impact VARCHAR NOT NULL,
    inputs JSON NOT NULL,
    parameters JSON NOT NULL,
    shock JSON NOT NULL,
    x_initial DOUBLE NOT NULL,
    final_move JSON NOT NULL,
    x_final DOUBLE NOT NULL,
    amplification DOUBLE,
    rounds INTEGER NOT NULL,
    liquidated_units INTEGER NOT NULL,
    liquidated_notional_usd DOUBLE NOT NULL,
    bad_debt_usd DOUBLE NOT NULL,
    insurance_fund_usd DOUBLE NOT NULL,
    min_fund_usd DOUBLE NOT NULL,
    adl_usd DOUBLE NOT NULL,
    critical_shock DOUBLE
  )`,
  cascade_rounds: `CREATE TABLE cascade_rounds (
    cascade_id INTEGER NOT NULL,
    round INTEGER NOT NULL,
    underlying VARCHAR NOT NULL,
    price DOUBLE NOT NULL,
    move DOUBLE NOT NULL,
    liquidated_units INTEGER NOT NULL,
    liquidated_long_usd DOUBLE NOT NULL,
    liquidated_short_usd DOUBLE NOT NULL,
    forced_flow DOUBLE NOT NULL,
    insurance_fund_usd DOUBLE NOT NULL,
    bad_debt_usd DOUBLE NOT NULL,
    adl_usd DOUBLE NOT NULL
  )`,
  cascade_accounts: `CREATE TABLE cascade_accounts (
    cascade_id INTEGER NOT NULL,
    account VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    round INTEGER NOT NULL,
    prices JSON NOT NULL,
    equity_usd DOUBLE NOT NULL,
    mm_usd DOUBLE NOT NULL,
    notional_usd DOUBLE NOT NULL,
    deficit_usd DOUBLE NOT NULL
  )`,
};

/** The default threshold of accounts_near_liquidation: a joint move of at most 5 %. */
export const NEAR_LIQUIDATION_DEFAULT = 0.05;

const nearSql = (t: string) => `SELECT d.run_id, d.model, d.account, d.unit, d.currency, d.direction, d.move,
           abs(d.move) AS distance, d.equity, d.mm
    FROM liquidation_distance d
    WHERE d.run_id = (SELECT max(run_id) FROM liquidation_distance)
      AND d.underlying = 'ALL' AND d.move IS NOT NULL AND abs(d.move) <= ${t}
    ORDER BY abs(d.move), d.model, d.account, d.unit, d.direction`;

/** The view, for schema.ts's VIEW_DDL. */
export const LIQUIDATION_VIEW_DDL: Record<string, string> = {
  accounts_near_liquidation: `CREATE OR REPLACE VIEW accounts_near_liquidation AS
    ${nearSql(String(NEAR_LIQUIDATION_DEFAULT))}`,
};

/** Table macros, created after the views (schema.ts, createViews): near_liquidation(t), any threshold t. */
export const LIQUIDATION_MACRO_DDL: Record<string, string> = {
  near_liquidation: `CREATE OR REPLACE MACRO near_liquidation(t) AS TABLE
    ${nearSql('t')}`,
};

/** The tables of schema 7, for schema.ts's TABLE_DDL. */
export const LIQUIDATION_TABLE_DDL: Record<string, string> = { ...TABLES_V7 };

/**
 * Version 6 -> 7: the liquidation_distance and cascade tables (frozen copy of TABLES_V7); the view and
 * macro are created with the others after the migration.
 */
export const V6_TO_V7: string[] = Object.values(TABLES_V7);

const constInt = (n: number, v: number) => new Int32Array(n).fill(v);
const amount = (values: Float64Array): AppendColumn => ({ type: 'DOUBLE', values, nanIsNull: true });

/**
 * One model's distances into liquidation_distance: the account's key, the unit (and its currency: the
 * unit's for deribit-pm and standard, USD for span and var), the underlying or 'ALL', the direction,
 * move (NULL: none within the range), price (NULL for ALL), equity and MM at the move.
 */
export async function writeDistance(
  c: DuckDBConnection,
  runId: number,
  d: DistanceRows,
  accountKey: readonly string[],
  underlyings: readonly string[],
): Promise<number> {
  const n = d.count;
  const perUnit = perUnitModel(d.model);
  await appendColumns(
    c,
    'liquidation_distance',
    [
      { type: 'INTEGER', values: constInt(n, runId) },
      { type: 'VARCHAR', value: () => d.model },
      { type: 'VARCHAR', value: (r) => accountKey[d.account[r]!]! },
      { type: 'VARCHAR', value: (r) => d.unitNames[d.unit[r]!]! },
      { type: 'VARCHAR', value: (r) => (perUnit ? d.unitNames[d.unit[r]!]! : 'USD') },
      { type: 'VARCHAR', value: (r) => (d.underlying[r] === JOINT ? 'ALL' : underlyings[d.underlying[r]!]!) },
      { type: 'VARCHAR', value: (r) => DIRECTION_NAMES[d.direction[r]!]! },
      amount(d.move),
      amount(d.price),
      amount(d.equity),
      amount(d.mm),
    ],
    n,
  );
  return n;
}
