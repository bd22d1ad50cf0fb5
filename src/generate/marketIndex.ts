/**
 * The market as the generator chooses from it: per underlying and settlement, the perpetual, the futures
 * by expiry, and each option expiry's strikes with their call and put ids. Built once from a
 * {@link Market}; every list is in a deterministic order.
 */
import {
  KIND_FUTURE,
  KIND_OPTION,
  KIND_PERPETUAL,
  OPTION_CALL,
  SETTLE_INVERSE,
  SETTLE_LINEAR,
  type Market,
} from '../model/market.js';

/** One option expiry of one pool: strikes ascending, with the instrument id of each type (-1 when absent). */
export interface OptionExpiry {
  expiryMs: number;
  /** years from the snapshot */
  tYears: number;
  /** USD forward of the expiry (the median of its options' forwards) */
  forward: number;
  /** at-the-money implied volatility (decimal), for strike spreads */
  atmIv: number;
  strikes: Float64Array;
  call: Int32Array;
  put: Int32Array;
}

/**
 * Instruments drawn with probability proportional to a weight (their open interest): `ids` in a fixed
 * order, `cum` the running sum of their weights (all > 0); `pair` an optional second id per entry (a
 * straddle's put). Drawn by {@link pickWeighted}.
 */
export interface WeightedIds {
  ids: Int32Array;
  pair: Int32Array;
  cum: Float64Array;
}

/** An entry of `w` drawn with probability ∝ its weight (binary search on the running sums); -1 when empty. */
export function pickWeighted(rng: { float(): number }, w: WeightedIds): number {
  const n = w.ids.length;
  if (n === 0) return -1;
  const x = rng.float() * w.cum[n - 1]!;
  let lo = 0,
    hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (w.cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function weightedIds(ids: number[], weight: (i: number) => number, pair: number[] = []): WeightedIds {
  const keep: number[] = [];
  for (let k = 0; k < ids.length; k++) if (weight(k) > 0) keep.push(k);
  const cum = new Float64Array(keep.length);
  let t = 0;
  keep.forEach((k, j) => (cum[j] = t += weight(k)));
  return {
    ids: Int32Array.from(keep, (k) => ids[k]!),
    pair: Int32Array.from(keep, (k) => pair[k] ?? -1),
    cum,
  };
}

/**
 * The pool's options with open interest > 0, by what the strategies draw (docs: data/README.md, "The
 * generated book"): every option, calls, puts, out-of-the-money calls (K > F) and puts (K < F), each ∝
 * its open interest; straddles (call and put of one strike and expiry) ∝ the smaller of the two.
 */
export interface PoolOi {
  all: WeightedIds;
  calls: WeightedIds;
  puts: WeightedIds;
  otmCalls: WeightedIds;
  otmPuts: WeightedIds;
  straddles: WeightedIds;
  /** Σ open interest of the pool's options (coin) */
  total: number;
}

/** The instruments of one underlying with one settlement. */
export interface Pool {
  underlying: number;
  settlement: number;
  /** instrument id of the perpetual, -1 when none */
  perpetual: number;
  /** futures by expiry */
  futures: Int32Array;
  /** option expiries by expiry */
  expiries: OptionExpiry[];
  /** every option id of the pool, in instrument order */
  options: Int32Array;
  /** the options with open interest, weighted by it */
  oi: PoolOi;
}

export interface MarketIndex {
  market: Market;
  /** pools[underlying * 2 + settlement], null where the market has no such instrument */
  pools: (Pool | null)[];
  /**
   * relative weight of each underlying for choosing where accounts trade (USD open interest of its options, or counts)
   */
  underlyingWeight: Float64Array;
  /** order lot per underlying in coin: 10^round(log10(5000 / index)) (0.1 BTC, 1 ETH at 2026 prices) */
  lot: Float64Array;
  /** per instrument: its expiry index in its pool's `expiries` and its strike index there (-1: delta-one) */
  expiryOf: Int32Array;
  strikeOf: Int32Array;
}

/** Builds the generator's view of a market. */
export function indexMarket(market: Market): MarketIndex {
  const ins = market.instruments;
  const U = market.underlyings.length;
  const pools: (Pool | null)[] = [];
  const weight = new Float64Array(U);
  const counts = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    for (let st = SETTLE_INVERSE; st <= SETTLE_LINEAR; st++) {
      const ids: number[] = [];
      for (let i = 0; i < ins.count; i++) if (ins.underlying[i] === u && ins.settlement[i] === st) ids.push(i);
      if (ids.length === 0) {
        pools.push(null);
        continue;
      }
      let perpetual = -1;
      const futures: number[] = [];
      const byExpiry = new Map<number, number[]>();
      for (const i of ids) {
        if (ins.kind[i] === KIND_PERPETUAL) {
          if (perpetual < 0) perpetual = i;
        } else if (ins.kind[i] === KIND_FUTURE) futures.push(i);
        else if (ins.kind[i] === KIND_OPTION) {
          const e = ins.expiryMs[i]!;
          let list = byExpiry.get(e);
          if (!list) byExpiry.set(e, (list = []));
          list.push(i);
        }
      }
      futures.sort((a, b) => ins.expiryMs[a]! - ins.expiryMs[b]! || a - b);
      const expiries: OptionExpiry[] = [...byExpiry.keys()]
        .sort((a, b) => a - b)
        .map((e) => optionExpiry(market, e, byExpiry.get(e)!));
      const options = Int32Array.from(ids.filter((i) => ins.kind[i] === KIND_OPTION));
      for (const i of options) {
        counts[u]! += 1;
        const oi = ins.openInterest[i]!;
        if (oi > 0) weight[u]! += oi * market.indexPrice[u]!;
      }
      pools.push({
        underlying: u,
        settlement: st,
        perpetual,
        futures: Int32Array.from(futures),
        expiries,
        options,
        oi: poolOi(market, options, expiries),
      });
    }
  }
  // sqrt of the USD open interest (or of the option count when the market has no open interest), so the
  // largest market does not take every account; an underlying with futures only gets a small weight
  const anyOi = weight.some((w) => w > 0);
  const underlyingWeight = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    const w = Math.sqrt(anyOi ? weight[u]! : counts[u]!);
    const traded = pools[2 * u] !== null || pools[2 * u + 1] !== null;
    underlyingWeight[u] = w > 0 ? w : traded ? 1e-3 : 0;
  }
  const lot = Float64Array.from(market.indexPrice, (s) => 10 ** Math.round(Math.log10(5000 / s)));
  const expiryOf = new Int32Array(ins.count).fill(-1);
  const strikeOf = new Int32Array(ins.count).fill(-1);
  for (const pool of pools) {
    if (pool === null) continue;
    pool.expiries.forEach((ex, e) => {
      for (let j = 0; j < ex.strikes.length; j++) {
        for (const i of [ex.call[j]!, ex.put[j]!]) {
          if (i < 0) continue;
          expiryOf[i] = e;
          strikeOf[i] = j;
        }
      }
    });
  }
  return { market, pools, underlyingWeight, lot, expiryOf, strikeOf };
}

