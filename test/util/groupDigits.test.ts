/** groupDigits against toLocaleString('en-US'), whose output it stands in for. */
import { describe, expect, test } from 'vitest';
import { groupDigits } from '../../src/util/groupDigits.js';
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
