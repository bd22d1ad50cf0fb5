/**
 * A small RFC 4180 CSV reader for the importers: a header row, then data rows; fields may be quoted
 * ("a,b", "say ""hi"""), line ends may be LF or CRLF. Cells are read through {@link CsvTable}'s typed
 * accessors, which turn every bad cell into an {@link InputError} naming the file, the 0-based data row,
 * the column, the value and the rule.
 */
import { readFileSync } from 'node:fs';
import { InputError, fileError, showValue, type Violation } from '../errors.js';

/** A parsed CSV file: its header and its data rows (row 0 is the first line after the header). */
export interface CsvTable {
  /** the name used in messages (the path as the user gave it) */
  file: string;
  header: string[];
  rows: string[][];
}

/**
 * Parses CSV text. Quoted fields may hold commas, quotes (doubled) and line breaks.
 * @throws InputError naming the file when the text has no header, a quote is left open, or a data row
 *   has a different number of fields than the header (naming that row).
 */
export function parseCsv(text: string, file: string): CsvTable {
  const records: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  let quotedOpenAt: number;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  let atFieldStart = true;
  while (i < n) {
    const c = text[i]!;
    if (atFieldStart && c === '"') {
      // quoted field
      quotedOpenAt = records.length;
      i++;
      for (;;) {
        if (i >= n) throw fileError(file, `a quoted field opened on line ${quotedOpenAt + 1} is never closed`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += q;
        i++;
      }
      atFieldStart = false;
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new InputError({
          file,
          row: records.length - 1,
          column: null,
          value: showValue(field),
          rule: `a quoted field must be followed by a comma or a line end, found ${showValue(next)}`,
        });
      }
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      atFieldStart = true;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      records.push(row);
      row = [];
      atFieldStart = true;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    atFieldStart = false;
    i++;
  }
  if (!atFieldStart || field !== '' || row.length > 0) {
    row.push(field);
    records.push(row);
  }
  // drop blank lines (a lone empty field)
  const lines = records.filter((r) => !(r.length === 1 && r[0] === ''));
  if (lines.length === 0) throw fileError(file, 'is empty: expected a header row naming the columns');
  const header = lines[0]!.map((h) => h.trim());
  const rows = lines.slice(1);
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]!.length !== header.length) {
      throw new InputError({
        file,
        row: r,
        column: null,
        value: String(rows[r]!.length),
        rule: `fields, expected ${header.length} as in the header`,
      });
    }
  }
  return { file, header, rows };
}

/** How many leading bytes {@link readCsv} searches for a NUL byte, the mark of a binary file. */
export const TEXT_SNIFF_BYTES = 1024;

/**
 * Decodes a file's bytes as UTF-8 text, refusing what is not text: a NUL byte in the first
 * {@link TEXT_SNIFF_BYTES} bytes, or bytes that are not valid UTF-8.
 * @throws InputError naming the file: "is not a text CSV file", with the offending byte offset.
 */
export function decodeText(bytes: Uint8Array, file: string): string {
  const nul = bytes.subarray(0, TEXT_SNIFF_BYTES).indexOf(0);
  if (nul >= 0) throw fileError(file, `is not a text CSV file: it holds a NUL byte at byte ${nul} (a binary file?)`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstBadUtf8(bytes);
    throw fileError(
      file,
      `is not a text CSV file: it is not valid UTF-8${at < bytes.length ? ` (first bad byte at ${at})` : ''}`,
    );
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence (bytes.length if none). */
function firstBadUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > b.length) return i;
    for (let k = 1; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return b.length;
}

/**
 * Reads and parses a CSV file; messages name it by the path as given.
 * @throws InputError when the file cannot be read, is not text (see {@link decodeText}) or is not
 *   valid CSV (see {@link parseCsv}).
 */
export function readCsv(path: string): CsvTable {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fileError(
      path,
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): expected a CSV file`,
    );
  }
  return parseCsv(decodeText(bytes, path), path);
}

/**
 * Runs a cell accessor, recording instead of throwing: an {@link InputError} it throws has its
 * violations appended to `into` and `fallback` is returned. Other errors propagate.
 */
export function collect<T>(into: Violation[], read: () => T, fallback: T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    into.push(...e.violations);
    return fallback;
  }
}

/**
 * The index of a column of the header.
 * @throws InputError naming the file and the missing column.
 */
export function columnIndex(t: CsvTable, column: string): number {
  const k = t.header.indexOf(column);
  if (k < 0) throw fileError(t.file, `required column is missing (columns found: ${t.header.join(', ')})`, column);
  return k;
}

/** The raw text of a cell, trimmed. */
export function cell(t: CsvTable, row: number, col: number): string {
  return t.rows[row]![col]!.trim();
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A cell as a finite number; `null` for an empty cell when `optional`.
 * @throws InputError naming file, row, column and value when the cell is not a finite decimal number
 *   (or is empty and not optional).
 */
export function numberCell(t: CsvTable, row: number, col: number, optional = false): number | null {
  const s = cell(t, row, col);
  if (s === '') {
    if (optional) return null;
    throw new InputError({
      file: t.file,
      row,
      column: t.header[col]!,
      value: '""',
      rule: 'is empty: a number is required',
    });
  }
  if (!NUMBER.test(s))
    throw new InputError({ file: t.file, row, column: t.header[col]!, value: showValue(s), rule: 'is not a number' });
  const v = Number(s);
  if (!Number.isFinite(v))
    throw new InputError({
      file: t.file,
      row,
      column: t.header[col]!,
      value: showValue(s),
      rule: 'is not a finite number',
    });
  return v;
}

/**
 * A non-empty text cell.
 * @throws InputError naming file, row and column when the cell is empty.
 */
export function textCell(t: CsvTable, row: number, col: number): string {
  const s = cell(t, row, col);
  if (s === '')
    throw new InputError({
      file: t.file,
      row,
      column: t.header[col]!,
      value: '""',
      rule: 'is empty: a value is required',
    });
  return s;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses an ISO-8601 date-time (`2026-02-01T09:23:23.513428+00:00`, `…Z`, or a date alone, read as UTC)
 * to milliseconds since the epoch, UTC. Fractions below a millisecond are truncated. Returns NaN when
 * the text is not such a date-time.
 */
export function parseIsoMs(s: string): number {
  const m = ISO.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', se = '0', frac = '', tz = 'Z'] = m;
  const month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(se);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second) + Number((frac + '000').slice(0, 3));
  const check = new Date(Date.UTC(Number(y), month - 1, day));
  if (check.getUTCDate() !== day) return NaN; // e.g. 31 February
  if (tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

/**
 * A cell as an ISO-8601 date-time in ms since the epoch, UTC.
 * @throws InputError naming file, row, column and value when the cell is not a date-time.
 */
export function dateCell(t: CsvTable, row: number, col: number): number {
  const s = cell(t, row, col);
  const ms = parseIsoMs(s);
  if (Number.isNaN(ms))
    throw new InputError({
      file: t.file,
      row,
      column: t.header[col]!,
      value: showValue(s),
      rule: 'is not an ISO-8601 date-time (e.g. 2026-02-01T09:23:23+00:00)',
    });
  return ms;
}
