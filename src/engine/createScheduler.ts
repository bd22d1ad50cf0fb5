/** Picks a run's scheduler (scheduler.ts) for the backend that started. */
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import type { Backend } from './backend.js';
import { CpuScheduler } from './cpuScheduler.js';
import { DeviceScheduler } from './deviceScheduler.js';
import type { Scheduler } from './scheduler.js';
import type { RevalueOptions } from './types.js';

/**
 * The scheduler for `backend`: the pool's when both phases run on cpu, else the device's. `coinRows`: the
 * families whose matrices need their coin rows (a model of the family reads them); the others may be
 * revalued without (RevalueOptions).
 */
export function createScheduler(
  backend: Backend,
  market: Market,
  sets: ReadonlyMap<Family, ScenarioSet>,
  params: Params,
  coinRows: readonly Family[],
): Scheduler {
  const r = backend.report;
  const onCpu = [r.phases?.revalue ?? r.chosen, r.phases?.aggregate ?? r.chosen].every((x) => x === 'cpu');
  const opts = (f: Family): RevalueOptions => ({ coinRows: coinRows.includes(f) });
  return onCpu
    ? new CpuScheduler(backend, market, sets, params, opts)
    : new DeviceScheduler(backend, market, sets, params, opts);
}
