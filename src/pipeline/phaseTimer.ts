/** Wall time per phase of a run, in milliseconds, with progress on stderr. */
import type { Progress } from '../cli/progress.js';

export class PhaseTimer {
  readonly timingsMs: Record<string, number> = {};
  constructor(private readonly progress?: Progress) {}

  /** Runs `fn` as phase `name` (times add up when a phase runs several times, e.g. once per model). */
  async time<T>(name: string, fn: () => Promise<T> | T, total = 0): Promise<T> {
    this.progress?.start(name, total);
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.timingsMs[name] = (this.timingsMs[name] ?? 0) + (performance.now() - t0);
      this.progress?.end();
    }
  }
}
