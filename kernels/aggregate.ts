/**
 * Aggregation of a P&L matrix over groups (docs/methodology.md §4a and "Precision"; the GroupBook → Reduced
 * contract of src/engine/types.ts): for group g, entries e in [groupStart[g], groupStart[g+1]),
 *   p_b[s] = Σ_{e of bucket b} qty[e] · pnl[row[e], s],   p[s] = Σ_b adj(weight[s·B + b] · p_b[s]),
 *   adj(x) = x if x < 0 else pnlOffset · x,   loss[s] = 0 − p[s],
 * reduced per group to the worst loss, its first scenario and optionally the k largest losses.
 *
 * | form           | precision | functions                                              | runs on           |
 * | -------------- | --------- | ------------------------------------------------------ | ----------------- |
 * | reference, cpu | float64   | aggregateGroups (+ heapReplaceRoot, sortTopLosses)     | the cpu pool      |
 * | device         | float32   | copyBlockKernel, groupPnlKernel, worstLossKernel       | gpu.js gl, webgpu |
 *
 * The reference IS the cpu form: aggregateGroups is the float64 definition every other backend is held
 * to (src/engine/selfCheck.ts, test/kernels/parity.test.ts); an independent check of it, the contract in
 * straightforward loops, is test/helpers/naiveAggregate.ts. The device form sums each bucket with Kahan
 * compensation, so float32 accumulation adds about 2·ε·Σ|q·pnl| whatever the number of entries; its bound
 * is docs/methodology.md "Precision". Top-k selection (heapReplaceRoot, sortTopLosses) is float64 host
 * work on every backend, so the same losses in the same order give the same bits.
 */

// ---------------------------------------------------------------------------------------------------------
// reference and cpu form (float64)
// ---------------------------------------------------------------------------------------------------------

/**
 * Everything {@link aggregateGroups} reads and writes: columns, no per-group objects. The group columns are
 * a GroupBook's (src/engine/types.ts; the range [g0, g1) says which groups), `topK` a ReduceRequest's.
 */
export interface AggregateColumns {
  /** P&L matrix, row-major [row * scenarios + s] */
  pnl: Float64Array | Float32Array;
  scenarios: number;
  /** entries of group g: [groupStart[g], groupStart[g+1]) */
  groupStart: Int32Array;
  row: Int32Array;
  qty: Float64Array;
  /** bucket of each entry, 0..buckets-1 */
  bucket: Int32Array;
  buckets: number;
  /** [s * buckets + b] */
  weight: Float64Array;
  pnlOffset: number;
  /** how many of the largest losses to keep per group (used when topLosses is not null) */
  topK: number;
  /** out, per group: max_s loss[s] (loss = −p, same currency as the rows × quantities) */
  worstLoss: Float64Array;
  /** out, per group: the first scenario attaining worstLoss (−1 when there are no scenarios) */
  worstScenario: Int32Array;
  /** out, [g * topK + j]: the topK largest losses, descending; −Infinity beyond the scenario count */
  topLosses: Float64Array | null;
}

/**
 * Reduces groups [g0, g1) of `c` into its output columns, in float64: the body of the cpu backend's
 * aggregation (inside a cpu pool worker over shared memory, or on the calling thread).
 * p_b[s] = Σ qty·pnl over the group's entries of bucket b (in entry order, up to four consecutive entries
 * of a bucket summed pairwise before they join the accumulator); p[s] = Σ_b adj(weight·p_b[s]),
 * adj(x) = x if x < 0 else pnlOffset·x; loss[s] = 0 − p[s].
 *
 * Scenario-blocked: for each block of `scenarioBlock` scenarios (src/engine/tuning.ts
 * CPU_AGGREGATE_SCENARIO_BLOCK) the groups of the range are swept in order, so the block of the P&L matrix
 * they read stays in cache. Determinism: every number of group g depends only on g's entries (summed in
 * entry order, scenarios visited in ascending order, ties kept on the first scenario), never on the range
 * or the block size, so any partition of the groups between workers gives the same bits.
 */
