/**
 * The cpu pool's scheduler (scheduler.ts). Every family is revalued as soon as the pool is up; each
 * aggregation is handed over as soon as it is submitted. The pool (Piscina) hands a queued task to a
 * free worker only when the main thread's event loop turns, so after each hand-over this scheduler
 * turns it until the task is on a worker (Backend.handedOver) before the main thread computes on;
 * without that the task waited in the queue while the main thread prepared the model (60–90 ms in
 * traces, bench/README.md).
 */
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import type { Backend } from './backend.js';
import type { PhaseClock, Scheduler } from './scheduler.js';
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest, RevalueOptions } from './types.js';

interface Job {
  reduction: Promise<Reduced>;
  settled: boolean;
  groupCount: number;
  progress: ((done: number) => void) | null;
}

export class CpuScheduler implements Scheduler {
  readonly offThread = true;
  private readonly pnl = new Map<Family, Promise<PnlMatrix>>();
  private readonly jobs = new Map<number, Job>();

  constructor(
    readonly backend: Backend,
    private readonly market: Market,
    private readonly sets: ReadonlyMap<Family, ScenarioSet>,
    params: Params,
    revalueOptions: (family: Family) => RevalueOptions = () => ({}),
  ) {
    for (const [f, set] of sets) {
      const p = backend.revalue(market, set, params, revalueOptions(f));
      p.catch(() => undefined); // awaited by revalued() or the aggregations
      this.pnl.set(f, p);
    }
  }

  async submit(key: number, family: Family, groups: GroupBook, request: ReduceRequest): Promise<void> {
    const job: Job = { reduction: null!, settled: false, groupCount: groups.groupCount, progress: null };
    job.reduction = this.pnl
      .get(family)!
      .then((p) => this.backend.aggregate(p, groups, { ...request, onProgress: (d) => job.progress?.(d) }));
    // settled either way (this handler also keeps a rejection from being unhandled: reduce() awaits it)
    job.reduction.then(
      () => (job.settled = true),
      () => (job.settled = true),
    );
    this.jobs.set(key, job);
    await yieldToEventLoop();
    await this.backend.handedOver?.();
  }

  async revalued(family: Family, clock: PhaseClock): Promise<void> {
    const set = this.sets.get(family)!;
    await clock.time(
      'revaluation',
      () => this.pnl.get(family)!,
      this.market.instruments.count * set.count,
      `revaluation (${family})`,
    );
    await this.backend.handedOver?.(); // the aggregations queued behind it
  }

  async busy(key: number): Promise<boolean> {
    await yieldToEventLoop(); // the pool's answer, if it came while this thread computed
    return !this.jobs.get(key)!.settled;
  }

  async reduce(key: number, clock: PhaseClock, label: string): Promise<Reduced> {
    const job = this.jobs.get(key)!;
    try {
      return await clock.time(
        'aggregation',
        (update) => {
          job.progress = update;
          return job.reduction;
        },
        job.groupCount,
        label,
      );
    } finally {
      this.jobs.delete(key);
    }
  }

  release(family: Family): void {
    this.pnl.delete(family);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

/** Lets the event loop run (pending worker messages, timers) before going on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
