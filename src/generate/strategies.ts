/**
 * The strategies generated accounts trade (docs/performance.md, "Workloads"): outright options, verticals,
 * straddles, covered calls, calendar spreads, delta-hedged books, futures basis trades, naked short
 * options, and outright futures/perpetuals. Each adds its legs (instrument id, signed raw quantity in
 * coin, entry price in USD or NaN, and how the leg is sized) to a sink.
 *
 * Where: every option leg is drawn in proportion to open interest (an option without open interest is
 * never drawn): an outright option ∝ OI over the pool, a naked short ∝ OI over the out-of-the-money
 * options of its type, a covered call's call ∝ OI over the out-of-the-money calls, a straddle's strike
 * ∝ the smaller OI of its call and put, a vertical's or calendar's first leg ∝ OI and its second leg ∝
 * OI among the strikes (1–4 away) or expiries it may use, a delta-hedged book's options ∝ OI.
 *
 * How much: the raw sizes are drawQuantity's (tradeSize.ts); the book (book.ts) scales every option-
 * linked leg (LEG_OPTION, LEG_HEDGE) so that the whole book holds 2 × OI × N / reference per pool, and
 * keeps outright futures and basis trades (LEG_FIXED) at their documented size.
 */
import { SETTLE_INVERSE, SETTLE_LINEAR } from '../model/market.js';
import { pickWeighted, type MarketIndex, type Pool, type WeightedIds } from './marketIndex.js';
import type { Prng } from './prng.js';
import { black76Delta } from '../../kernels/black76.js';
import { drawQuantity } from './tradeSize.js';

/** A leg sized as traded (futures and perpetuals traded outright or against each other). */
export const LEG_FIXED = 0;
/** An option leg, or a delta-one leg of the same size (a covered call's future): scaled to open interest. */
export const LEG_OPTION = 1;
/** A delta hedge, −Σ q·Δ of the options it hedges: scaled with them, may round to no position. */
export const LEG_HEDGE = 2;

export const STRATEGIES = [
  'outright_option',
  'vertical_spread',
  'straddle',
  'covered_call',
  'calendar_spread',
  'delta_hedged_book',
  'futures_basis',
  'naked_short_option',
  'outright_future',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];
export const OUTRIGHT_OPTION = 0,
  VERTICAL = 1,
  STRADDLE = 2,
  COVERED_CALL = 3,
  CALENDAR = 4,
  DELTA_HEDGED = 5,
  BASIS = 6,
  NAKED_SHORT = 7,
  OUTRIGHT_FUTURE = 8;

/** Legs each strategy adds at least (a delta-hedged book: two options and a hedge). */
export const STRATEGY_MIN_LEGS = Int32Array.of(1, 2, 2, 2, 2, 3, 2, 1, 1);
/** Relative frequency of each strategy in a book. */
export const STRATEGY_WEIGHTS = Float64Array.of(20, 12, 8, 8, 8, 8, 8, 14, 14);

/** Receives the legs of a strategy. */
export interface LegSink {
  /**
   * instrument id, signed raw quantity (coin), entry price (USD for futures and perpetuals, NaN for
   * options), LEG_FIXED / LEG_OPTION / LEG_HEDGE
   */
  add(instrument: number, quantity: number, entryPrice: number, kind: number): void;
}

/** What a strategy draws from. */
export interface StrategyContext {
  rng: Prng;
  index: MarketIndex;
  sink: LegSink;
  /** the account's size scale (median 1) */
  scale: number;
  /** the account's main underlying */
  primary: number;
  /** a market maker: its delta-hedged books are as large as its size allows */
  marketMaker: boolean;
}

/**
 * Adds one strategy's legs (at most `maxLegs`, at least its STRATEGY_MIN_LEGS) to `ctx.sink`.
 * Returns false, adding nothing, when the chosen underlying lacks what the strategy needs.
 */
export function addStrategy(s: number, ctx: StrategyContext, maxLegs: number): boolean {
  const pool = choosePool(ctx);
  if (pool === null) return false;
  switch (s) {
    case OUTRIGHT_OPTION:
      return outrightOption(ctx, pool);
    case VERTICAL:
      return vertical(ctx, pool);
    case STRADDLE:
      return straddle(ctx, pool);
    case COVERED_CALL:
      return coveredCall(ctx, pool);
    case CALENDAR:
      return calendar(ctx, pool);
    case DELTA_HEDGED:
      return deltaHedged(ctx, pool, maxLegs);
    case BASIS:
      return basis(ctx, pool);
    case NAKED_SHORT:
      return nakedShort(ctx, pool);
    case OUTRIGHT_FUTURE:
      return outrightFuture(ctx, pool);
    default:
      return false;
  }
}

