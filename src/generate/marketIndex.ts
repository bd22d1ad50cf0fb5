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
      pools.push({ underlying: u, settlement: st, perpetual, futures: Int32Array.from(futures), expiries, options });
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
  return { market, pools, underlyingWeight, lot };
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