/** Open interest of instrument i, 0 when missing or not positive. */
export function openInterest(market: Market, i: number): number {
  const oi = market.instruments.openInterest[i]!;
  return oi > 0 ? oi : 0;
}

function poolOi(market: Market, options: Int32Array, expiries: OptionExpiry[]): PoolOi {
  const ins = market.instruments;
  const oi = (i: number) => openInterest(market, i);
  const list = Array.from(options);
  const calls = list.filter((i) => ins.optionType[i] === OPTION_CALL);
  const puts = list.filter((i) => ins.optionType[i] !== OPTION_CALL);
  const otmCalls = calls.filter((i) => ins.strike[i]! > ins.forward[i]!);
  const otmPuts = puts.filter((i) => ins.strike[i]! < ins.forward[i]!);
  const sc: number[] = [];
  const sp: number[] = [];
  for (const ex of expiries)
    for (let j = 0; j < ex.strikes.length; j++)
      if (ex.call[j]! >= 0 && ex.put[j]! >= 0) {
        sc.push(ex.call[j]!);
        sp.push(ex.put[j]!);
      }
  const by = (ids: number[]) => weightedIds(ids, (k) => oi(ids[k]!));
  return {
    all: by(list),
    calls: by(calls),
    puts: by(puts),
    otmCalls: by(otmCalls),
    otmPuts: by(otmPuts),
    straddles: weightedIds(sc, (k) => Math.min(oi(sc[k]!), oi(sp[k]!)), sp),
    total: list.reduce((t, i) => t + oi(i), 0),
  };
}

function optionExpiry(market: Market, expiryMs: number, ids: number[]): OptionExpiry {
  const ins = market.instruments;
  const strikes = [...new Set(ids.map((i) => ins.strike[i]!))].sort((a, b) => a - b);
  const call = new Int32Array(strikes.length).fill(-1);
  const put = new Int32Array(strikes.length).fill(-1);
  const pos = new Map(strikes.map((k, j) => [k, j]));
  for (const i of ids) {
    const j = pos.get(ins.strike[i]!)!;
    if (ins.optionType[i] === OPTION_CALL) {
      if (call[j]! < 0) call[j] = i;
    } else if (put[j]! < 0) put[j] = i;
  }
  const fwd = ids.map((i) => ins.forward[i]!).sort((a, b) => a - b);
  const forward = fwd[fwd.length >> 1]!;
  // ATM iv: the option whose strike is nearest the forward
  let best = ids[0]!;
  for (const i of ids) if (Math.abs(ins.strike[i]! - forward) < Math.abs(ins.strike[best]! - forward)) best = i;
  const iv = ins.markIv[best]!;
  const tYears = Math.max((expiryMs - market.snapshotTimeMs) / (365 * 86_400_000), 1 / 365 / 24);
  return { expiryMs, tYears, forward, atmIv: iv > 0 ? iv : 0.5, strikes: Float64Array.from(strikes), call, put };
}
