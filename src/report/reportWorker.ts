/**
 * The report's worker thread (started by reportSession.ts): owns one RunWriter, i.e. the DuckDB file
 * and the run's open transaction, and applies the main thread's messages to it strictly in order, so
 * that DuckDB's appends, compression and COMMIT run beside the margin computation rather than after
 * it. Each message is answered with the rows it wrote (or the error); after the first error the run
 * is rolled back and every later message is answered with that error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getPriority, setPriority } from 'node:os';
import { InputError } from '../errors.js';
import { RunWriter } from './writer.js';
import { duckdb } from './duckdb.js';
import { sha256File } from '../util/fileHash.js';
import { sviInnerKind } from '../surface/svi.js';
import { TRACING, traceSpan } from '../util/trace.js';
import { adoptCreationGate } from '../util/partialFiles.js';
import { writeTrainedCodeCache } from '../util/codeCache.js';
import type { ReportReply, ReportRequest, ReportWorkerData, SerializedError } from './reportProtocol.js';

/**
 * How much lower this thread's scheduling priority is than the thread that started it (nice value, +10: a
 * tenth of its CPU share when both want a core), from the moment its file is open (`lowerPriority`). The
 * schema's open starts the run's transaction and comes first; after it, until the models' rows reach this
 * thread, the run's critical path is the main thread's (the load, the models), and this thread's work (the
 * instruments, the surface's fit, the inputs' hash, the accounts) has time to spare. On the 2-core machine the
 * main thread, the pool and this thread are three runnable threads for much of an intraday run, and at one
 * priority the main thread spent ~80–95 ms of it preempted (perf sched), ~10–20 ms at +10. From the rows on at
 * most two threads are busy, so the lower priority does not slow the run's tail. Not asked for by a run with
 * `--distance` (ReportWorkerData.lowerPriority), whose report thread writes the distances while the searches
 * still fill every core. Linux only: it lets a thread lower its own priority without privileges (setpriority with
 * who = 0 is the calling thread), and not raise it back, so it stays for the thread's life; elsewhere the same
 * call would lower the whole process. Where the system refuses, the thread keeps its priority.
 */
const REPORT_THREAD_NICE_OFFSET = 10;

function lowerPriority(): void {
  // elsewhere os.setPriority(0) is the whole process's (Windows, macOS)
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, Math.min(19, getPriority(0) + REPORT_THREAD_NICE_OFFSET));
  } catch {
    // not permitted here: the same work at the starting thread's priority
  }
}

const port = parentPort;
if (!port) throw new Error('reportWorker.js runs as a worker thread (see reportSession.ts)');

let writer: RunWriter | null = null;
let failure: SerializedError | null = null;

function serialize(e: unknown): SerializedError {
  if (e instanceof InputError) return { name: 'InputError', message: e.message, violations: e.violations };
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

async function fail(e: unknown): Promise<void> {
  failure ??= serialize(e);
  const w = writer;
  writer = null;
  await w?.abort().catch(() => undefined);
}

async function apply(req: ReportRequest): Promise<number | string[]> {
  const w = writer!;
  switch (req.op) {
    case 'hash':
      return req.files.map((f) => sha256File(f));
    case 'scenarios':
      return w.scenarios(req.set);
    case 'instruments':
      return w.instruments(req.market, req.modelValue);
    case 'rejected':
      return w.rejected(req.rows);
    case 'accounts':
      // keys sent as bytes (a loaded book's accountKeyBytes) are written as bytes (appendColumns: VARCHAR_BYTES)
      return w.accounts(req.accountKey, req.equityUsd);
    case 'margin':
      return w.margin(req.rows, req.standardFromDeribitPm);
    case 'attribution':
      return w.attribution(req.attribution, req.rows);
    case 'distance':
      return w.distance(req.rows);
    case 'volSurface':
      return w.volSurface(req.surface, req.filled);
    case 'symbols':
      return w.symbols();
    case 'runRow':
      await w.runRow(req.meta);
      return 1;
    case 'commit': {
      const id = await w.commit();
      writer = null;
      writeTrainedCodeCache(); // the build's training run (src/util/codeCache.ts); nothing otherwise
      return id;
    }
    case 'abort':
      return 0;
  }
}

async function handle(req: ReportRequest): Promise<void> {
  const t0 = performance.now();
  let reply: ReportReply;
  if (req.op === 'abort') {
    await fail(new Error('aborted'));
    reply = { id: req.id, ok: true, value: 0, rows: 0, busyMs: performance.now() - t0 };
  } else if (failure) {
    reply = { id: req.id, ok: false, error: failure, busyMs: 0 };
  } else {
    try {
      const v = await apply(req);
      const busyMs = performance.now() - t0;
      reply =
        typeof v !== 'number'
          ? { id: req.id, ok: true, value: 0, rows: 0, hashes: v, busyMs }
          : { id: req.id, ok: true, value: v, rows: req.op === 'commit' ? 0 : v, busyMs };
    } catch (e) {
      await fail(e);
      reply = { id: req.id, ok: false, error: failure!, busyMs: performance.now() - t0 };
    }
  }
  // the fit names the form of its inner problem that ran (src/surface/svi.ts: the WebAssembly module or JavaScript)
  if (TRACING)
    traceSpan(
      'report',
      req.op === 'volSurface' && req.surface === null ? `volSurface (${sviInnerKind()})` : req.op,
      t0,
    );
  port!.postMessage(reply);
}

// open at once (creating or migrating the schema) while the main thread loads the inputs; the margin
// rows' derived values are checked by the session on the main thread (RowChecks, before it lets the
// run commit), not here: this thread's appends are the run's tail
function open({ dbFile, engineVersion, gate, lowerPriority: lower }: ReportWorkerData): Promise<void> {
  const t0 = performance.now();
  adoptCreationGate(gate);
  return RunWriter.open(dbFile, engineVersion, 'caller').then(
    (w) => {
      writer = w;
      if (lower) lowerPriority();
      if (TRACING) traceSpan('report', 'open', t0);
      port!.postMessage({
        id: 0,
        ok: true,
        value: w.runId,
        rows: 0,
        busyMs: performance.now() - t0,
        partial: w.target !== dbFile ? w.target : undefined,
      } satisfies ReportReply);
    },
    async (e: unknown) => {
      await fail(e);
      port!.postMessage({ id: 0, ok: false, error: failure!, busyMs: performance.now() - t0 } satisfies ReportReply);
    },
  );
}

// a prestarted thread (prestart.ts) loads DuckDB now and gets its file as the first message
const data = workerData as ReportWorkerData | null;
let start: ((d: ReportWorkerData) => void) | null = null;
let chain: Promise<void> = data ? open(data) : new Promise<ReportWorkerData>((r) => (start = r)).then(open);
if (!data) duckdb();
port.on('message', (req: ReportRequest | ReportWorkerData) => {
  if (start) {
    const s = start;
    start = null;
    s(req as ReportWorkerData);
    return;
  }
  chain = chain.then(() => handle(req as ReportRequest));
});
