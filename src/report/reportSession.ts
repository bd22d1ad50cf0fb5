/**
 * The main thread's side of a run's report: a worker thread (reportWorker.ts) opens the DuckDB file
 * and the run's transaction as soon as the run starts, and appends each table as the run hands it
 * over (scenarios and instruments after the scenarios are built, accounts after the load, each model's
 * rows as the model finishes), so that DuckDB's work overlaps the computation; `finish` writes the
 * run row and commits, `abort` rolls back. Calls return at once and are applied in order; the first
 * failure (a refused file, a DuckDB error) is kept, rolls the run back, and is thrown by
 * `throwIfFailed` and `finish`.
 */
import type { DistanceRows } from '../margin/distance.js';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cleanupOnSignal, creationGate, releaseCreateLock, removeWithCompanions } from '../util/partialFiles.js';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { resolveWorker } from '../util/workerPath.js';
import type { Attribution } from '../margin/attribution.js';
import type { MarginRows } from '../margin/types.js';
import type { AccountKeyList, RejectedRow } from '../model/book.js';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { VolSurface } from '../surface/surface.js';
import type { ReportReply, ReportRequest, ReportWorkerData, SerializedError } from './reportProtocol.js';
import type { RunMeta } from './writer.js';
import { RowChecks, checkFinite } from './rowChecks.js';
import { TRACING, traceSpan } from '../util/trace.js';
import { takePrestartedReportWorker } from './prestart.js';

type Op = ReportRequest extends infer R ? (R extends { op: infer O } ? O : never) : never;
type Body<O extends Op> = Omit<Extract<ReportRequest, { op: O }>, 'id' | 'op'>;
/** A successful reply. */
type Answer = Extract<ReportReply, { ok: true }>;

function revive(e: SerializedError): Error {
  if (e.violations) return new InputError(e.violations, e.message.split('\n')[0]);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = `${e.stack}\n    (in the report worker thread)`;
  return err;
}

