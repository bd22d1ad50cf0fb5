/**
 * Float64 option values for the host-side parts of margin (equity and summaries): the Black-76 model
 * value at `mark_iv`, computed with the same float64 kernel the revaluation measures P&L from
 * (kernels/black76.ts), so equity and the zero scenario agree (docs/methodology.md §1, 5).
 */
import { black76Price, discountFactor } from '../../kernels/black76.js';
import { KIND_OPTION, OPTION_CALL, SETTLE_INVERSE, type Market } from '../model/market.js';

/**
 * Black-76 value in USD per unit of underlying: the kernels' {@link black76Price} with discount
 * `e^{−r·max(T, 0)}` (the discounted intrinsic value when σ√T < 1e-12). Non-negative.
 */
export function black76Usd(
  isCall: boolean,
  forward: number,
  strike: number,
  tYears: number,
  vol: number,
  rate: number,
): number {
  return black76Price(isCall ? 1 : 0, forward, strike, tYears, vol, discountFactor(rate, Math.max(tYears, 0)));
}

/**
 * Model value V of every instrument's option, in USD per unit of underlying, at its `mark_iv` on the
 * instrument's forward, strike, T and the underlying's rate. NaN for futures and perpetuals. When
 * `mark_iv` is missing the quoted mark is used instead (× F for inverse options, whose marks are coin).
 */
export function optionValuesUsd(market: Market): Float64Array {
  const ins = market.instruments;
  const out = new Float64Array(ins.count).fill(NaN);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) continue;
    const f = ins.forward[i];
    const iv = ins.markIv[i];
    if (Number.isFinite(iv)) {
      out[i] = black76Usd(
        ins.optionType[i] === OPTION_CALL,
        f,
        ins.strike[i],
        ins.tYears[i],
        iv,
        market.rate[ins.underlying[i]] || 0,
      );
    } else {
      out[i] = ins.settlement[i] === SETTLE_INVERSE ? ins.markPrice[i] * f : ins.markPrice[i];
    }
  }
  return out;
}
