/**
 * Bulk append of typed columns to a DuckDB table through an appender and data chunks of DuckDB's vector
 * size (2,048 rows). The chunk's column types are the table's (asked of the appender). Numeric and enum
 * columns are copied a chunk at a time (one typed-array copy per column per chunk) and NULLs are written
 * into the validity mask 64 rows at a time; only strings longer than 12 characters or not ASCII go value by value
 * (fillInlineStrings writes the others into the vector in place, fillInlineBytes those given as UTF-8 bytes). One
 * full-size chunk is reused for every full block of rows (DuckDB copies a chunk when it is appended; making a chunk
 * and its vectors costs more than filling it), so every fill sets all of a vector's rows and validity.
 */
import type { DuckDBConnection, DuckDBDataChunk as DataChunk, DuckDBVector } from '@duckdb/node-api';
import { duckdb, duckdbBindings } from './duckdb.js';

/** One column to append, as typed values; NULLs only where the column says so. */
export type AppendColumn =
  /** DOUBLE; NaN becomes NULL when `nanIsNull` (else NaN is stored as NaN) */
  | { type: 'DOUBLE'; values: Float64Array; nanIsNull?: boolean }
  /** INTEGER; negative values become NULL when `negativeIsNull` */
  | { type: 'INTEGER'; values: Int32Array; negativeIsNull?: boolean }
  /** UTINYINT, or an ENUM column of at most 256 values given as 0-based codes in the enum's order */
  | { type: 'CODE8'; values: Uint8Array }
  /** BIGINT from safe integers held in a Float64Array (NaN -> NULL) */
  | { type: 'BIGINT'; values: Float64Array }
  /** TIMESTAMP from ms since the epoch, UTC (NaN -> NULL) */
  | { type: 'TIMESTAMP_MS'; values: Float64Array }
  /** VARCHAR (or ENUM by value), one value per row (null -> NULL) */
  | { type: 'VARCHAR'; value: (row: number) => string | null }
  /** VARCHAR from UTF-8 bytes: row r is `bytes[offsets[r], offsets[r + 1])`, valid UTF-8 (not checked), no NULLs */
  | { type: 'VARCHAR_BYTES'; bytes: Uint8Array; offsets: Int32Array };

/** The vector size DuckDB uses for a data chunk. */
export const CHUNK_ROWS = 2048;

/**
 * Appends `rowCount` rows made of `columns` (one per table column, in the table's order) to `table`
 * in `schema`/`catalog` (default: the main schema of the current database; temp tables: 'main', 'temp').
 * Rows are visible to the caller's transaction only until it commits.
 * @throws Error when the column count differs from the table's, or DuckDB refuses a value
 */
