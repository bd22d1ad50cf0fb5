/**
 * How a run's revaluations and aggregations reach its backend. The run loop (src/pipeline/runMargin.ts)
 * asks for the same steps whatever ran them; a scheduler decides when each runs:
 * - CpuScheduler (cpuScheduler.ts): the cpu pool computes off the main thread, so every family is
 *   revalued as soon as the pool is up (during the book load) and each model's aggregation is handed
 *   to the pool as soon as its groups exist, while the main thread prepares the next step;
 * - DeviceScheduler (deviceScheduler.ts): a gpu.js device is driven from the main thread, so each step
 *   runs when the loop asks for its result.
 */
import type { Family } from '../scenarios/types.js';
import type { Backend } from './backend.js';
import type { GroupBook, Reduced, ReduceRequest } from './types.js';

/** Times a step as a phase of the run (the pipeline's PhaseTimer). */
export interface PhaseClock {
  time<T>(
    name: string,
    fn: (update: (done: number) => void) => Promise<T> | T,
    total?: number,
    label?: string,
  ): Promise<T>;
}

export interface Scheduler {
  readonly backend: Backend;
  /** whether the backend computes off the main thread (the loop then works on while it waits) */
  readonly offThread: boolean;
  /**
   * Queues the aggregation of model `key` (its `groups` over the P&L of `family`); resolves once the
   * backend has taken it (a pool's worker has the task, or nothing to do for a device).
   */
  submit(key: number, family: Family, groups: GroupBook, request: ReduceRequest): Promise<void>;
  /** Resolves when the family's P&L is ready, timed as phase 'revaluation' (a device computes it now). */
  revalued(family: Family, clock: PhaseClock): Promise<void>;
  /** Whether model `key`'s aggregation is still running (after the event loop turned once). */
  busy(key: number): Promise<boolean>;
  /** Model `key`'s reduction, timed as phase 'aggregation' (a device computes it now). */
  reduce(key: number, clock: PhaseClock, label: string): Promise<Reduced>;
  /** Lets the P&L of a family that no later model uses go. */
  release(family: Family): void;
  /** Closes the backend. */
  close(): Promise<void>;
}
