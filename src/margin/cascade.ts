/**
 * Cascading-liquidation stress (docs/methodology.md §8): an initial shock x₀ per underlying, then
 * rounds of re-margin (the model's full re-margin of E and MM at the current prices, remargin.ts's marginAt:
 * the run's revaluation and aggregation path; IM is not computed, RunTables.statusOnly), liquidation of every
 * unit newly below its MM, forced flow (minus the liquidated units' forward deltas), linear price impact,
 * insurance fund and ADL, to a fixed point.
 *
 * Engine conventions chosen here (docs/conventions.md):
 * - Impact is measured from the shocked price S* = S(1 + x₀): after round k the price factor of u is
 *   (1 + x₀,u)(1 + I(ΣQ_u)), ΣQ_u the cumulative forced flow in coin, I = 0.01 · ΣQ·S* / D (linear) or
 *   sign(ΣQ)·0.7·σ_d·sqrt(|ΣQ·S*| / V_d) (square root; σ_d the last EWMA daily vol of the history, V_d a
 *   daily volume given); floored at 1 % of the snapshot price (a move of −99 %).
 * - A liquidated unit is closed out in full at the round's executed prices: the prices after the round's
 *   own impact (moved against it). Its deficit max(0, −E) at those prices (in USD: a coin unit's equity ×
 *   the coin's executed index price) is paid by the insurance fund; what the fund cannot pay is
 *   auto-deleveraged (ADL), booked per round, so that Σ deficits = fund drawdown + ADL.
 * - ADL is charged pro rata to the profit of the units still in the book: a unit's profit is its USD
 *   equity at the round's prices less its USD equity at the snapshot (the model's own rows at both),
 *   counted when positive, less what ADL already took from it; each such unit's equity is reduced by its
 *   share from then on (a haircut: its positions stay), so ADL can bring a profitable unit below its MM in
 *   a later round. A share is at most the unit's profit: ADL beyond the profit of every unit is booked but
 *   charged to no one (a loss the exchange socialises otherwise). A unit's profit is not split by
 *   underlying (the engine's equity is per unit); units holding collateral alone are never charged.
 * - A unit is liquidated when E < MM (status.ts). Units are the model's status units: settlement units
 *   in deribit-pm and standard (the account's other units stay), accounts in span and var.
 * - Δ of a position: q for futures and perpetuals, q · Black-76 forward delta (discounted) at the current
 *   market for options; coin collateral is not traded.
 * - `rounds` counts the rounds that liquidated a unit: 1 is the static stress.
 */
