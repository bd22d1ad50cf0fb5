/**
 * float64Values (src/io/columnValues.ts): a Float64 column's values in place (a view of the batch's buffer, its
 * offset applied), and null for a column that readFloats has to convert; the positions a book is built from are
 * the file's own numbers either way (test/io/typeVariants.test.ts reads every stored type).
 */
import { describe, expect, test } from 'vitest';
import { Float32, Float64, vectorFromArray } from 'apache-arrow';
import { float64Values, readFloats } from '../../src/io/columnValues.js';
import type { ResolvedColumn } from '../../src/io/columnSpec.js';

const column = (type: Float64 | Float32): ResolvedColumn => ({
  name: 'quantity',
  index: 0,
  type,
  storage: 'float',
  msPerUnit: 1,
});

describe('float64Values', () => {
  const values = Array.from({ length: 40 }, (_, i) => (i - 7) * 1.25);

  test('a Float64 column: its values as they lie in the buffer, no copy, offset applied', () => {
    const whole = vectorFromArray(values, new Float64()).data[0]!;
    for (const data of [whole, whole.slice(5, 20)]) {
      const view = float64Values(column(new Float64()), data)!;
      const copy = new Float64Array(data.length);
      readFloats(column(new Float64()), data, copy, 0);
      expect(Array.from(view)).toEqual(Array.from(copy));
      expect(view.buffer).toBe((data.values as Float64Array).buffer);
    }
    expect(Array.from(float64Values(column(new Float64()), whole.slice(5, 20))!)).toEqual(values.slice(5, 25));
  });

  test('a Float32 column is left to readFloats (null)', () => {
    const data = vectorFromArray(values, new Float32()).data[0]!;
    expect(float64Values(column(new Float32()), data)).toBeNull();
  });
});
