/**
 * Float64 Black-76 option values for the host-side parts of margin (equity): the model value at
 * `mark_iv`, the same base the revaluation measures P&L from (METHODOLOGY.md 1), so equity and the
 * zero scenario agree.
 */
import { KIND_OPTION, OPTION_CALL, SETTLE_INVERSE, type Market } from '../model/market.js';

/**
 * Standard normal cumulative distribution, float64 (Hart 1968, algorithm 5666, as in G. West,
 * "Better approximations to cumulative normal functions"): absolute error below 1e-14.
 */
export function normCdf(x: number): number {
  const a = Math.abs(x);
  let c: number;
  if (a > 37) c = 0;
  else {
    const e = Math.exp(-a * a / 2);
    if (a < 7.07106781186547) {
      let b = 3.52624965998911e-2 * a + 0.700383064443688;
      b = b * a + 6.37396220353165;
      b = b * a + 33.912866078383;
      b = b * a + 112.079291497871;
      b = b * a + 221.213596169931;
      b = b * a + 220.206867912376;
      c = e * b;
      b = 8.83883476483184e-2 * a + 1.75566716318264;
      b = b * a + 16.064177579207;
      b = b * a + 86.7807322029461;
      b = b * a + 296.564248779674;
      b = b * a + 637.333633378831;
      b = b * a + 793.826512519948;
      b = b * a + 440.413735824752;
      c = c / b;
    } else {
      let b = a + 0.65;
      b = a + 4 / b;
      b = a + 3 / b;
      b = a + 2 / b;
      b = a + 1 / b;
      c = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/**
 * Black-76 value of a European option on a forward, in the forward's currency (USD) per unit of
 * underlying: `e^{−rT}[F N(d1) − K N(d2)]` (call) or `e^{−rT}[K N(−d2) − F N(−d1)]` (put); the
 * discounted intrinsic value when T = 0 or σ√T < 1e-12. Always ≥ 0.
 */
export function black76(isCall: boolean, forward: number, strike: number, tYears: number, vol: number, rate: number): number {
  const t = Math.max(tYears, 0);
  const df = Math.exp(-rate * t);
  const sd = vol * Math.sqrt(t);
  if (!(sd >= 1e-12)) return df * Math.max(isCall ? forward - strike : strike - forward, 0);
  const d1 = (Math.log(forward / strike) + sd * sd / 2) / sd;
  const d2 = d1 - sd;
  return isCall
    ? df * (forward * normCdf(d1) - strike * normCdf(d2))
    : df * (strike * normCdf(-d2) - forward * normCdf(-d1));
}

/**
 * Model value V of every instrument's option, in USD per unit of underlying, at its `mark_iv`
 * (Black-76 on the instrument's forward, strike, T and the underlying's rate). NaN for futures and
 * perpetuals. When `mark_iv` is missing the quoted mark is used instead (converted to USD with × F for
 * inverse options, whose marks are in coin).
 */
export function optionValuesUsd(market: Market): Float64Array {
  const ins = market.instruments;
  const out = new Float64Array(ins.count).fill(NaN);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) continue;
    const f = ins.forward[i];
    const iv = ins.markIv[i];
    if (Number.isFinite(iv)) {
      out[i] = black76(ins.optionType[i] === OPTION_CALL, f, ins.strike[i], ins.tYears[i], iv, market.rate[ins.underlying[i]] || 0);
    } else {
      out[i] = ins.settlement[i] === SETTLE_INVERSE ? ins.markPrice[i] * f : ins.markPrice[i];
    }
  }
  return out;
}
