/**
 * The strategies generated accounts trade (PERFORMANCE.md, "Workloads"): outright options, verticals,
 * straddles, covered calls, calendar spreads, delta-hedged books, futures basis trades, naked short
 * options, and outright futures/perpetuals. Each adds its legs (instrument id, signed quantity in coin,
 * entry price in USD or NaN) to a sink. Strikes are drawn near the money, expiries near-dated.
 */
import { SETTLE_INVERSE, SETTLE_LINEAR } from '../model/market.js';
import type { MarketIndex, OptionExpiry, Pool } from './marketIndex.js';
import type { Prng } from './prng.js';
import { black76Delta } from '../../kernels/black76.js';
import { drawQuantity, roundToLots } from './tradeSize.js';

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
  /** instrument id, signed quantity (coin), entry price (USD for futures and perpetuals, NaN for options) */
  add(instrument: number, quantity: number, entryPrice: number): void;
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
  /** a market maker: its delta-hedged books spread over the whole chain, not just near the money */
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

/** Near expiries weigh most: e^(−T/0.15) + 0.03. `after` skips expiries up to that index. */
function pickExpiry(rng: Prng, pool: Pool, after = -1): number {
  const n = pool.expiries.length;
  if (n <= after + 1) return -1;
  const w = new Float64Array(n);
  for (let e = after + 1; e < n; e++) w[e] = Math.exp(-pool.expiries[e]!.tYears / 0.15) + 0.03;
  return rng.weighted(w);
}

/** The index of the strike nearest K. */
function nearestStrike(ex: OptionExpiry, K: number): number {
  const s = ex.strikes;
  let lo = 0,
    hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]! < K) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && Math.abs(s[lo - 1]! - K) <= Math.abs(s[lo]! - K) ? lo - 1 : lo;
}

/** The option of a type at strike index j, or the nearest strike that has one (-1 when none). */
function optionAt(ex: OptionExpiry, j: number, isCall: boolean): number {
  const ids = isCall ? ex.call : ex.put;
  for (let d = 0; d < ids.length; d++) {
    if (j + d < ids.length && ids[j + d]! >= 0) return ids[j + d]!;
    if (j - d >= 0 && ids[j - d]! >= 0) return ids[j - d]!;
  }
  return -1;
}

/** A strike index near the money: log(K/F) ~ N(0, (0.5·σ√T)²). */
function nearMoney(rng: Prng, ex: OptionExpiry): number {
  const sd = 0.5 * ex.atmIv * Math.sqrt(ex.tYears);
  return nearestStrike(ex, ex.forward * Math.exp(sd * rng.normal()));
}

/** An out-of-the-money strike index: |log(K/F)| ~ |N(0, (0.6·σ√T)²)| + 1%, above F for calls, below for puts. */
function outOfMoney(rng: Prng, ex: OptionExpiry, isCall: boolean): number {
  const x = Math.abs(rng.normal()) * 0.6 * ex.atmIv * Math.sqrt(ex.tYears) + 0.01;
  return nearestStrike(ex, ex.forward * Math.exp(isCall ? x : -x));
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
  const e = pickExpiry(ctx.rng, pool);
  if (e < 0) return false;
  const ex = pool.expiries[e]!;
  const id = optionAt(ex, nearMoney(ctx.rng, ex), ctx.rng.chance(0.55));
  if (id < 0) return false;
  ctx.sink.add(id, (ctx.rng.chance(0.8) ? 1 : -1) * qty(ctx, pool), NaN);
  return true;
}

function vertical(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const e = pickExpiry(rng, pool);
  if (e < 0) return false;
  const ex = pool.expiries[e]!;
  const isCall = rng.chance(0.5);
  const j = nearMoney(rng, ex);
  const width = 1 + rng.int(4);
  const j2 = isCall ? Math.min(ex.strikes.length - 1, j + width) : Math.max(0, j - width);
  const a = optionAt(ex, j, isCall),
    b = optionAt(ex, j2, isCall);
  if (a < 0 || b < 0 || a === b) return false;
  const q = qty(ctx, pool) * (rng.chance(0.7) ? 1 : -1); // long the near-money leg: a debit spread
  ctx.sink.add(a, q, NaN);
  ctx.sink.add(b, -q, NaN);
  return true;
}

