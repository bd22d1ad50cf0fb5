/**
 * Reads a small Arrow table (the market snapshot: thousands of rows) whole into per-column arrays:
 * numbers and timestamps as Float64Array with a null mask, strings as string arrays. Large tables
 * (positions, balances) are read batch by batch by their own loaders instead.
 */
import { openArrow } from './arrowSource.js';
import { resolveSchema, type ColumnSpec, type ResolvedColumn } from './columnSpec.js';
import { readFloats, readStrings, setWhereNull, timestampMs } from './columnValues.js';

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
  // per column its batches' values and null flags, joined at the end (a market table is usually one batch). The
  // loops are few and plain: this runs once a run, mostly before V8 has compiled it (measured: a call per cell
  // took ~10 ms of the run's start for the market's ~27,000 cells)
  const parts = new Map<string, { numbers: Float64Array[]; strings: (string | null)[][]; nulls: Uint8Array[] }>();
  for (const name of resolved.keys()) parts.set(name, { numbers: [], strings: [], nulls: [] });
  const kindOf = new Map(specs.map((s) => [s.name, s.kind]));
  let rows = 0;
  for await (const batch of src.batches()) {
    const n = batch.numRows;
    for (const [name, col] of resolved) {
      const part = parts.get(name)!;
      const data = batch.data.children[col.index]!;
      const kind = kindOf.get(name)!;
      // 1 where a row is null
      const nulls = new Uint8Array(n);
      setWhereNull(data, nulls, 0, 1);
      part.nulls.push(nulls);
      if (kind === 'float') {
        const values = new Float64Array(n);
        readFloats(col, data, values, 0);
        for (let i = 0; i < n; i++) if (nulls[i] === 1) values[i] = NaN;
        part.numbers.push(values);
      } else if (kind === 'timestamp') {
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = nulls[i] === 1 ? NaN : timestampMs(col, data, i);
        part.numbers.push(values);
      } else {
        part.strings.push(readStrings(data));
      }
    }
    rows += n;
  }
  const columns = new Map<string, SmallColumn>();
  for (const [name, col] of resolved) {
    const part = parts.get(name)!;
    const kind = kindOf.get(name)!;
    const numeric = kind === 'float' || kind === 'timestamp';
    columns.set(name, {
      column: col,
      numbers: numeric ? joined(part.numbers, rows, Float64Array) : null,
      strings: numeric ? null : part.strings.length === 1 ? part.strings[0]! : part.strings.flat(),
      isNull: joined(part.nulls, rows, Uint8Array),
    });
  }
  return { file, rows, columns, warnings };
}

/** The chunks one after another in one array of `length`. */
function joined<T extends Float64Array | Uint8Array>(chunks: T[], length: number, ctor: new (n: number) => T): T {
  if (chunks.length === 1 && chunks[0]!.length === length) return chunks[0]!;
  const out = new ctor(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
