/**
 * What the HTML report page (`margin-engine report`, src/page/) shows of one run, read from a report file
 * opened read-only. Everything is aggregated in DuckDB — bins, counts, sums and top-N lists — so the
 * result is a few hundred rows whatever the size of the run (1,000,000 positions included) and the page
 * never embeds a row per account. docs/report.md, "The report page", lists what each section reads.
 *
 * Optional tables that other features add (`liquidation_distance`, `cascade_runs`, `margin_attribution`)
 * are detected by name and columns: a section whose table is absent, lacks the columns it needs or has no
 * rows for the run is returned as `null` with the reason, and the page says so in one line.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError, InputError } from '../errors.js';
import { closeReport, openReport, tableNames } from './openReport.js';
import { accountSummarySql, PER_UNIT_MODELS, SCHEMA_VERSION } from './schema.js';
import { capitalEfficiencySql } from './capitalEfficiency.js';
import { sqlString } from './sql.js';

/** A row of a query, bigints made numbers. */
export type Row = Record<string, string | number | boolean | null>;

/** A section the run may lack: its rows, or why there are none. */
export type Optional<T> = { present: true; data: T } | { present: false; reason: string };

export interface RunHeader {
  runId: number;
  runIds: number[];
  file: string;
  snapshotTime: string;
  startedAt: string;
  finishedAt: string;
  engineVersion: string;
  schemaVersion: number | null;
  status: string;
  models: string[];
  paramsHash: string;
  inputs: { role: string; path: string; sha256: string; rows: number }[];
  backends: { phase: string; used: string; skipped: { backend: string; reason: string }[] }[];
  timingsMs: { phase: string; ms: number }[];
  accounts: number;
  rejectedCount: number;
  /** rejected rows grouped by file, column and rule (largest groups first, at most 20) */
  rejected: Row[];
}

export interface PageData {
  header: RunHeader;
  /** capital_efficiency rows of the run (per model and unit, and TOTAL in USD) */
  capitalEfficiency: Row[];
  /** accounts per model and status */
  statusCounts: Row[];
  /** margin ratio histogram per model: bin (lower edge), count; overflow bin ≥ RATIO_MAX, and NULL (n/a) */
  ratioHistogram: Row[];
  /** how often each scenario is the worst: per model, the TOP_SCENARIOS most frequent */
  worstScenarios: Row[];
  /** the deribit-pm grid: per scenario, its grid column, vol rule, moves, and the book's worst-case loss there */
  deribitGrid: Optional<Row[]>;
  liquidation: Optional<{ nearest: Row[]; histogram: Row[]; summary: Row[] }>;
  cascade: Optional<{ columns: string[]; rows: Row[] }>;
  attribution: Optional<{ amountColumn: string; top: Row[] }>;
  volSurface: Optional<Row[]>;
  /** the run's parameter set (runs.params, JSON text) */
  paramsJson: string;
  /** the account whose deribit-pm grid the page draws by default: the largest deribit-pm IM in USD; null without */
  gridAccount: string | null;
  /**
   * the loss of every deribit-pm scenario for the book and one account, recomputed from the run's inputs
   * (the report stores only each unit's worst): filled by the caller that can (src/cli/gridLosses.ts)
   */
  gridLosses: Optional<GridLosses>;
}

/** Losses per deribit-pm scenario (positive = a loss): the book's in USD, one account's per unit in its currency. */
export interface GridLosses {
  account: string;
  /** per scenario: the sum over every unit of the book of its loss × the unit's USD rate */
  book: { scenario: number; lossUsd: number }[];
  /** per unit of the account and scenario: the unit's loss in its currency */
  units: { unit: string; currency: string; scenario: number; loss: number }[];
}

/** Margin ratio histogram: bins of RATIO_BIN on [0, RATIO_MAX); the rest (and +inf) in one overflow bin. */
export const RATIO_BIN = 0.05;
export const RATIO_MAX = 1.5;
/** Scenarios listed per model in "how often each scenario is the worst". */
export const TOP_SCENARIOS = 10;
/** Accounts listed nearest to liquidation; joint-distance histogram bins (fraction of price) up to DIST_MAX. */
export const NEAREST = 50;
export const DIST_BIN = 0.01;
export const DIST_MAX = 0.5;
/** Instruments listed per model among the top margin drivers. */
export const TOP_DRIVERS = 15;

