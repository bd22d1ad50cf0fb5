/**
 * The normal CDF kernels. Reference values: mpmath 1.3 `ncdf` at 40 digits (printed to 17 significant
 * digits). normCdf (Cody) must be float64-accurate; normCdf32 (Numerical Recipes erfcc) within its
 * published fractional error 1.2e-7 of the smaller tail.
 */
import { describe, expect, test } from 'vitest';
import { normCdf, normCdf32, normPdf } from '../../kernels/normal.js';
import { expectClose } from '../helpers/expectClose.js';

const MPMATH: Array<[number, number]> = [
  [-30, 4.9067139271481871e-198],
  [-20, 2.7536241186062337e-89],
  [-10, 7.6198530241605261e-24],
  [-8, 6.2209605742717841e-16],
  [-6, 9.8658764503769814e-10],
  [-5.5, 1.8989562465887719e-8],
  [-5, 2.8665157187919391e-7],
  [-3, 0.0013498980316300945],
  [-2, 0.022750131948179207],
  [-1.5, 0.066807201268858066],
  [-1, 0.15865525393145705],
  [-0.674, 0.25015565684032258],
  [-0.5, 0.3085375387259869],
  [-0.1, 0.46017216272297102],
  [-1e-9, 0.49999999960105772],
  [0, 0.5],
  [1e-9, 0.50000000039894228],
  [0.3, 0.61791142218895263],
  [0.6744, 0.74997147862705939],
  [0.7, 0.75803634777692697],
  [1, 0.84134474606854295],
  [2, 0.97724986805182079],
  [3, 0.99865010196836991],
  [5, 0.99999971334842812],
  [5.7, 0.9999999940096286],
  [8, 0.99999999999999938],
];

describe('normCdf (float64, Cody)', () => {
  test.each(MPMATH)('N(%f) = %f to 1e-15 relative', (x, expected) => {
    expectClose(normCdf(x), expected, 1e-15 * expected, { x });
  });

  test.each([-37, -12, -4, -0.7, -0.2, 0.2, 0.7, 4, 12])('N(%f) + N(−x) = 1', (x) => {
    expectClose(normCdf(x) + normCdf(-x), 1, 2.3e-16, { x });
  });

  test('keeps the bits of computing e^{−s²/2} per call (its table): every 1/16 edge to 40 and a dense grid', () => {
    // FNV-1a of the results' bytes, recorded at ed3c93a, where normCdf called Math.exp(−s²/2) itself
    const xs: number[] = [];
    for (let j = 0; j <= 640; j++) {
      const s = j / 16;
      for (const x of [s, s + 1e-9, s + 1 / 32, s - 1e-12]) xs.push(x, -x);
    }
    for (let i = 0; i <= 200_000; i++) xs.push(-40 + i * 4e-4);
    const bytes = new Uint8Array(Float64Array.from(xs, normCdf).buffer);
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(h.toString(16)).toBe('1e46ca9e');
  });

  test('underflows to 0 and saturates at 1, never NaN', () => {
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-1e300)).toBe(0);
  });
});

describe('normCdf32 (float32-safe, NR erfcc)', () => {
  const grid = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);
  test.each(grid)('x = %f: within 1.2e-7 of the smaller tail (plus one float64 ulp of 1)', (x) => {
    const tail = normCdf(-Math.abs(x));
    expectClose(normCdf32(x), normCdf(x), 1.2e-7 * tail + 2.3e-16, { x, tail });
  });

  test.each(grid.filter((x) => x < 0))('x = %f: lower tail within 1.2e-7 relative (computed directly)', (x) => {
    expectClose(normCdf32(x), normCdf(x), 1.2e-7 * normCdf(x), { x });
  });

  test.each([-15, -9, -7])('deep lower tail %f is computed directly (nonzero, relative 1.2e-7)', (x) => {
    expect(normCdf32(x)).toBeGreaterThan(0);
    expectClose(normCdf32(x), normCdf(x), 1.2e-7 * normCdf(x), { x });
  });
});

describe('normPdf', () => {
  test.each([
    // mpmath npdf at 40 digits
    [0, 0.39894228040143268],
    [1, 0.24197072451914335],
    [-2.5, 0.017528300493568537],
    [10, 7.6945986267064193e-23],
  ])('φ(%f) = %f', (x, expected) => {
    expectClose(normPdf(x), expected, 2e-15 * expected, { x });
  });
});
