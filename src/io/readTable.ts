/**
 * Reads a small Arrow table (the market snapshot: thousands of rows) whole into per-column arrays:
 * numbers and timestamps as Float64Array with a null mask, strings as string arrays. Large tables
 * (positions, balances) are read batch by batch by their own loaders instead.
 */
import { openArrow } from './arrowSource.js';
import { resolveSchema, type ColumnSpec, type ResolvedColumn } from './columnSpec.js';
import { isNull, readFloats, readStrings, timestampMs } from './columnValues.js';

/** One column of a small table: values per row and which rows are null. */
export interface SmallColumn {
  column: ResolvedColumn;
  /** float columns: the value (NaN where null); timestamp columns: ms since epoch, UTC (NaN where null) */
  numbers: Float64Array | null;
  /** string columns: the value, null where null */
  strings: (string | null)[] | null;
  /** 1 where the cell is null */
  isNull: Uint8Array;
}

/** A small table read whole. */
export interface SmallTable {
  file: string;
  rows: number;
  /** the columns present, by name (absent optional columns are missing) */
  columns: Map<string, SmallColumn>;
  warnings: string[];
}

/**
 * Reads `file` against `specs`.
 * @throws InputError naming the file when it cannot be read as Arrow, or its schema does not fit.
 */
export async function readSmallTable(file: string, specs: readonly ColumnSpec[]): Promise<SmallTable> {
  const src = await openArrow(file);
  const { columns: resolved, warnings } = (() => {
    try {
      return resolveSchema(file, src.schema, specs);
    } catch (e) {
      void src.close();
      throw e;
    }
  })();
  const parts = new Map<string, { numbers: number[]; strings: (string | null)[]; nulls: number[] }>();
  for (const name of resolved.keys()) parts.set(name, { numbers: [], strings: [], nulls: [] });
  let rows = 0;
  for await (const batch of src.batches()) {
    const n = batch.numRows;
    for (const [name, col] of resolved) {
      const part = parts.get(name)!;
      const data = batch.data.children[col.index]!;
      const spec = specs.find((s) => s.name === name)!;
      for (let i = 0; i < n; i++) part.nulls.push(isNull(data, i) ? 1 : 0);
      if (spec.kind === 'float') {
        const tmp = new Float64Array(n);
        readFloats(col, data, tmp, 0);
        for (let i = 0; i < n; i++) part.numbers.push(part.nulls[rows + i] ? NaN : tmp[i]!);
      } else if (spec.kind === 'timestamp') {
        for (let i = 0; i < n; i++) part.numbers.push(part.nulls[rows + i] ? NaN : timestampMs(col, data, i));
      } else {
        for (const s of readStrings(data)) part.strings.push(s);
      }
    }
    rows += n;
  }
  const columns = new Map<string, SmallColumn>();
  for (const [name, col] of resolved) {
    const part = parts.get(name)!;
    const kind = specs.find((s) => s.name === name)!.kind;
    const numeric = kind === 'float' || kind === 'timestamp';
    columns.set(name, {
      column: col,
      numbers: numeric ? Float64Array.from(part.numbers) : null,
      strings: numeric ? null : part.strings,
      isNull: Uint8Array.from(part.nulls),
    });
  }
  return { file, rows, columns, warnings };
}