export async function appendColumns(
  connection: DuckDBConnection,
  table: string,
  columns: AppendColumn[],
  rowCount: number,
  schema?: string,
  catalog?: string,
): Promise<void> {
  if (!fillsWarmed) warmFills();
  const appender = await connection.createAppender(table, schema ?? null, catalog ?? null);
  try {
    if (appender.columnCount !== columns.length) {
      throw new Error(`appendColumns: table ${table} has ${appender.columnCount} columns, ${columns.length} given`);
    }
    const types = columns.map((_, i) => appender.columnType(i));
    let full: DataChunk | null = null;
    for (let offset = 0; offset < rowCount; offset += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rowCount - offset);
      const chunk =
        n === CHUNK_ROWS
          ? (full ??= duckdb().DuckDBDataChunk.create(types, n))
          : duckdb().DuckDBDataChunk.create(types, n);
      for (let c = 0; c < columns.length; c++) fillVector(chunk.getColumnVector(c), columns[c]!, offset, n);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/**
 * The fills' rare paths (a NULL string, a string stored out of line, a non-ASCII one; strings given as bytes, short
 * and long; NULL numbers of both kinds, a reused chunk), taken on small chunks before this thread's first append,
 * sixteen times (V8 gives a function its feedback vector only after its first calls). Without them the run's first
 * chunks optimised the string fill (then one function with setItem in its loop) and markNulls on the common paths,
 * and the first NULL threw that code away (a deopt, then a second optimising compile): the string fill was compiled
 * four times, ~20 ms of the report's thread (--trace-opt, intraday). Writes only its own chunks.
 */
let fillsWarmed = false;
function warmFills(): void {
  fillsWarmed = true;
  const d = duckdb();
  const strings = ['a', null, 'longer than twelve', 'é'];
  const keyBytes = Buffer.from('alonger than twelveé', 'utf8');
  const columns: AppendColumn[] = [
    { type: 'VARCHAR', value: (r) => strings[r]! },
    { type: 'VARCHAR_BYTES', bytes: keyBytes, offsets: Int32Array.of(0, 1, 19, 19, keyBytes.length) },
    { type: 'DOUBLE', values: Float64Array.of(1, NaN, 2, NaN), nanIsNull: true },
    { type: 'INTEGER', values: Int32Array.of(1, -1, 2, -1), negativeIsNull: true },
  ];
  for (let k = 0; k < 16; k++) {
    // a fresh chunk (its first NULL makes the validity mask) and the same one again (a reused chunk)
    const chunk = d.DuckDBDataChunk.create([d.VARCHAR, d.VARCHAR, d.DOUBLE, d.INTEGER], 4);
    for (let again = 0; again < 2; again++)
      for (let c = 0; c < columns.length; c++) fillVector(chunk.getColumnVector(c), columns[c]!, 0, 4);
  }
}

interface WritableVector {
  setItem(i: number, value: unknown): void;
  flush(): void;
}

/** The vector's own typed array when the binding exposes it (node-api 1.5 does); else null. */
function itemsOf<T extends { length: number }>(
  vector: DuckDBVector,
  ctor: abstract new (...args: never[]) => T,
  n: number,
): T | null {
  const items = (vector as unknown as { items?: unknown }).items;
  return items instanceof ctor && items.length >= n ? items : null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Marks rows [0, n) NULL where `src[offset + row]` is NaN (`negative` false) or negative (`negative`
 * true), and every other row valid (the vector may be reused). The validity words are written through a
 * 32-bit view of the mask when the binding exposes it (little-endian: row r is bit r & 31 of word r >> 5),
 * else row by row through setItem.
 */
function markNulls(
  vector: DuckDBVector,
  n: number,
  src: Float64Array | Int32Array,
  offset: number,
  negative: boolean,
): void {
  const v = vector as unknown as WritableVector;
  const validity = (vector as unknown as { validity?: { data?: unknown; offset?: number } }).validity;
  // a reused chunk: forget the last fill's NULLs
  if (validity?.data instanceof BigUint64Array) validity.data.fill(0xffffffffffffffffn);
  let first = -1;
  if (negative) {
    for (let i = 0; i < n; i++)
      if (src[offset + i]! < 0) {
        first = i;
        break;
      }
  } else
    for (let i = 0; i < n; i++) {
      const x = src[offset + i]!;
      if (x !== x) {
        first = i;
        break;
      }
    }
  if (first < 0) return;
  v.setItem(first, null); // makes the validity mask exist
  const words = validity?.data;
  if (!LITTLE_ENDIAN || !(words instanceof BigUint64Array) || validity!.offset !== 0 || words.length * 64 < n) {
    for (let i = first + 1; i < n; i++) {
      const x = src[offset + i]!;
      if (negative ? x < 0 : x !== x) v.setItem(i, null);
    }
    return;
  }
  const bits = new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
  if (negative) {
    for (let i = first; i < n; i++) if (src[offset + i]! < 0) bits[i >> 5] = bits[i >> 5]! & ~(1 << (i & 31));
  } else
    for (let i = first; i < n; i++) {
      const x = src[offset + i]!;
      if (x !== x) bits[i >> 5] = bits[i >> 5]! & ~(1 << (i & 31));
    }
}

function fillVector(vector: DuckDBVector, col: AppendColumn, offset: number, n: number): void {
  const v = vector as unknown as WritableVector;
  switch (col.type) {
    case 'DOUBLE': {
      const src = col.values;
      const items = itemsOf(vector, Float64Array, n);
      if (items) items.set(src.subarray(offset, offset + n));
      else for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      if (col.nanIsNull) markNulls(vector, n, src, offset, false);
      break;
    }
    case 'INTEGER': {
      const src = col.values;
      const items = itemsOf(vector, Int32Array, n);
      if (items) items.set(src.subarray(offset, offset + n));
      else for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      if (col.negativeIsNull) markNulls(vector, n, src, offset, true);
      break;
    }
    case 'CODE8': {
      const src = col.values;
      const items = itemsOf(vector, Uint8Array, n);
      if (!items) throw new Error('appendColumns: a CODE8 column needs a UTINYINT or small ENUM column');
      items.set(src.subarray(offset, offset + n));
      break;
    }
    case 'BIGINT':
      for (let i = 0; i < n; i++) {
        const x = col.values[offset + i]!;
        v.setItem(i, x === x ? BigInt(Math.round(x)) : null);
      }
      break;
    case 'TIMESTAMP_MS': {
      const { DuckDBTimestampValue } = duckdb();
      for (let i = 0; i < n; i++) {
        const x = col.values[offset + i]!;
        v.setItem(i, Number.isFinite(x) ? new DuckDBTimestampValue(BigInt(Math.round(x)) * 1000n) : null);
      }
      break;
    }
    case 'VARCHAR':
      if (!fillInlineStrings(vector, col.value, offset, n))
        for (let i = 0; i < n; i++) v.setItem(i, col.value(offset + i));
      break;
    case 'VARCHAR_BYTES':
      if (!fillInlineBytes(vector, col.bytes, col.offsets, offset, n))
        for (let i = 0; i < n; i++) v.setItem(i, utf8Of(col.bytes, col.offsets, offset + i));
      break;
  }
  v.flush();
}

/** Characters a DuckDB string_t holds in place (its 16 bytes: a 32-bit length, then the characters). */
const INLINE_BYTES = 12;

/**
 * Writes the strings of rows [0, n) into a VARCHAR vector: an ASCII string of at most 12 characters (an account
 * key, a symbol) as DuckDB lays out a short string in its 16-byte string_t (the length, then the bytes, zero
 * padded: node-api's getStringBytes reads it so), into node-api's copy of the vector's data, which is then
 * copied into the vector at once (as node-api's numeric vectors are flushed); a longer or non-ASCII one and a
 * NULL through setItem (the vector's flush, after the copy, puts the former into the vector's string heap).
 * The item-by-item path made a BigInt validity update and a binding call per value: the run's 100,000 account
 * keys took ~25 ms of the report thread. False (nothing written) where the binding does not expose the
 * vector's data (then the caller goes item by item).
 */
function fillInlineStrings(
  vector: DuckDBVector,
  value: (row: number) => string | null,
  offset: number,
  n: number,
): boolean {
  const target = inlineTarget(vector, n);
  if (!target) return false;
  // the loop over the rows calls no binding (a quick compile: with setItem inlined it took two compiles of
  // 6–9 ms each on the report's thread); the NULLs, longer and non-ASCII strings after it, through setItem
  for (let i = packInlineStrings(target.bytes, value, offset, n, 0); i < n;) {
    target.v.setItem(i, value(offset + i));
    i = packInlineStrings(target.bytes, value, offset, n, i + 1);
  }
  target.copy();
  return true;
}

/**
 * Writes the string_t of rows [from, n) into `bytes` while they are ASCII strings of at most 12 characters;
 * returns the first row that is not (its entry left empty), or n.
 */
function packInlineStrings(
  bytes: Uint8Array,
  value: (row: number) => string | null,
  offset: number,
  n: number,
  from: number,
): number {
  for (let i = from; i < n; i++) {
    const s = value(offset + i);
    const len = s === null ? -1 : s.length;
    let inline = len >= 0 && len <= INLINE_BYTES;
    for (let k = 0; inline && k < len; k++) if (s!.charCodeAt(k) > 0x7f) inline = false;
    const o = i * 16;
    if (!inline) return emptyEntry(bytes, o, i);
    entryFrame(bytes, o, len);
    for (let k = 0; k < len; k++) bytes[o + 4 + k] = s!.charCodeAt(k);
  }
  return n;
}

/** Writes an empty string_t at byte `o` (set later by setItem, or a NULL); returns `row`. */
function emptyEntry(bytes: Uint8Array, o: number, row: number): number {
  for (let k = 0; k < 16; k++) bytes[o + k] = 0;
  return row;
}

/** The frame of an inlined string_t at byte `o`: its 32-bit length `len`, and zeros after its `len` characters. */
function entryFrame(bytes: Uint8Array, o: number, len: number): void {
  bytes[o] = len;
  bytes[o + 1] = 0;
  bytes[o + 2] = 0;
  bytes[o + 3] = 0;
  for (let k = len; k < INLINE_BYTES; k++) bytes[o + 4 + k] = 0;
}

/**
 * The string_t entries of rows [0, n) of a VARCHAR vector, as bytes to write (node-api's copy of the vector's
 * data), the vector for setItem, and `copy` to put the bytes into the vector; every row marked valid (a reused
 * chunk forgets the last fill's NULLs; setItem marks this fill's). Null where the binding does not expose the
 * vector's data.
 */
function inlineTarget(vector: DuckDBVector, n: number): { bytes: Uint8Array; v: WritableVector; copy(): void } | null {
  const view = (vector as unknown as { dataView?: unknown }).dataView;
  const raw = (vector as unknown as { vector?: unknown }).vector;
  if (!LITTLE_ENDIAN || !(view instanceof DataView) || view.byteLength < n * 16 || !raw) return null;
  const validity = (vector as unknown as { validity?: { data?: unknown } }).validity;
  if (validity?.data instanceof BigUint64Array) validity.data.fill(0xffffffffffffffffn);
  const bytes = new Uint8Array(view.buffer, view.byteOffset, n * 16);
  return {
    bytes,
    v: vector as unknown as WritableVector,
    copy: () => duckdbBindings().copy_data_to_vector(raw, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

/** Row r of a VARCHAR_BYTES column as a string. */
function utf8Of(bytes: Uint8Array, offsets: Int32Array, r: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offsets[r]!, offsets[r + 1]! - offsets[r]!).toString('utf8');
}

/**
 * {@link fillInlineStrings} for strings given as their UTF-8 bytes (a loaded book's account keys, which the run
 * keeps as bytes: model/book.ts AccountKeyBytes): a string of at most 12 bytes is copied into its string_t as it
 * is, a longer one goes through setItem as a string. No string is made for the others.
 */
function fillInlineBytes(
  vector: DuckDBVector,
  src: Uint8Array,
  offsets: Int32Array,
  offset: number,
  n: number,
): boolean {
  const target = inlineTarget(vector, n);
  if (!target) return false;
  // the loop over the rows touches typed arrays only (a quick compile); the rare longer strings after it
  for (let i = packInlineBytes(target.bytes, src, offsets, offset, n, 0); i < n;) {
    target.v.setItem(i, utf8Of(src, offsets, offset + i));
    i = packInlineBytes(target.bytes, src, offsets, offset, n, i + 1);
  }
  target.copy();
  return true;
}

/**
 * Writes the string_t of rows [from, n) into `bytes` while they hold at most 12 bytes; returns the first row that
 * does not (its entry left empty), or n.
 */
function packInlineBytes(
  bytes: Uint8Array,
  src: Uint8Array,
  offsets: Int32Array,
  offset: number,
  n: number,
  from: number,
): number {
  for (let i = from; i < n; i++) {
    const a = offsets[offset + i]!;
    const len = offsets[offset + i + 1]! - a;
    const o = i * 16;
    if (len > INLINE_BYTES) return emptyEntry(bytes, o, i);
    entryFrame(bytes, o, len);
    for (let k = 0; k < len; k++) bytes[o + 4 + k] = src[a + k]!;
  }
  return n;
}
