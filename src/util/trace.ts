/**
 * A per-thread timeline of a run, for finding its critical path: with MARGIN_ENGINE_TRACE=1 in the
 * environment, the main thread's phases (PhaseTimer), the report thread's requests (reportWorker.ts) and
 * the cpu pool's tasks (poolWorker.ts) each write one line to stderr when they end:
 * `TRACE <thread> <start ms> <end ms> <what>`, times in ms since the epoch (performance.timeOrigin +
 * performance.now(), comparable across threads). `node dist/bench/traceSummary.js FILE` lays them out.
 * Off (one boolean test per phase, request or task) unless the variable is set.
 */
import { writeSync } from 'node:fs';

export const TRACING = process.env.MARGIN_ENGINE_TRACE === '1';

/** Writes the line of one span that started at `t0` (performance.now() of this thread) and ends now. */
export function traceSpan(thread: 'main' | 'report' | 'pool', what: string, t0: number): void {
  const o = performance.timeOrigin;
  // straight to file descriptor 2, synchronously: a worker thread's process.stderr is forwarded through the
  // main thread, and a process that exits right after the COMMIT lost the report thread's last lines
  writeSync(2, `TRACE ${thread} ${(o + t0).toFixed(2)} ${(o + performance.now()).toFixed(2)} ${what}\n`);
}