export function aggregateGroups(c: AggregateColumns, g0: number, g1: number, scenarioBlock: number): void {
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

/**
 * Min-heap of k values at heap[h .. h+k): replace the root (the smallest) by x and restore the heap.
 * Callers only offer x when x > heap[h] (the root), so the heap keeps the k largest values seen.
 */
export function heapReplaceRoot(heap: Float64Array, h: number, k: number, x: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= k) break;
    const r = l + 1;
    let m = l;
    if (r < k && heap[h + r]! < heap[h + l]!) m = r;
    if (heap[h + m]! >= x) break;
    heap[h + i] = heap[h + m]!;
    i = m;
  }
  heap[h + i] = x;
}

/** Sort the heaps of groups [g0, g1) in place into descending order (largest loss first, −Infinity last). */
export function sortTopLosses(topLosses: Float64Array, k: number, g0: number, g1: number): void {
  for (let g = g0; g < g1; g++)
    topLosses
      .subarray(g * k, (g + 1) * k)
      .sort()
      .reverse();
}

// ---------------------------------------------------------------------------------------------------------
// device form (float32, gpu.js)
// ---------------------------------------------------------------------------------------------------------
//
// In the subset gpu.js transpiles (src/engine/gpuAggregate.ts builds the kernels and slices the blocks).
// One block of scenarios and one block of groups per run:
// - copyBlockKernel: moves a block of the P&L matrix (rows × block scenarios, flat) into a device texture
//   once, so the group blocks of that scenario block read it without another upload.
// - groupPnlKernel: one thread per (scenario, group): p[s] as above. Entries of a group must be sorted by
//   bucket. Each bucket's sum is Kahan-compensated.
// - worstLossKernel: one thread per group: the largest loss −p[s] over the block and the first scenario
//   attaining it, as [loss, index].
// The host combines blocks in float64 (an earlier block wins a tie) and keeps the top k with the heap above.

/** adj(x) = x if x < 0 else pnlOffset · x. */
export function adjustPnl(x: number, pnlOffset: number): number {
  let y = x;
  if (x > 0.0) {
    y = pnlOffset * x;
  }
  return y;
}

/** Identity over a flat block (output [n]). */
export function copyBlockKernel(this: { thread: { x: number } }, block: number[]): number {
  return block[this.thread.x];
}

/**
 * p[s] of group g0 + thread.y at block scenario thread.x. `pnl` is the flat block [row · width + s];
 * groupStart/row/qty/bucket are the group block's (groupStart rebased to 0); weight is [s · buckets + b]
 * of the block. Loops at most `loopMax` entries per group (set as loopMaxIterations).
 */
export function groupPnlKernel(
  this: { thread: { x: number; y: number } },
  pnl: number[],
  groupStart: number[],
  row: number[],
  qty: number[],
  bucket: number[],
  weight: number[],
  width: number,
  buckets: number,
  pnlOffset: number,
  groupCount: number,
): number {
  const g = Math.min(this.thread.y, groupCount - 1.0);
  const s = this.thread.x;
  const e0 = groupStart[g];
  const e1 = groupStart[g + 1.0];
  let total = 0.0;
  let acc = 0.0;
  let comp = 0.0;
  let cur = -1.0;
  // e += 1.0, not e++: e is a float here, and WGSL (webgpu) has ++ for integers only
  for (let e = e0; e < e1; e += 1.0) {
    const b = bucket[e];
    if (b !== cur) {
      if (cur > -0.5) {
        total += adjustPnl(weight[s * buckets + cur] * acc, pnlOffset);
      }
      acc = 0.0;
      comp = 0.0;
      cur = b;
    }
    const x = qty[e] * pnl[row[e] * width + s];
    const y = x - comp;
    const t = acc + y;
    comp = t - acc - y;
    acc = t;
  }
  if (cur > -0.5) {
    total += adjustPnl(weight[s * buckets + cur] * acc, pnlOffset);
  }
  return total;
}

/** [max_s (−p[s]), first s attaining it] over s < n of row thread.x of the p block. */
export function worstLossKernel(this: { thread: { x: number } }, p: number[][], n: number): number[] {
  let worst = -3.0e38;
  let at = 0.0;
  for (let s = 0; s < n; s++) {
    const loss = 0.0 - p[this.thread.x][s];
    if (loss > worst) {
      worst = loss;
      at = s;
    }
  }
  return [worst, at];
}

