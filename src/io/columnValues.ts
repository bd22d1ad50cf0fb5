/**
 * Reading one record batch's column into the engine's typed arrays, straight from Arrow's buffers:
 * floats and integers into a Float64Array, timestamps of any unit into ms since epoch, strings into
 * dense ids through an interner (a dictionary is mapped once and its index vector used; plain Utf8
 * is hashed from its bytes, never decoded per row). Nulls are reported through {@link isNull}.
 */
import { makeVector, type Data, type Vector } from 'apache-arrow';
import type { ResolvedColumn } from './columnSpec.js';
import type { Utf8Interner } from './utf8Interner.js';
import type { Int64Interner } from './int64Interner.js';

/** True when row `i` of `data` is null. */
export function isNull(data: Data, i: number): boolean {
  if (data.nullCount <= 0) return false;
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0) return false;
  const pos = data.offset + i;
  return (bitmap[pos >> 3]! & (1 << (pos & 7))) === 0;
}

/**
 * Writes `value` to `out[at + i]` for every null row i of `data` (nothing when it has none): one pass
 * over the validity bitmap, a byte of eight valid rows skipped at once.
 */
export function setWhereNull(data: Data, out: Float64Array | Int32Array | Uint8Array, at: number, value: number): void {
  if (hasNulls(data)) setWhereBitClear(data.nullBitmap!, data.offset, data.length, out, at, value);
}

/**
 * setWhereNull's pass over the bitmap (rows [0, n) at bit `off` on): a function of typed arrays, which V8 optimises
 * without Arrow's getters around it (setWhereNull whole took 4.6 + 2.7 ms of TurboFan in the book's load).
 */
function setWhereBitClear(
  bitmap: Uint8Array,
  off: number,
  n: number,
  out: Float64Array | Int32Array | Uint8Array,
  at: number,
  value: number,
): void {
  for (let i = 0; i < n;) {
    const p = off + i;
    if ((p & 7) === 0 && i + 8 <= n && bitmap[p >> 3] === 0xff) {
      i += 8;
      continue;
    }
    if ((bitmap[p >> 3]! & (1 << (p & 7))) === 0) out[at + i] = value;
    i++;
  }
}

/** True when the column has at least one null in this batch. */
export function hasNulls(data: Data): boolean {
  return data.nullCount > 0 && !!data.nullBitmap && data.nullBitmap.length > 0;
}

/**
 * Writes the `data.length` values of a float or integer column to `out[at…]` as float64 (nulls give
 * whatever the buffer holds: check {@link isNull}).
 */
export function readFloats(col: ResolvedColumn, data: Data, out: Float64Array, at: number): void {
  const n = data.length;
  const values = data.values as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
  if (col.storage === 'float' && values instanceof Float64Array) {
    out.set(values.subarray(0, n), at);
  } else if (col.storage === 'int64' || col.storage === 'uint64') {
    const big = data.values as BigInt64Array;
    const halves = new Int32Array(big.buffer, big.byteOffset, 2 * n);
    if (col.storage === 'int64')
      for (let i = 0; i < n; i++) out[at + i] = halves[2 * i + 1]! * 4294967296 + (halves[2 * i]! >>> 0);
    else for (let i = 0; i < n; i++) out[at + i] = (halves[2 * i + 1]! >>> 0) * 4294967296 + (halves[2 * i]! >>> 0);
  } else {
    for (let i = 0; i < n; i++) out[at + i] = values[i]!;
  }
}

/**
 * A float64 column's `data.length` values as they lie in its buffer (a view, not a copy; nulls hold whatever the
 * buffer holds: check {@link isNull}); null when the column is stored otherwise ({@link readFloats} converts it).
 */
export function float64Values(col: ResolvedColumn, data: Data): Float64Array | null {
  const values = data.values as unknown;
  return col.storage === 'float' && values instanceof Float64Array ? values.subarray(0, data.length) : null;
}

