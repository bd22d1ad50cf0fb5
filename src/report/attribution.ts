/**
 * The `margin_attribution` table and the `top_margin_drivers` view (schema 7): each position's Euler share
 * of its unit's margin (docs/methodology.md §9; src/margin/attribution.ts), written by `run --attribution`.
 *
 * margin_attribution: one row per (run, model, account, unit, position or coin collateral), amounts in the
 * unit's currency (as account_margin's row): scenario_part (the share of worst_case / scan_risk / max(ES, 0);
 * NULL for standard), roll_shock (deribit-pm), som (span), liquidity_addon, mm, im. Per (run, model,
 * account, unit) the shares add up to account_margin's MM and IM.
 *
 * top_margin_drivers (latest run): `scope` = 'account': each account's ten largest contributions per model
 * (by IM in USD), with their share of the unit's IM; `scope` = 'instrument': book-wide per model and
 * instrument (or collateral), IM and MM summed over every account in USD (at the unit's usd_rate), ranked:
 * which strikes consume the exchange's margin.
 * Kept apart from schema.ts, which adds the table and the view to its DDL.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Attribution } from '../margin/attribution.js';
import type { MarginRows } from '../margin/types.js';
import { appendColumns, type AppendColumn } from './appendColumns.js';

export const ATTRIBUTION_TABLE = 'margin_attribution';
export const TOP_MARGIN_DRIVERS_VIEW = 'top_margin_drivers';

/** The table's DDL (the `model_name` enum exists: schema.ts TYPE_DDL). Frozen as the 6 → 7 migration too. */
export const ATTRIBUTION_DDL = `CREATE TABLE ${ATTRIBUTION_TABLE} (
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
  )`;

/** The view's DDL; `latest`: the run to give (SQL); `perUnitModels`: models whose currency is the unit. */
export function topMarginDriversDdl(latest: string, perUnitModels: string): string {
  return `CREATE OR REPLACE VIEW ${TOP_MARGIN_DRIVERS_VIEW} AS
    WITH x AS (
      SELECT t.run_id, t.model, a.account, u.symbol AS unit,
             CASE WHEN t.model IN (${perUnitModels}) THEN u.symbol ELSE 'USD' END AS currency,
             coalesce(i.instrument, t.collateral || ' collateral') AS instrument,
             t.quantity, t.im, t.mm,
             t.im * CASE WHEN t.model IN (${perUnitModels}) THEN u.usd_rate ELSE 1.0 END AS im_usd,
             t.mm * CASE WHEN t.model IN (${perUnitModels}) THEN u.usd_rate ELSE 1.0 END AS mm_usd,
             t.im / nullif(sum(t.im) OVER (PARTITION BY t.model, t.account_id, t.unit_id), 0) AS unit_im_share
      FROM ${ATTRIBUTION_TABLE} t
      JOIN accounts a ON a.run_id = t.run_id AND a.account_id = t.account_id
      JOIN symbols u ON u.run_id = t.run_id AND u.symbol_id = t.unit_id
      LEFT JOIN instruments i ON i.run_id = t.run_id AND i.instrument_id = t.instrument_id
      WHERE t.run_id = ${latest}
    ), per_account AS (
      SELECT *, row_number() OVER (PARTITION BY model, account ORDER BY im_usd DESC, instrument) AS rank
      FROM x
    ), per_instrument AS (
      SELECT run_id, model, instrument, count(*) AS positions, sum(quantity) AS quantity,
             sum(im_usd) AS im_usd, sum(mm_usd) AS mm_usd
      FROM x GROUP BY run_id, model, instrument
    )
    SELECT run_id, model, 'account' AS scope, rank, account, unit, currency, instrument, 1 AS positions,
           quantity, im, mm, im_usd, mm_usd, unit_im_share AS im_share
    FROM per_account WHERE rank <= 10
    UNION ALL
    SELECT run_id, model, 'instrument' AS scope,
           row_number() OVER (PARTITION BY model ORDER BY im_usd DESC, instrument) AS rank,
           NULL AS account, NULL AS unit, 'USD' AS currency, instrument, positions, quantity,
           im_usd AS im, mm_usd AS mm, im_usd, mm_usd,
           im_usd / nullif(sum(im_usd) OVER (PARTITION BY model), 0) AS im_share
    FROM per_instrument
    ORDER BY model, scope, account NULLS LAST, rank`;
}

/**
 * Appends one model's attribution (its MarginRows `rows` give each share's account and unit; `unitIds`:
 * the symbol id of each code of rows.unitNames; `collateralNames`: the market's underlyings; `modelCode`:
 * the model's code in the model_name enum). Returns the rows written.
 */
export async function writeAttribution(
  c: DuckDBConnection,
  runId: number,
  a: Attribution,
  rows: MarginRows,
  unitIds: Int32Array,
  collateralNames: readonly string[],
  modelCode: number,
): Promise<number> {
  const n = a.count;
  if (n === 0) return 0;
  if (a.model !== rows.model) throw new Error(`attribution of ${a.model} given with ${rows.model} rows`);
  const account = new Int32Array(n);
  const unit = new Int32Array(n);
  for (let e = 0; e < n; e++) {
    const r = a.marginRow[e];
    if (!(r >= 0 && r < rows.count))
      throw new Error(`attribution (${a.model}) share ${e}: row ${r} is not a margin row`);
    account[e] = rows.account[r];
    unit[e] = unitIds[rows.unit[r]];
  }
  const amount = (values: Float64Array): AppendColumn => ({ type: 'DOUBLE', values, nanIsNull: true });
  const runIds = new Int32Array(n).fill(runId);
  await appendColumns(
    c,
    ATTRIBUTION_TABLE,
    [
      { type: 'INTEGER', values: runIds },
      { type: 'CODE8', values: new Uint8Array(n).fill(modelCode) },
      { type: 'INTEGER', values: account },
      { type: 'INTEGER', values: unit },
      { type: 'INTEGER', values: a.instrument, negativeIsNull: true },
      { type: 'VARCHAR', value: (e) => (a.collateral[e] >= 0 ? collateralNames[a.collateral[e]] : null) },
      amount(a.quantity),
      amount(a.scenario),
      amount(a.rollShock),
      amount(a.som),
      amount(a.liquidityAddon),
      amount(a.mm),
      amount(a.im),
    ],
    n,
  );
  return n;
}