/** The account's primary underlying 75% of the time, else one drawn by market weight; linear 25% where both exist. */
function choosePool(ctx: StrategyContext): Pool | null {
  const { rng, index } = ctx;
  const u = rng.chance(0.75) ? ctx.primary : rng.weighted(index.underlyingWeight);
  const inv = index.pools[2 * u + SETTLE_INVERSE] ?? null;
  const lin = index.pools[2 * u + SETTLE_LINEAR] ?? null;
  if (inv && lin) return rng.chance(0.25) ? lin : inv;
  return inv ?? lin;
}

/** The option drawn from `w` (∝ open interest), -1 when none. */
function pick(rng: Prng, w: WeightedIds): number {
  const k = pickWeighted(rng, w);
  return k < 0 ? -1 : w.ids[k]!;
}

/** An index of `cands` (instrument ids, -1 = none) drawn ∝ open interest; -1 when none has any. */
function pickByOi(ctx: StrategyContext, cands: number[]): number {
  const oi = ctx.index.market.instruments.openInterest;
  let total = 0;
  for (const i of cands) if (i >= 0 && oi[i]! > 0) total += oi[i]!;
  if (!(total > 0)) return -1;
  let x = ctx.rng.float() * total;
  for (let k = 0; k < cands.length; k++) {
    const i = cands[k]!;
    if (i < 0 || !(oi[i]! > 0)) continue;
    x -= oi[i]!;
    if (x < 0) return k;
  }
  for (let k = cands.length - 1; k >= 0; k--) if (cands[k]! >= 0 && oi[cands[k]!]! > 0) return k;
  return -1;
}

function qty(ctx: StrategyContext, pool: Pool): number {
  return drawQuantity(ctx.rng, ctx.index, pool.underlying, ctx.scale);
}

/** A future or the perpetual of the pool (near futures weigh most), -1 when none. */
function pickFuture(rng: Prng, pool: Pool, perpetualShare: number): number {
  if (pool.perpetual >= 0 && (pool.futures.length === 0 || rng.chance(perpetualShare))) return pool.perpetual;
  if (pool.futures.length === 0) return -1;
  const w = Float64Array.from(pool.futures, (_, k) => 1 / (1 + k));
  return pool.futures[rng.weighted(w)]!;
}

/** Entry price near the mark: mark · e^(0.03·Z), to the cent. */
function entryPrice(ctx: StrategyContext, id: number): number {
  const mark = ctx.index.market.instruments.markPrice[id]!;
  return Math.round(mark * Math.exp(0.03 * ctx.rng.normal()) * 100) / 100;
}

function outrightOption(ctx: StrategyContext, pool: Pool): boolean {
  const id = pick(ctx.rng, pool.oi.all);
  if (id < 0) return false;
  ctx.sink.add(id, (ctx.rng.chance(0.8) ? 1 : -1) * qty(ctx, pool), NaN, LEG_OPTION);
  return true;
}

function vertical(ctx: StrategyContext, pool: Pool): boolean {
  const { rng, index } = ctx;
  const isCall = rng.chance(0.5);
  const a = pick(rng, isCall ? pool.oi.calls : pool.oi.puts);
  if (a < 0) return false;
  const ex = pool.expiries[index.expiryOf[a]!]!;
  const j = index.strikeOf[a]!;
  // the other leg: 1–4 strikes further out of the money (above for calls, below for puts), ∝ OI
  const ids = isCall ? ex.call : ex.put;
  const cands: number[] = [];
  for (let d = 1; d <= 4; d++) cands.push(ids[isCall ? j + d : j - d] ?? -1);
  const k = pickByOi(ctx, cands);
  if (k < 0) return false;
  const b = cands[k]!;
  const q = qty(ctx, pool) * (rng.chance(0.7) ? 1 : -1); // long the nearer leg: a debit spread
  ctx.sink.add(a, q, NaN, LEG_OPTION);
  ctx.sink.add(b, -q, NaN, LEG_OPTION);
  return true;
}

