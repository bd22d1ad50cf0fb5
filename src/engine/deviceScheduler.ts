/**
 * The scheduler (scheduler.ts) of a backend driven from the main thread (a gpu.js device, or a device
 * revaluation with cpu aggregation): nothing runs until the loop asks for a result, then each step runs
 * in turn, each timed in its own phase.
 */
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import type { Backend } from './backend.js';
import type { PhaseClock, Scheduler } from './scheduler.js';
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest, RevalueOptions } from './types.js';

export class DeviceScheduler implements Scheduler {
  readonly offThread = false;
  private readonly pnl = new Map<Family, PnlMatrix>();
  private readonly jobs = new Map<number, { family: Family; groups: GroupBook; request: ReduceRequest }>();

  constructor(
    readonly backend: Backend,
    private readonly market: Market,
    private readonly sets: ReadonlyMap<Family, ScenarioSet>,
    private readonly params: Params,
    private readonly revalueOptions: (family: Family) => RevalueOptions = () => ({}),
  ) {}

  submit(key: number, family: Family, groups: GroupBook, request: ReduceRequest): Promise<void> {
    this.jobs.set(key, { family, groups, request });
    return Promise.resolve();
  }

  async revalued(family: Family, clock: PhaseClock): Promise<void> {
    if (this.pnl.has(family)) return;
    const set = this.sets.get(family)!;
    const p = await clock.time(
      'revaluation',
      () => this.backend.revalue(this.market, set, this.params, this.revalueOptions(family)),
      this.market.instruments.count * set.count,
      `revaluation (${family})`,
    );
    this.pnl.set(family, p);
  }

  busy(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async reduce(key: number, clock: PhaseClock, label: string): Promise<Reduced> {
    const { family, groups, request } = this.jobs.get(key)!;
    this.jobs.delete(key);
    await this.revalued(family, clock);
    const pnl = this.pnl.get(family)!;
    return clock.time(
      'aggregation',
      (update) => this.backend.aggregate(pnl, groups, { ...request, onProgress: update }),
      groups.groupCount,
      label,
    );
  }

  release(family: Family): void {
    this.pnl.delete(family);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