/** The timestamp at row `i` in ms since epoch (UTC), exact to the millisecond for every unit. */
export function timestampMs(col: ResolvedColumn, data: Data, i: number): number {
  const v = (data.values as BigInt64Array)[i]!;
  if (col.msPerUnit >= 1) return Number(v) * col.msPerUnit;
  const per = BigInt(Math.round(1 / col.msPerUnit));
  return Number(v / per) + Number(v % per) / Number(per);
}

/**
 * The strings of a small column, null where null (for market tables; not for hot paths). A plain Utf8 column is
 * decoded from its bytes (Buffer's UTF-8 decoder, which replaces a malformed sequence as the TextDecoder behind
 * Vector.get does): the market's ~8,000 strings took ~19 ms through Vector.get, one TextDecoder call each. A
 * value that starts with a byte-order mark (which TextDecoder drops) and other layouts (dictionaries, 64-bit
 * offsets) go through Vector.get.
 */
export function readStrings(data: Data): (string | null)[] {
  const n = data.length;
  const out: (string | null)[] = new Array(n);
  const offsets = data.valueOffsets as unknown;
  const bytes = data.values as unknown;
  let v: Vector | null = null;
  const plain = offsets instanceof Int32Array && bytes instanceof Uint8Array && offsets.length > n;
  const buf = plain ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  for (let i = 0; i < n; i++) {
    if (isNull(data, i)) {
      out[i] = null;
      continue;
    }
    if (buf !== null) {
      const a = (offsets as Int32Array)[i]!;
      const b = (offsets as Int32Array)[i + 1]!;
      if (!(b - a >= 3 && buf[a] === 0xef && buf[a + 1] === 0xbb && buf[a + 2] === 0xbf)) {
        out[i] = buf.toString('utf8', a, b);
        continue;
      }
    }
    v ??= makeVector(data) as Vector;
    out[i] = (v.get(i) as string | null) ?? null;
  }
  return out;
}

/**
 * Caches the interned ids of a dictionary's entries, per dictionary vector. Mappers that share an
 * interner (one per input file, e.g. positions and balances) share their mappings too: a dictionary
 * with exactly the same strings in the same order as one mapped before (a generator or an exporter
 * writes the same account dictionary into both files) takes its ids by one byte comparison instead of
 * a hash lookup per entry.
 */
export class DictionaryMapper {
  private last: Vector | null = null;
  private ids: Int32Array = new Int32Array(0);
  private static readonly mapped = new WeakMap<Utf8Interner, { dictionary: Vector; ids: Int32Array }>();
  constructor(private readonly interner: Utf8Interner) {}

  /** The interned id of every entry of this dictionary (computed once per dictionary). */
  map(dictionary: Vector): Int32Array {
    if (dictionary === this.last) return this.ids;
    const before = DictionaryMapper.mapped.get(this.interner);
    let ids: Int32Array;
    if (before && sameStrings(dictionary, before.dictionary)) {
      ids = before.ids;
    } else {
      ids = new Int32Array(dictionary.length);
      const only = dictionary.data.length === 1 ? (dictionary.data[0] as Data) : null;
      const offsets = only?.valueOffsets as unknown;
      if (
        only &&
        offsets instanceof Int32Array &&
        this.interner.adopt(only.values as Uint8Array, offsets, only.length)
      ) {
        // the first dictionary of an empty interner: its entries are ids 0..n-1, nothing hashed
        for (let i = 0; i < ids.length; i++) ids[i] = i;
      } else {
        // room for the new entries in one step (a second dictionary of mostly known keys adds few)
        this.interner.reserve(Math.max(this.interner.count, dictionary.length));
        let k = 0;
        for (const d of dictionary.data) {
          internUtf8Range(d as Data, this.interner, ids, k, d.length);
          k += d.length;
        }
      }
      let k = 0;
      for (const d of dictionary.data) {
        if (hasNulls(d as Data)) for (let i = 0; i < d.length; i++) if (isNull(d as Data, i)) ids[k + i] = -1;
        k += d.length;
      }
      DictionaryMapper.mapped.set(this.interner, { dictionary, ids });
    }
    this.last = dictionary;
    this.ids = ids;
    return ids;
  }
}

