/**
 * `margin-engine cascade`: cascading-liquidation stress (docs/methodology.md §8) of a book, one shock or
 * a sweep of them, on the chosen backend, written to the report in one transaction. Every option is
 * checked against the market before anything is computed or written (bad input: InputError, exit 2).
 */
import { InputError } from '../errors.js';
import { loadMarket } from '../io/loadMarket.js';
import { loadBook } from '../io/loadBook.js';
import { loadParams, paramsHash } from '../params/loadParams.js';
import { buildScenarios } from '../scenarios/build.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { createBackend } from '../engine/createBackend.js';
import type { BackendChoice } from '../engine/types.js';
import { MARGIN_MODELS, type ScenarioModelName } from '../margin/models.js';
import { accountEquityUsd } from '../margin/equity.js';
import { optionValuesUsd } from '../margin/optionValue.js';
import {
  criticalShock,
  defaultDepthUsd,
  defaultInsuranceFundUsd,
  defaultSweep,
  runCascades,
  type CascadeOptions as RunCascadeOptions,
  type CascadeResult,
} from '../margin/cascade.js';
import { loadHistory } from '../history/loadHistory.js';
import { ewmaVariance } from '../scenarios/ewma.js';
import type { ModelName } from '../margin/types.js';
import { writeCascades, type CascadeRecord } from '../report/cascadeWriter.js';
import { ENGINE_VERSION } from './version.js';
import type { Progress } from '../util/progress.js';
import { PhaseTimer } from './phaseTimer.js';

export interface CascadeOptions {
  marketDir: string;
  positions: string;
  balances: string;
  /** `--shock` text: U:x[,U:x…] */
  shock?: string;
  model: ModelName;
  impact: string;
  /** `--depth` text: U:USD[,…] */
  depth?: string;
  /** `--insurance-fund` text (USD) */
  insuranceFund?: string;
  /** `--daily-volume` text: U:USD[,…] (the square-root law) */
  dailyVolume?: string;
  /** `--history` directory (the square-root law's σ_d: EWMA of the daily closes) */
  historyDir?: string;
  sweep: boolean;
  paramsFile?: string;
  backend: BackendChoice;
  db: string;
  workers?: number;
  /** progress of the cascades (a sweep's 40 take minutes on the whole book) */
  progress?: Progress;
}

export interface CascadeOutcome {
  ids: number[];
  underlyings: string[];
  results: Array<{ x0: number; result: CascadeResult; criticalShock: number | null }>;
  insuranceFundUsd: number;
  depthUsd: Record<string, number>;
}

const bad = (option: string, value: string, rule: string) =>
  new InputError(
    { file: option, row: null, column: null, value: JSON.stringify(value), rule },
    `${option} ${JSON.stringify(value)} ${rule}`,
  );

/** Parses `U:number[,U:number…]` against the market's underlyings. */
function parsePairs(option: string, text: string, underlyings: readonly string[], check: (x: number) => string | null) {
  const out = new Map<number, number>();
  for (const part of text.split(',')) {
    const m = /^\s*([^:\s]+)\s*:\s*(\S+)\s*$/.exec(part);
    if (!m) throw bad(option, part, 'is not UNDERLYING:NUMBER');
    const u = underlyings.indexOf(m[1]!);
    if (u < 0) throw bad(option, part, `names an unknown underlying (the market has ${underlyings.join(', ')})`);
    const x = Number(m[2]);
    if (m[2]!.trim() === '' || !Number.isFinite(x)) throw bad(option, part, 'is not a finite number');
    const why = check(x);
    if (why) throw bad(option, part, why);
    if (out.has(u)) throw bad(option, part, 'names an underlying twice');
    out.set(u, x);
  }
  return out;
}

