/** `margin-engine sql`: read-only SQL on a report, as a table, CSV or JSON (no duckdb CLI needed). */
import { parseArgs, required, usageError } from './args.js';
import { queryReport, type QueryResult } from '../report/query.js';

export const help = `margin-engine sql — run a read-only SQL query on a report

Usage: margin-engine sql --db FILE.duckdb [--csv | --json] "SELECT …"

  --db FILE   a report written by \`margin-engine run\` or \`demo\` (opened read-only: nothing is written, and
              the query cannot read or write other files)
  --csv       print CSV (a header row, then the rows; RFC 4180 quoting)
  --json      print a JSON array of objects (integers beyond 2^53 and decimals as strings)
              (default: an aligned table)

The tables, views and columns are documented in docs/report.md.

Examples:
  margin-engine sql --db out/demo.duckdb "SELECT * FROM margin_calls ORDER BY margin_ratio DESC LIMIT 20"
  margin-engine sql --db out/demo.duckdb "SELECT * FROM pm_saving_by_underlying"
  margin-engine sql --db out/demo.duckdb --csv "SELECT model, status, count(*) AS n FROM account_margin GROUP BY ALL" > out/status.csv

Exit codes: 0 ok, 2 bad input (no such file, not a report, in use by a writer, or the SQL fails: DuckDB's
message), 1 internal error.
`;

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { db: {}, csv: { flag: true }, json: { flag: true } }, 'sql');
  const db = required(p, 'db', 'sql');
  if (p.positional.length === 0) throw usageError('sql', 'a query is required, e.g. "SELECT * FROM runs"');
  if (p.positional.length > 1)
    throw usageError('sql', 'give the query as one argument, in quotes (it has several words)');
  if (p.options.csv && p.options.json) throw usageError('sql', '--csv and --json exclude each other');
  const r = await queryReport(db, p.positional[0]!);
  process.stdout.write(p.options.csv ? toCsv(r) : p.options.json ? toJson(r) : toTable(r));
  return 0;
}

/** A value as text: NULL, numbers as JavaScript prints them, dates in ISO 8601, lists and structs as JSON. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(jsonSafe(v));
}

/** `v` with bigints as numbers (within ±2^53) or strings, dates as ISO strings: for JSON.stringify. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

export function toJson(r: QueryResult): string {
  const objects = r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, jsonSafe(row[i])])));
  return JSON.stringify(objects, null, 2) + '\n';
}

export function toCsv(r: QueryResult): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [r.columns.map(q).join(',')];
  for (const row of r.rows) lines.push(row.map((v) => (v === null || v === undefined ? '' : q(cell(v)))).join(','));
  return lines.join('\n') + '\n';
}

/** An aligned table: numbers right-aligned, text left-aligned; the row count below. */
export function toTable(r: QueryResult): string {
  const numeric = r.types.map((t) => /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/i.test(t) && !/\[\]|STRUCT|MAP/.test(t));
  const text = r.rows.map((row) => row.map(cell));
  const width = r.columns.map((c, i) => Math.max(c.length, ...text.map((row) => row[i]!.length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(width[i]!) : s.padEnd(width[i]!));
  const out = [
    r.columns.map(pad).join('  ').trimEnd(),
    width.map((w) => '-'.repeat(w)).join('  '),
    ...text.map((row) => row.map(pad).join('  ').trimEnd()),
    `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`,
  ];
  return out.join('\n') + '\n';
}
