/** `margin-engine run`: compute margins for a book and write one run to a DuckDB report. */
import { parseArgs, required, optional, integerOption, usageError } from './args.js';
import { FILL_IV, VOL_DYNAMICS, type FillIv, type VolDynamics } from '../pipeline/volSurface.js';
import { createProgress } from '../util/progress.js';
import { prestartReportWorker } from '../report/prestart.js';
import { WHOLE_READ_MAX, prefetchFile } from '../io/prefetch.js';
import type { BackendChoice } from '../engine/types.js';
import type { RunSummary } from '../pipeline/summary.js';

/** The command's process may exit as soon as `main` returns (src/cli/main.ts): the run is committed. */
export const exitOnReturn = true;

export const help = `margin-engine run — compute margins for a book and write one run to a DuckDB report

Usage:
  margin-engine run --market DIR --positions FILE --balances FILE --models LIST --db FILE.duckdb
                    [--history DIR] [--params FILE] [--backend auto|cpu|gl|webgpu]
                    [--on-invalid fail|skip] [--workers N] [--attribution] [--distance] [--json] [--quiet]
                    [--vol-dynamics sticky-strike|sticky-moneyness] [--fill-iv none|surface]
                    [--verbose]

  --market DIR        instruments.arrow and underlyings.arrow (Arrow IPC)
  --positions FILE    positions.arrow;  --balances FILE  balances.arrow
  --models LIST       comma-separated: deribit-pm, span, var-hs, var-mc, standard, or all
                      (standard margin is always computed as the baseline of the saving)
  --history DIR       daily closes <U>-USD_1d.csv and dvol_<u>.csv: needed by var-hs and var-mc,
                      calibrates span's price scan range when given
  --params FILE       parameter file (JSON; defaults of docs/methodology.md built in)
  --scenario-file F   use a scenario set written by \`margin-engine scenarios\` (.csv or .arrow) instead of
                      building its family (repeatable; e.g. an audited Monte Carlo set)
  --backend B         auto (default: webgpu, gl, cpu, chosen per phase by measurement), cpu, gl, webgpu
  --on-invalid M      fail (default: refuse the input, exit 2, nothing written) or skip (leave bad rows
                      out and record them in rejected_rows)
  --db FILE           the report; runs accumulate in it, one transaction each (written by a thread of its
                      own while the models compute; the file stays locked until the run ends)
  --workers N         cpu pool size (default: one per core; a run of at most 1,024 scenarios that writes
                      a report uses one less, leaving a core to the report's thread, unless --distance)
  --attribution       also write each position's Euler share of its unit's margin (margin_attribution,
                      view top_margin_drivers; docs/methodology.md §9)
  --distance          also every account's distance to liquidation per model (docs/methodology.md §7):
                      per underlying down and up and the joint move, into liquidation_distance; the
                      summary counts the accounts within 1 %, 2 %, 5 %, 10 % (joint move); on the
                      cpu backend every search runs on a pool thread of its own
  --vol-dynamics D    sticky-strike (default: every option keeps its own vol, docs/methodology.md §1) or
                      sticky-moneyness (after a move m an option reads the fitted SVI surface at
                      ln(K/(F(1+m))), keeping its own offset to it; then the scenario's vol rule; §11c),
                      for every scenario family; recorded with the run (runs.scenario_sets meta)
  --fill-iv P         none (default: an option without a mark_iv is refused) or surface (it is valued
                      from its expiry's fitted slice; counted per instrument on stderr, in
                      runs.scenario_sets meta filledIv and vol_surface.filled; an option whose expiry has
                      fewer than 5 usable quotes is refused, named)
  --json              print a machine-readable summary instead of the table
  --verbose           say in full why a backend did not run (the summary says it briefly)
  --quiet             no progress on stderr (otherwise, on a terminal: one live line; in a log, a pipe or
                      cron: a line every 5 s while a phase lasts longer, with done/total and time left)

Example:
  margin-engine run --market data/sample/market --positions data/sample/book/positions.arrow \\
    --balances data/sample/book/balances.arrow --history data/history --models all --db out/run.duckdb

Exit codes: 0 ok, 2 bad input (nothing written), 3 the environment: disk full, no X display for gl
(nothing written), 1 internal error (nothing written).
`;