/** A run's report being written on its own thread. */
export class ReportSession {
  /** rows appended so far (acknowledged by the worker) */
  rowsWritten = 0;
  /** the worker's time spent on the run so far, ms (opening included) */
  busyMs = 0;
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Answer) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private ended = false;
  /** the worker thread has stopped (terminated, or died): nothing sent now would be answered */
  private exited = false;
  /** a new report's temporary file (the worker removes it on abort; this side does if the worker died) */
  private partial: string | null = null;
  private committed = false;
  private readonly opened: Promise<Answer>;
  /** stops watching for SIGINT / SIGTERM */
  private readonly unwatch: () => void;
  /**
   * the blocks of margin rows sent, in order, for their checks on this thread: by `checkNext` while the run
   * waits for an aggregation, the rest by `finish`
   */
  private blocks: Array<[MarginRows, boolean]> = [];
  /** blocks [0, checked) have had their checks; the first failure of each kind, thrown by `finish` */
  private checked = 0;
  /** the rows' arrays checkFinite has checked (a column two blocks share is checked once) */
  private finiteChecked = new Set<Float64Array>();
  private readonly checks = new RowChecks();
  private derivedError: unknown = null;
  private finiteError: unknown = null;

  /**
   * Starts the worker (or adopts the one prestart.ts started ahead of the run), which opens (or creates)
   * `dbFile` and begins the run's transaction.
   * `onRows`: called with `rowsWritten` after each acknowledged append (progress). `lowerPriority`: the thread
   * runs below this one's priority once the file is open (ReportWorkerData.lowerPriority).
   */
  constructor(
    readonly dbFile: string,
    engineVersion: string,
    private readonly onRows?: (rows: number) => void,
    lowerPriority = false,
  ) {
    // interrupted (SIGINT, SIGTERM) before the COMMIT: a new report's temporary file goes (the worker
    // may have created it before this thread heard its name: every partial of this process). Only for
    // a new file: a handler defers the signal to this thread's next turn, and an existing file needs none
    this.unwatch = existsSync(dbFile) ? () => undefined : cleanupOnSignal(() => this.removePartials());
    const data: ReportWorkerData = { dbFile, engineVersion, gate: creationGate(), lowerPriority };
    const prestarted = takePrestartedReportWorker();
    prestarted?.postMessage(data);
    this.worker = prestarted ?? new Worker(resolveWorker('reportWorker', import.meta.url), { workerData: data });
    this.opened = new Promise((resolve, reject) => this.pending.set(0, { resolve, reject }));
    this.opened.catch(() => undefined);
    this.worker.on('message', (r: ReportReply) => this.settle(r));
    this.worker.on('error', (e) =>
      this.lose(new Error(`${dbFile}: the report worker failed: ${e.message}`, { cause: e })),
    );
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (!this.ended || this.pending.size > 0)
        this.lose(new Error(`${dbFile}: the report worker exited (code ${code}) before the run was committed`));
    });
  }

  private settle(r: ReportReply): void {
    this.busyMs += r.busyMs;
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    if (r.ok) {
      if (r.partial) this.partial = r.partial;
      if (r.rows > 0) {
        this.rowsWritten += r.rows;
        this.onRows?.(this.rowsWritten);
      }
      p?.resolve(r);
    } else {
      const e = revive(r.error);
      this.failure ??= e;
      p?.reject(this.failure);
    }
  }

  private lose(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  private send<O extends Op>(op: O, body: Body<O>): Promise<Answer> {
    const refuse = (e: Error) => {
      const p = Promise.reject(e);
      p.catch(() => undefined);
      return p;
    }; // kept, thrown by finish
    if (this.ended || this.exited)
      return refuse(this.failure ?? new Error(`${this.dbFile}: the report session is closed`));
    if (this.failure && op !== 'abort') return refuse(this.failure);
    const id = this.nextId++;
    const done = new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    done.catch(() => undefined); // kept in `failure`; thrown by finish / throwIfFailed
    this.worker.postMessage({ id, op, ...body } as ReportRequest);
    return done;
  }

  /** Throws the first failure so far (e.g. the --db file is not a DuckDB report), if any. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits until the file is open and the transaction begun; returns the run id. @throws its failure */
  async ready(): Promise<number> {
    return (await this.opened).value;
  }

  /**
   * Lowercase hex SHA-256 of each file, computed on the report's thread (streamed).
   * @throws the session's failure, or the read error
   */
  async hashFiles(files: string[]): Promise<string[]> {
    return (await this.send('hash', { files })).hashes!;
  }

  scenarios(set: ScenarioSet): void {
    void this.send('scenarios', { set });
  }
  instruments(market: Market, modelValue: Float64Array): void {
    void this.send('instruments', { market, modelValue });
  }
  rejected(rows: RejectedRow[]): void {
    void this.send('rejected', { rows });
  }
  /** The accounts' keys (as strings, or as a loaded book's bytes, which the report appends as bytes) and USD equity. */
  accounts(accountKey: AccountKeyList, equityUsd: Float64Array): void {
    void this.send('accounts', { accountKey, equityUsd });
  }
  /**
   * One model's rows; `standardFromDeribitPm`: standard rows the report derives from this run's
   * deribit-pm rows (RunWriter.margin). Their derived values are checked by `checkNext` or `finish` (the
   * rows must not change until then).
   */
  margin(rows: MarginRows, standardFromDeribitPm = false): void {
    this.blocks.push([rows, standardFromDeribitPm]);
    void this.send('margin', { rows, standardFromDeribitPm });
  }

  /** Whether a block of margin rows handed over (`margin`) has not had its checks yet. */
  get unchecked(): boolean {
    return this.checked < this.blocks.length;
  }

  /**
   * The checks of the next block handed over and not checked yet (RowChecks' derived values, then
   * checkFinite), on this thread: for the time the run waits on an aggregation, so that `finish`, between the
   * last rows and the COMMIT, has only the last blocks left (eod: ~130 ms of checks, for four models and
   * standard, came after the last aggregation). A failure is kept and thrown by `finish`, in the order
   * `finish` alone would have thrown it: the first block whose derived values differ, else the first with a
   * non-finite value, after any failure of the report's thread.
   */
  checkNext(): void {
    const block = this.blocks[this.checked];
    if (!block) return;
    this.checked++;
    const [rows, standardFromDeribitPm] = block;
    if (this.derivedError === null) {
      try {
        this.checks.margin(rows, standardFromDeribitPm);
      } catch (e) {
        this.derivedError = e;
      }
    }
    if (this.finiteError === null) {
      try {
        checkFinite(rows, this.finiteChecked);
      } catch (e) {
        this.finiteError = e;
      }
    }
  }

  /** One model's attribution (margin_attribution), after its rows (`margin`). */
  attribution(attribution: Attribution, rows: MarginRows): void {
    void this.send('attribution', { attribution, rows });
  }

  /**
   * The run's vol_surface rows (RunWriter.volSurface), after `instruments`: the surface the run fitted
   * and the options it filled per slice, or null to have the report thread fit it from the market.
   */
  volSurface(surface: VolSurface | null, filled: Int32Array | null = null): void {
    void this.send('volSurface', { surface, filled });
  }

  /** One model's distances to liquidation (`run --distance`; RunWriter.distance). */
  distance(rows: DistanceRows): void {
    void this.send('distance', { rows });
  }

  /**
   * Writes the symbols and the run row, checks the margin rows' derived values (RowChecks, on this
   * thread while the report thread appends the last rows) and that none is ±∞ (checkFinite), commits
   * and closes (publishing a new file);
   * returns the run id.
   * @throws the first failure of the session, or of the checks (the run is rolled back and the file left as it was)
   */
  async finish(meta: RunMeta): Promise<number> {
    try {
      this.throwIfFailed(); // the report thread's first failure, not what the checks would say of rows it refused
      void this.send('symbols', {});
      void this.send('runRow', { meta });
      const t0 = performance.now();
      while (this.unchecked) this.checkNext();
      if (TRACING) traceSpan('main', 'row checks', t0);
      if (this.derivedError !== null) throw this.derivedError;
      this.checks.finish(this.dbFile);
      // a run never commits a margin that is ±∞ (an internal error: the inputs' bounds keep them finite)
      if (this.finiteError !== null) throw this.finiteError;
      this.blocks = [];
      this.checked = 0;
      this.finiteChecked = new Set();
      const runId = (await this.send('commit', {})).value;
      this.committed = true;
      this.throwIfFailed();
      return runId;
    } catch (e) {
      await this.abort();
      throw e;
    } finally {
      await this.close();
    }
  }

  /** Rolls the run back (a new file is removed) and stops the worker; safe to call more than once. */
  async abort(): Promise<void> {
    if (this.ended) return;
    await this.send('abort', {}).catch(() => undefined);
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.worker.terminate();
    this.unwatch();
    // a new report's temporary file, when the worker could not remove it (it died, or was stopped mid-way)
    if (!this.committed && this.partial) this.removePartials();
  }

  /** This process's temporary files of a new `dbFile` (FILE.partial-<pid>-…), and its lock on creating it. */
  private removePartials(): void {
    if (this.partial) removeWithCompanions(this.partial);
    const prefix = `${basename(this.dbFile)}.partial-${process.pid}-`;
    try {
      for (const name of readdirSync(dirname(this.dbFile)))
        if (name.startsWith(prefix)) removeWithCompanions(join(dirname(this.dbFile), name));
    } catch {
      /* the directory is gone */
    }
    releaseCreateLock(this.dbFile);
  }
}
