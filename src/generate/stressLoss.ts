/**
 * A coarse, self-contained risk measure the generator sizes collateral with: each instrument's P&L per
 * unit under a small grid of underlying moves (−R, −R/2, 0, +R/2, +R, R the deribit-pm price range) and
 * vol moves (down, none, up), then per account and risk unit the worst loss plus the roll shock
 * (METHODOLOGY §4a's shape, simplified). It is NOT the engine's margin: it only makes "most accounts
 * healthy, a few thin" come out right. Black-76, undiscounted, like Deribit.
 */
import {
  KIND_FUTURE, KIND_OPTION, KIND_PERPETUAL, OPTION_CALL, SETTLE_INVERSE, type Market,
} from '../model/market.js';
import { defaultParams, type PerUnderlying } from '../params/params.js';

/** Underlying moves of the grid, in units of the price range R. */
const MOVES = [-1, -0.5, 0, 0.5, 1];
/** Vol moves: -1 down by vol_range_down, 0 none, +1 up by vol_range_up (scaled by the vega power rule). */
const VOLS = [-1, 0, 1];
/** Scenarios of the grid. */
export const STRESS_SCENARIOS = MOVES.length * VOLS.length;

/** Standard normal CDF (W. J. Cody's erfc rational approximation via Numerical Recipes' erfcc, |error| < 1.2e-7). */
export function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

/** Undiscounted Black-76 value in USD of a call (isCall) or put on forward F, strike K, vol sigma, T years. */
export function black76(isCall: boolean, F: number, K: number, sigma: number, T: number): number {
  const sd = sigma * Math.sqrt(T);
  if (!(sd > 1e-12)) return Math.max(isCall ? F - K : K - F, 0);
  const d1 = (Math.log(F / K) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  return isCall ? F * normCdf(d1) - K * normCdf(d2) : K * normCdf(-d2) - F * normCdf(-d1);
}

/** Black-76 delta (dV/dF, per unit of underlying): N(d1) for a call, N(d1) − 1 for a put. */
export function black76Delta(isCall: boolean, F: number, K: number, sigma: number, T: number): number {
  const sd = sigma * Math.sqrt(T);
  if (!(sd > 1e-12)) return isCall ? (F > K ? 1 : 0) : (F < K ? -1 : 0);
  const n = normCdf((Math.log(F / K) + 0.5 * sd * sd) / sd);
  return isCall ? n : n - 1;
}

function per(m: PerUnderlying, key: string): number {
  return m[key] ?? m.other;
}

/**
 * P&L of one unit (+1 coin of underlying) of every instrument under each grid scenario, in the
 * instrument's settlement currency: coin for inverse (options V'/F' − V/F, futures 1 − F/F'), USD for
 * linear (V' − V, F' − F). Sign: positive is a gain. Layout: pnl[i * STRESS_SCENARIOS + s].
 */
export function stressPnl(market: Market): Float64Array {
  const p = defaultParams().deribitPm;
  const ins = market.instruments;
  const out = new Float64Array(ins.count * STRESS_SCENARIOS);
  for (let i = 0; i < ins.count; i++) {
    const name = market.underlyings[ins.underlying[i]!]!;
    const R = per(p.priceRange, name);
    const F = ins.forward[i]!;
    const inverse = ins.settlement[i] === SETTLE_INVERSE;
    const isOption = ins.kind[i] === KIND_OPTION;
    const T = Math.max(ins.tYears[i]!, 1 / 365 / 24);
    const K = ins.strike[i]!;
    const iv = ins.markIv[i]! > 0 ? ins.markIv[i]! : 0.5;
    const isCall = ins.optionType[i] === OPTION_CALL;
    const base = isOption ? black76(isCall, F, K, iv, T) : F;
    // vega power rule, simplified: short-dated vols move more (30-day reference)
    const scale = Math.min(1, (30 / 365 / T) ** p.shortTermVegaPower);
    let s = 0;
    for (const m of MOVES) {
      const F2 = F * (1 + m * R);
      for (const v of VOLS) {
        let pnl: number;
        if (isOption) {
          const iv2 = v === 0 ? iv : v > 0 ? iv * (1 + per(p.volRangeUp, name) * scale) : iv * (1 - p.volRangeDown * scale);
          const V2 = black76(isCall, F2, K, iv2, T);
          pnl = inverse ? V2 / F2 - base / F : V2 - base;
        } else pnl = inverse ? 1 - F / F2 : F2 - F;
        out[i * STRESS_SCENARIOS + s++] = pnl;
      }
    }
  }
  return out;
}

/**
 * Roll shock per unit of each future and perpetual (0 for options), in the settlement currency:
 * max(min_annualised_move, annualised_move_risk · T), × F for linear (METHODOLOGY §4a, T = 0 for a
 * perpetual).
 */
export function rollShock(market: Market): Float64Array {
  const p = defaultParams().deribitPm;
  const ins = market.instruments;
  const out = new Float64Array(ins.count);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_FUTURE && ins.kind[i] !== KIND_PERPETUAL) continue;
    const inverse = ins.settlement[i] === SETTLE_INVERSE;
    const key = inverse ? market.underlyings[ins.underlying[i]!]! : 'USDC';
    const T = ins.kind[i] === KIND_PERPETUAL ? 0 : ins.tYears[i]!;
    const move = Math.max(per(p.minAnnualisedMove, key), per(p.annualisedMoveRisk, key) * T);
    out[i] = inverse ? move : move * ins.forward[i]!;
  }
  return out;
}
