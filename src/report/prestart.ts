/**
 * The report's worker thread, started ahead of its run: `prestartReportWorker()` (called by `margin-engine
 * run` as soon as its arguments are read, before it imports the pipeline) starts reportWorker.js without
 * a file; the thread loads its modules and DuckDB (~0.3 s of one core on the 2-core machine) while the
 * main thread imports the pipeline and loads the book, and waits for its ReportWorkerData. The run's
 * ReportSession adopts it (`takePrestartedReportWorker`) instead of starting its own. This module
 * imports nothing of the report's, so that the thread starts before the main thread's imports.
 *
 * A prestarted thread does not keep the process alive (unref) until a session adopts it: a run that
 * fails before its report exits as before.
 */
import { Worker } from 'node:worker_threads';
import { resolveWorker } from '../util/workerPath.js';

let waiting: Worker | null = null;

/** Starts the report's worker thread now, for the run to come (once; a second call does nothing). */
export function prestartReportWorker(): void {
  if (waiting) return;
  const w = new Worker(resolveWorker('reportWorker', import.meta.url), { workerData: null });
  w.unref();
  // a thread that failed or stopped before it was adopted is not handed out: the session starts its own
  const drop = () => {
    if (waiting === w) waiting = null;
  };
  w.on('error', drop);
  w.on('exit', drop);
  waiting = w;
}

/**
 * The prestarted worker, if one is waiting (taken: a second call returns null), ref'd again; the caller
 * must post its ReportWorkerData as the first message.
 */
export function takePrestartedReportWorker(): Worker | null {
  const w = waiting;
  waiting = null;
  if (w) {
    w.removeAllListeners('error');
    w.removeAllListeners('exit');
    w.ref();
  }
  return w;
}
