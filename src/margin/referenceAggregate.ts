/**
 * The float64 aggregation on the calling thread: kernels/aggregate.ts `aggregateGroups` (the reference and
 * cpu form of aggregation) over the whole GroupBook, so a model computed without a backend gets exactly
 * the cpu backend's bits. The default aggregator of src/margin/models.ts `computeMargin`.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from '../engine/types.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK } from '../engine/tuning.js';
import { aggregateGroups } from '../../kernels/aggregate.js';

/**
 * Every group's worst loss (max_s −p[s], may be negative), the first scenario attaining it, and with
 * `req.topK > 0` the k largest losses, descending (−Infinity beyond the scenario count).
 */
export function aggregateReference(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Reduced {
  const G = groups.groupCount;
  const topK = Math.max(0, req.topK | 0);
  const worstLoss = new Float64Array(G);
  const worstScenario = new Int32Array(G);
  const topLosses = topK > 0 ? new Float64Array(G * topK) : null;
  aggregateGroups(
    { ...groups, pnl: pnl.data, scenarios: pnl.scenarios, topK, worstLoss, worstScenario, topLosses },
    0,
    G,
    CPU_AGGREGATE_SCENARIO_BLOCK,
  );
  return topLosses !== null ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
}
