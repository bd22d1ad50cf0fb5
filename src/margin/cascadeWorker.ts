/**
 * A worker thread of a cascade sweep (cascade.ts, runCascades): one cascade of the whole book, on this thread
 * with the cpu kernels (hostPnl, hostAggregate: the cpu backend's bits). Run by the cpu backend's pool
 * (Backend.threads); loaded from dist only (util/workerPath.ts).
 */
import { hostAggregate } from '../engine/hostAggregate.js';
import { hostPnl } from '../engine/hostPnl.js';
import { runCascadeTask, type CascadeResult, type CascadeTask } from './cascade.js';
import type { DistanceEngine } from './remargin.js';

const ENGINE: DistanceEngine = {
  revalue: async (market, scenarios, params) => hostPnl(market, scenarios, params),
  aggregate: hostAggregate,
};

export default function run(task: CascadeTask): Promise<CascadeResult> {
  return runCascadeTask(task, ENGINE);
}
