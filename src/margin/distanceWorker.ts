/**
 * A worker thread of the distance search (distance.ts, liquidationDistances): one search (a model, a moved
 * underlying or the joint move, a direction) over the whole book, or over a part of its status units, on this
 * thread with the cpu kernels (hostPnl, hostAggregate: the cpu backend's bits). Run by the cpu backend's pool
 * (Backend.threads); loaded from dist only (util/workerPath.ts).
 */
import { hostAggregate } from '../engine/hostAggregate.js';
import { hostPnl } from '../engine/hostPnl.js';
import { runDistanceSearch, type DistanceSearch, type SearchRows } from './distance.js';
import type { DistanceEngine } from './remargin.js';

const ENGINE: DistanceEngine = {
  revalue: async (market, scenarios, params) => hostPnl(market, scenarios, params),
  aggregate: hostAggregate,
};

export default function run(task: DistanceSearch): Promise<SearchRows> {
  return runDistanceSearch(task, ENGINE);
}