/** The bytes of a typed array's view. */
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * True when two Utf8 dictionaries hold the same strings in the same order: one chunk each, no nulls,
 * 32-bit offsets, equal offsets and equal bytes (a memcmp; any other layout answers false).
 */
function sameStrings(a: Vector, b: Vector): boolean {
  if (a.length !== b.length || a.data.length !== 1 || b.data.length !== 1) return false;
  const da = a.data[0] as Data;
  const db = b.data[0] as Data;
  if (hasNulls(da) || hasNulls(db)) return false;
  const oa = da.valueOffsets as unknown;
  const ob = db.valueOffsets as unknown;
  if (!(oa instanceof Int32Array) || !(ob instanceof Int32Array)) return false;
  const n = a.length;
  const a0 = oa[0]!;
  const b0 = ob[0]!;
  const len = oa[n]! - a0;
  if (ob[n]! - b0 !== len) return false;
  if (a0 === b0) {
    if (bytesOf(oa.subarray(0, n + 1)).compare(bytesOf(ob.subarray(0, n + 1))) !== 0) return false;
  } else {
    for (let i = 0; i <= n; i++) if (oa[i]! - a0 !== ob[i]! - b0) return false;
  }
  const va = da.values as Uint8Array;
  const vb = db.values as Uint8Array;
  return bytesOf(va.subarray(a0, a0 + len)).compare(bytesOf(vb.subarray(b0, b0 + len))) === 0;
}

/**
 * Writes the interned id of each row of a Utf8 / LargeUtf8 / Dictionary<Utf8> column to `out[at…]`,
 * -1 for nulls.
 */
export function internStrings(
  col: ResolvedColumn,
  data: Data,
  interner: Utf8Interner,
  dict: DictionaryMapper,
  out: Int32Array,
  at: number,
): void {
  const n = data.length;
  if (col.storage === 'dictionary') {
    const ids = dict.map(data.dictionary as Vector);
    const idx = data.values as ArrayLike<number>;
    if (idx instanceof BigInt64Array || idx instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) out[at + i] = ids[Number(idx[i])] ?? -1;
    } else {
      for (let i = 0; i < n; i++) out[at + i] = ids[idx[i]!] ?? -1;
    }
  } else {
    internUtf8Range(data, interner, out, at, n);
  }
  setWhereNull(data, out, at, -1);
}

function internUtf8Range(data: Data, interner: Utf8Interner, out: Int32Array, at: number, n: number): void {
  const bytes = data.values as Uint8Array;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  if (offsets instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) out[at + i] = interner.intern(bytes, Number(offsets[i]), Number(offsets[i + 1]));
  } else {
    // rows of one key often come together: compare with the previous row (from the end) before hashing
    let a = offsets[0]!;
    let pa = -1;
    let plen = -1;
    let pid = -1;
    for (let i = 0; i < n; i++) {
      const b = offsets[i + 1]!;
      const len = b - a;
      if (len === plen) {
        let k = len - 1;
        while (k >= 0 && bytes[a + k] === bytes[pa + k]) k--;
        if (k < 0) {
          out[at + i] = pid;
          a = b;
          continue;
        }
      }
      pid = interner.intern(bytes, a, b);
      out[at + i] = pid;
      pa = a;
      plen = len;
      a = b;
    }
  }
}

/** Writes the interned id of each row of an integer key column to `out[at…]`, -1 for nulls. */
export function internInts(
  col: ResolvedColumn,
  data: Data,
  interner: Int64Interner,
  out: Int32Array,
  at: number,
): void {
  const n = data.length;
  if (col.storage === 'int64') {
    const big = data.values as BigInt64Array;
    const halves = new Int32Array(big.buffer, big.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) out[at + i] = interner.intern(halves[2 * i]!, halves[2 * i + 1]!);
  } else {
    const v = data.values as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      out[at + i] = interner.intern(x | 0, x < 0 ? -1 : 0);
    }
  }
  setWhereNull(data, out, at, -1);
}
