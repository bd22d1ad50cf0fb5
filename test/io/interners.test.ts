/**
 * The byte-string and Int64 interners that turn keys into dense ids: first-seen numbering, equal bytes
 * give equal ids across calls and buffers, growth past the initial table keeps every id, and bytes
 * are decoded as UTF-8; dictionaries map to the same ids as their strings one by one.
 */
import { describe, expect, test } from 'vitest';
import { Utf8Interner } from '../../src/io/utf8Interner.js';
import { Int64Interner } from '../../src/io/int64Interner.js';
import { DictionaryMapper } from '../../src/io/columnValues.js';
import { accountKeyStrings } from '../../src/model/book.js';
import { Utf8, vectorFromArray } from 'apache-arrow';

describe('Utf8Interner', () => {
  test('numbers distinct strings in first-seen order and finds them again through any buffer', () => {
    const it = new Utf8Interner(4);
    const words = ['BTC', 'ETH', '', 'BTC', 'Ζεύς', 'ETH', 'BT', 'BTCC'];
    const ids = words.map((w) => it.internString(w));
    expect(ids).toEqual([0, 1, 2, 0, 3, 1, 4, 5]);
    const buf = Buffer.from('xxETHyy');
    expect(it.intern(buf, 2, 5)).toBe(1);
    expect([0, 1, 2, 3, 4, 5].map((k) => it.get(k))).toEqual(['BTC', 'ETH', '', 'Ζεύς', 'BT', 'BTCC']);
  });

  test('keeps every id while growing from a tiny table to 50,000 keys', () => {
    const it = new Utf8Interner(2);
    const wrong: number[] = [];
    for (let k = 0; k < 50_000; k++) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    for (let k = 0; k < 50_000; k += 97) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    expect(wrong).toEqual([]);
    expect(it.count).toBe(50_000);
    expect(it.get(49_999)).toBe('acct-49999');
  });

  test('reserve (as for a dictionary of known length) keeps every id, and ids go on from where they were', () => {
    const it = new Utf8Interner(2);
    const wrong: number[] = [];
    for (let k = 0; k < 1000; k++) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    it.reserve(60_000);
    it.reserve(10); // never shrinks
    for (let k = 0; k < 1000; k++) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    for (let k = 1000; k < 60_000; k++) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    it.reserve(200_000); // a reserve past the entries already there
    for (let k = 0; k < 60_000; k += 13) if (it.internString(`acct-${k}`) !== k) wrong.push(k);
    expect(wrong).toEqual([]);
    expect(it.count).toBe(60_000);
    expect([it.get(0), it.get(999), it.get(59_999)]).toEqual(['acct-0', 'acct-999', 'acct-59999']);
  });

  test('its table is made by the first lookup or reserve, whichever comes first (a large interner that only adopts makes none)', () => {
    const reserved = new Utf8Interner(1 << 16);
    reserved.reserve(10);
    const wrong: number[] = [];
    for (let k = 0; k < 3000; k++) if (reserved.internString(`acct-${k}`) !== k) wrong.push(k);
    for (let k = 0; k < 3000; k += 7) if (reserved.internString(`acct-${k}`) !== k) wrong.push(k);
    const looked = new Utf8Interner(1 << 16);
    for (let k = 0; k < 3000; k++) if (looked.internString(`k${k}`) !== k) wrong.push(k);
    expect(wrong).toEqual([]);
    // adopted and read without a lookup, then looked up: the same ids
    const adopted = new Utf8Interner(1 << 16);
    expect(adopted.adopt(Buffer.from('abc'), Int32Array.of(0, 1, 2, 3), 3)).toBe(true);
    expect(adopted.all()).toEqual(['a', 'b', 'c']);
    expect(['c', 'a', 'd'].map((w) => adopted.internString(w))).toEqual([2, 0, 3]);
  });
});

describe('Int64Interner', () => {
  const halves = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
  test.each([0n, 1n, -1n, 4294967295n, 4294967296n, -9223372036854775808n, 9223372036854775807n, 9007199254740993n])(
    'round-trips %s',
    (v) => {
      const it = new Int64Interner(2);
      it.intern(...halves(12345n));
      const id = it.intern(...halves(v));
      expect(it.get(id)).toBe(v);
      expect(it.find(...halves(v))).toBe(id);
      expect(it.intern(...halves(v))).toBe(id);
    },
  );

  test('keeps every id while growing to 50,000 keys', () => {
    const it = new Int64Interner(2);
    const wrong: number[] = [];
    for (let k = 0; k < 50_000; k++) if (it.intern(...halves(BigInt(k) * 4294967311n)) !== k) wrong.push(k);
    for (let k = 0; k < 50_000; k += 97) if (it.find(...halves(BigInt(k) * 4294967311n)) !== k) wrong.push(k);
    expect(wrong).toEqual([]);
    expect(it.get(40_000)).toBe(40_000n * 4294967311n);
    expect(it.find(...halves(7n))).toBe(-1);
  });
});

describe('Utf8Interner.all', () => {
  test.each([
    ['ASCII keys', ['b', 'a', 'acct-7', '', 'zz']],
    ['non-ASCII keys', ['b', 'Ζεύς', 'a', 'ß']],
  ])('%s: every string by id, as get gives it', (_name, words) => {
    const it = new Utf8Interner(2);
    for (const w of words) it.internString(w);
    const fresh = new Utf8Interner(2);
    for (const w of words) fresh.internString(w);
    expect(fresh.all()).toEqual(words.map((_, id) => it.get(id)));
    expect(fresh.all()).toEqual(words);
  });
});

