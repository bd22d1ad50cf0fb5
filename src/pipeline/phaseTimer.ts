/** Wall time per phase of a run, in milliseconds, with progress on stderr. */
import type { Progress } from '../util/progress.js';
import { TRACING, traceSpan } from '../util/trace.js';

export class PhaseTimer {
  readonly timingsMs: Record<string, number> = {};
  constructor(private readonly progress?: Progress) {}

  /**
   * Runs `fn` as phase `name` (times add up when a phase runs several times, e.g. once per model);
   * `label` is what the progress line shows, `total` the units `fn` reports through `update`, `finishing`
   * what the phase still does once all of them are done (the progress line says it instead of 100 %).
   */
  async time<T>(
    name: string,
    fn: (update: (done: number) => void) => Promise<T> | T,
    total = 0,
    label = name,
    finishing = '',
  ): Promise<T> {
    this.progress?.start(label, total, finishing);
    const t0 = performance.now();
    try {
      return await fn((done) => this.progress?.update(done));
    } finally {
      this.timingsMs[name] = (this.timingsMs[name] ?? 0) + (performance.now() - t0);
      if (TRACING) traceSpan('main', label, t0);
      this.progress?.end();
    }
  }
}
