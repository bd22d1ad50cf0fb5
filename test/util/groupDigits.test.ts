/**
 * groupDigits and formatFixed (src/util/groupDigits.ts) against Intl, whose output they stand in for:
 * toLocaleString('en-US') for whole numbers, Intl.NumberFormat('en-US') with a fixed number of fraction digits,
 * on the boundaries of each group of digits, on halves (ICU rounds the shortest decimal that reads back as the
 * number, half away from zero), negatives that round to zero, −0, tiny and huge numbers, and random ones.
 */
import { describe, expect, test } from 'vitest';
import { formatFixed, groupDigits } from '../../src/util/groupDigits.js';
import { mulberry32 } from '../helpers/mulberry32.js';

describe('groupDigits', () => {
  test('is toLocaleString(en-US) for whole numbers, the boundaries of each group and beyond', () => {
    const values = [0, -0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 9999, 10000, 999999, 1000000, 1234567, -1234567];
    for (let k = 0; k <= 16; k++) values.push(10 ** k, 10 ** k - 1, -(10 ** k), -(10 ** k) + 1);
    values.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1.5, -2.25, 1234.5678, NaN, Infinity);
    const rnd = mulberry32(3);
    for (let i = 0; i < 2000; i++) values.push(Math.floor((rnd() - 0.5) * 10 ** Math.floor(rnd() * 16)));
    for (const v of values) expect(groupDigits(v), String(v)).toBe(v.toLocaleString('en-US'));
  });
});

describe('formatFixed', () => {
  const intl = [0, 1, 2, 3, 4, 6].map(
    (d) => [d, new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })] as const,
  );

  test('is Intl.NumberFormat(en-US) with fixed fraction digits: halves, signs, boundaries, extremes', () => {
    const values = [
      0,
      -0,
      1.005,
      0.125,
      -0.125,
      2.5,
      -2.5,
      0.5,
      1.5,
      9.995,
      99.995,
      999999.9999,
      -0.001,
      -0.0049,
      0.045,
      1.45,
      2.675,
      1e-7,
      1.5e-7,
      5e-324,
      1e15 + 0.5,
      4503599627370495.5,
      2 ** 53 + 2,
      1e20,
      1e21,
      1.5e21,
      Number.MAX_VALUE,
      123456789.987654,
      -987654321.123456,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (const v of values) for (const [d, f] of intl) expect(formatFixed(v, d), `${v} ${d}`).toBe(f.format(v));
  });

  test('is Intl.NumberFormat(en-US) on 60,000 random numbers of every magnitude', () => {
    const rnd = mulberry32(17);
    const wrong: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      const k = i % 5;
      const v =
        k === 0
          ? (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 10)
          : k === 1
            ? Math.round((rnd() - 0.5) * 1e6) / 1000 + 0.0005
            : k === 2
              ? Math.round(rnd() * 2e5) / 200
              : k === 3
                ? (rnd() - 0.5) * 1e12
                : Math.round(rnd() * 1e8) / 1e4;
      for (const [d, f] of intl) if (formatFixed(v, d) !== f.format(v)) wrong.push(`${v} ${d}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
