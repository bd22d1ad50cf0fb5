/**
 * One margin run, end to end: load and validate the inputs, build each model's scenario set, revalue
 * on the chosen backend, aggregate per (account, risk unit), assemble margins, and write everything to
 * the DuckDB report in one transaction. Nothing is written unless every phase succeeded.
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
import { readScenarioFile } from '../scenarios/io.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { createBackend } from '../engine/createBackend.js';
import type { Backend } from '../engine/backend.js';
import type { BackendChoice, PnlMatrix, Reduced } from '../engine/types.js';
import { MARGIN_MODELS, type ScenarioModelName } from '../margin/models.js';
import type { MarginInput, ModelPlan } from '../margin/plan.js';
import { createMarginShared } from '../margin/shared.js';
import { optionValuesUsd } from '../margin/optionValue.js';
import { standardRows } from '../margin/standard.js';
import { accountSummary, type AccountSummary } from '../margin/summary.js';
import type { MarginRows, ModelName } from '../margin/types.js';
import { KIND_OPTION, SETTLE_INVERSE, type Market } from '../model/market.js';
import type { PositionBook, Balances, LoadStats, RejectedRow } from '../model/book.js';
import { ReportSession } from '../report/reportSession.js';
import type { RunMeta } from '../report/writer.js';
import type { PhaseBackend, RunInput } from '../report/types.js';
import type { Progress } from '../util/progress.js';
import { PhaseTimer } from './phaseTimer.js';
import { ENGINE_VERSION } from './version.js';
import { dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { REPORT_CORE_MAX_SCENARIOS } from '../engine/tuning.js';

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
  progress?: Progress;
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
}

const FAMILY_OF: Record<ScenarioModelName, Family> = {
  'deribit-pm': 'deribit-pm',
  span: 'span',
  'var-hs': 'historical',
  'var-mc': 'monte-carlo',
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
  const scenarioModels = opts.models.filter((m): m is ScenarioModelName => m !== 'standard');
  const needsHistory = scenarioModels.some((m) => m === 'var-hs' || m === 'var-mc');
  if (needsHistory && !opts.historyDir && (opts.scenarioFiles ?? []).length === 0) {
    throw new InputError({
      file: '--history',
      row: null,
      column: null,
      value: null,
      rule: 'is required by var-hs and var-mc (a directory of daily closes <U>-USD_1d.csv)',
    });
  }

  if (opts.db) checkWritable(opts.db);
  const state: { starting: Promise<Backend> | null } = { starting: null };
  try {
    return await runStarted(opts, timer, scenarioModels, needsHistory, state, startedAtMs);
  } catch (e) {
    // bad input or a failure before the backend was taken over: release it (if it started at all)
    const b = await state.starting?.catch(() => null);
    await b?.close().catch(() => undefined);
    throw e;
  }
}

async function runStarted(
  opts: RunOptions,
  timer: PhaseTimer,
  scenarioModels: ScenarioModelName[],
  needsHistory: boolean,
  state: { starting: Promise<Backend> | null },
  startedAtMs: number,
): Promise<RunOutcome> {
  // the report's thread opens the file and the run's transaction now, and appends each table as soon
  // as the run has it (scenarios, instruments and accounts during the computation, each model's rows
  // as the model finishes): DuckDB's work overlaps the computation; only the last appends and the
  // COMMIT are left for the 'report' phase
  let reportProgress: ((rows: number) => void) | null = null;
  const report = opts.db ? new ReportSession(opts.db, ENGINE_VERSION, (rows) => reportProgress?.(rows)) : null;
  try {
    return await computeAndReport(opts, timer, scenarioModels, needsHistory, state, startedAtMs, report, (f) => {
      reportProgress = f;
    });
  } catch (e) {
    await report?.abort();
    throw e;
  }
}

async function computeAndReport(
  opts: RunOptions,
  timer: PhaseTimer,
  scenarioModels: ScenarioModelName[],
  needsHistory: boolean,
  state: { starting: Promise<Backend> | null },
  startedAtMs: number,
  report: ReportSession | null,
  onReportProgress: (f: (rows: number) => void) => void,
): Promise<RunOutcome> {
  // ---- load the market, parameters and history (small), then build the scenario sets
  const {
    market,
    warnings,
    rejected: rejectedMarket,
    rejectedInstruments,
    params,
    history,
  } = await timer.time('load', async () => {
    const lm = await loadMarket(opts.marketDir, { onInvalid: opts.onInvalid });
    const p = loadParams(opts.paramsFile);
    let h: History | undefined;
    if (opts.historyDir && (needsHistory || scenarioModels.includes('span')))
      h = await loadHistory(opts.historyDir, lm.market.underlyings);
    return { ...lm, params: p, history: h };
  });
  const hash = paramsHash(params);

  // ---- scenarios (float64, CPU, once per family)
  const sets = new Map<Family, ScenarioSet>();
  await timer.time('scenarios', () => {
    for (const file of opts.scenarioFiles ?? []) {
      const set = readScenarioFile(file, market);
      const used = scenarioModels.some((m) => FAMILY_OF[m] === set.family);
      if (!used || sets.has(set.family)) {
        throw new InputError({
          file,
          row: null,
          column: 'family',
          value: JSON.stringify(set.family),
          rule: used
            ? 'is given by two scenario files'
            : `is not the family of any model of this run (${scenarioModels.map((m) => `${m}: ${FAMILY_OF[m]}`).join(', ')})`,
        });
      }
      sets.set(set.family, set);
    }
    for (const m of scenarioModels) {
      const f = FAMILY_OF[m];
      if (!sets.has(f)) sets.set(f, buildScenarios(f, market, params, { history }));
    }
  });
  for (const set of sets.values()) report?.scenarios(set);

  // ---- the backend starts (worker pool, GPU context, self-check, auto's measurement) on other threads
  // while the book loads; auto is told how much revaluation the run holds, so that it does not start a
  // device whose start-up costs more than the work it could take over
  if (scenarioModels.length > 0) {
    let evaluations = 0;
    let scenarios = 0;
    for (const set of sets.values()) {
      evaluations += market.instruments.count * set.count;
      scenarios += set.count;
    }
    state.starting = createBackend(opts.backend, {
      workers: opts.workers ?? defaultWorkers(scenarios, opts.db !== undefined),
      expectedWork: { evaluations, scenarios },
    });
    state.starting.catch(() => undefined); // a start-up failure is reported where it is awaited
  }
  // a backend that computes off this thread (the cpu pool) revalues every family as soon as it is up,
  // while the book loads: the revaluation needs only the market and the scenarios
  const early = state.starting?.then((b) => {
    if (!computesOffThread(b)) return null;
    const out = new Map<Family, Promise<PnlMatrix>>();
    for (const [f, set] of sets) {
      const p = b.revalue(market, set, params);
      p.catch(() => undefined); // awaited below
      out.set(f, p);
    }
    return out;
  });
  early?.catch(() => undefined);
  // the instruments (with their model values) go to the report thread while the book still loads
  const optionValues = optionValuesUsd(market);
  report?.instruments(market, modelValues(market, optionValues));
  const { book, balances, stats } = await timer.time('load', () =>
    loadBook(market, opts.positions, opts.balances, {
      onInvalid: opts.onInvalid,
      rejectedInstruments,
    }),
  );
  const rejected = [...rejectedMarket, ...stats.rejected];
  report?.throwIfFailed(); // e.g. --db is not a DuckDB report: refused before the computation

  // ---- revaluation, aggregation, margin (per-run values shared by every model, standard and the summaries)
  const shared = createMarginShared(book, balances, market, params, optionValues);
  // the account keys with their USD equity (account_summary derives the summaries from these and the margin rows)
  if (report) report.accounts(book.accountKey, await timer.time('margin', () => shared.accountEquityUsd()));
  report?.rejected(rejected);
  // the input files' SHA-256 (recorded with the run), on the report's thread after the accounts: there
  // it waits for the first model's rows anyway, while during the load it would take CPU from the load
  const hashing = report ? report.hashFiles(inputFiles(opts).map(([, path]) => path)) : null;
  hashing?.catch(() => undefined); // awaited before the run row
  const margin: MarginRows[] = [];
  let standard: MarginRows;
  let backend: Backend | null = null;
  const starting = state.starting;
  try {
    // 'backend': the start-up time left after the book loaded (the rest overlapped it)
    if (starting) backend = await timer.time('backend', () => starting);
    const b = backend;
    // Pipelined when the backend computes off this thread (the cpu pool: its work overlaps this thread's).
    // A device driven from this thread (gl) runs each step synchronously; it runs them in turn instead,
    // each timed in its own phase.
    const pipelined = b !== null && computesOffThread(b);
    // Pipelined: every family's revaluation was handed to the pool as the backend started (`early`).
    // Model by model, its groups are built and its aggregation handed over at once (a pool of one worker
    // runs each job as one task: cpuBackend.ts); this thread prepares the model while the pool
    // aggregates it (and, if the pool is still at it, builds the next model's groups rather than wait),
    // assembles it, sends its rows to the report, then hands the next model's groups over. The standard
    // margin (no P&L needed) comes after the first model when the report stores it, after the last when
    // the report derives it from deribit-pm's rows (and only checks it before COMMIT). The first model's
    // rows (the report thread's largest block) thus reach the report as early as they can: building
    // every model's groups first, so that the pool never waits, had them ~0.1 s later, and the report's
    // appends, not the pool, are the run's tail (A/B on the 2-core machine, 20 rounds: median 1.006 s
    // against 1.055 s, with the faster aggregation of aggregateGroups.ts in both). An aggregation-bound
    // run (more than REPORT_CORE_MAX_SCENARIOS scenarios: eod) hands every model over up front instead,
    // so that its pool always has work queued.
    const pnl = (pipelined ? await early : null) ?? new Map<Family, Promise<PnlMatrix>>();
    const inputs = scenarioModels.map((m): MarginInput => ({
      book,
      balances,
      market,
      scenarios: sets.get(FAMILY_OF[m])!,
      params,
      shared,
    }));
    const plans: ModelPlan[] = [];
    const reductions: Array<Promise<Reduced>> = [];
    const progress: Array<((done: number) => void) | null> = scenarioModels.map(() => null);
    // with deribit-pm in the run the report derives the standard rows from its rows (schema 4): checked, not stored
    const derivesStandard = scenarioModels.includes('deribit-pm');
    const computeStandard = async (): Promise<MarginRows> => {
      const rows = await timer.time('margin', () => standardRows(book, balances, market, params, shared));
      report?.margin(rows, derivesStandard);
      return rows;
    };
    let std: MarginRows | null = null;
    /** per model: its aggregation has come back (pipelined) */
    const settled: boolean[] = [];
    // model k's groups, built once; pipelined, its aggregation is handed to the pool at once
    const ensurePlan = async (k: number): Promise<ModelPlan> => {
      if (plans[k]) return plans[k]!;
      const m = scenarioModels[k]!;
      const plan = await timer.time('margin', () => MARGIN_MODELS[m].groups(inputs[k]!));
      plans[k] = plan;
      if (pipelined) {
        const reduction = pnl
          .get(FAMILY_OF[m])!
          .then((p) => b!.aggregate(p, plan.groups, { ...plan.request, onProgress: (d) => progress[k]?.(d) }));
        // settled either way (this handler also keeps a rejection from being unhandled: it is awaited below)
        reduction.then(
          () => {
            settled[k] = true;
          },
          () => {
            settled[k] = true;
          },
        );
        reductions[k] = reduction;
        // lets the aggregation reach the pool before this thread computes on (without this turn of the
        // event loop, and the pool's own, the task waited in Piscina's queue while this thread prepared
        // the model: 60–90 ms in traces)
        await yieldToEventLoop();
        await b!.handedOver?.();
      }
      return plan;
    };
    if (pipelined && scenarioModels.length > 0) {
      const scenarios = [...sets.values()].reduce((n, x) => n + x.count, 0);
      for (let k = 0; k < (scenarios > REPORT_CORE_MAX_SCENARIOS ? scenarioModels.length : 1); k++) await ensurePlan(k);
      // the rest of the first family's revaluation, if any (it started during the load)
      const first = FAMILY_OF[scenarioModels[0]!];
      await timer.time(
        'revaluation',
        () => pnl.get(first)!,
        market.instruments.count * sets.get(first)!.count,
        `revaluation (${first})`,
      );
      await b!.handedOver?.(); // the first aggregation, queued as the revaluation came back
    }
    const revalued = new Map<Family, PnlMatrix>();
    for (const [k, m] of scenarioModels.entries()) {
      const plan = await ensurePlan(k);
      const f = FAMILY_OF[m];
      if (!pipelined && !revalued.has(f)) {
        revalued.set(
          f,
          await timer.time(
            'revaluation',
            () => b!.revalue(market, sets.get(f)!, params),
            market.instruments.count * sets.get(f)!.count,
            `revaluation (${f})`,
          ),
        );
      }
      // while the backend aggregates: what assembly needs besides the losses
      if (MARGIN_MODELS[m].prepare) await timer.time('margin', () => MARGIN_MODELS[m].prepare!(inputs[k]!, plan));
      // still aggregating: the next model's groups (handed to the pool behind this one) rather than a wait
      if (pipelined && k + 1 < scenarioModels.length) {
        await yieldToEventLoop(); // the pool's answer, if it came while this thread prepared
        if (!settled[k]) await ensurePlan(k + 1);
      }
      const reduced = await timer.time(
        'aggregation',
        (update) => {
          if (pipelined) {
            progress[k] = update;
            return reductions[k]!;
          }
          return b!.aggregate(revalued.get(f)!, plan.groups, { ...plan.request, onProgress: update });
        },
        plan.groups.groupCount,
        `aggregation (${m}, groups)`,
      );
      const rows = await timer.time('margin', () => MARGIN_MODELS[m].assemble(inputs[k]!, plans[k]!, reduced));
      // what only this model needed can go: its groups, its reduction, and its family's P&L when no later model uses it
      delete plans[k];
      delete reductions[k];
      if (!scenarioModels.slice(k + 1).some((x) => FAMILY_OF[x] === f)) {
        pnl.delete(f);
        revalued.delete(f);
      }
      margin.push(rows);
      report?.margin(rows);
      // the next model's groups go to the pool before this thread computes on
      if (pipelined && k + 1 < scenarioModels.length) await ensurePlan(k + 1);
      // standard rows the report stores go early (after the first model's); with deribit-pm in the run
      // the report only checks them at the end (RowChecks), so they come after the last model's rows
      if (k === 0 && !derivesStandard) std = await computeStandard();
    }
    standard = std ?? (await computeStandard());
  } finally {
    await backend?.close();
  }
  margin.push(standard);
  // the account summaries (RunOutcome, the CLI's summary): the report does not store them (its
  // account_summary view derives the same numbers from the margin rows), so with a report they are
  // built while its thread writes the last rows and commits
  const summarize = () => margin.map((rows) => accountSummary(rows, standard, book, balances, market, shared));

  const backends = phaseBackends(backend);
  const outcome: RunOutcome = {
    runId: null,
    db: opts.db ?? null,
    market,
    book,
    balances,
    stats,
    warnings,
    rejected,
    params,
    paramsHash: hash,
    scenarioSets: [...sets.values()],
    margin,
    summaries: [],
    backends,
    backendReport: backend?.report ?? null,
    timingsMs: timer.timingsMs,
    reportBusyMs: null,
  };
  if (!report) {
    outcome.summaries = await timer.time('margin', summarize);
    return outcome;
  }

  // ---- report: the run row, then COMMIT (everything else is appended by now, or nearly)
  const inputs = inputRecords(opts, market, stats, await hashing!);
  const meta: RunMeta = {
    startedAtMs,
    snapshotTimeMs: market.snapshotTimeMs,
    models: [...scenarioModels, 'standard'],
    params,
    paramsHash: hash,
    inputs,
    backends,
    timingsMs: timer.timingsMs,
    engineVersion: ENGINE_VERSION,
    scenarioSets: outcome.scenarioSets.map(({ family, count, underlyings, meta: m }) => ({
      family,
      count,
      underlyings,
      meta: m,
    })),
    rejectedRows: rejected.length,
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
  outcome.runId = await timer.time(
    'report',
    async (update) => {
      onReportProgress(update);
      update(report.rowsWritten);
      const committed = report.finish(meta);
      committed.catch(() => undefined); // awaited just below, after the summaries
      try {
        outcome.summaries = summarize();
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
  );
  outcome.reportBusyMs = report.busyMs;
  return outcome;
}

/** The cpu pool size for a run when --workers is not given (undefined: every core). */
function defaultWorkers(scenarios: number, writesReport: boolean): number | undefined {
  const cores = availableParallelism();
  return writesReport && cores > 1 && scenarios <= REPORT_CORE_MAX_SCENARIOS ? cores - 1 : undefined;
}

/** Whether the backend's revaluation and aggregation both run on the cpu pool, off this thread. */
function computesOffThread(b: Backend): boolean {
  return [b.report.phases?.revalue ?? b.report.chosen, b.report.phases?.aggregate ?? b.report.chosen].every(
    (x) => x === 'cpu',
  );
}

/** Lets the event loop run (pending worker messages, timers) before going on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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

/**
 * Model price at mark_iv in the mark's units: coin for inverse options, USD otherwise; a delta-one's is its forward.
 */
function modelValues(market: Market, valuesUsd: Float64Array): Float64Array {
  const ins = market.instruments;
  const v = valuesUsd;
  const out = new Float64Array(ins.count);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) out[i] = ins.forward[i];
    else out[i] = ins.settlement[i] === SETTLE_INVERSE ? v[i] / ins.forward[i] : v[i];
  }
  return out;
}

