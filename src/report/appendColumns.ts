/**
 * Bulk append of typed columns to a DuckDB table through an appender and data chunks of DuckDB's vector
 * size. Numeric columns are copied a chunk at a time (one typed-array copy per column per chunk, no
 * per-value calls); strings go value by value (keep them to small tables or dictionaries).
 */
import {
  BIGINT, DOUBLE, DuckDBDataChunk, DuckDBTimestampValue, INTEGER, TIMESTAMP, UTINYINT, VARCHAR,
  type DuckDBConnection, type DuckDBType, type DuckDBVector,
} from '@duckdb/node-api';

/** One column to append, as typed values. NULLs only where the column says so. */
export type AppendColumn =
  /** DOUBLE; NaN becomes NULL when `nanIsNull` (else NaN is stored as NaN) */
  | { type: 'DOUBLE'; values: Float64Array; nanIsNull?: boolean }
  /** INTEGER; negative values become NULL when `negativeIsNull` */
  | { type: 'INTEGER'; values: Int32Array; negativeIsNull?: boolean }
  | { type: 'UTINYINT'; values: Uint8Array }
  /** BIGINT from safe integers held in a Float64Array (NaN -> NULL) */
  | { type: 'BIGINT'; values: Float64Array }
  /** TIMESTAMP from ms since the epoch, UTC (NaN -> NULL) */
  | { type: 'TIMESTAMP_MS'; values: Float64Array }
  /** VARCHAR, one value per row (null -> NULL) */
  | { type: 'VARCHAR'; value: (row: number) => string | null };

const DUCK_TYPES: Record<AppendColumn['type'], DuckDBType> = {
  DOUBLE, INTEGER, UTINYINT, BIGINT, TIMESTAMP_MS: TIMESTAMP, VARCHAR,
};

/** The vector size DuckDB uses for a data chunk. */
export const CHUNK_ROWS = 2048;

/**
 * Appends `rowCount` rows made of `columns` (in the table's column order) to `table` in `schema`/
 * `catalog` (default: main schema of the current database; temp tables: schema 'main', catalog 'temp').
 * @throws Error from DuckDB when a column does not fit the table (count or type)
 */
export async function appendColumns(
  connection: DuckDBConnection, table: string, columns: AppendColumn[], rowCount: number,
  schema?: string, catalog?: string,
): Promise<void> {
  const appender = await connection.createAppender(table, schema ?? null, catalog ?? null);
  try {
    const types = columns.map((c) => DUCK_TYPES[c.type]);
    for (let offset = 0; offset < rowCount; offset += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rowCount - offset);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let c = 0; c < columns.length; c++) fillVector(chunk.getColumnVector(c), columns[c]!, offset, n);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** The vector's own typed array when the binding exposes it (node-api 1.5 does); else null. */
function itemsOf<T>(vector: DuckDBVector, ctor: abstract new (...args: never[]) => T, n: number): T | null {
  const items = (vector as unknown as { items?: unknown }).items;
  return items instanceof ctor && (items as unknown as { length: number }).length >= n ? items : null;
}

function fillVector(vector: DuckDBVector, col: AppendColumn, offset: number, n: number): void {
  const v = vector as unknown as { setItem(i: number, value: unknown): void; flush(): void };
  switch (col.type) {
    case 'DOUBLE': {
      const src = col.values;
      const items = itemsOf(vector, Float64Array, n);
      if (items) items.set(src.subarray(offset, offset + n));
      else for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      if (col.nanIsNull) for (let i = 0; i < n; i++) { const x = src[offset + i]!; if (x !== x) v.setItem(i, null); }
      break;
    }
    case 'INTEGER': {
      const src = col.values;
      const items = itemsOf(vector, Int32Array, n);
      if (items) items.set(src.subarray(offset, offset + n));
      else for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      if (col.negativeIsNull) for (let i = 0; i < n; i++) if (src[offset + i]! < 0) v.setItem(i, null);
      break;
    }
    case 'UTINYINT': {
      const src = col.values;
      const items = itemsOf(vector, Uint8Array, n);
      if (items) items.set(src.subarray(offset, offset + n));
      else for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      break;
    }
    case 'BIGINT':
      for (let i = 0; i < n; i++) { const x = col.values[offset + i]!; v.setItem(i, x === x ? BigInt(Math.round(x)) : null); }
      break;
    case 'TIMESTAMP_MS':
      for (let i = 0; i < n; i++) {
        const x = col.values[offset + i]!;
        v.setItem(i, Number.isFinite(x) ? new DuckDBTimestampValue(BigInt(Math.round(x)) * 1000n) : null);
      }
      break;
    case 'VARCHAR':
      for (let i = 0; i < n; i++) v.setItem(i, col.value(offset + i));
      break;
  }
  v.flush();
}
