/**
 * `margin-engine scenarios`: build one scenario set for a market snapshot and write it as CSV or Arrow.
 */
import { loadHistory } from '../history/loadHistory.js';
import type { History } from '../history/types.js';
import { loadMarket } from '../io/loadMarket.js';
import { loadParams, paramsHash } from '../params/loadParams.js';
import { buildScenarios, parseFamily } from '../scenarios/build.js';
import { writeScenarioFile } from '../scenarios/io.js';
import { parseArgs, optional, required, integerOption, usageError } from './args.js';

export const help = `margin-engine scenarios — build a scenario set and write it to a file

Usage: margin-engine scenarios --family F --market DIR --out FILE [options]

  --family F        deribit-pm | span | historical | monte-carlo | stress
  --market DIR      market snapshot (underlyings.arrow, instruments.arrow): the underlyings and the
                    snapshot time the set is built for
  --out FILE        .csv or .arrow: columns scenario, family, label, weight, dt_days, then per underlying
                    <U>_move, <U>_vol_rule, <U>_vol_mult (and <U>_vol_shift, <U>_weight,
                    <U>_delta_one_move where needed)
  --history DIR     daily closes <U>-USD_1d.csv and implied-vol index dvol_<u>.csv (e.g. data/history):
                    required by historical and monte-carlo; calibrates span's PSR when given
  --count N         historical: number of dates (default var.lookbackDays = 1000);
                    monte-carlo: number of scenarios (default var.mcScenarios = 10000)
  --seed S          monte-carlo seed (default var.mcSeed = 20260201)
  --params FILE     parameter file (JSON, version 1; any subset of the defaults, see src/params/paramSchema.ts)
  --stress FILE     stress: JSON list of events {name, moves{U:m}, vol_multipliers?{U:g}, dt_days?,
                    surface_level?{U:a}, surface_skew?{U:r}, surface_term?{U:s}} (surface shocks,
                    docs/methodology.md §11c: kept in the set's meta.events, not in the file's columns);
                    every U must be an underlying of the market (a move of another is refused);
                    underlyings an event does not name move 0
                    (default: the built-in library of BTC/ETH extreme days from data/history; its
                    moves of underlyings the market lacks, such as SOL, are left out)

Prints a summary on stderr: scenario count, dates used, PSR per underlying, seed, parameter hash.

Examples:
  margin-engine scenarios --family deribit-pm --market data/sample/market --out out/pm.csv
  margin-engine scenarios --family span --market data/sample/market --history data/history --out out/span.csv
  margin-engine scenarios --family historical --market data/sample/market --history data/history --count 500 --out out/hist.arrow
  margin-engine scenarios --family monte-carlo --market data/sample/market --history data/history --seed 7 --out out/mc.arrow
  margin-engine scenarios --family stress --market data/sample/market --stress my-events.json --out out/stress.csv
`;

const SPEC = {
  family: {},
  market: {},
  out: {},
  history: {},
  count: {},
  seed: {},
  params: {},
  stress: {},
};

/** Runs the command; returns the exit code (bad input throws InputError: exit 2). */
export async function main(argv: string[]): Promise<number> {
  const cmd = 'scenarios';
  const p = parseArgs(argv, SPEC, cmd);
  if (p.positional.length > 0) throw usageError(cmd, `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const family = parseFamily(required(p, 'family', cmd));
  const marketDir = required(p, 'market', cmd);
  const out = required(p, 'out', cmd);
  if (!/\.(csv|arrow)$/i.test(out))
    throw usageError(cmd, `--out must end in .csv or .arrow, got ${JSON.stringify(out)}`);
  const count = p.options.count !== undefined ? integerOption(p, 'count', cmd) : undefined;
  if (count === 0) throw usageError(cmd, '--count must be positive');
  const seed = p.options.seed !== undefined ? integerOption(p, 'seed', cmd) : undefined;
  const params = loadParams(optional(p, 'params'));
  const { market, warnings } = await loadMarket(marketDir);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const historyDir = optional(p, 'history');
  let history: History | undefined;
  if (historyDir !== undefined) history = await loadHistory(historyDir, market.underlyings);
  const set = buildScenarios(family, market, params, { history, count, seed, stressFile: optional(p, 'stress') });
  writeScenarioFile(set, out);
  const m = set.meta;
  const lines = [`${set.count} ${family} scenarios for ${set.underlyings.join(', ')} written to ${out}`];
  if (family === 'monte-carlo')
    lines.push(
      `covariance: EWMA of daily log returns ${String(m.firstDate)} to ${String(m.lastDate)}, at ${String(m.lastDate)}`,
    );
  else if (m.firstDate !== undefined) lines.push(`dates used: ${String(m.firstDate)} to ${String(m.lastDate)}`);
  if (m.psrCalibration !== undefined && history) {
    for (const [u, c] of Object.entries(
      m.psrCalibration as Record<string, { firstDate?: string; lastDate?: string; n?: number; rank?: number }>,
    )) {
      if (c.firstDate) lines.push(`PSR window ${u}: closes ${c.firstDate} to ${c.lastDate} (rank ${c.rank} of ${c.n})`);
    }
  }
  if (m.psr !== undefined)
    lines.push(
      `PSR: ${Object.entries(m.psr as Record<string, number>)
        .map(([u, x]) => `${u} ${x.toFixed(6)}`)
        .join(', ')}${history ? ' (from history)' : ' (defaults)'}`,
    );
  if (m.seed !== undefined) lines.push(`seed: ${String(m.seed)}`);
  if (Array.isArray(m.underlyingsWithVolIndex))
    lines.push(`implied-vol index: ${(m.underlyingsWithVolIndex as string[]).join(', ') || 'none'}`);
  if (m.unmoved !== undefined && Object.keys(m.unmoved as object).length > 0)
    lines.push(`events that do not move every underlying (move 0): ${Object.keys(m.unmoved as object).length}`);
  lines.push(`parameters hash: ${paramsHash(params)}`);
  process.stderr.write(lines.join('\n') + '\n');
  return 0;
}
