/** Picks a run's scheduler (scheduler.ts) for the backend that started. */
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import type { Backend } from './backend.js';
import { CpuScheduler } from './cpuScheduler.js';
import { DeviceScheduler } from './deviceScheduler.js';
import type { Scheduler } from './scheduler.js';

/** The scheduler for `backend`: the pool's when both phases run on cpu, else the device's. */
export function createScheduler(
  backend: Backend,
  market: Market,
  sets: ReadonlyMap<Family, ScenarioSet>,
  params: Params,
): Scheduler {
  const r = backend.report;
  const onCpu = [r.phases?.revalue ?? r.chosen, r.phases?.aggregate ?? r.chosen].every((x) => x === 'cpu');
  return onCpu ? new CpuScheduler(backend, market, sets, params) : new DeviceScheduler(backend, market, sets, params);
}