const SPEC = {
  market: {},
  positions: {},
  balances: {},
  models: {},
  db: {},
  history: {},
  params: {},
  backend: {},
  'scenario-file': { multiple: true },
  'on-invalid': {},
  workers: {},
  attribution: { flag: true },
  distance: { flag: true },
  'vol-dynamics': {},
  'fill-iv': {},
  json: { flag: true },
  quiet: { flag: true },
  verbose: { flag: true },
};

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC, 'run');
  const backend = (optional(p, 'backend') ?? 'auto') as BackendChoice;
  if (!['auto', 'cpu', 'gl', 'webgpu'].includes(backend))
    throw usageError('run', `--backend must be auto, cpu, gl or webgpu, got ${JSON.stringify(backend)}`);
  const onInvalid = optional(p, 'on-invalid') ?? 'fail';
  if (onInvalid !== 'fail' && onInvalid !== 'skip')
    throw usageError('run', `--on-invalid must be fail or skip, got ${JSON.stringify(onInvalid)}`);
  const volDynamics = optional(p, 'vol-dynamics') ?? 'sticky-strike';
  if (!(VOL_DYNAMICS as readonly string[]).includes(volDynamics))
    throw usageError('run', `--vol-dynamics must be ${VOL_DYNAMICS.join(' or ')}, got ${JSON.stringify(volDynamics)}`);
  const fillIv = optional(p, 'fill-iv') ?? 'none';
  if (!(FILL_IV as readonly string[]).includes(fillIv))
    throw usageError('run', `--fill-iv must be ${FILL_IV.join(' or ')}, got ${JSON.stringify(fillIv)}`);
  // the report's thread loads DuckDB while this one imports the pipeline (and then loads the book)
  if (typeof p.options.db === 'string') prestartReportWorker();
  // the book's files are read on the thread pool meanwhile (src/io/prefetch.ts)
  for (const f of [optional(p, 'positions'), optional(p, 'balances')]) if (f) prefetchFile(f, WHOLE_READ_MAX);
  const [{ parseModels, runMargin }, { renderSummary, summarizeRows, completeSummary }] = await Promise.all([
    import('../pipeline/runMargin.js'),
    import('../pipeline/summary.js'),
  ]);
  let early: RunSummary | null = null;
  const outcome = await runMargin({
    marketDir: required(p, 'market', 'run'),
    positions: required(p, 'positions', 'run'),
    balances: required(p, 'balances', 'run'),
    models: parseModels(required(p, 'models', 'run')),
    db: required(p, 'db', 'run'),
    historyDir: optional(p, 'history'),
    paramsFile: optional(p, 'params'),
    scenarioFiles: (p.options['scenario-file'] as string[] | undefined) ?? [],
    backend,
    onInvalid,
    workers: p.options.workers !== undefined ? integerOption(p, 'workers', 'run', undefined, 1) : undefined,
    attribution: p.options.attribution === true,
    distance: p.options.distance === true,
    volDynamics: volDynamics as VolDynamics,
    fillIv: fillIv as FillIv,
    progress: createProgress({ quiet: p.options.quiet === true || p.options.json === true }),
    // the summary's sums over every account, built while the report thread commits
    whileCommitting: (o) => {
      early = summarizeRows(o);
    },
  });
  if (outcome.surface && outcome.surface.filled.size > 0) {
    const f = [...outcome.surface.filled];
    process.stderr.write(
      `run: ${f.length} option(s) without a mark_iv valued from the surface (--fill-iv surface):\n` +
        f.map(([name, iv]) => `  ${name}: ${iv.toFixed(6)}`).join('\n') +
        '\n',
    );
  }
  const s = completeSummary(early ?? summarizeRows(outcome), outcome);
  process.stdout.write(
    p.options.json ? JSON.stringify(s, null, 2) + '\n' : renderSummary(s, { verbose: p.options.verbose === true }),
  );
  return 0;
}
