/**
 * Progress on stderr for long phases: counts, rate and an estimate of time left.
 * - On a terminal: one line, redrawn as the phase advances (and each second while it waits).
 * - Otherwise (a log file, cron, CI): one line every PROGRESS_LOG_INTERVAL_MS (5 s) while a phase lasts
 *   longer than that, and its end; a run whose phases are all short prints nothing, so logs and pipes of
 *   quick runs stay clean.
 * - With --quiet (or --json): nothing.
 * A phase at 100 % that still works (a report's COMMIT after its last row) says what it is doing.
 */
import { groupDigits } from './groupDigits.js';

export interface Progress {
  /**
   * start a phase of `total` units (0 when unknown); `finishing`: what the phase does once every unit is
   * done (shown instead of "100 %" until it ends)
   */
  start(phase: string, total?: number, finishing?: string): void;
  /** `done` units of the current phase are complete */
  update(done: number): void;
  /** end the current phase */
  end(): void;
}

/** How often a log (stderr not a terminal) gets a progress line while a phase runs. */
export const PROGRESS_LOG_INTERVAL_MS = 5000;

export function createProgress(
  opts: { quiet?: boolean; stream?: NodeJS.WritableStream & { isTTY?: boolean }; intervalMs?: number } = {},
): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const enabled = !opts.quiet;
  const interval = opts.intervalMs ?? PROGRESS_LOG_INTERVAL_MS;
  let phase = '';
  let total = 0;
  let finishing = '';
  let done = 0;
  let t0 = 0;
  let last = 0;
  /** lines written for the current phase (a log): its end is then written too */
  let logged = 0;
  let timer: NodeJS.Timeout | null = null;

  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const line = (now: number): string => {
    const el = now - t0;
    if (total > 0 && done >= total && finishing)
      return `${phase}: all ${groupDigits(total)} done; ${finishing} (${secs(el)})`;
    if (total > 0 && done > 0) {
      const left = (el * (total - done)) / done;
      return `${phase}: ${groupDigits(done)}/${groupDigits(total)} (${((100 * done) / total).toFixed(0)} %), ~${secs(left)} left`;
    }
    return done > 0 ? `${phase}: ${groupDigits(done)} (${secs(el)})` : `${phase} … (${secs(el)})`;
  };
  const draw = () => {
    const now = performance.now();
    if (tty) stream.write(`\r\x1b[K${line(now)}`);
    else if (now - t0 >= interval - 50) {
      stream.write(`margin-engine: ${line(now)}\n`);
      logged++;
    }
  };
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  return {
    start(p, t = 0, f = '') {
      if (!enabled) return;
      stopTimer();
      phase = p;
      total = t;
      finishing = f;
      done = 0;
      t0 = performance.now();
      last = 0;
      logged = 0;
      if (tty) draw();
      // redraw while nothing reports (a terminal), or log every `interval` (anything else)
      timer = setInterval(draw, tty ? 1000 : interval);
      timer.unref();
    },
    update(d) {
      if (!enabled) return;
      done = d;
      if (!tty) return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      draw();
    },
    end() {
      if (!enabled) return;
      stopTimer();
      const took = secs(performance.now() - t0);
      if (tty) stream.write(`\r\x1b[K${phase}: done in ${took}\n`);
      else if (logged > 0) stream.write(`margin-engine: ${phase}: done in ${took}\n`);
    },
  };
}
