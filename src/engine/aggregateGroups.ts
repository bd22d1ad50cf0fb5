/**
 * The float64 reduction of a range of groups (GroupBook → Reduced, see src/engine/types.ts), the body of
 * the cpu backend's aggregation. Runs inside a Piscina worker over shared memory, or on the calling
 * thread. Scenario-blocked: for each block of `scenarioBlock` scenarios the groups of the range are
 * swept in order, so the block of the P&L matrix they read stays in cache.
 *
 * Determinism: every number of group g depends only on g's entries (summed in entry order, scenarios
 * visited in ascending order, ties kept on the first scenario), never on the range it was computed in, so
 * any partition of the groups between workers gives the same bits.
 */
import { heapReplaceRoot, sortTopLosses } from './topLosses.js';
import type { GroupBook, ReduceRequest } from './types.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK } from './tuning.js';

/**
 * Everything {@link aggregateGroups} reads and writes: columns, no per-group objects. The group columns
 * are the GroupBook's (the range [g0, g1) says which groups), `topK` the ReduceRequest's.
 */
export interface AggregateColumns extends Omit<GroupBook, 'groupCount'>, Pick<ReduceRequest, 'topK'> {
  /** P&L matrix, row-major [row * scenarios + s] */
  pnl: Float64Array | Float32Array;
  scenarios: number;
  /** out, per group: max_s loss[s] (loss = −p, same currency as the rows × quantities) */
  worstLoss: Float64Array;
  /** out, per group: the first scenario attaining worstLoss (−1 when there are no scenarios) */
  worstScenario: Int32Array;
  /** out, [g * topK + j]: the topK largest losses, descending; −Infinity beyond the scenario count */
  topLosses: Float64Array | null;
}

/**
 * Reduces groups [g0, g1) of `c` into its output columns, in float64.
 * p_b[s] = Σ qty·pnl over the group's entries of bucket b (in entry order, up to four consecutive entries
 * of a bucket summed pairwise before they join the accumulator); p[s] = Σ_b adj(weight·p_b[s]),
 * adj(x) = x if x < 0 else pnlOffset·x; loss[s] = 0 − p[s].
 */
export function aggregateGroups(
  c: AggregateColumns,
  g0: number,
  g1: number,
  scenarioBlock: number = CPU_AGGREGATE_SCENARIO_BLOCK,
): void {
  const S = c.scenarios;
  const B = c.buckets;
  const pnl = c.pnl;
  const { groupStart, row, qty, bucket, weight, worstLoss, worstScenario, topLosses } = c;
  const K = topLosses !== null ? c.topK : 0;
  const off = c.pnlOffset;
  const SB = Math.max(1, Math.min(scenarioBlock, S));
  // per bucket, the block's sums; all 0 between groups (the combining pass zeroes what it reads)
  const acc = new Float64Array(B * SB);
  // A bucket without entries in the group adds weight·0 = ±0 to the group's P&L, which changes no sum
  // (p starts at +0, and +0 + ±0 = +0): only the buckets a group touches (`mask`) are combined, the same
  // bits as combining every bucket. Unless a weight is not finite (∞·0 = NaN), the buckets do not fit
  // a mask, or pnlOffset is not finite (∞·0 again): then every bucket is combined (`every`), as the kernel
  // always did (scenario sets' weights and pnlOffset are finite: validated, or built so).
  let canMask = B <= 30 && off - off === 0;
  for (let k = 0; k < weight.length && canMask; k++) {
    const w = weight[k]!;
    if (w - w !== 0) canMask = false;
  }
  const every = canMask ? 0 : B <= 30 ? (1 << B) - 1 : -1;

  for (let g = g0; g < g1; g++) {
    worstLoss[g] = -Infinity;
    worstScenario[g] = -1;
    if (topLosses !== null) topLosses.fill(-Infinity, g * K, (g + 1) * K);
  }

  for (let s0 = 0; s0 < S; s0 += SB) {
    const n = Math.min(SB, S - s0);
    for (let g = g0; g < g1; g++) {
      const e0 = groupStart[g]!;
      const e1 = groupStart[g + 1]!;
      // entries in entry order; up to four consecutive entries of one bucket share a pass over the
      // accumulator (fewer loads and stores per multiply-add); the grouping depends only on the group's
      // own entries, so every partition of the groups gives the same bits
      let mask = 0;
      let e = e0;
      while (e < e1) {
        const b = bucket[e]!;
        mask |= 1 << b;
        const o = b * SB;
        let run = 1;
        while (run < 4 && e + run < e1 && bucket[e + run] === b) run++;
        const qa = qty[e]!;
        const ra = row[e]! * S + s0;
        if (run === 4) {
          const qb = qty[e + 1]!,
            qc = qty[e + 2]!,
            qd = qty[e + 3]!;
          const rb = row[e + 1]! * S + s0,
            rc = row[e + 2]! * S + s0,
            rd = row[e + 3]! * S + s0;
          for (let s = 0; s < n; s++)
            acc[o + s]! += qa * pnl[ra + s]! + qb * pnl[rb + s]! + (qc * pnl[rc + s]! + qd * pnl[rd + s]!);
        } else if (run >= 2) {
          run = 2;
          const qb = qty[e + 1]!;
          const rb = row[e + 1]! * S + s0;
          for (let s = 0; s < n; s++) acc[o + s]! += qa * pnl[ra + s]! + qb * pnl[rb + s]!;
        } else {
          for (let s = 0; s < n; s++) acc[o + s]! += qa * pnl[ra + s]!;
        }
        e += run;
      }
      if (every !== 0) mask = every;
      // combine the buckets per scenario, then the worst loss and the k largest, in one pass
      let worst = worstLoss[g]!;
      let at = worstScenario[g]!;
      const h = g * K;
      if (mask !== 0 && (mask & (mask - 1)) === 0) {
        // one bucket: p[s] = 0 + adj(x), and 0 − (0 + y) = 0 − y for every double y
        const b = 31 - Math.clz32(mask);
        const o = b * SB;
        for (let s = 0; s < n; s++) {
          const x = weight[(s0 + s) * B + b]! * acc[o + s]!;
          acc[o + s] = 0;
          const loss = 0 - (x < 0 ? x : off * x);
          if (loss > worst || at < 0) {
            worst = loss;
            at = s0 + s;
          }
          if (K > 0 && loss > topLosses![h]!) heapReplaceRoot(topLosses!, h, K, loss);
        }
      } else {
        for (let s = 0; s < n; s++) {
          let tot = 0;
          const wb = (s0 + s) * B;
          for (let b = 0; b < B; b++) {
            if (((mask >>> b) & 1) === 0) continue;
            const x = weight[wb + b]! * acc[b * SB + s]!;
            acc[b * SB + s] = 0;
            tot += x < 0 ? x : off * x;
          }
          const loss = 0 - tot;
          if (loss > worst || at < 0) {
            worst = loss;
            at = s0 + s;
          }
          if (K > 0 && loss > topLosses![h]!) heapReplaceRoot(topLosses!, h, K, loss);
        }
      }
      worstLoss[g] = worst;
      worstScenario[g] = at;
    }
  }

  if (topLosses !== null && K > 0) sortTopLosses(topLosses, K, g0, g1);
}