function straddle(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const k = pickWeighted(rng, pool.oi.straddles);
  if (k < 0) return false;
  const q = qty(ctx, pool) * (rng.chance(0.6) ? 1 : -1);
  ctx.sink.add(pool.oi.straddles.ids[k]!, q, NaN, LEG_OPTION);
  ctx.sink.add(pool.oi.straddles.pair[k]!, q, NaN, LEG_OPTION);
  return true;
}

function coveredCall(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const f = pickFuture(rng, pool, 0.6);
  if (f < 0) return false;
  const c = pick(rng, pool.oi.otmCalls);
  if (c < 0) return false;
  const q = qty(ctx, pool);
  ctx.sink.add(f, q, entryPrice(ctx, f), LEG_OPTION);
  ctx.sink.add(c, -q, NaN, LEG_OPTION);
  return true;
}

function calendar(ctx: StrategyContext, pool: Pool): boolean {
  const { rng, index } = ctx;
  const ins = index.market.instruments;
  const isCall = rng.chance(0.5);
  const a = pick(rng, isCall ? pool.oi.calls : pool.oi.puts);
  if (a < 0) return false;
  // the same type and strike in another expiry, ∝ OI
  const K = ins.strike[a]!;
  const e0 = index.expiryOf[a]!;
  const cands: number[] = pool.expiries.map((ex, e) => {
    const j = e === e0 ? -1 : ex.strikes.indexOf(K);
    return j < 0 ? -1 : (isCall ? ex.call : ex.put)[j]!;
  });
  const k = pickByOi(ctx, cands);
  if (k < 0) return false;
  const b = cands[k]!;
  const [near, far] = k > e0 ? [a, b] : [b, a];
  const q = qty(ctx, pool) * (rng.chance(0.75) ? 1 : -1); // long calendar: short the near, long the far
  ctx.sink.add(near, -q, NaN, LEG_OPTION);
  ctx.sink.add(far, q, NaN, LEG_OPTION);
  return true;
}

function deltaHedged(ctx: StrategyContext, pool: Pool, maxLegs: number): boolean {
  const { rng, index } = ctx;
  const ins = index.market.instruments;
  const hedge = pickFuture(rng, pool, 0.5);
  if (hedge < 0 || pool.oi.all.ids.length === 0) return false;
  const wanted = ctx.marketMaker ? maxLegs - 1 : Math.min(maxLegs - 1, 2 + rng.int(9));
  let delta = 0;
  for (let k = 0; k < wanted; k++) {
    const id = pick(rng, pool.oi.all);
    const q = qty(ctx, pool) * (rng.chance(0.5) ? 1 : -1);
    ctx.sink.add(id, q, NaN, LEG_OPTION);
    delta +=
      q *
      black76Delta(
        ins.optionType[id] === 1 ? 1 : 0,
        ins.forward[id]!,
        ins.strike[id]!,
        Math.max(ins.tYears[id]!, 1e-6),
        ins.markIv[id]! > 0 ? ins.markIv[id]! : 0.5,
        1,
      );
  }
  if (delta !== 0) ctx.sink.add(hedge, -delta, entryPrice(ctx, hedge), LEG_HEDGE);
  return true;
}

function basis(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  if (pool.futures.length === 0 || pool.futures.length + (pool.perpetual >= 0 ? 1 : 0) < 2) return false;
  const fut = pool.futures[rng.int(pool.futures.length)]!;
  let other = pool.perpetual;
  if (other < 0 || rng.chance(0.2)) {
    other = pool.futures[rng.int(pool.futures.length)]!;
    if (other === fut) return false;
  }
  const q = qty(ctx, pool) * (rng.chance(0.7) ? 1 : -1); // cash-and-carry: long the dated future, short the perpetual
  ctx.sink.add(fut, q, entryPrice(ctx, fut), LEG_FIXED);
  ctx.sink.add(other, -q, entryPrice(ctx, other), LEG_FIXED);
  return true;
}

function nakedShort(ctx: StrategyContext, pool: Pool): boolean {
  const id = pick(ctx.rng, ctx.rng.chance(0.4) ? pool.oi.otmCalls : pool.oi.otmPuts);
  if (id < 0) return false;
  ctx.sink.add(id, -qty(ctx, pool), NaN, LEG_OPTION);
  return true;
}

function outrightFuture(ctx: StrategyContext, pool: Pool): boolean {
  const f = pickFuture(ctx.rng, pool, 0.7);
  if (f < 0) return false;
  ctx.sink.add(f, (ctx.rng.chance(0.55) ? 1 : -1) * qty(ctx, pool), entryPrice(ctx, f), LEG_FIXED);
  return true;
}
