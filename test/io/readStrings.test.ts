/**
 * readStrings (src/io/columnValues.ts, the market tables' string columns) decodes a plain Utf8 column from its
 * bytes: it must give what apache-arrow's Vector.get gives, string for string: multi-byte characters, malformed
 * UTF-8 (replaced), values that start with a byte-order mark (TextDecoder drops it), empty strings, nulls,
 * slices of a column, and the layouts it leaves to Vector.get (dictionaries, 64-bit offsets).
 */
import { describe, expect, test } from 'vitest';
import { Dictionary, Int32, LargeUtf8, makeData, makeVector, Utf8, vectorFromArray, type Data } from 'apache-arrow';
import { readStrings } from '../../src/io/columnValues.js';

function viaGet(data: Data): (string | null)[] {
  const v = makeVector(data);
  const at = (i: number) => (data.getValid(i) ? ((v.get(i) as string | null) ?? null) : null);
  return Array.from({ length: data.length }, (_, i) => at(i));
}

/** A Utf8 column of raw byte strings (null: a null row). */
function rawUtf8(values: (number[] | null)[]): Data<Utf8> {
  const offsets = new Int32Array(values.length + 1);
  const bytes: number[] = [];
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) {
      bytes.push(...v);
      valid[i >> 3]! |= 1 << (i & 7);
    }
    offsets[i + 1] = bytes.length;
  });
  const nulls = values.filter((v) => v === null).length;
  return makeData({
    type: new Utf8(),
    length: values.length,
    nullCount: nulls,
    nullBitmap: nulls > 0 ? valid : null,
    valueOffsets: offsets,
    data: Uint8Array.from(bytes),
  });
}

const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];

describe('readStrings is Vector.get', () => {
  test('ASCII, multi-byte characters, empty strings and nulls', () => {
    const v = vectorFromArray(
      ['BTC-PERPETUAL', '', null, 'Ωμέγα', '日本', '🙂 x', null, 'ETH-27MAR26-3000-C'],
      new Utf8(),
    );
    for (const data of v.data) expect(readStrings(data)).toEqual(viaGet(data));
  });

  test('malformed UTF-8 and byte-order marks', () => {
    const data = rawUtf8([
      [0xff, 0x41],
      [0xc3],
      [0xe2, 0x82],
      [0xef, 0xbb, 0xbf, 0x41, 0x42],
      [0xef, 0xbb, 0xbf],
      [0x41, 0xef, 0xbb, 0xbf],
      null,
      [0xed, 0xa0, 0x80],
      utf8('plain'),
    ]);
    expect(readStrings(data)).toEqual(viaGet(data));
    // the byte-order mark at a value's start is dropped, as TextDecoder does
    expect(readStrings(data)[3]).toBe('AB');
  });

  test('a slice of a column', () => {
    const v = vectorFromArray(['a', 'bb', null, 'ccc', 'dddd', 'é', null, 'f'], new Utf8());
    for (const [a, b] of [
      [1, 5],
      [2, 8],
      [3, 4],
    ] as const) {
      const data = v.data[0]!.slice(a, b - a);
      expect(readStrings(data)).toEqual(viaGet(data));
    }
  });

  test('layouts left to Vector.get: dictionary-encoded and 64-bit offsets', () => {
    const dict = vectorFromArray(['x', 'y', null, 'x', 'é'], new Dictionary(new Utf8(), new Int32()));
    for (const data of dict.data) expect(readStrings(data)).toEqual(['x', 'y', null, 'x', 'é']);
    const large = vectorFromArray(['long', null, 'ü'], new LargeUtf8());
    for (const data of large.data) expect(readStrings(data)).toEqual(['long', null, 'ü']);
  });
});
