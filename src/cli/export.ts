/**
 * `margin-engine export`: one table or view of a DuckDB report to a Parquet file.
 */
import { parseArgs, required, usageError } from './args.js';
import { exportParquet } from '../report/exportParquet.js';

/** `margin-engine export --help`. */
export const help = `margin-engine export — write a table or view of a DuckDB report to Parquet

Usage: margin-engine export --db FILE.duckdb --table NAME --out FILE.parquet

Options:
  --db FILE      the report written by \`margin-engine run\` or \`demo\` (opened read-only)
  --table NAME   any table (runs, scenarios, instruments, accounts, symbols, margin_deribit_pm,
                 margin_span, margin_var_hs, margin_var_mc, margin_standard, summary_rows,
                 rejected_rows, schema_meta) or view (account_margin, account_summary, margin_calls,
                 top_margin_consumers, pm_saving_by_underlying, worst_scenarios_by_frequency); an
                 unknown name lists those the file holds
  --out FILE     the Parquet file to write (written under a temporary name, then renamed; replaced
                 when it exists)

Examples:
  margin-engine export --db out/demo.duckdb --table account_margin --out account_margin.parquet
  margin-engine export --db out/demo.duckdb --table margin_calls --out margin_calls.parquet
  duckdb -c "SELECT status, count(*) FROM 'account_margin.parquet' GROUP BY status"

Exit codes: 0 ok, 2 bad input (missing option, no such file or table), 3 the environment (disk full),
1 internal error.
`;

/**
 * Exports one table or view; prints the row count on stdout and returns exit code 0.
 * @throws InputError (exit 2) on a missing option, report, table or unwritable output
 */
export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { db: {}, table: {}, out: {} }, 'export');
  if (p.positional.length > 0) throw usageError('export', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const db = required(p, 'db', 'export');
  const table = required(p, 'table', 'export');
  const out = required(p, 'out', 'export');
  const { rows } = await exportParquet(db, table, out);
  process.stdout.write(`${out}: ${rows} row${rows === 1 ? '' : 's'} of ${table} from ${db}\n`);
  return 0;
}
