/**
 * One margin run, end to end: load and validate the inputs, build each model's scenario set, revalue
 * on the chosen backend, aggregate per (account, risk unit), assemble margins, and write everything to
 * the DuckDB report in one transaction. Nothing is written unless every phase succeeded.
 *
 * A run reads top to bottom: plan (planRun.ts) → inputs → schedule (a Scheduler over the backend,
 * src/engine/scheduler.ts) → per model: groups, prepare, aggregate, assemble → report. How the work
 * overlaps (the cpu pool revaluing during the load, aggregating while this thread prepares) is the
 * scheduler's; what each model computes is the model's (src/margin/models.ts).
 *
 * Engine conventions chosen here:
 * - `standard` margin is always computed (it is the baseline every saving is measured against) and
 *   written as its own model block, whether or not `--models` names it.
 * - `span` calibrates its price scan range from the history when `--history` is given, else uses the
 *   parameter defaults; `var-hs` and `var-mc` need the history.
 * - A scenario set is built and revalued once per family and shared by the models that use it.
 */
import { InputError } from '../errors.js';
import { loadMarket } from '../io/loadMarket.js';
import { loadBook } from '../io/loadBook.js';
import { loadParams, paramsHash } from '../params/loadParams.js';
import type { Params } from '../params/params.js';
import { loadHistory } from '../history/loadHistory.js';
import type { History } from '../history/types.js';
import { buildScenarios } from '../scenarios/build.js';
import { recordSurfaceUse, useSurface, type FillIv, type SurfaceUse, type VolDynamics } from './volSurface.js';
import { readScenarioFile } from '../scenarios/io.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { createBackend } from '../engine/createBackend.js';
import { createScheduler } from '../engine/createScheduler.js';
import type { Backend } from '../engine/backend.js';
import type { Scheduler } from '../engine/scheduler.js';
import type { BackendChoice } from '../engine/types.js';
import { CHECK_WHILE_AGGREGATING_MIN_SCENARIOS } from '../engine/tuning.js';
import { MARGIN_MODELS, requireHistory } from '../margin/models.js';
import { attributeModel, attributeStandard, type Attribution } from '../margin/attribution.js';
import { hostPnl } from '../engine/hostPnl.js';
import type { PnlMatrix } from '../engine/types.js';
import type { ModelPlan } from '../margin/plan.js';
import {
  buildRunTables,
  buildUnitTables,
  type MarginInput,
  type RunTables,
  type UnitTables,
} from '../margin/runTables.js';
import { optionValuesUsd } from '../margin/optionValue.js';
import { distanceSearchCount, liquidationDistances, type DistanceRows } from '../margin/distance.js';
import type { DistanceEngine } from '../margin/remargin.js';
import { standardRows } from '../margin/standard.js';
import { accountSummary, type AccountSummary } from '../margin/summary.js';
import type { MarginRows, ModelName } from '../margin/types.js';
import type { Market } from '../model/market.js';
import type { PositionBook, Balances, LoadStats, RejectedRow } from '../model/book.js';
import { ReportSession } from '../report/reportSession.js';
import type { RunMeta } from '../report/writer.js';
import type { PhaseBackend } from '../report/types.js';
import type { Progress } from '../util/progress.js';
import { PhaseTimer } from './phaseTimer.js';
import { planModels, planRun, type RunPlan } from './planRun.js';
import { checkRunFits, expectedScenarios } from './memoryEstimate.js';
import { inputFiles, inputRecords, modelValues, phaseBackends } from './runRecord.js';
import { ENGINE_VERSION } from './version.js';
import { dirname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';

export const ALL_MODELS: readonly ModelName[] = ['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard'];

export interface RunOptions {
  marketDir: string;
  positions: string;
  balances: string;
  models: ModelName[];
  historyDir?: string;
  paramsFile?: string;
  /**
   * scenario files (.csv or .arrow, as written by `margin-engine scenarios`) used instead of building their families
   */
  scenarioFiles?: string[];
  backend: BackendChoice;
  onInvalid: 'fail' | 'skip';
  /** DuckDB report file; when absent nothing is written (a dry run) */
  db?: string;
  /** cpu pool size */
  workers?: number;
  /**
   * also attribute every model's margin to its positions (docs/methodology.md §9): the shares go to
   * margin_attribution (with --db) and to RunOutcome.attribution
   */
  attribution?: boolean;
  progress?: Progress;
  /**
   * Called once the run's rows are all handed to the report and its COMMIT is under way, with the outcome
   * complete but for `runId`, `reportBusyMs` and the report phase's time: work for the caller that can overlap
   * the COMMIT (the CLI builds its summary here: ~30 ms at 100,000 accounts, off the command's tail). Not
   * called for a run without a report. An error thrown here fails the run, after it is committed.
   */
  whileCommitting?: (outcome: RunOutcome) => void;
  /** also compute every model's distance to liquidation (docs/methodology.md §7; `run --distance`) */
  distance?: boolean;
  /** revaluation's vol dynamics for every scenario family (docs/methodology.md §11c); default sticky-strike */
  volDynamics?: VolDynamics;
  /**
   * `surface`: options without a mark_iv are valued from the fitted surface (counted and reported per
   * instrument) instead of being refused; default `none`
   */
  fillIv?: FillIv;
}

export interface RunOutcome {
  runId: number | null;
  db: string | null;
  market: Market;
  book: PositionBook;
  balances: Balances;
  stats: LoadStats;
  warnings: string[];
  rejected: RejectedRow[];
  params: Params;
  paramsHash: string;
  scenarioSets: ScenarioSet[];
  margin: MarginRows[];
  /** with `attribution`: each model's shares, in the order of `margin` (empty otherwise) */
  attribution: Attribution[];
  summaries: AccountSummary[];
  backends: Record<string, PhaseBackend>;
  backendReport: Backend['report'] | null;
  /**
   * phase name -> wall time in ms on the main thread; the phases follow one another (they add up to
   * the run), and work a phase overlaps is counted in the phase that waits for it
   */
  timingsMs: Record<string, number>;
  /** the report thread's busy time (opening, appends, COMMIT), mostly overlapping the computation; null without --db */
  reportBusyMs: number | null;
  /** per model, the distances to liquidation (`distance`); null when not asked for */
  distances: DistanceRows[] | null;
  /** the surface the run fitted (sticky moneyness or --fill-iv surface), null otherwise */
  surface: SurfaceUse | null;
}

/** The engine of a run without scenario models: standard's distances never revalue. */
const NO_ENGINE: DistanceEngine = {
  revalue: () => Promise.reject(new Error('distance: no backend (the run has no scenario model)')),
  aggregate: () => Promise.reject(new Error('distance: no backend (the run has no scenario model)')),
};

/** Parses `--models a,b,c` (or `all`). @throws InputError naming the unknown model. */
export function parseModels(text: string): ModelName[] {
  if (text.trim() === 'all') return [...ALL_MODELS];
  const out: ModelName[] = [];
  for (const raw of text.split(',')) {
    const m = raw.trim();
    if (!(ALL_MODELS as readonly string[]).includes(m)) {
      throw new InputError({
        file: '--models',
        row: null,
        column: null,
        value: JSON.stringify(m),
        rule: `is not a model (one of ${ALL_MODELS.join(', ')}, or all)`,
      });
    }
    if (!out.includes(m as ModelName)) out.push(m as ModelName);
  }
  if (out.length === 0)
    throw new InputError({
      file: '--models',
      row: null,
      column: null,
      value: JSON.stringify(text),
      rule: 'names no model',
    });
  return out;
}

/**
 * Runs the models on the inputs and (when `db` is given) writes one run to the report.
 * @throws InputError (exit 2) on bad input, before anything is written; Error on an internal failure,
 *   also before anything is committed.
 */
export async function runMargin(opts: RunOptions): Promise<RunOutcome> {
  const startedAtMs = Date.now();
  const timer = new PhaseTimer(opts.progress);
  const models = planModels(opts.models);
  requireHistory(models.models, opts.historyDir, (opts.scenarioFiles ?? []).length > 0);
  if (opts.db) checkWritable(opts.db);
  // the report's thread opens the file and the run's transaction now, and appends each table as soon
  // as the run has it: DuckDB's work overlaps the computation (docs/report.md)
  let reportProgress: ((rows: number) => void) | null = null;
  // below this thread's priority once open, except where it writes the distances while the searches fill every core
  const report = opts.db
    ? new ReportSession(opts.db, ENGINE_VERSION, (rows) => reportProgress?.(rows), opts.distance !== true)
    : null;
  let starting: Promise<Scheduler> | null = null;
  // the backend winding down after the last model (awaited before the run returns or throws)
  let closing: Promise<void> | null = null;
  // settles when the book's load has ended (or the run failed): auto measures the backends after it
  let loadEnded: () => void = () => undefined;
  const loadEnd = new Promise<void>((resolve) => (loadEnded = resolve));
  try {
    // ---- the market, parameters and history (small), then the scenario sets (float64, once per family)
    const loaded = await timer.time('load', () => loadMarketAndParams(opts, models.usesHistory));
    const { market, params } = loaded;
    const volDynamics = opts.volDynamics ?? 'sticky-strike';
    const fillIv = opts.fillIv ?? 'none';
    const sets = await timer.time('scenarios', () => scenarioSets(opts, models, market, params, loaded.history));
    const shocks = [...sets.values()].some((set) => set.surfaceShock !== undefined);
    const surface = await timer.time('scenarios', () =>
      useSurface(market, opts.marketDir, volDynamics, fillIv, shocks),
    );
    recordSurfaceUse(sets.values(), volDynamics, fillIv, surface);
    for (const set of sets.values()) report?.scenarios(set);
    const plan = planRun({
      models: opts.models,
      instruments: market.instruments.count,
      scenarios: new Map([...sets].map(([f, s]) => [f, s.count])),
      writesReport: report !== null,
      cores: availableParallelism(),
      workers: opts.workers,
      distance: opts.distance === true,
    });

    // ---- the backend starts (worker pool, GPU context, self-check, auto's measurement) on other threads
    // while the book loads, told how much revaluation the run holds (auto starts no device that cannot
    // repay its start-up); its scheduler starts what it can do before the book is there
    if (plan.models.length > 0) {
      starting = createBackend(opts.backend, {
        workers: plan.workers,
        expectedWork: plan.work,
        measureAfter: loadEnd,
      }).then((b) => createScheduler(b, market, sets, params, plan.coinRowFamilies));
      starting.catch(() => undefined); // a start-up failure is reported where it is awaited
    }
    const optionValues = optionValuesUsd(market);
    report?.instruments(market, modelValues(market, optionValues));
    // vol_surface: the run's own surface, or (null) fitted on the report's thread from the market
    report?.volSurface(surface?.surface ?? null, surface?.filledPerSlice ?? null);
    // the input files' SHA-256, on the report's thread after the surface's fit, while this thread loads
    // the book. At 1,000,000 accounts the load is ~2.4 s on one thread and the report's thread idle for
    // ~2 s of it, while from the accounts on that thread is the run's tail (its rows); the hash (~0.27 s
    // there) was on that tail. At 100,000 the fit still runs when the load ends and the hash (~30 ms)
    // filled a wait for the first model's rows: it moves the accounts' rows back by about as much.
    const hashing = report?.hashFiles(inputFiles(opts).map(([, path]) => path)) ?? null;
    hashing?.catch(() => undefined); // awaited before the run row
    const { book, balances, stats } = await timer
      .time('load', () =>
        loadBook(market, opts.positions, opts.balances, {
          onInvalid: opts.onInvalid,
          rejectedInstruments: loaded.rejectedInstruments,
        }),
      )
      .finally(loadEnded);
    const rejected = [...loaded.rejected, ...stats.rejected];
    // e.g. --db is not a DuckDB report, or another process is creating it: refused before the computation
    await report?.ready().catch(() => undefined);
    report?.throwIfFailed();

    // ---- the run's tables, then the models, on the backend's scheduler
    const tables = await timer.time('margin', () => buildRunTables(book, balances, market, params, optionValues));
    // the keys as the load kept them (bytes: no strings made on this thread; book.accountKey would decode them)
    report?.accounts(book.accountKeyBytes ?? book.accountKey, tables.accountEquityUsd);
    report?.rejected(rejected);
    let scheduler: Scheduler | null = null;
    let margin: MarginRows[];
    let attribution: Attribution[];
    let distances: DistanceRows[] | null = null;
    try {
      // 'backend': the start-up time left after the book loaded (the rest overlapped it)
      if (starting) scheduler = await timer.time('backend', () => starting!);
      ({ margin, attribution } = await computeModels(
        plan,
        tables,
        sets,
        scheduler,
        timer,
        report,
        opts.attribution === true,
      ));
      if (opts.distance) {
        // every model of the run (standard when named), on the run's backend (§7: no second pricing path)
        const models: ModelName[] = [
          ...plan.models,
          ...(opts.models.includes('standard') ? ['standard' as const] : []),
        ];
        const engine = scheduler?.backend ?? NO_ENGINE;
        distances = await timer.time(
          'distance',
          (update) =>
            // each model's rows to the report as soon as its searches have ended, in the models' order: the
            // report thread writes deribit-pm's (~1 s at 100,000 accounts) while span's searches still run
            // (~6 s more on the bench book), where it waited for the last search before
            liquidationDistances(book, balances, market, params, sets, models, engine, {
              onProgress: update,
              onModel: (d) => report?.distance(d),
            }),
          distanceSearchCount(models, market),
          'distance to liquidation (searches)',
        );
      }
    } finally {
      starting = null;
      // its workers are idle from here: they wind down while this thread checks the rows and the report
      // commits, rather than before (the pool's close took 6–8 ms of this thread's tail at 100,000 accounts)
      closing = scheduler?.close() ?? null;
      closing?.catch(() => undefined); // awaited below
    }

    // ---- the outcome, and the report's run row and COMMIT
    const backend = scheduler?.backend ?? null;
    const standard = margin[margin.length - 1]!;
    const outcome: RunOutcome = {
      runId: null,
      db: opts.db ?? null,
      market,
      book,
      balances,
      stats,
      warnings: loaded.warnings,
      rejected,
      params,
      paramsHash: paramsHash(params),
      scenarioSets: [...sets.values()],
      margin,
      attribution,
      summaries: [],
      backends: phaseBackends(backend),
      backendReport: backend?.report ?? null,
      timingsMs: timer.timingsMs,
      reportBusyMs: null,
      distances,
      surface,
    };
    // the account summaries (RunOutcome, the CLI's summary): the report derives its own from the rows
    const summarize = () => margin.map((rows) => accountSummary(rows, standard, tables));
    if (!report) {
      outcome.summaries = await timer.time('margin', summarize);
      await closing;
      return outcome;
    }
    outcome.runId = await commitRun(opts, outcome, report, plan, startedAtMs, await hashing!, timer, summarize, (f) => {
      reportProgress = f;
    });
    outcome.reportBusyMs = report.busyMs;
    await closing?.catch((e: unknown) => {
      throw new Error(
        `run ${outcome.runId} was written to ${opts.db}, but the backend did not close: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    });
    return outcome;
  } catch (e) {
    await closing?.catch(() => undefined);
    await report?.abort();
    // bad input or a failure before the backend was taken over: release it (if it started at all; auto's
    // measurement waits for the load's end, which a failure before the load never reaches)
    loadEnded();
    const s = await starting?.catch(() => null);
    await s?.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Every model of the plan, then standard: per model its groups, what its rows need besides the losses
 * (prepared while the backend aggregates), the reduction, its rows (handed to the report as they come).
 * Returns the rows in the order computed, standard last.
 */
async function computeModels(
  plan: RunPlan,
  tables: RunTables,
  sets: ReadonlyMap<Family, ScenarioSet>,
  scheduler: Scheduler | null,
  timer: PhaseTimer,
  report: ReportSession | null,
  attribute: boolean,
): Promise<{ margin: MarginRows[]; attribution: Attribution[] }> {
  const n = plan.models.length;
  const attribution: Attribution[] = [];
  // --attribution: each family's float64 P&L on this thread (hostPnl), kept while a model of it is to come
  const hostPnls = new Map<Family, PnlMatrix>();
  const attributeRows = async (k: number, g: ModelPlan, rows: MarginRows): Promise<void> => {
    const family = plan.family[k]!;
    const a = await timer.time('attribution', () => {
      let pnl = hostPnls.get(family);
      if (!pnl) hostPnls.set(family, (pnl = hostPnl(tables.market, inputs[k]!.scenarios, tables.params)));
      return attributeModel(inputs[k]!, g, pnl, rows);
    });
    if (!plan.family.slice(k + 1).includes(family)) hostPnls.delete(family);
    attribution.push(a);
    report?.attribution(a, rows);
  };
  const inputs = plan.models.map((_, k): MarginInput => ({ ...tables, scenarios: sets.get(plan.family[k]!)! }));
  const margin: MarginRows[] = [];
  // model k's groups, built once, its aggregation submitted at once (a pool starts on it)
  const groups: Array<ModelPlan | undefined> = [];
  const groupsOf = async (k: number): Promise<ModelPlan> => {
    if (groups[k]) return groups[k];
    const g = await timer.time('margin', () => MARGIN_MODELS[plan.models[k]!].groups(inputs[k]!));
    groups[k] = g;
    await scheduler!.submit(k, plan.family[k]!, g.groups, g.request);
    return g;
  };
  let standardAttribution: Attribution | null = null;
  const standardOf = async (unit: UnitTables): Promise<MarginRows> => {
    const rows = await timer.time('margin', () => standardRows(tables, unit));
    report?.margin(rows, !plan.storesStandard);
    if (attribute) {
      const a = await timer.time('attribution', () => attributeStandard(tables));
      standardAttribution = a;
      report?.attribution(a, rows);
    }
    return rows;
  };

  if (n > 0) {
    // an aggregation-bound run keeps a pool fed with every model; otherwise the first model's rows
    // reach the report as early as they can (docs/conventions.md, Backends)
    for (let k = 0; k < (scheduler!.offThread && plan.handOverAll ? n : 1); k++) await groupsOf(k);
    await scheduler!.revalued(plan.family[0]!, timer);
  }
  const unit = await timer.time('margin', () => buildUnitTables(tables));
  let standard: MarginRows | null = null;
  for (let k = 0; k < n; k++) {
    const model = MARGIN_MODELS[plan.models[k]!];
    const g = await groupsOf(k);
    const prepared = await timer.time('margin', () => model.prepare(inputs[k]!, g, unit));
    // still aggregating: the next model's groups (submitted behind this one) rather than a wait, when no
    // report waits for this model's rows (with one, they go first: the report's appends are the run's tail)
    if (k + 1 < n && !report && (await scheduler!.busy(k))) await groupsOf(k + 1);
    // still aggregating a long job: the checks of the rows handed to the report so far, a block at a time
    // (else the run's end does them, between its last rows and the COMMIT; tuning.ts)
    const checkWhileWaiting = inputs[k]!.scenarios.count >= CHECK_WHILE_AGGREGATING_MIN_SCENARIOS;
    while (checkWhileWaiting && report?.unchecked && (await scheduler!.busy(k)))
      await timer.time('report', () => report.checkNext());
    const reduced = await scheduler!.reduce(k, timer, `aggregation (${model.name}, groups)`);
    const rows = await timer.time('margin', () => model.assemble(inputs[k]!, g, prepared, reduced));
    const attributeThis = attribute ? () => attributeRows(k, g, rows) : null;
    // what only this model needed can go: its groups, and its family's P&L when no later model uses it
    groups[k] = undefined;
    if (!plan.family.slice(k + 1).includes(plan.family[k]!)) scheduler!.release(plan.family[k]!);
    margin.push(rows);
    report?.margin(rows);
    await attributeThis?.();
    if (k + 1 < n) await groupsOf(k + 1); // the next aggregation goes out before this thread computes on
    if (k === 0 && plan.storesStandard) standard = await standardOf(unit);
  }
  margin.push(standard ?? (await standardOf(unit)));
  if (standardAttribution) attribution.push(standardAttribution);
  return { margin, attribution };
}

/** The market (validated), the parameters and, when a model uses it, the history. */
async function loadMarketAndParams(opts: RunOptions, usesHistory: boolean) {
  const lm = await loadMarket(opts.marketDir, {
    onInvalid: opts.onInvalid,
    ...(opts.fillIv === 'surface' ? { missingMarkIv: 'allow' as const } : {}),
  });
  const params = loadParams(opts.paramsFile);
  const history =
    opts.historyDir && usesHistory ? await loadHistory(opts.historyDir, lm.market.underlyings) : undefined;
  return { ...lm, params, history };
}

/**
 * One scenario set per family the models use: read from a scenario file when one is given for it,
 * else built. @throws InputError for a file of a family no model uses, or two files of one family.
 */
function scenarioSets(
  opts: RunOptions,
  models: Pick<RunPlan, 'models' | 'family'>,
  market: Market,
  params: Params,
  history: History | undefined,
): Map<Family, ScenarioSet> {
  const sets = new Map<Family, ScenarioSet>();
  for (const file of opts.scenarioFiles ?? []) {
    const set = readScenarioFile(file, market);
    const used = models.family.includes(set.family);
    if (!used || sets.has(set.family)) {
      throw new InputError({
        file,
        row: null,
        column: 'family',
        value: JSON.stringify(set.family),
        rule: used
          ? 'is given by two scenario files'
          : `is not the family of any model of this run (${models.models.map((m, k) => `${m}: ${models.family[k]}`).join(', ')})`,
      });
    }
    sets.set(set.family, set);
  }
  // what will not fit in memory is refused now, before the sets are built (memoryEstimate.ts)
  const counts = new Map<Family, number>();
  for (const f of models.family)
    counts.set(f, sets.get(f)?.count ?? expectedScenarios(f, params, market.underlyings.length));
  checkRunFits({ scenarios: counts, instruments: market.instruments.count, underlyings: market.underlyings.length });
  for (const f of models.family) if (!sets.has(f)) sets.set(f, buildScenarios(f, market, params, { history }));
  return sets;
}

/**
 * The run row and the COMMIT: the report thread writes the last rows while this thread builds the
 * account summaries (`summarize`, for the outcome; the report does not need them). Returns the run id.
 */
async function commitRun(
  opts: RunOptions,
  outcome: RunOutcome,
  report: ReportSession,
  plan: RunPlan,
  startedAtMs: number,
  sha256: string[],
  timer: PhaseTimer,
  summarize: () => AccountSummary[],
  onReportProgress: (f: (rows: number) => void) => void,
): Promise<number> {
  const { market, book, margin, rejected } = outcome;
  const meta: RunMeta = {
    startedAtMs,
    snapshotTimeMs: market.snapshotTimeMs,
    models: [...plan.models, 'standard'],
    params: outcome.params,
    paramsHash: outcome.paramsHash,
    inputs: inputRecords(opts, market, outcome.stats, sha256),
    backends: outcome.backends,
    timingsMs: timer.timingsMs,
    engineVersion: ENGINE_VERSION,
    scenarioSets: outcome.scenarioSets.map(({ family, count, underlyings, meta: m }) => ({
      family,
      count,
      underlyings,
      meta: m,
    })),
    rejectedRows: rejected.length,
    // what the summary prints as warnings (summarize: the market's, then the book's)
    warnings: [...outcome.warnings, ...outcome.stats.warnings],
  };
  // progress: rows written so far out of every row of the run (the COMMIT follows the last table)
  const totalRows =
    outcome.scenarioSets.reduce((n, x) => n + x.count * x.underlyings.length, 0) +
    market.instruments.count +
    rejected.length +
    book.accountCount +
    margin.reduce((n, m) => n + m.count, 0) +
    new Set(margin.flatMap((m) => m.unitNames)).size +
    1;
  return timer.time(
    'report',
    async (update) => {
      onReportProgress(update);
      update(report.rowsWritten);
      const committed = report.finish(meta);
      committed.catch(() => undefined); // awaited just below, after the summaries
      try {
        outcome.summaries = summarize();
        opts.whileCommitting?.(outcome);
      } catch (e) {
        // the run is being committed already (the report does not need the summaries): say so
        const runId = await committed;
        throw new Error(
          `run ${runId} was written to ${opts.db}, but its account summaries could not be built for the output: ${(e as Error).message}`,
          { cause: e },
        );
      }
      return committed;
    },
    totalRows,
    'report (rows written)',
    // DuckDB writes the run's row groups into the file at COMMIT, then checkpoints: seconds on a big book
    'committing the run (DuckDB writes it into the file)',
  );
}

/**
 * Refuses, before any computation, a report path that cannot be written: its directory must exist and
 * be writable, and an existing file must be writable.
 * @throws InputError naming --db, the path and the problem.
 */
function checkWritable(db: string): void {
  const refuse = (rule: string) =>
    new InputError({ file: '--db', row: null, column: null, value: JSON.stringify(db), rule });
  const dir = dirname(resolve(db));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw refuse(`cannot be written: its directory ${dir} does not exist`);
  if (existsSync(db) && statSync(db).isDirectory()) throw refuse('is a directory, not a DuckDB file');
  try {
    accessSync(existsSync(db) ? db : dir, fsConstants.W_OK);
  } catch {
    throw refuse(`cannot be written (no write permission on ${existsSync(db) ? 'the file' : dir})`);
  }
}
