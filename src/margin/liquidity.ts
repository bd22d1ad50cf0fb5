/**
 * The liquidity add-on (docs/methodology.md §4e, engine convention): the cost of closing a position
 * across half the bid-ask spread, scaled up for positions large against the open interest, at most
 * `max_concentration` times.
 */
import { KIND_OPTION, SETTLE_INVERSE, type Market } from '../model/market.js';
import type { Params } from '../params/params.js';

/**
 * Liquidity add-on of one position, `|q| · h · c`, positive, in coin (`inCoin`: a coin unit of
 * deribit-pm) or in USD (every other unit).
 * - `h = (ask − bid)/2` in the instrument's quote currency when both quotes exist and ask ≥ bid,
 *   converted to the unit's currency (an inverse option's coin quote × F for USD; a USD quote / F for
 *   coin); otherwise `default_half_spread` × the value of one unit of underlying (1 coin, or F USD).
 * - `c = min(max_concentration, max(1, |q| / (oi_share · OI)))` when OI > 0, else 1 (the concentration
 *   factor, capped: docs/methodology.md §4e).
 * F is the instrument's forward (USD).
 */
export function liquidityAddonPosition(
  market: Market,
  params: Params,
  instrument: number,
  qty: number,
  inCoin: boolean,
): number {
  const h = halfSpread(market, params, instrument, inCoin);
  const a = Math.abs(qty);
  const oi = market.instruments.openInterest[instrument];
  const c = oi > 0 ? concentrationFactor(a, params.liquidity.oiShare * oi, params.liquidity.maxConcentration) : 1;
  return a * h * c;
}

/**
 * The concentration factor of a position of size `a` = |q| against the threshold `oi_share · OI`
 * (+Infinity without open interest): `min(max_concentration, max(1, a / threshold))`
 * (docs/methodology.md §4e). With `max_concentration ≥ 1` (the parameter's rule) it lies in
 * [1, max_concentration], and is 1 without open interest.
 */
export function concentrationFactor(a: number, threshold: number, maxConcentration: number): number {
  return Math.min(maxConcentration, Math.max(1, a / threshold));
}

/** h of one instrument per unit of underlying, in coin (`inCoin`) or USD: see {@link liquidityAddonPosition}. */
export function halfSpread(market: Market, params: Params, instrument: number, inCoin: boolean): number {
  const ins = market.instruments;
  const f = ins.forward[instrument];
  const bid = ins.bidPrice[instrument];
  const ask = ins.askPrice[instrument];
  const quotedInCoin = ins.kind[instrument] === KIND_OPTION && ins.settlement[instrument] === SETTLE_INVERSE;
  let h: number;
  if (Number.isFinite(bid) && Number.isFinite(ask) && ask >= bid) {
    const half = (ask - bid) / 2;
    h = quotedInCoin === inCoin ? half : inCoin ? half / f : half * f;
  } else {
    h = params.liquidity.defaultHalfSpread * (inCoin ? 1 : f);
  }
  return h;
}

/**
 * Per-instrument inputs of the add-on, precomputed for hot loops: the half spread h per unit of
 * underlying in coin and in USD, the concentration threshold `oi_share · OI` (+Infinity without
 * open interest) and the cap `max_concentration` of the concentration factor.
 */
export interface LiquidityTable {
  halfCoin: Float64Array;
  halfUsd: Float64Array;
  cap: Float64Array;
  maxConcentration: number;
}

/** Builds the LiquidityTable of every instrument (same rules as {@link liquidityAddonPosition}). */
export function liquidityTable(market: Market, params: Params): LiquidityTable {
  const n = market.instruments.count;
  const halfCoin = new Float64Array(n);
  const halfUsd = new Float64Array(n);
  const cap = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    halfCoin[i] = halfSpread(market, params, i, true);
    halfUsd[i] = halfSpread(market, params, i, false);
    const oi = market.instruments.openInterest[i];
    cap[i] = oi > 0 ? params.liquidity.oiShare * oi : Infinity;
  }
  return { halfCoin, halfUsd, cap, maxConcentration: params.liquidity.maxConcentration };
}

/**
 * The add-on of one position from a LiquidityTable: `|q| · h · min(max_concentration, max(1, |q| / cap))`,
 * coin or USD. The one implementation of the hot-loop formula: the models and the generator
 * (src/generate/unitMargins.ts) call it.
 */
export function liquidityAddonFromTable(t: LiquidityTable, instrument: number, qty: number, inCoin: boolean): number {
  const a = Math.abs(qty);
  return (
    a *
    (inCoin ? t.halfCoin[instrument] : t.halfUsd[instrument]) *
    concentrationFactor(a, t.cap[instrument], t.maxConcentration)
  );
}