function straddle(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const e = pickExpiry(rng, pool);
  if (e < 0) return false;
  const ex = pool.expiries[e]!;
  const j = nearestStrike(ex, ex.forward);
  const c = ex.call[j]!,
    p = ex.put[j]!;
  if (c < 0 || p < 0) return false;
  const q = qty(ctx, pool) * (rng.chance(0.6) ? 1 : -1);
  ctx.sink.add(c, q, NaN);
  ctx.sink.add(p, q, NaN);
  return true;
}

function coveredCall(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const f = pickFuture(rng, pool, 0.6);
  const e = pickExpiry(rng, pool);
  if (f < 0 || e < 0) return false;
  const ex = pool.expiries[e]!;
  const c = optionAt(ex, outOfMoney(rng, ex, true), true);
  if (c < 0) return false;
  const q = qty(ctx, pool);
  ctx.sink.add(f, q, entryPrice(ctx, f));
  ctx.sink.add(c, -q, NaN);
  return true;
}

function calendar(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const near = pickExpiry(rng, pool);
  const far = near < 0 ? -1 : pickExpiry(rng, pool, near);
  if (far < 0) return false;
  const exN = pool.expiries[near]!,
    exF = pool.expiries[far]!;
  const isCall = rng.chance(0.5);
  const a = optionAt(exN, nearestStrike(exN, exN.forward), isCall);
  if (a < 0) return false;
  const b = optionAt(exF, nearestStrike(exF, ctx.index.market.instruments.strike[a]!), isCall);
  if (b < 0) return false;
  const q = qty(ctx, pool) * (rng.chance(0.75) ? 1 : -1); // long calendar: short the near, long the far
  ctx.sink.add(a, -q, NaN);
  ctx.sink.add(b, q, NaN);
  return true;
}

function deltaHedged(ctx: StrategyContext, pool: Pool, maxLegs: number): boolean {
  const { rng, index } = ctx;
  const ins = index.market.instruments;
  const hedge = pickFuture(rng, pool, 0.5);
  if (hedge < 0 || pool.options.length === 0) return false;
  const wanted = ctx.marketMaker ? maxLegs - 1 : Math.min(maxLegs - 1, 2 + rng.int(9));
  let delta = 0;
  for (let k = 0; k < wanted; k++) {
    let id: number;
    if (ctx.marketMaker) id = pool.options[rng.int(pool.options.length)]!;
    else {
      const ex = pool.expiries[pickExpiry(rng, pool)]!;
      id = optionAt(ex, nearMoney(rng, ex), rng.chance(0.5));
      if (id < 0) continue;
    }
    const q = qty(ctx, pool) * (rng.chance(0.5) ? 1 : -1);
    ctx.sink.add(id, q, NaN);
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
  const h = roundToLots(-delta, index.lot[pool.underlying]!);
  if (h !== 0) ctx.sink.add(hedge, h, entryPrice(ctx, hedge));
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
  ctx.sink.add(fut, q, entryPrice(ctx, fut));
  ctx.sink.add(other, -q, entryPrice(ctx, other));
  return true;
}

function nakedShort(ctx: StrategyContext, pool: Pool): boolean {
  const { rng } = ctx;
  const e = pickExpiry(rng, pool);
  if (e < 0) return false;
  const ex = pool.expiries[e]!;
  const isCall = rng.chance(0.4);
  const id = optionAt(ex, outOfMoney(rng, ex, isCall), isCall);
  if (id < 0) return false;
  ctx.sink.add(id, -qty(ctx, pool), NaN);
  return true;
}

function outrightFuture(ctx: StrategyContext, pool: Pool): boolean {
  const f = pickFuture(ctx.rng, pool, 0.7);
  if (f < 0) return false;
  ctx.sink.add(f, (ctx.rng.chance(0.55) ? 1 : -1) * qty(ctx, pool), entryPrice(ctx, f));
  return true;
}
