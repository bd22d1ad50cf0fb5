/**
 * `margin-engine report`: one self-contained HTML page of a run of a DuckDB report (src/page/).
 */
import { integerOption, parseArgs, required, usageError } from './args.js';
import { writeReportPage } from '../page/writePage.js';
import { gridLosses } from './gridLosses.js';

/** `margin-engine report --help`. */
export const help = `margin-engine report — one self-contained HTML page of a run: charts and tables, opens offline

Usage: margin-engine report --db FILE.duckdb [--run N] [--account A] --out report.html

Options:
  --db FILE    the report written by \`margin-engine run\` or \`demo\` (opened read-only)
  --run N      the run to show (default: the latest)
  --account A  the account whose deribit-pm grid of losses the page draws (default: the largest deribit-pm
               IM); the losses per scenario are recomputed from the run's input files when they are still
               there and unchanged (SHA-256), else the page says why not
  --out FILE   the HTML file to write (written under a temporary name, then renamed; replaced when it exists)

The page holds the run (snapshot, inputs and their SHA-256, parameters hash, backends and why, timings,
rejected rows), capital efficiency against standard margin, the margin-ratio histogram and accounts by
status, liquidation distance and the cascade curve when the file has them, the worst scenarios and the
deribit-pm grid's losses, top margin drivers when the run has attribution. Everything is aggregated in
DuckDB (the page stays small at 1,000,000 positions); the charting library (Vega-Lite) is inlined.

Examples:
  margin-engine report --db out/demo.duckdb --out out/report.html
  margin-engine report --db out/eod.duckdb --run 3 --out run3.html

Exit codes: 0 ok, 2 bad input (missing option, not a report, no such run, unwritable output), 3 the
environment (disk full), 1 internal error.
`;

/** Writes the page; prints its path, run and size on stdout and returns exit code 0. */
export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { db: {}, run: {}, out: {}, account: {} }, 'report');
  if (p.positional.length > 0) throw usageError('report', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const db = required(p, 'db', 'report');
  const out = required(p, 'out', 'report');
  const run = p.options.run === undefined ? undefined : integerOption(p, 'run', 'report', undefined, 1);
  const account = typeof p.options.account === 'string' ? p.options.account : undefined;
  const r = await writeReportPage(db, out, run, async (d) => ({ ...d, gridLosses: await gridLosses(d, account) }));
  process.stdout.write(`${r.file}: report page of run ${r.runId} of ${db} (${(r.bytes / 1024).toFixed(0)} KiB)\n`);
  return 0;
}