function phaseBackends(backend: Backend | null): Record<string, PhaseBackend> {
  const host: PhaseBackend = { used: 'host', skipped: {} };
  if (!backend) return { load: host, scenarios: host, margin: host, report: host };
  const r = backend.report;
  const skipped: Record<string, string> = {};
  for (const [name, why] of Object.entries(r.tried)) if (why !== 'ok') skipped[name] = why!;
  const revalue = r.phases?.revalue ?? r.chosen;
  const aggregate = r.phases?.aggregate ?? r.chosen;
  const note = (used: string) => {
    const s = { ...skipped };
    if (r.calibration)
      for (const n of Object.keys(r.tried))
        if (n !== used && r.tried[n as keyof typeof r.tried] === 'ok')
          s[n] = `available, not chosen: ${r.calibration.note}`;
    return s;
  };
  return {
    load: host,
    scenarios: host,
    revaluation: { used: revalue, skipped: note(revalue) },
    aggregation: { used: aggregate, skipped: note(aggregate) },
    margin: host,
    report: host,
  };
}

function inputFiles(opts: RunOptions): Array<[role: string, path: string]> {
  const files: Array<[string, string]> = [
    ['instruments', join(opts.marketDir, 'instruments.arrow')],
    ['underlyings', join(opts.marketDir, 'underlyings.arrow')],
    ['positions', opts.positions],
    ['balances', opts.balances],
  ];
  if (opts.paramsFile) files.push(['params', opts.paramsFile]);
  for (const f of opts.scenarioFiles ?? []) files.push(['scenarios', f]);
  return files;
}

function inputRecords(opts: RunOptions, market: Market, stats: LoadStats, sha256: string[]): RunInput[] {
  const rows: Record<string, number> = {
    instruments: market.instruments.count,
    underlyings: market.underlyings.length,
    positions: stats.positionRows,
    balances: stats.balanceRows,
  };
  return inputFiles(opts).map(([role, path], k) => ({ role, path, sha256: sha256[k]!, rows: rows[role] ?? null }));
}
