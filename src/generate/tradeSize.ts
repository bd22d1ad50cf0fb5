/**
 * Trade sizes in coin: a USD notional drawn lognormally (median 40,000 USD × the account's scale,
 * σ 0.9), turned into a whole number of lots of the underlying (0.1 BTC, 1 ETH at 2026 prices) between
 * 1 and 500 lots (0.1 to 50 BTC, 1 to 500 ETH).
 */
import type { MarketIndex } from './marketIndex.js';
import type { Prng } from './prng.js';

/** Largest trade in lots. */
export const MAX_LOTS = 500;

/** `k` lots of size `lot` as a clean decimal (0.1·3 = 0.3, not 0.30000000000000004). */
export function lots(k: number, lot: number): number {
  return lot < 1 ? k / Math.round(1 / lot) : k * lot;
}

/** A positive trade size in coin of underlying `u`: a multiple of its lot in [1, MAX_LOTS] lots. */
export function drawQuantity(rng: Prng, index: MarketIndex, u: number, accountScale: number): number {
  const notional = 40_000 * accountScale * Math.exp(0.9 * rng.normal());
  const lot = index.lot[u]!;
  const k = Math.min(MAX_LOTS, Math.max(1, Math.round(notional / index.market.indexPrice[u]! / lot)));
  return lots(k, lot);
}

/** Rounds a coin amount to a whole number of lots (may be 0). */
export function roundToLots(q: number, lot: number): number {
  return lots(Math.round(q / lot), lot);
}

/** An account's size scale: lognormal, median 1, σ 0.8 (some traders are simply bigger). */
export function drawAccountScale(rng: Prng): number {
  return Math.exp(0.8 * rng.normal());
}
