/**
 * webgpu's top k on the device (kernels/aggregate.ts blockKthLossKernel and blockTopLossKernel), as plain
 * functions against a sort: the k-th largest loss of a block found exactly (or flagged, never wrong), and the
 * block's k largest losses as a multiset, ties included. The same kernels on a real WebGPU device:
 * test/engine/webgpuBrowser.test.ts.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { blockKthLossKernel, blockTopLossKernel } from '../../kernels/aggregate.js';
import { DEVICE_TOPK_ITERATIONS } from '../../src/engine/tuning.js';

/** losses −p, largest first */
const sortedLosses = (p: number[]) => p.map((x) => 0 - x).sort((a, b) => b - a);

function kth(p: number[], n: number, k: number): [number, number] {
  const r = blockKthLossKernel.call({ thread: { x: 0 } }, [p], n, k, DEVICE_TOPK_ITERATIONS);
  return [r[0]!, r[1]!];
}

function top(p: number[], t: number, n: number, k: number): number[] {
  return Array.from({ length: k }, (_, j) => blockTopLossKernel.call({ thread: { x: j, y: 0 } }, [p], [t], n));
}

// P&L values: ties (a few levels), spread magnitudes, floats; any double (denormals too) for soundness
const anyValue = fc.oneof(
  fc.constantFrom(-2, -1, 0, 0.5, 3),
  fc.double({ min: -1e4, max: 1e4, noNaN: true }),
  fc.float({ min: -1e3, max: 1e3, noNaN: true }).map(Math.fround),
);
// P&L of a book: |x| ≤ 1e4, ties, zeros next to small losses
const bookValue = fc.oneof(anyValue, fc.constantFrom(0, 1e-6, -1e-6, 1e-12));

describe('device top k', () => {
  test('the k-th largest loss: never wrong when flagged exact, whatever the values', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 200 }), fc.nat(), (p, kSeed) => {
        const n = p.length;
        const k = 1 + (kSeed % n);
        const [t, exact] = kth(p, n, k);
        if (exact === 1) expect(t).toBe(sortedLosses(p)[k - 1]!);
      }),
      { numRuns: 1000 },
    );
  });

  test('the k-th largest loss: found (flagged exact) for the P&L of a book', () => {
    fc.assert(
      fc.property(fc.array(bookValue, { minLength: 1, maxLength: 200 }), fc.nat(), (p, kSeed) => {
        const n = p.length;
        const k = 1 + (kSeed % n);
        expect(kth(p, n, k)).toEqual([sortedLosses(p)[k - 1]!, 1]);
      }),
      { numRuns: 1000 },
    );
  });

  test('the block k largest losses as a multiset, ties at the k-th included', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 200 }), fc.nat(), (p, kSeed) => {
        const n = p.length;
        const k = 1 + (kSeed % n);
        const want = sortedLosses(p).slice(0, k);
        const got = top(p, want[k - 1]!, n, k).sort((a, b) => b - a);
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });

  test('only the first n of a block of n ≤ k scenarios, given a threshold below every loss', () => {
    const p = [0.25, -1, 3, 3];
    expect(top(p, -3e38, 4, 6).slice(0, 4)).toEqual([-0.25, 1, -3, -3]);
  });

  test('a flag, not a wrong answer, when the steps run out', () => {
    // losses 1e4, 70 distinct ones in (1e-300, 1e-299), the k-th (72nd) 1e-300, then −1e4: neither the
    // halvings (float64: ~1,000 to reach 1e-300 from 1e4) nor one distinct loss a step (71 needed) end within
    // the 64 of each
    const losses = [1e4, ...Array.from({ length: 70 }, (_, i) => 1e-300 * (2 + i / 10)), 1e-300, -1e4];
    const p = losses.map((x) => 0 - x);
    const [t, exact] = kth(p, p.length, 72);
    expect(exact === 0 || t === 1e-300).toBe(true);
    expect(exact).toBe(0);
  });
});
