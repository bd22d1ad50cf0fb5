/**
 * The top-k loss selection shared by the cpu reduction (aggregateGroups.ts, inside the Piscina worker) and
 * the gpu.js backend's host side (gpuAggregate.ts): per group a min-heap of the k largest losses at
 * `heap[g·k .. (g+1)·k)`, seeded with −Infinity, then sorted descending. Same operations in both backends,
 * so the same losses in the same order give the same bits.
 */

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