import { black76Delta, discountFactor } from '../../kernels/black76.js';
import type { Balances, PositionBook } from '../model/book.js';
import { KIND_OPTION, OPTION_CALL, type Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { sharedPortfolio } from './distance.js';
import {
  eachStatusUnit,
  marginAt,
  moveMarket,
  perUnitModel,
  subPortfolio,
  type DistanceEngine,
  type SubPortfolio,
} from './remargin.js';
import type { ModelName } from './types.js';
import { resolveWorker } from '../util/workerPath.js';

export interface CascadeOptions {
  model: ModelName;
  /** x₀ per underlying (0 for those not shocked); each > −1 */
  shock: Float64Array;
  /** D_u: USD that moves the price 1 %, per underlying; Infinity = no impact */
  depthUsd: Float64Array;
  /** the insurance fund at the start, USD */
  insuranceFundUsd: number;
  /** default 100 (§8) */
  maxRounds?: number;
  /**
   * the impact law (§8): linear (default, Kyle: depthUsd) or the square-root law
   * ΔS/S = sign(ΣQ)·Y·σ_d·sqrt(|ΣQ·S*| / V_d) with Y = 0.7, σ_d and V_d per underlying (depthUsd unused)
   */
  impact?: { law: 'linear' } | { law: 'sqrt'; dailyVol: Float64Array; dailyVolumeUsd: Float64Array };
}

/** Y of the square-root impact law (§8). */
export const SQRT_IMPACT_Y = 0.7;

/** The relative price impact of a cumulative forced flow `q` (coin) of u, measured from the shocked price `sStar`. */
export function priceImpact(opts: CascadeOptions, u: number, q: number, sStar: number): number {
  const law = opts.impact ?? { law: 'linear' };
  if (law.law === 'sqrt')
    return Math.sign(q) * SQRT_IMPACT_Y * law.dailyVol[u]! * Math.sqrt(Math.abs(q * sStar) / law.dailyVolumeUsd[u]!);
  const depth = opts.depthUsd[u]!;
  return depth === Infinity ? 0 : (0.01 * q * sStar) / depth;
}

export interface CascadeRound {
  round: number;
  /** executed price factors per underlying after the round (price = S · factor) */
  factor: Float64Array;
  liquidatedUnits: number;
  /** per underlying: notional sold (long delta closed) and bought, USD at execution */
  longUsd: Float64Array;
  shortUsd: Float64Array;
  /** per underlying: this round's forced flow Q, coin */
  flow: Float64Array;
  fundAfterUsd: number;
  badDebtUsd: number;
  adlUsd: number;
}

export interface CascadeAccount {
  account: number;
  /** the unit code (deribit-pm, standard) or −1 (the account: span, var) */
  code: number;
  round: number;
  factor: Float64Array;
  equityUsd: number;
  mmUsd: number;
  notionalUsd: number;
  deficitUsd: number;
}

/** One unit's ADL haircut in one round (USD), pro rata to its profit (module comment). */
export interface CascadeAdl {
  account: number;
  /** the unit code (deribit-pm, standard) or −1 (the account: span, var) */
  code: number;
  round: number;
  /** the unit's profit since the snapshot at the round's prices, USD, less earlier haircuts */
  profitUsd: number;
  haircutUsd: number;
}

export interface CascadeResult {
  shock: Float64Array;
  rounds: CascadeRound[];
  accounts: CascadeAccount[];
  /** final move per underlying from the snapshot */
  finalMove: Float64Array;
  liquidatedUnits: number;
  liquidatedNotionalUsd: number;
  badDebtUsd: number;
  insuranceFundUsd: number;
  minFundUsd: number;
  adlUsd: number;
  /** every ADL haircut, in round order (Σ haircutUsd = adlUsd unless ADL outgrew the units' profit) */
  adl: CascadeAdl[];
}

/** The engine default depths (§8): BTC 25,000,000, ETH 10,000,000, other 2,000,000 USD per 1 %. */
export function defaultDepthUsd(underlyings: readonly string[]): Float64Array {
  return Float64Array.from(underlyings, (u) => (u === 'BTC' ? 25e6 : u === 'ETH' ? 10e6 : 2e6));
}

/** The default insurance fund (§8): 0.5 % of the book's total USD equity (Σ over accounts, at least 0). */
export function defaultInsuranceFundUsd(accountEquityUsd: Float64Array): number {
  let s = 0;
  for (const e of accountEquityUsd) s += e;
  return Math.max(0, 0.005 * s);
}

/** What a worker thread of a sweep gets (cascadeWorker.ts): one cascade of the book. */
export interface CascadeTask {
  /** the sweep's (book, balances, market), the same for every cascade of one runCascades */
  portfolio: number;
  book: PositionBook;
  balances: Balances;
  market: Market;
  params: Params;
  sets: Array<[Family, ScenarioSet]>;
  opts: CascadeOptions;
}

/**
 * The inputs of the last sweep a worker thread ran: each message brings new objects over the same shared
 * memory, and a sweep's cascades on this thread take the first one's, so that they share its whole book
 * (wholeBook: the sub-portfolio, its groups and the snapshot's equity) as on the main thread.
 */
let lastPortfolio: { id: number; book: PositionBook; balances: Balances; market: Market } | undefined;

/** The cascade a worker thread runs (cascadeWorker.ts), on its own thread's `engine`. */
export function runCascadeTask(t: CascadeTask, engine: DistanceEngine): Promise<CascadeResult> {
  if (lastPortfolio?.id !== t.portfolio)
    lastPortfolio = { id: t.portfolio, book: t.book, balances: t.balances, market: t.market };
  const { book, balances, market } = lastPortfolio;
  return runCascade(book, balances, market, t.params, new Map(t.sets), engine, t.opts);
}

/** Numbers runCascades' sweeps (CascadeTask.portfolio). */
let sweeps = 0;

/**
 * Runs every cascade of `ladder` (a sweep: one per initial shock; §8), results in ladder order. When the engine
 * lends its float64 worker threads (DistanceEngine.threads, more than one) each cascade runs on one of them with
 * the cpu kernels (cascadeWorker.ts: the cpu backend's bits), so a sweep's cascades run side by side, each
 * re-margin's host work (tables, equity, assembly) on its own core instead of all of them on this thread while
 * the pool waits; otherwise one after the other through the engine. `onProgress(done, total)` as cascades end.
 */
export async function runCascades(
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
  ladder: readonly CascadeOptions[],
  onProgress?: (done: number, total: number) => void,
): Promise<CascadeResult[]> {
  let done = 0;
  const ends = (r: CascadeResult): CascadeResult => {
    onProgress?.(++done, ladder.length);
    return r;
  };
  const threads = engine.threads;
  if (threads && threads.workers > 1 && ladder.length > 1) {
    const filename = resolveWorker('cascadeWorker', import.meta.url);
    const shared = sharedPortfolio(book, balances);
    // a number unique to this sweep in this process (workers serve one process's pool)
    const portfolio = ++sweeps;
    return Promise.all(
      ladder.map((opts) => {
        const task: CascadeTask = { portfolio, ...shared, market, params, sets: [...sets], opts };
        return threads.run(filename, task).then((r) => ends(r as CascadeResult));
      }),
    );
  }
  const out: CascadeResult[] = [];
  for (const opts of ladder) out.push(ends(await runCascade(book, balances, market, params, sets, engine, opts)));
  return out;
}

/**
 * Runs one cascade (module comment; §8). `sets`: the scenario set per family the model uses.
 */
export async function runCascade(
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
  opts: CascadeOptions,
): Promise<CascadeResult> {
  const U = market.underlyings.length;
  const model = opts.model;
  const perUnit = perUnitModel(model);
  const K = U + 2;
  const keyOf = (a: number, code: number) => a * K + (code < 0 ? K - 1 : code);
  const shocked = Float64Array.from(opts.shock, (x) => 1 + x);
  const sStar = Float64Array.from(market.indexPrice, (s, u) => s * shocked[u]!);
  let factor = new Float64Array(shocked);
  const cumQ = new Float64Array(U);
  const liquidated = new Set<number>();
  const rounds: CascadeRound[] = [];
  const accounts: CascadeAccount[] = [];
  let fund = opts.insuranceFundUsd;
  let adlTotal = 0;
  let badDebt = 0;
  let notionalTotal = 0;
  const all = Int32Array.from({ length: book.accountCount }, (_, a) => a);
  const whole = wholeBook(book, balances, market);
  // ADL: each unit's USD equity at the snapshot, and what ADL has taken from it so far
  const snapshotUsd = await snapshotEquityUsd(book, whole, model, params, sets, engine);
  const haircut = new Map<number, number>();
  const adlCharges: CascadeAdl[] = [];
  const usdOf = (code: number, f: Float64Array) => (code >= 0 && code < U ? market.indexPrice[code]! * f[code]! : 1);
  for (let k = 1; k <= (opts.maxRounds ?? 100); k++) {
    // 1. re-margin every account that still has a unit in the book, at the current prices
    // (the whole book, kept between rounds and cascades with its units and groups, while no account left)
    const live = perUnit ? all : all.filter((a) => !liquidated.has(keyOf(a, -1)));
    const sub = live.length === all.length ? whole : subPortfolio(book, balances, market, live);
    const rows = await marginAt(model, sub, factor, params, sets, engine);
    // 2. the units newly in liquidation
    const newly: Array<{ a: number; code: number; eq: number; mm: number }> = [];
    // the units that stay, with their profit since the snapshot (USD, after earlier haircuts): ADL's base
    const staying: Array<{ a: number; code: number; profitUsd: number }> = [];
    eachStatusUnit(model, rows, sub, (a, code, eq0, mm) => {
      const key = keyOf(a, code);
      if (liquidated.has(key)) return;
      const taken = haircut.get(key) ?? 0;
      const eq = eq0 - taken / usdOf(code, factor);
      if (!hasPositions(book, a, perUnit ? code : -1)) return; // collateral alone: neither liquidated nor ADL'd
      if (!(eq >= mm)) newly.push({ a, code, eq, mm });
      else staying.push({ a, code, profitUsd: eq0 * usdOf(code, factor) - (snapshotUsd.get(key) ?? NaN) - taken });
    });
    if (newly.length === 0) break;
    // 3. forced flow: minus the liquidated units' forward deltas at the current market
    const moved = moveMarket(market, factor);
    const flow = new Float64Array(U);
    const deltas = newly.map(({ a, code }) => unitDelta(book, moved, a, perUnit ? code : -1));
    for (const d of deltas) for (let u = 0; u < U; u++) flow[u] -= d[u]!;
    // 4. impact of the cumulative flow, from the shocked price
    const next = new Float64Array(U);
    for (let u = 0; u < U; u++) {
      cumQ[u] += flow[u]!;
      const impact = priceImpact(opts, u, cumQ[u]!, sStar[u]!);
      next[u] = Math.max(0.01, shocked[u]! * (1 + impact));
    }
    // 5. close-out at the executed prices: deficits, fund, ADL
    const liq = Int32Array.from(new Set(newly.map((n) => n.a))).sort();
    const subL = subPortfolio(book, balances, market, liq);
    const atExec = await marginAt(model, subL, next, params, sets, engine);
    const eqExec = new Map<number, number>();
    eachStatusUnit(model, atExec, subL, (a, code, eq) => eqExec.set(keyOf(a, code), eq * usdOf(code, next)));
    const longUsd = new Float64Array(U);
    const shortUsd = new Float64Array(U);
    let roundDebt = 0;
    newly.forEach(({ a, code, eq, mm }, j) => {
      liquidated.add(keyOf(a, code));
      const e = (eqExec.get(keyOf(a, code)) ?? NaN) - (haircut.get(keyOf(a, code)) ?? 0);
      const deficit = Number.isFinite(e) ? Math.max(0, -e) : 0;
      let notional = 0;
      for (let u = 0; u < U; u++) {
        const d = deltas[j]![u]!;
        const s = market.indexPrice[u]! * next[u]!;
        if (d > 0) longUsd[u] += d * s;
        else shortUsd[u] -= d * s;
        notional += Math.abs(d) * s;
      }
      notionalTotal += notional;
      roundDebt += deficit;
      accounts.push({
        account: a,
        code,
        round: k,
        factor: next,
        equityUsd: eq * usdOf(code, factor),
        mmUsd: mm * usdOf(code, factor),
        notionalUsd: notional,
        deficitUsd: deficit,
      });
    });
    const paid = Math.min(fund, roundDebt);
    fund -= paid;
    const adl = roundDebt - paid;
    adlTotal += adl;
    if (adl > 0) {
      let profit = 0;
      for (const x of staying) if (x.profitUsd > 0) profit += x.profitUsd;
      if (profit > 0)
        for (const x of staying) {
          if (!(x.profitUsd > 0)) continue;
          const h = (adl * x.profitUsd) / Math.max(profit, adl); // at most the unit's profit
          const key = keyOf(x.a, x.code);
          haircut.set(key, (haircut.get(key) ?? 0) + h);
          adlCharges.push({ account: x.a, code: x.code, round: k, profitUsd: x.profitUsd, haircutUsd: h });
        }
    }
    badDebt += roundDebt;
    let maxMove = 0;
    for (let u = 0; u < U; u++) maxMove = Math.max(maxMove, Math.abs(next[u]! - factor[u]!) / factor[u]!);
    rounds.push({
      round: k,
      factor: next,
      liquidatedUnits: newly.length,
      longUsd,
      shortUsd,
      flow,
      fundAfterUsd: fund,
      badDebtUsd: roundDebt,
      adlUsd: adl,
    });
    factor = next;
    // 6. a fixed point: the price moved less than 1e-6
    if (maxMove < 1e-6) break;
  }
  return {
    shock: opts.shock,
    rounds,
    accounts,
    finalMove: Float64Array.from(factor, (f) => f - 1),
    liquidatedUnits: accounts.length,
    liquidatedNotionalUsd: notionalTotal,
    badDebtUsd: badDebt,
    insuranceFundUsd: opts.insuranceFundUsd,
    minFundUsd: fund,
    adlUsd: adlTotal,
    adl: adlCharges,
  };
}

interface WholeBook {
  balances: Balances;
  market: Market;
  sub: SubPortfolio;
  /** per model: each status unit's USD equity at the snapshot (snapshotEquityUsd) */
  snapshotUsd: Map<ModelName, Map<number, number>>;
}

const wholeBooks = new WeakMap<PositionBook, WholeBook>();

/**
 * The sub-portfolio of every account of the book, made once per (book, balances, market): a sweep's
 * cascades and their rounds re-margin it at many prices, and distance.ts keeps what a sub-portfolio's
 * re-margins share (its settlement units and groups) with it.
 */
function wholeBook(book: PositionBook, balances: Balances, market: Market): SubPortfolio {
  const c = wholeBooks.get(book);
  if (c && c.balances === balances && c.market === market) return c.sub;
  const sub = subPortfolio(
    book,
    balances,
    market,
    Int32Array.from({ length: book.accountCount }, (_, a) => a),
  );
  wholeBooks.set(book, { balances, market, sub, snapshotUsd: new Map() });
  return sub;
}

/**
 * Each status unit's USD equity at the snapshot under `model` (key: account · (U + 2) + unit slot, as
 * runCascade's keyOf), from the model's rows at the unmoved market; once per whole book (wholeBook's
 * sub-portfolio of `book`) and model.
 */
async function snapshotEquityUsd(
  book: PositionBook,
  whole: SubPortfolio,
  model: ModelName,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
): Promise<Map<number, number>> {
  const entry = wholeBooks.get(book);
  const kept = entry?.sub === whole ? entry.snapshotUsd.get(model) : undefined;
  if (kept) return kept;
  const market = whole.market;
  const U = market.underlyings.length;
  const K = U + 2;
  const out = new Map<number, number>();
  const rows = await marginAt(model, whole, new Float64Array(U).fill(1), params, sets, engine);
  eachStatusUnit(model, rows, whole, (a, code, eq) =>
    out.set(a * K + (code < 0 ? K - 1 : code), eq * (code >= 0 && code < U ? market.indexPrice[code]! : 1)),
  );
  if (entry?.sub === whole) entry.snapshotUsd.set(model, out);
  return out;
}

/** Whether account a holds a position in unit `code` (−1: any). */
function hasPositions(book: PositionBook, a: number, code: number): boolean {
  for (let k = book.accountUnitStart[a]; k < book.accountUnitStart[a + 1]; k++)
    if ((code < 0 || book.unitCurrency[k] === code) && book.unitStart[k + 1]! > book.unitStart[k]!) return true;
  return false;
}

/** Forward delta per underlying (coin) of account a's unit `code` (−1: all its positions) on `market`. */
export function unitDelta(book: PositionBook, market: Market, a: number, code: number): Float64Array {
  const ins = market.instruments;
  const out = new Float64Array(market.underlyings.length);
  for (let k = book.accountUnitStart[a]; k < book.accountUnitStart[a + 1]; k++) {
    if (code >= 0 && book.unitCurrency[k] !== code) continue;
    for (let p = book.unitStart[k]; p < book.unitStart[k + 1]; p++) {
      const i = book.instrumentId[p];
      const q = book.quantity[p];
      const u = ins.underlying[i];
      if (ins.kind[i] !== KIND_OPTION) {
        out[u] += q;
        continue;
      }
      const t = Math.max(ins.tYears[i], 0);
      out[u] +=
        q *
        black76Delta(
          ins.optionType[i] === OPTION_CALL ? 1 : 0,
          ins.forward[i],
          ins.strike[i],
          t,
          ins.markIv[i],
          discountFactor(market.rate[u] || 0, t),
        );
    }
  }
  return out;
}

/** The default sweep (§8): x₀ = −2 %, −4 %, …, −40 %, then +2 %, …, +40 %. */
export function defaultSweep(): number[] {
  const down = Array.from({ length: 20 }, (_, k) => -(k + 1) / 50);
  return [...down, ...down.map((x) => -x)];
}

/**
 * The critical shock of a sweep direction (§8): the smallest |x₀| whose cascade takes more than one
 * round; null when none does. `results` of one sign of x₀.
 */
export function criticalShock(results: Array<{ x0: number; rounds: number }>): number | null {
  const hits = results.filter((r) => r.rounds > 1).sort((a, b) => Math.abs(a.x0) - Math.abs(b.x0));
  return hits.length > 0 ? hits[0]!.x0 : null;
}
