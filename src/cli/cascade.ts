/** `margin-engine cascade`: cascading-liquidation stress of a book (docs/methodology.md §8). */
import { parseArgs, required, optional, integerOption, usageError } from './args.js';
import { runCascadeCommand } from '../pipeline/cascade.js';
import type { BackendChoice } from '../engine/types.js';
import type { ModelName } from '../margin/types.js';
import { createProgress } from '../util/progress.js';

export const help = `margin-engine cascade — cascading-liquidation stress: how an initial shock grows once forced
liquidations move the price (docs/methodology.md §8)

Usage:
  margin-engine cascade --market DIR --positions FILE --balances FILE --shock BTC:-0.10[,ETH:-0.12]
                        [--model deribit-pm|span|standard] [--impact linear|sqrt] [--depth BTC:USD,…]
                        [--daily-volume BTC:USD,… --history DIR]
                        [--insurance-fund USD] [--sweep] [--params FILE] [--backend auto|cpu|gl|webgpu]
                        [--workers N] [--json] [--quiet] --db FILE.duckdb

  --shock LIST        initial move per underlying (−0.10 = a 10 % fall); each > −1
  --model M           the margin model re-margining each round (default deribit-pm)
  --impact L          linear (default): ΔS/S = 0.01 · ΣQ·S / D (Kyle); sqrt: ΔS/S = sign(ΣQ)·0.7·σ_d·
                      sqrt(|ΣQ·S| / V_d), σ_d the EWMA daily vol of --history's closes, V_d --daily-volume
  --daily-volume LIST V_d per underlying, USD per day (sqrt: required for every underlying)
  --history DIR       daily closes (sqrt: required)
  --depth LIST        D per underlying: USD that moves the price 1 % (defaults BTC 25,000,000,
                      ETH 10,000,000, other 2,000,000: an assumption, recorded with the run)
  --insurance-fund X  USD (default 0.5 % of the book's total USD equity)
  --sweep             run the default ladder x₀ = ±2 %, ±4 %, … ±40 % on the underlyings --shock names
                      (their values are ignored) and store the curve and the critical shock
  --db FILE           the report: cascade_runs, cascade_rounds, cascade_accounts (one transaction)
  --json              the cascades' results as JSON on stdout (no progress)
  --quiet             no progress on stderr (otherwise, on a terminal: one live line; in a log, a line
                      every 5 s while the cascades run)

Exit codes: 0 ok, 2 bad input (nothing written), 3 the environment: disk full, no X display for gl
(nothing written), 1 internal error (nothing written).
`;

const SPEC = {
  market: {},
  positions: {},
  balances: {},
  shock: {},
  model: {},
  impact: {},
  depth: {},
  'insurance-fund': {},
  'daily-volume': {},
  history: {},
  sweep: { flag: true },
  params: {},
  backend: {},
  workers: {},
  db: {},
  json: { flag: true },
  quiet: { flag: true },
};

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC, 'cascade');
  const backend = (optional(p, 'backend') ?? 'auto') as BackendChoice;
  if (!['auto', 'cpu', 'gl', 'webgpu'].includes(backend))
    throw usageError('cascade', `--backend must be auto, cpu, gl or webgpu, got ${JSON.stringify(backend)}`);
  const o = await runCascadeCommand({
    marketDir: required(p, 'market', 'cascade'),
    positions: required(p, 'positions', 'cascade'),
    balances: required(p, 'balances', 'cascade'),
    shock: optional(p, 'shock'),
    model: (optional(p, 'model') ?? 'deribit-pm') as ModelName,
    impact: optional(p, 'impact') ?? 'linear',
    depth: optional(p, 'depth'),
    insuranceFund: optional(p, 'insurance-fund'),
    dailyVolume: optional(p, 'daily-volume'),
    historyDir: optional(p, 'history'),
    sweep: p.options.sweep === true,
    paramsFile: optional(p, 'params'),
    backend,
    db: required(p, 'db', 'cascade'),
    workers: p.options.workers !== undefined ? integerOption(p, 'workers', 'cascade', undefined, 1) : undefined,
    progress: createProgress({ quiet: p.options.quiet === true || p.options.json === true }),
  });
  if (p.options.json) {
    process.stdout.write(
      JSON.stringify(
        o.results.map((r, k) => ({
          cascadeId: o.ids[k],
          x0: r.x0,
          xFinal: r.result.finalMove,
          rounds: r.result.rounds.length,
          liquidatedUnits: r.result.liquidatedUnits,
          liquidatedNotionalUsd: r.result.liquidatedNotionalUsd,
          badDebtUsd: r.result.badDebtUsd,
          adlUsd: r.result.adlUsd,
          // ADL charged per unit (the unit's profit since the snapshot, pro rata), USD
          adlChargedUnits: new Set(r.result.adl.map((x) => `${x.account}/${x.code}`)).size,
          adlChargedUsd: r.result.adl.reduce((s, x) => s + x.haircutUsd, 0),
          criticalShock: r.criticalShock,
        })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const out: string[] = [
    `cascade ${o.ids.length === 1 ? o.ids[0] : `${o.ids[0]}–${o.ids[o.ids.length - 1]}`}: insurance fund ${Math.round(o.insuranceFundUsd).toLocaleString('en-US')} USD; depth ${Object.entries(
      o.depthUsd,
    )
      .map(([u, d]) => `${u} ${d.toLocaleString('en-US')}`)
      .join(', ')} USD per 1 %`,
    `  ${'x0'.padStart(8)}${'x_final'.padStart(10)}${'ampl.'.padStart(8)}${'rounds'.padStart(8)}${'units'.padStart(8)}${'notional USD'.padStart(18)}${'bad debt USD'.padStart(16)}${'ADL USD'.padStart(14)}`,
  ];
  const p0 = (x: number) => `${(100 * x).toFixed(2)}%`;
  for (const r of o.results) {
    const u = o.underlyings.findIndex((_, k) => r.result.shock[k] === r.x0);
    const xf = r.result.finalMove[u]!;
    out.push(
      `  ${p0(r.x0).padStart(8)}${p0(xf).padStart(10)}${(r.x0 === 0 ? '-' : (xf / r.x0).toFixed(3)).padStart(8)}${String(r.result.rounds.length).padStart(8)}${String(r.result.liquidatedUnits).padStart(8)}${Math.round(r.result.liquidatedNotionalUsd).toLocaleString('en-US').padStart(18)}${Math.round(r.result.badDebtUsd).toLocaleString('en-US').padStart(16)}${Math.round(r.result.adlUsd).toLocaleString('en-US').padStart(14)}`,
    );
  }
  if (o.results.length === 1 && o.results[0]!.result.adlUsd > 0) {
    const adl = o.results[0]!.result.adl;
    const charged = adl.reduce((s, x) => s + x.haircutUsd, 0);
    out.push(
      `ADL: ${Math.round(charged).toLocaleString('en-US')} USD charged to ${new Set(adl.map((x) => `${x.account}/${x.code}`)).size} units in profit, pro rata to their profit since the snapshot (at most all of it)`,
    );
  }
  const crit = [...new Set(o.results.map((r) => r.criticalShock))].filter((c) => c !== null);
  if (p.options.sweep) out.push(`critical shock: ${crit.length > 0 ? crit.map((c) => p0(c!)).join(', ') : 'none'}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
