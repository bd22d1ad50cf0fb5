// The generator's PRNG: xoshiro128** 1.1 checked against the reference C implementation
// (https://prng.di.unimi.it/xoshiro128starstar.c, compiled and run with state {1, 2, 3, 4}), and the
// seeded stream's determinism and distribution.
import { describe, expect, test } from 'vitest';
import { Prng } from '../../src/generate/prng.js';

describe('xoshiro128**', () => {
  test('matches the reference C output from state {1, 2, 3, 4}', () => {
    const p = Prng.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => p.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });
  test.each([0, 1, 42, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER])('seed %d: same stream twice', (seed) => {
    const a = new Prng(seed),
      b = new Prng(seed);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });
  test.each([
    [0, 1],
    [1, 2],
    [5, 2 ** 32 + 5],
    [7, 7 + 2 ** 32],
  ])('seeds %d and %d give different streams', (s1, s2) => {
    const a = new Prng(s1),
      b = new Prng(s2);
    expect(Array.from({ length: 8 }, () => a.nextU32())).not.toEqual(Array.from({ length: 8 }, () => b.nextU32()));
  });
  test.each([-1, 1.5, NaN])('seed %d is refused', (seed) => {
    expect(() => new Prng(seed)).toThrow(RangeError);
  });
});

describe('draws (200,000 samples, seed 2026: tolerances ≈ 5 standard errors)', () => {
  const n = 200_000;
  test('float: in [0, 1), mean 1/2, variance 1/12', () => {
    const p = new Prng(2026);
    let s = 0,
      s2 = 0,
      min = 1,
      max = 0;
    for (let i = 0; i < n; i++) {
      const x = p.float();
      s += x;
      s2 += x * x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(1e-3);
  });
  test('normal: mean 0, variance 1, tail share beyond 2σ ≈ 4.55%', () => {
    const p = new Prng(2026);
    let s = 0,
      s2 = 0,
      tail = 0;
    for (let i = 0; i < n; i++) {
      const x = p.normal();
      s += x;
      s2 += x * x;
      if (Math.abs(x) > 2) tail++;
    }
    expect(Math.abs(s / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(tail / n - 0.0455)).toBeLessThan(5 * Math.sqrt((0.0455 * 0.9545) / n));
  });
  test('weighted: frequencies proportional to the weights; zero weight never drawn', () => {
    const p = new Prng(2026);
    const w = [1, 0, 3, 6];
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[p.weighted(w)]!++;
    expect(counts[1]).toBe(0);
    w.forEach((wi, k) => expect(Math.abs(counts[k]! / n - wi / 10)).toBeLessThan(5 * Math.sqrt(0.25 / n)));
  });
  test('int: uniform over [0, n)', () => {
    const p = new Prng(2026);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < n; i++) counts[p.int(7)]++;
    for (const c of counts) expect(Math.abs(c / n - 1 / 7)).toBeLessThan(5 * Math.sqrt(1 / 7 / n));
  });
});
