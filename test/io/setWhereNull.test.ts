/**
 * setWhereNull (src/io/columnValues.ts) marks exactly the null rows of a batch's column, against the
 * row-by-row isNull, for every alignment of the column's offset into its validity bitmap (sliced
 * vectors) and runs of valid rows long enough to be skipped a byte at a time.
 */
import { describe, expect, test } from 'vitest';
import { Float64, makeData, vectorFromArray } from 'apache-arrow';
import { isNull, setWhereNull } from '../../src/io/columnValues.js';
import { mulberry32 } from '../helpers/mulberry32.js';

describe('setWhereNull', () => {
  const r = mulberry32(17);
  // 300 rows: long valid runs, isolated nulls, a null run crossing byte boundaries
  const values = Array.from({ length: 300 }, (_, i) =>
    i % 97 === 5 || (i >= 130 && i < 141) || r() < 0.03 ? null : i * 1.5,
  );
  const whole = vectorFromArray(values, new Float64()).data[0]!;

  test.each([0, 1, 3, 7, 8, 9, 63, 130])('a column starting %i rows into its bitmap', (start) => {
    const data = whole.slice(start, 300 - start - 5);
    expect(data.offset).toBe(start);
    const want = new Float64Array(data.length).fill(1);
    for (let i = 0; i < data.length; i++) if (isNull(data, i)) want[i] = NaN;
    const got = new Float64Array(data.length + 2).fill(1);
    setWhereNull(data, got, 2, NaN);
    expect(Array.from(got.subarray(2))).toEqual(Array.from(want));
    expect(Array.from(got.subarray(0, 2))).toEqual([1, 1]);
    expect(want.some((x) => Number.isNaN(x))).toBe(true);
  });

  test('a column without nulls is left alone', () => {
    const data = makeData({ type: new Float64(), length: 3, data: Float64Array.of(1, 2, 3) });
    const out = Int32Array.of(5, 5, 5);
    setWhereNull(data, out, 0, -1);
    expect(Array.from(out)).toEqual([5, 5, 5]);
  });
});