describe('Utf8Interner.orderedAsciiBytes', () => {
  const interned = (words: string[]) => {
    const it = new Utf8Interner(2);
    for (const w of words) it.internString(w);
    return it;
  };
  const strings = (r: { bytes: Uint8Array; offsets: Int32Array } | null) => (r === null ? null : accountKeyStrings(r));

  test('the used keys in id order, when each is greater than the one before (prefixes first, the empty key first)', () => {
    const words = ['', 'a', 'acct-1', 'acct-10', 'acct-2', 'b', 'zz'];
    const it = interned(words);
    expect(strings(it.orderedAsciiBytes(new Uint8Array(words.length).fill(1)))).toEqual(words);
    // unused ids are left out: their order does not matter
    const used = Uint8Array.from([1, 0, 1, 1, 0, 1, 1]);
    const r = it.orderedAsciiBytes(used)!;
    expect(accountKeyStrings(r)).toEqual(['', 'acct-1', 'acct-10', 'b', 'zz']);
    expect(Array.from(r.offsets)).toEqual([0, 0, 6, 13, 14, 16]);
    // the order of the strings, as JavaScript compares them: each key above the one before
    const keys = accountKeyStrings(r);
    for (let k = 1; k < keys.length; k++) expect(keys[k - 1]! < keys[k]!).toBe(true);
  });

  test.each([
    ['out of order', ['a', 'c', 'b']],
    ['a prefix after its longer key', ['ab', 'a']],
    ['a repeated key (a dictionary that holds it twice)', ['a', 'a']],
    ['a key not ASCII (UTF-8 bytes and UTF-16 units may order it otherwise)', ['a', 'b', 'Ζεύς']],
  ])('null when a key is %s', (_what, words) => {
    const it = new Utf8Interner(2);
    const parts = words.map((w) => Buffer.from(w, 'utf8'));
    const offsets = new Int32Array(words.length + 1);
    for (let k = 0; k < parts.length; k++) offsets[k + 1] = offsets[k]! + parts[k]!.length;
    it.adopt(new Uint8Array(Buffer.concat(parts)), offsets, words.length);
    expect(it.orderedAsciiBytes(new Uint8Array(words.length).fill(1))).toBeNull();
  });
});

describe('Utf8Interner.adopt', () => {
  const bytesOf = (words: string[]) => {
    const parts = words.map((w) => Buffer.from(w, 'utf8'));
    const offsets = new Int32Array(words.length + 1);
    for (let k = 0; k < parts.length; k++) offsets[k + 1] = offsets[k]! + parts[k]!.length;
    return { bytes: new Uint8Array(Buffer.concat(parts)), offsets };
  };

  test('takes a dictionary as ids 0..n-1; lookups and new strings continue from there; a repeat keeps its id, lookups answer the first', () => {
    const it = new Utf8Interner(2);
    const words = ['acct-0', 'a-much-longer-account-key-1', '', 'Ζεύς', 'acct-0'];
    const { bytes, offsets } = bytesOf(words);
    expect(it.adopt(bytes, offsets, words.length)).toBe(true);
    expect(it.count).toBe(5);
    expect([0, 1, 2, 3, 4].map((k) => it.get(k))).toEqual(words);
    expect(it.adopt(bytes, offsets, words.length)).toBe(false); // only while empty
    expect(['Ζεύς', 'a-much-longer-account-key-1', '', 'acct-0'].map((w) => it.internString(w))).toEqual([3, 1, 2, 0]);
    expect(it.internString('new')).toBe(5);
    for (let k = 0; k < 5000; k++) it.internString(`grow-${k}`); // rehashes keep the adopted ids
    expect(it.internString('a-much-longer-account-key-1')).toBe(1);
    expect(it.internString('acct-0')).toBe(0);
    expect(it.get(4)).toBe('acct-0');
  });
});

describe('DictionaryMapper', () => {
  const dict = (words: string[]) => vectorFromArray(words, new Utf8());
  /** ids the slow path gives: each word interned on its own */
  const expected = (it: Utf8Interner, words: string[]) => words.map((w) => it.internString(w));

  test('a second file whose dictionary has the same strings reuses the ids; a different one is interned entry by entry', () => {
    const it = new Utf8Interner(4);
    const words = ['A000', 'A001', 'B', 'Ζεύς', 'A003'];
    const first = new DictionaryMapper(it).map(dict(words));
    const same = new DictionaryMapper(it).map(dict([...words]));
    expect(Array.from(same)).toEqual(Array.from(first));
    // same length and byte count, one string differs by one byte: not the same dictionary
    const other = ['A000', 'A001', 'C', 'Ζεύς', 'A003'];
    const ids = new DictionaryMapper(it).map(dict(other));
    expect(Array.from(ids)).toEqual(expected(it, other));
    expect(ids[2]).not.toBe(first[2]);
    // same strings in another order
    const swapped = ['A001', 'A000', 'B', 'Ζεύς', 'A003'];
    expect(Array.from(new DictionaryMapper(it).map(dict(swapped)))).toEqual(expected(it, swapped));
    // a slice (offsets not starting at 0) of equal strings
    const sliced = dict(['x', ...words]).slice(1);
    expect(Array.from(new DictionaryMapper(it).map(sliced))).toEqual(expected(it, words));
    expect(it.count).toBe(6);
  });
});
