/**
 * The naive float64 aggregator: the aggregation contract of src/engine/types.ts (GroupBook → Reduced)
 * written as straightforward loops, no blocking, no tricks, independent of kernels/aggregate.ts. The
 * parity suite (test/kernels/parity.test.ts) holds the engine's aggregation to it, and the margin tests
 * run the models end to end through it. Used by tests only.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from '../../src/engine/types.js';

/**
 * The combined P&L vector p[s] of group g (USD or coin, as the rows are; positive = gain):
 * `p_b[s] = Σ_{entries of bucket b} qty · pnl[row, s]`, `p[s] = Σ_b adj(weight[s·B + b] · p_b[s])`,
 * `adj(x) = x` if x < 0 else `pnlOffset · x`. Buckets without entries contribute nothing.
 */
export function groupPnlVector(pnl: PnlMatrix, groups: GroupBook, g: number): Float64Array {
  const S = pnl.scenarios;
  const B = groups.buckets;
  const perBucket = new Float64Array(B * S);
  const used = new Uint8Array(B);
  for (let e = groups.groupStart[g]; e < groups.groupStart[g + 1]; e++) {
    const b = groups.bucket[e];
    const q = groups.qty[e];
    const base = groups.row[e] * S;
    used[b] = 1;
    for (let s = 0; s < S; s++) perBucket[b * S + s] += q * pnl.data[base + s];
  }
  const p = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    if (!used[b]) continue;
    for (let s = 0; s < S; s++) {
      const x = groups.weight[s * B + b] * perBucket[b * S + s];
      p[s] += x < 0 ? x : groups.pnlOffset * x;
    }
  }
  return p;
}

/**
 * Reduces every group's loss vector `loss[s] = −p[s]` to its maximum (may be negative: a group that
 * gains everywhere), the first scenario index attaining it, and with `req.topK > 0` the k largest
 * losses in descending order (k clipped to the scenario count; missing places are −Infinity).
 * A group without entries has loss 0 in every scenario (worst 0 at index 0).
 */
export function aggregateReference(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Reduced {
  const G = groups.groupCount;
  const k = Math.max(0, req.topK | 0);
  const worstLoss = new Float64Array(G);
  const worstScenario = new Int32Array(G);
  const topLosses = k > 0 ? new Float64Array(G * k).fill(-Infinity) : undefined;
  for (let g = 0; g < G; g++) {
    const p = groupPnlVector(pnl, groups, g);
    let best = -Infinity;
    let at = 0;
    for (let s = 0; s < p.length; s++) {
      const loss = -p[s] + 0; // + 0 turns −0 into 0
      if (loss > best) {
        best = loss;
        at = s;
      }
    }
    worstLoss[g] = p.length > 0 ? best : 0;
    worstScenario[g] = at;
    if (topLosses) {
      const losses = Array.from(p, (x) => -x + 0).sort((a, b) => b - a);
      for (let j = 0; j < Math.min(k, losses.length); j++) topLosses[g * k + j] = losses[j];
    }
  }
  return topLosses ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
}