const plain = (v: unknown): string | number | boolean | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
};

async function rows(c: DuckDBConnection, sql: string): Promise<Row[]> {
  const r = await c.runAndReadAll(sql);
  return (r.getRowObjectsJS() as Record<string, unknown>[]).map((o) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)])),
  );
}

async function columnsOf(c: DuckDBConnection, table: string): Promise<string[]> {
  const r = await rows(
    c,
    `SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main'
       AND table_name = ${sqlString(table)} ORDER BY column_index`,
  );
  return r.map((x) => String(x.column_name));
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/**
 * Reads the page's data for run `runId` (default: the latest) of the report `file`, opened read-only.
 * @throws InputError naming the file when it is missing, not a DuckDB database, not a margin-engine report,
 * of a schema version this engine does not read, or holds no run; naming the run when it does not exist
 */
export async function readPageData(file: string, runId?: number): Promise<PageData> {
  const h = await openReport(file, true);
  try {
    const c = h.connection;
    const tables = await tableNames(c);
    if (!tables.includes('schema_meta') || !tables.includes('runs'))
      throw fileError(
        file,
        `is a DuckDB database but not a margin-engine report (no schema_meta or runs table; tables: ${tables.join(', ') || '(none)'})`,
      );
    const version = Number((await rows(c, 'SELECT max(version) AS v FROM schema_meta'))[0]?.v ?? NaN);
    if (!(version >= 6 && version <= SCHEMA_VERSION))
      throw fileError(
        file,
        `has report schema version ${version}; the page reads versions 6 to ${SCHEMA_VERSION} (a \`margin-engine run --db\` on the file migrates an older one)`,
        'schema_meta.version',
        String(version),
      );
    const runIds = (await rows(c, 'SELECT run_id FROM runs ORDER BY run_id')).map((r) => Number(r.run_id));
    if (runIds.length === 0) throw fileError(file, 'holds no run');
    const run = runId ?? runIds[runIds.length - 1]!;
    if (!runIds.includes(run))
      throw new InputError(
        { file, row: null, column: '--run', value: String(run), rule: 'is not a run of this report' },
        `${file}: run ${run} does not exist (runs: ${runIds.length > 20 ? `${runIds[0]}–${runIds[runIds.length - 1]}` : runIds.join(', ')})`,
      );
    const R = String(run);
    const header = await readHeader(c, file, run, runIds);
    // the run's account summaries, derived once (a read-only file still takes temporary tables, in memory):
    // three sections read them, and deriving them is most of the page's time on a large run
    await c.run(`CREATE OR REPLACE TEMP TABLE page_summary AS ${accountSummarySql(R)}`);
    const summary = 'temp.page_summary';
    return {
      header,
      capitalEfficiency: await rows(c, capitalEfficiencySql(R, `SELECT * FROM ${summary}`)),
      statusCounts: await rows(
        c,
        // (grouped and ordered by the enums: models and statuses in their code order)
        `SELECT model, status, count(*)::INTEGER AS accounts FROM ${summary} GROUP BY ALL ORDER BY model, status`,
      ),
      ratioHistogram: await rows(
        c,
        `SELECT model,
           CASE WHEN margin_ratio IS NULL OR isnan(margin_ratio) THEN NULL
                ELSE least(floor(greatest(margin_ratio, 0) / ${RATIO_BIN}), ${Math.round(RATIO_MAX / RATIO_BIN)}) * ${RATIO_BIN} END AS bin,
           count(*)::INTEGER AS accounts
         FROM ${summary} GROUP BY ALL ORDER BY model, bin`,
      ),
      worstScenarios: await rows(
        c,
        `WITH w AS (
           SELECT model::VARCHAR AS model, scenario_set::VARCHAR AS scenario_set, worst_scenario AS scenario,
                  count(*)::INTEGER AS units
           FROM account_margin_ids WHERE run_id = ${R} AND worst_scenario IS NOT NULL GROUP BY ALL
         ), l AS (
           SELECT scenario_set::VARCHAR AS scenario_set, scenario, any_value(label) AS label
           FROM scenarios WHERE run_id = ${R} GROUP BY ALL
         ), r AS (
           SELECT w.*, l.label, units / sum(units) OVER (PARTITION BY model) AS share,
                  row_number() OVER (PARTITION BY model ORDER BY units DESC, w.scenario) AS rank
           FROM w LEFT JOIN l USING (scenario_set, scenario)
         )
         SELECT model, scenario_set, scenario, coalesce(label, 'scenario ' || scenario) AS label, units, share, rank
         FROM r WHERE rank <= ${TOP_SCENARIOS} ORDER BY model, rank`,
      ),
      deribitGrid: await readDeribitGrid(c, R),
      liquidation: await readLiquidation(c, tables, R),
      cascade: await readCascade(c, tables),
      attribution: await readAttribution(c, tables, R),
      volSurface: await readVolSurface(c, tables, R),
      paramsJson: String((await rows(c, `SELECT params::VARCHAR AS p FROM runs WHERE run_id = ${R}`))[0]!.p),
      gridAccount: ((
        await rows(
          c,
          `SELECT account FROM ${summary} WHERE model = 'deribit-pm' AND im IS NOT NULL ORDER BY im DESC, account LIMIT 1`,
        )
      )[0]?.account ?? null) as string | null,
      gridLosses: { present: false, reason: 'not recomputed (the inputs of the run were not read)' },
    };
  } finally {
    closeReport(h);
  }
}

async function readHeader(c: DuckDBConnection, file: string, run: number, runIds: number[]): Promise<RunHeader> {
  const r = (
    await rows(
      c,
      `SELECT snapshot_time::VARCHAR AS snapshot_time, started_at::VARCHAR AS started_at,
         finished_at::VARCHAR AS finished_at, engine_version, schema_version, status, models::VARCHAR[] AS models,
         params_hash, inputs::VARCHAR AS inputs, backends::VARCHAR AS backends, timings_ms::VARCHAR AS timings_ms
       FROM runs WHERE run_id = ${run}`,
    )
  )[0]!;
  // (a list comes back as a DuckDBListValue; its string form is not JSON: ask for it as JSON)
  const models = (await rows(c, `SELECT to_json(models)::VARCHAR AS m FROM runs WHERE run_id = ${run}`))[0]!.m;
  const backends = json<Record<string, { used: string; skipped?: Record<string, string> }>>(r.backends);
  const timings = json<Record<string, number>>(r.timings_ms);
  const n = async (sql: string) => Number((await rows(c, sql))[0]?.n ?? 0);
  return {
    runId: run,
    runIds,
    file,
    snapshotTime: String(r.snapshot_time),
    startedAt: String(r.started_at),
    finishedAt: String(r.finished_at),
    engineVersion: String(r.engine_version),
    schemaVersion: r.schema_version === null ? null : Number(r.schema_version),
    status: String(r.status),
    models: json<string[]>(models),
    paramsHash: String(r.params_hash),
    inputs: json<RunHeader['inputs']>(r.inputs),
    backends: Object.entries(backends).map(([phase, b]) => ({
      phase,
      used: b.used,
      skipped: Object.entries(b.skipped ?? {}).map(([backend, reason]) => ({ backend, reason })),
    })),
    timingsMs: Object.entries(timings).map(([phase, ms]) => ({ phase, ms })),
    accounts: await n(`SELECT count(*)::INTEGER AS n FROM accounts WHERE run_id = ${run}`),
    rejectedCount: await n(`SELECT count(*)::INTEGER AS n FROM rejected_rows WHERE run_id = ${run}`),
    rejected: await rows(
      c,
      `SELECT file, "column", rule, count(*)::INTEGER AS count, min("row")::BIGINT AS first_row
       FROM rejected_rows WHERE run_id = ${run} GROUP BY ALL ORDER BY count DESC, file, rule LIMIT 20`,
    ),
  };
}

/**
 * The deribit-pm grid of the run (scenario, label, vol rule, each underlying's move) with, per scenario,
 * the units whose worst scenario it is and the sum of their worst-case losses in USD (× the unit's usd_rate).
 */
async function readDeribitGrid(c: DuckDBConnection, R: string): Promise<Optional<Row[]>> {
  const grid = await rows(
    c,
    `WITH s AS (
       SELECT scenario, any_value(label) AS label, any_value(vol_rule) AS vol_rule,
              string_agg(underlying || ' ' || printf('%+.0f%%', move * 100), ', ' ORDER BY underlying) AS moves,
              min(move) AS move
       FROM scenarios WHERE run_id = ${R} AND scenario_set = 'deribit-pm' GROUP BY scenario
     ), w AS (
       SELECT m.worst_scenario AS scenario, count(*)::INTEGER AS units, sum(m.worst_case * y.usd_rate) AS loss_usd
       FROM margin_deribit_pm m JOIN symbols y ON y.run_id = m.run_id AND y.symbol_id = m.unit_id
       WHERE m.run_id = ${R} AND m.worst_scenario IS NOT NULL GROUP BY m.worst_scenario
     )
     SELECT s.scenario, s.label, s.vol_rule, s.moves, s.move, coalesce(w.units, 0)::INTEGER AS units,
            coalesce(w.loss_usd, 0) AS loss_usd
     FROM s LEFT JOIN w USING (scenario) ORDER BY s.scenario`,
  );
  if (grid.length === 0) return { present: false, reason: 'the run did not compute deribit-pm (no deribit-pm grid)' };
  return { present: true, data: grid };
}

const hasColumns = (have: string[], need: string[]) => need.every((c) => have.includes(c));

async function readLiquidation(c: DuckDBConnection, tables: string[], R: string): Promise<PageData['liquidation']> {
  const t = 'liquidation_distance';
  const need = ['run_id', 'model', 'account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity', 'mm'];
  if (!tables.includes(t))
    return { present: false, reason: 'not computed in this run (no liquidation_distance table)' };
  const cols = await columnsOf(c, t);
  if (!hasColumns(cols, need))
    return {
      present: false,
      reason: `liquidation_distance lacks the columns ${need.filter((x) => !cols.includes(x)).join(', ')}`,
    };
  const count = Number((await rows(c, `SELECT count(*)::INTEGER AS n FROM ${t} WHERE run_id = ${R}`))[0]!.n);
  if (count === 0) return { present: false, reason: 'not computed in this run (run without --distance)' };
  // the joint distance of an account: its smallest |move| over the directions of the joint (ALL) move;
  // NULL when no move within the scanned range liquidates it
  const joint = `(SELECT model::VARCHAR AS model, account, min(abs(move)) AS distance
                  FROM ${t} WHERE run_id = ${R} AND underlying = 'ALL' GROUP BY ALL)`;
  const nearest = await rows(
    c,
    `SELECT model::VARCHAR AS model, account, unit, underlying, direction::VARCHAR AS direction, move, price, equity, mm
     FROM ${t} WHERE run_id = ${R} AND move IS NOT NULL
     QUALIFY row_number() OVER (ORDER BY abs(move), model, account, unit, underlying, direction) <= ${NEAREST}
     ORDER BY abs(move), model, account`,
  );
  const histogram = await rows(
    c,
    `SELECT model, CASE WHEN distance IS NULL THEN NULL
                        ELSE least(floor(distance / ${DIST_BIN}), ${Math.round(DIST_MAX / DIST_BIN)}) * ${DIST_BIN} END AS bin,
            count(*)::INTEGER AS accounts
     FROM ${joint} GROUP BY ALL ORDER BY model, bin`,
  );
  const summary = await rows(
    c,
    `SELECT model, count(*)::INTEGER AS accounts,
            count(*) FILTER (WHERE distance <= 0.01)::INTEGER AS within_1,
            count(*) FILTER (WHERE distance <= 0.02)::INTEGER AS within_2,
            count(*) FILTER (WHERE distance <= 0.05)::INTEGER AS within_5,
            count(*) FILTER (WHERE distance <= 0.10)::INTEGER AS within_10,
            count(*) FILTER (WHERE distance IS NULL)::INTEGER AS none
     FROM ${joint} GROUP BY ALL ORDER BY model`,
  );
  return { present: true, data: { nearest, histogram, summary } };
}

/** A sweep's curve: cascade_runs rows, as stored (a sweep is a few dozen rows). */
async function readCascade(c: DuckDBConnection, tables: string[]): Promise<PageData['cascade']> {
  if (!tables.includes('cascade_runs'))
    return { present: false, reason: 'the file holds no cascade sweep (no cascade_runs table)' };
  const n = Number((await rows(c, 'SELECT count(*)::INTEGER AS n FROM cascade_runs'))[0]!.n);
  if (n === 0) return { present: false, reason: 'the file holds no cascade sweep (cascade_runs is empty)' };
  // the latest sweep (margin-engine cascade --sweep; src/report/liquidation.ts), else every cascade: the
  // joint initial shock against the final move, the number of rounds and the amplification
  const cols = ['initial_shock', 'final_move', 'rounds', 'amplification', 'model'];
  const r = await rows(
    c,
    `SELECT x_initial AS initial_shock, x_final AS final_move, rounds, amplification, model
     FROM cascade_runs
     WHERE sweep_id IS NOT DISTINCT FROM (SELECT max(sweep_id) FROM cascade_runs)
     ORDER BY x_initial LIMIT 500`,
  );
  return { present: true, data: { columns: cols, rows: r } };
}

/** Book-wide top margin drivers: per model, the instruments whose attributed margin is largest. */
/**
 * The run's implied-volatility surface (vol_surface, docs/methodology.md §11): one row per (underlying,
 * expiry) slice with its SVI parameters, the at-the-money vol they give, σ(0) = sqrt(w(0)/T) with
 * w(k) = a + b(ρ(k − m) + sqrt((k − m)² + σ²)), and the fit's RMSE on the liquid band.
 */
async function readVolSurface(c: DuckDBConnection, tables: string[], R: string): Promise<PageData['volSurface']> {
  const t = 'vol_surface';
  if (!tables.includes(t)) return { present: false, reason: 'the report predates the surface (no vol_surface table)' };
  const slices = await rows(
    c,
    `SELECT underlying, strftime(expiry, '%Y-%m-%d') AS expiry, t_years, forward, quotes, fitted::BOOLEAN AS fitted,
            a, b, rho, m, sigma, rmse_liquid_vol_pts,
            CASE WHEN fitted = 1 THEN sqrt((a + b * (rho * (0 - m) + sqrt(m * m + sigma * sigma))) / t_years) END
              AS atm_vol
     FROM ${t} WHERE run_id = ${R} ORDER BY underlying, expiry`,
  );
  if (slices.length === 0) return { present: false, reason: 'the run stored no surface slice' };
  return { present: true, data: slices };
}

async function readAttribution(c: DuckDBConnection, tables: string[], R: string): Promise<PageData['attribution']> {
  const t = 'margin_attribution';
  if (!tables.includes(t)) return { present: false, reason: 'not computed in this run (no margin_attribution table)' };
  const n = Number((await rows(c, `SELECT count(*)::INTEGER AS n FROM ${t} WHERE run_id = ${R}`))[0]!.n);
  if (n === 0) return { present: false, reason: 'not computed in this run (run without --attribution)' };
  // book-wide per model and instrument (or coin collateral): each position's Euler share of its unit's IM
  // (src/report/attribution.ts), in USD at the unit's rate, as top_margin_drivers does for the latest run
  const perUnit = PER_UNIT_MODELS.map((m) => `'${m}'`).join(', ');
  const top = await rows(
    c,
    `SELECT * FROM (
       SELECT t.model::VARCHAR AS model, coalesce(i.instrument, t.collateral || ' collateral') AS instrument,
              'USD' AS currency,
              sum(t.im * CASE WHEN t.model IN (${perUnit}) THEN u.usd_rate ELSE 1.0 END) AS amount,
              count(*)::INTEGER AS positions
       FROM ${t} t
       JOIN symbols u ON u.run_id = t.run_id AND u.symbol_id = t.unit_id
       LEFT JOIN instruments i ON i.run_id = t.run_id AND i.instrument_id = t.instrument_id
       WHERE t.run_id = ${R} GROUP BY 1, 2, 3
     ) QUALIFY row_number() OVER (PARTITION BY model ORDER BY amount DESC, instrument) <= ${TOP_DRIVERS}
     ORDER BY model, amount DESC`,
  );
  return { present: true, data: { amountColumn: 'im', top } };
}
