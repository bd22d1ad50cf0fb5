/** `margin-engine demo`: the full pipeline on the bundled sample, into out/demo.duckdb. */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs, optional, usageError } from './args.js';
import { createProgress } from '../util/progress.js';
import { ALL_MODELS, runMargin } from '../pipeline/runMargin.js';
import { renderSummary, summarize } from '../pipeline/summary.js';
import { packageRoot } from '../pipeline/packageRoot.js';
import type { BackendChoice } from '../engine/types.js';
import { writeReportPage } from '../page/writePage.js';
import { gridLosses } from './gridLosses.js';

export const help = `margin-engine demo — run every model on the bundled sample (data/sample, data/history)

Usage:
  margin-engine demo [--backend auto|cpu|gl|webgpu] [--db FILE] [--json] [--quiet] [--verbose]

Writes a run into out/demo.duckdb (or --db FILE; runs accumulate), prints a summary (accounts by status,
total IM/MM by model and unit, the saving against standard margin, the backend that ran and the time of
each phase), the database path, and queries to paste (\`margin-engine sql --db out/demo.duckdb "SELECT …"\`). Writes the run's
HTML page (\`margin-engine report\`) beside the database, as report.html, and prints its path.

Progress goes to stderr: on a terminal one live line; in a log, a pipe or cron a line every 5 s while a
phase lasts longer (phase, done/total, time left); none with --quiet or --json. --verbose: why a backend
did not run, in full (the summary says it briefly).
`;

export const ANALYST_QUERIES = [
  `-- accounts in margin call or liquidation in the latest run\nSELECT * FROM margin_calls ORDER BY margin_ratio DESC LIMIT 20;`,
  `-- the ten largest consumers of initial margin under each model (USD, account level)\nSELECT model, im_rank, account, im, mm, equity, status FROM top_margin_consumers WHERE im_rank <= 10;`,
  `-- what portfolio margin saves against standard margin, by unit\nSELECT * FROM pm_saving_by_underlying;`,
];

/** `-- what\nSELECT …;` as the command that runs it: `# what` and `npx margin-engine sql --db DB "SELECT …"`. */
export function sqlCommand(query: string, db: string): string {
  const lines = query.split('\n');
  const comment = lines.filter((l) => l.startsWith('--')).map((l) => `# ${l.slice(2).trim()}`);
  const sql = lines
    .filter((l) => !l.startsWith('--'))
    .join(' ')
    .replace(/;\s*$/, '');
  return [...comment, `npx margin-engine sql --db ${db} "${sql}"`].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { backend: {}, db: {}, json: { flag: true }, quiet: { flag: true }, verbose: { flag: true } },
    'demo',
  );
  const backend = (optional(p, 'backend') ?? 'auto') as BackendChoice;
  if (!['auto', 'cpu', 'gl', 'webgpu'].includes(backend))
    throw usageError('demo', `--backend must be auto, cpu, gl or webgpu, got ${JSON.stringify(backend)}`);
  const root = packageRoot();
  const db = optional(p, 'db') ?? join(process.cwd(), 'out', 'demo.duckdb');
  mkdirSync(join(db, '..'), { recursive: true });
  const outcome = await runMargin({
    marketDir: join(root, 'data/sample/market'),
    positions: join(root, 'data/sample/book/positions.arrow'),
    balances: join(root, 'data/sample/book/balances.arrow'),
    historyDir: join(root, 'data/history'),
    models: [...ALL_MODELS],
    backend,
    onInvalid: 'fail',
    db,
    progress: createProgress({ quiet: p.options.quiet === true || p.options.json === true }),
  });
  const s = summarize(outcome);
  const page = await writeReportPage(db, join(dirname(db), 'report.html'), outcome.runId ?? undefined, async (d) => ({
    ...d,
    gridLosses: await gridLosses(d),
  }));
  const shownPath = (f: string) => {
    const rel = relative(process.cwd(), f);
    return rel && !rel.startsWith('..') ? rel : f;
  };
  if (p.options.json) {
    process.stdout.write(JSON.stringify({ ...s, page: page.file, queries: ANALYST_QUERIES }, null, 2) + '\n');
    return 0;
  }
  const shown = shownPath(db);
  process.stdout.write(renderSummary(s, { verbose: p.options.verbose === true }));
  process.stdout.write(
    `\nreport: ${shown}\npage: ${shownPath(page.file)} (open it in a browser; \`margin-engine report\` writes it for any run)\n` +
      `query it with \`margin-engine sql\` (read-only; --csv, --json; no other tool needed) or any DuckDB client, e.g.:\n\n` +
      `${ANALYST_QUERIES.map((q) => sqlCommand(q, shown)).join('\n\n')}\n`,
  );
  return 0;
}