/**
 * The k-th largest loss −p[g][s] over s < n of group g = thread.x of a p block, found on the device (webgpu's
 * top k, so that p is not read back). Two stages, each at most `iterations` steps, keeping #(loss ≥ lo) ≥ k
 * and #(loss ≥ hi) < k, so that the k-th largest loss lies in [lo, hi):
 * - bisection over values, between the block's smallest and largest loss, until no float lies between lo
 *   and hi or the steps run out (a k-th loss of exactly 0 next to small losses would take ~150 float32 steps);
 * - then from hi down, one distinct loss a step: m = the largest loss below hi; if #(loss ≥ m) ≥ k, m is the
 *   k-th largest loss, else hi = m.
 * Returns [t, exact]: exact = 1 when #(loss > t) < k ≤ #(loss ≥ t), i.e. t is the k-th largest loss itself
 * (checked by counting, whatever the stages did); else 0, and the host reads that group's p instead.
 * Needs n ≥ k. (WGSL may assume no NaN: a NaN in p is not detected here.)
 */
export function blockKthLossKernel(
  this: { thread: { x: number } },
  p: number[][],
  n: number,
  k: number,
  iterations: number,
): number[] {
  const g = this.thread.x;
  // (every loop its own variable: gpu.js's WGSL declares loop variables in the function's scope)
  let lo = 3.0e38;
  let hi = -3.0e38;
  for (let s1 = 0; s1 < n; s1++) {
    const loss = 0.0 - p[g][s1];
    lo = Math.min(lo, loss);
    hi = Math.max(hi, loss);
  }
  let t = hi;
  let top = 0.0;
  for (let s2 = 0; s2 < n; s2++) {
    if (0.0 - p[g][s2] >= hi) {
      top += 1.0;
    }
  }
  if (top < k) {
    t = lo;
    for (let it1 = 0; it1 < iterations; it1++) {
      const mid = lo * 0.5 + hi * 0.5;
      if (mid <= lo || mid >= hi) {
        break;
      }
      let c = 0.0;
      for (let s3 = 0; s3 < n; s3++) {
        if (0.0 - p[g][s3] >= mid) {
          c += 1.0;
        }
      }
      if (c >= k) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    for (let it2 = 0; it2 < iterations; it2++) {
      let m = -3.0e38;
      for (let s4 = 0; s4 < n; s4++) {
        const loss = 0.0 - p[g][s4];
        if (loss < hi) {
          m = Math.max(m, loss);
        }
      }
      let c = 0.0;
      for (let s5 = 0; s5 < n; s5++) {
        if (0.0 - p[g][s5] >= m) {
          c += 1.0;
        }
      }
      if (c >= k) {
        t = m;
        break;
      }
      hi = m;
    }
  }
  let above = 0.0;
  let atOrAbove = 0.0;
  for (let s6 = 0; s6 < n; s6++) {
    const loss = 0.0 - p[g][s6];
    if (loss > t) {
      above += 1.0;
    }
    if (loss >= t) {
      atOrAbove += 1.0;
    }
  }
  let exact = 0.0;
  if (above < k && atOrAbove >= k) {
    exact = 1.0;
  }
  return [t, exact];
}

/**
 * With t[g] the k-th largest loss of group g = thread.y (blockKthLossKernel): the (thread.x)-th loss above
 * t[g] in scenario order, or t[g] once those are used up. Over thread.x < k these are the block's k largest
 * losses (the losses above t, then t as often as it is needed), as a multiset: the same values a host heap
 * over the whole block keeps. With t[g] below every loss (a block of n ≤ k scenarios), the first n are the
 * block's losses.
 */
export function blockTopLossKernel(
  this: { thread: { x: number; y: number } },
  p: number[][],
  t: number[],
  n: number,
): number {
  const j = this.thread.x;
  const g = this.thread.y;
  const th = t[g];
  let c = 0.0;
  let out = th;
  for (let s = 0; s < n; s++) {
    const loss = 0.0 - p[g][s];
    if (loss > th) {
      if (c === j) {
        out = loss;
      }
      c += 1.0;
    }
  }
  return out;
}
