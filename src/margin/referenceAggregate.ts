/**
 * The float64 aggregation on the calling thread: kernels/aggregate.ts `aggregateGroups` (the reference and
 * cpu form of aggregation) over the whole GroupBook, so a model computed without a backend gets exactly
 * the cpu backend's bits. The default aggregator of src/margin/models.ts `computeMargin`.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from '../engine/types.js';
import { hostAggregate } from '../engine/hostAggregate.js';
import { aggregateGroups } from '../../kernels/aggregate.js';

/**
 * Every group's worst loss (max_s −p[s], may be negative), the first scenario attaining it, and with
 * `req.topK > 0` the k largest losses, descending (−Infinity beyond the scenario count): engine/hostAggregate.ts
 * with the JavaScript kernel. @throws Error when the GroupBook does not fit the matrix.
 */
export function aggregateReference(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Reduced {
  return hostAggregate(pnl, groups, req, aggregateGroups);
}