/** Runs the command; @throws InputError on bad input (nothing written). */
export async function runCascadeCommand(opts: CascadeOptions): Promise<CascadeOutcome> {
  if (opts.impact !== 'linear' && opts.impact !== 'sqrt') throw bad('--impact', opts.impact, 'is not linear or sqrt');
  if (opts.impact === 'sqrt' && !opts.dailyVolume)
    throw bad('--daily-volume', '', 'is required by --impact sqrt (U:USD per underlying)');
  if (opts.impact === 'sqrt' && !opts.historyDir)
    throw bad('--history', '', 'is required by --impact sqrt (its daily vol σ_d is the EWMA of the closes)');
  if (!(opts.model in MARGIN_MODELS) && opts.model !== 'standard')
    throw bad('--model', opts.model, 'is not a model (deribit-pm, span, var-hs, var-mc, standard)');
  if (opts.model === 'var-hs' || opts.model === 'var-mc')
    throw bad('--model', opts.model, 'needs a history; cascade supports deribit-pm, span and standard');
  let fund: number | null = null;
  if (opts.insuranceFund !== undefined) {
    fund = Number(opts.insuranceFund);
    if (opts.insuranceFund.trim() === '' || !Number.isFinite(fund) || !(fund > 0))
      throw bad('--insurance-fund', opts.insuranceFund, 'must be a positive finite number of USD');
  }
  if (opts.sweep && (opts.shock === undefined || opts.shock.trim() === ''))
    throw bad('--sweep', '', 'needs --shock to name the underlyings it moves (a sweep with no shocks)');
  if (opts.shock === undefined || opts.shock.trim() === '') throw bad('--shock', '', 'is required (U:x[,U:x…])');

  const lm = await loadMarket(opts.marketDir, { onInvalid: 'fail' });
  const market = lm.market;
  const names = market.underlyings;
  const shocks = parsePairs('--shock', opts.shock, names, (x) => (x > -1 ? null : 'is a move of −100 % or less'));
  const depth = defaultDepthUsd(names);
  if (opts.depth !== undefined)
    for (const [u, d] of parsePairs('--depth', opts.depth, names, (x) =>
      x > 0 ? null : 'must be a positive number of USD',
    ))
      depth[u] = d;
  const params = loadParams(opts.paramsFile);
  let impact: NonNullable<RunCascadeOptions['impact']> = { law: 'linear' };
  if (opts.impact === 'sqrt') {
    const volume = parsePairs('--daily-volume', opts.dailyVolume!, names, (x) =>
      x > 0 ? null : 'must be a positive number of USD',
    );
    const missing = names.filter((_, u) => !volume.has(u));
    if (missing.length > 0)
      throw bad('--daily-volume', opts.dailyVolume!, `names no daily volume for ${missing.join(', ')}`);
    const history = await loadHistory(opts.historyDir!, names);
    const dailyVol = Float64Array.from(names, (n) => {
      const v = ewmaVariance(history.prices.get(n)!.close, params.var.ewmaLambda, params.var.ewmaSeedDays);
      return Math.sqrt(v[v.length - 1]!);
    });
    impact = { law: 'sqrt', dailyVol, dailyVolumeUsd: Float64Array.from(names, (_, u) => volume.get(u)!) };
  }
  const { book, balances } = await loadBook(market, opts.positions, opts.balances, {
    onInvalid: 'fail',
    rejectedInstruments: lm.rejectedInstruments,
  });
  const insurance = fund ?? defaultInsuranceFundUsd(accountEquityUsd(book, balances, market, optionValuesUsd(market)));
  const sets = new Map<Family, ScenarioSet>();
  if (opts.model !== 'standard') {
    const family = MARGIN_MODELS[opts.model as ScenarioModelName].family;
    sets.set(family, buildScenarios(family, market, params, {}));
  }
  const shockOf = (x: (u: number, given: number) => number) => {
    const v = new Float64Array(names.length);
    for (const [u, g] of shocks) v[u] = x(u, g);
    return v;
  };
  const ladder = opts.sweep ? defaultSweep().map((x) => shockOf(() => x)) : [shockOf((_, g) => g)];
  const primary = [...shocks.keys()][0]!;
  const backend = await createBackend(opts.backend, { workers: opts.workers });
  const results: CascadeOutcome['results'] = [];
  try {
    // a sweep's cascades side by side on the backend's threads when it lends them (runCascades)
    const found = await new PhaseTimer(opts.progress).time(
      'cascades',
      (update) =>
        runCascades(
          book,
          balances,
          market,
          params,
          sets,
          backend,
          ladder.map((shock) => ({ model: opts.model, shock, depthUsd: depth, insuranceFundUsd: insurance, impact })),
          update,
        ),
      ladder.length,
      opts.sweep ? 'cascade sweep (shocks)' : 'cascade',
    );
    found.forEach((result, k) => results.push({ x0: ladder[k]![primary]!, result, criticalShock: null }));
  } finally {
    await backend.close();
  }
  if (opts.sweep) {
    for (const sign of [-1, 1]) {
      const side = results.filter((r) => Math.sign(r.x0) === sign);
      const c = criticalShock(side.map((r) => ({ x0: r.x0, rounds: r.result.rounds.length })));
      for (const r of side) r.criticalShock = c;
    }
  }
  const depthUsd = Object.fromEntries(names.map((n, u) => [n, depth[u]!]));
  const records: CascadeRecord[] = results.map((r) => ({
    result: r.result,
    sweepOf: opts.sweep ? 0 : null,
    criticalShock: r.criticalShock,
    model: opts.model,
    impact: opts.impact,
    snapshotTimeMs: market.snapshotTimeMs,
    inputs: { market: opts.marketDir, positions: opts.positions, balances: opts.balances },
    parameters: {
      depthUsd,
      insuranceFundUsd: insurance,
      insuranceFund: fund === null ? 'default: 0.5 % of the book total USD equity' : 'given',
      indexPrice: Array.from(market.indexPrice),
      paramsHash: paramsHash(params),
      closeOut: 'in full at the round’s post-impact prices; deficit to the fund, then ADL',
      impactRule:
        impact.law === 'linear'
          ? 'dS/S = 0.01 · ΣQ·S* / D, S* the shocked price (Kyle 1985)'
          : 'dS/S = sign(ΣQ) · 0.7 · σ_d · sqrt(|ΣQ·S*| / V_d), S* the shocked price',
      ...(impact.law === 'sqrt'
        ? {
            dailyVol: Object.fromEntries(names.map((n, u) => [n, impact.law === 'sqrt' ? impact.dailyVol[u] : null])),
            dailyVolumeUsd: Object.fromEntries(
              names.map((n, u) => [n, impact.law === 'sqrt' ? impact.dailyVolumeUsd[u] : null]),
            ),
            y: 0.7,
            history: opts.historyDir,
          }
        : {}),
      maxRounds: 100,
    },
    underlyings: names,
    primary,
    accountKey: book.accountKey,
    unitNames: [...names, 'USDC'],
  }));
  const ids = await writeCascades(opts.db, ENGINE_VERSION, records);
  return { ids, underlyings: names, results, insuranceFundUsd: insurance, depthUsd };
}
