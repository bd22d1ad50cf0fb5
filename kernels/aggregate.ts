/**
 * Aggregation kernels for the float32 devices, in the subset gpu.js transpiles (src/engine/gpuAggregate.ts
 * builds them). One block of scenarios and one block of groups per run:
 *
 * - {@link copyBlockKernel}: moves a block of the P&L matrix (rows × block scenarios, flat) into a device
 *   texture once, so the group blocks of that scenario block read it without another upload.
 * - {@link groupPnlKernel}: one thread per (scenario, group): p[s] = Σ_b adj(w[s,b] · Σ_{e of b} q_e ·
 *   pnl[row_e, s]) (the GroupBook contract of src/engine/types.ts). Entries of a group must be sorted by
 *   bucket. Each bucket's sum is Kahan-compensated, so float32 accumulation adds an error of about
 *   2·ε·Σ|q·pnl| whatever the number of entries (ARCHITECTURE.md "Precision").
 * - {@link worstLossKernel}: one thread per group: the largest loss −p[s] over the block and the first
 *   scenario attaining it, as [loss, index].
 */

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
  for (let e = e0; e < e1; e++) {
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
