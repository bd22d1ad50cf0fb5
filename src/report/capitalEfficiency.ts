/**
 * The `capital_efficiency` view (schema 6): what portfolio margin frees against standard margin, per
 * model and unit of the latest run, and per model in USD over the whole book — IM, MM, the standard
 * margin of the same positions, the saving (absolute and as a share of standard IM) and the liquidity
 * add-on's share of IM (docs/methodology.md §4d, §4e; docs/report.md documents the columns).
 *
 * - Unit rows (`unit` = the model's unit, amounts in `currency`): sums over account_margin's rows. The
 *   standard margin of the same positions exists where the model's units are the standard's (deribit-pm's
 *   coin and USDC units; standard itself); NULL for span (per underlying, USD) and var (per account).
 * - Total rows (`unit` = 'TOTAL', USD): sums over account_summary (every account of the run, USD), whose
 *   standard_im is the standard IM of the account's same positions; the add-on converted at each unit's
 *   usd_rate (1 for rows already in USD).
 * saving = standard_im − im; saving_share = saving / standard_im; addon_share = liquidity_addon / im.
 * Kept apart from schema.ts, which builds it from its SQL for the latest run and the latest run's summaries.
 */

/** The view's name. */
export const CAPITAL_EFFICIENCY_VIEW = 'capital_efficiency';

/**
 * The view's DDL. `latest`: a SQL expression of the run to give; `summaryOfLatest`: a query of that
 * run's account_summary rows (run_id, model, im, mm, standard_im, standard_mm in USD, one per account).
 */
export function capitalEfficiencyDdl(latest: string, summaryOfLatest: string): string {
  return `CREATE OR REPLACE VIEW ${CAPITAL_EFFICIENCY_VIEW} AS
    ${capitalEfficiencySql(latest, summaryOfLatest)}`;
}

/**
 * The view's query for one run: `run`, a SQL expression of the run; `summaryOfRun`, a query of that run's
 * account_summary rows. The report page (src/report/pageData.ts) asks it of any run, not only the latest.
 */
export function capitalEfficiencySql(run: string, summaryOfRun: string): string {
  const latest = run;
  const summaryOfLatest = summaryOfRun;
  return `WITH per_unit AS (
      SELECT m.run_id, m.model, m.unit, m.currency, count(*) AS units,
             sum(m.im) AS im, sum(m.mm) AS mm, sum(m.standard_im) AS standard_im, sum(m.standard_mm) AS standard_mm,
             sum(m.liquidity_addon) AS liquidity_addon
      FROM account_margin m
      WHERE m.run_id = ${latest}
      GROUP BY m.run_id, m.model, m.unit, m.currency
    ), addon_usd AS (
      SELECT m.run_id, m.model,
             sum(m.liquidity_addon * CASE WHEN m.currency = 'USD' THEN 1.0 ELSE y.usd_rate END) AS liquidity_addon
      FROM account_margin m
      LEFT JOIN symbols y ON y.run_id = m.run_id AND y.symbol = m.currency
      WHERE m.run_id = ${latest}
      GROUP BY m.run_id, m.model
    ), total AS (
      SELECT s.run_id, s.model, 'TOTAL' AS unit, 'USD' AS currency, count(*) AS units,
             sum(s.im) AS im, sum(s.mm) AS mm, sum(s.standard_im) AS standard_im, sum(s.standard_mm) AS standard_mm
      FROM (${summaryOfLatest}) s
      GROUP BY s.run_id, s.model
    )
    SELECT r.run_id, r.model, r.unit, r.currency, r.units, r.im, r.mm, r.standard_im, r.standard_mm,
           r.standard_im - r.im AS saving, (r.standard_im - r.im) / nullif(r.standard_im, 0) AS saving_share,
           r.liquidity_addon, r.liquidity_addon / nullif(r.im, 0) AS addon_share
    FROM (
      SELECT run_id, model, unit, currency, units, im, mm, standard_im, standard_mm, liquidity_addon, 0 AS is_total
      FROM per_unit
      UNION ALL
      SELECT t.run_id, t.model, t.unit, t.currency, t.units, t.im, t.mm, t.standard_im, t.standard_mm,
             a.liquidity_addon, 1 AS is_total
      FROM total t LEFT JOIN addon_usd a ON a.run_id = t.run_id AND a.model = t.model
    ) r
    ORDER BY r.model, r.is_total, r.unit`;
}
