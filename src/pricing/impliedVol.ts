/**
 * Black-76 implied volatility in float64 (host only), or the reason it cannot be recovered.
 *
 * The price is normalised (p = price / (discount · F), forward 1, moneyness k = K/F) and reduced to its
 * time value, which by put–call parity is the price of the out-of-the-money option at the same strike.
 * That price is solved for the total std sd = σ√T by a bracketed Newton iteration on ln c(sd) (Jäckel's
 * observation that the logarithm of the normalised OTM price is the well-conditioned objective in the
 * low-price region), bisection whenever a step leaves the bracket, to full float64 precision.
 *
 * "Not recoverable" (engine convention, calibrated on golden/black76_quantlib.csv): a Black price computed
 * or stored in float64 carries an absolute noise of about ε·max(F, K) (ε = 2.2e-16); when that noise moves
 * the implied vol by more than {@link IV_RESOLUTION} (noise / vega > 1e-7), or the time value is itself at
 * or below the noise, the vol is reported as not recoverable instead of a number.
 */
import { normCdf, normPdf } from '../../kernels/normal.js';

/** float64 machine epsilon. */
const EPS = 2.220446049250313e-16;

/**
 * The largest vol error (absolute, per 1.00 of vol) that a one-ulp price perturbation may cause for the vol to be
 * reported.
 */
export const IV_RESOLUTION = 1e-7;

/** The result of {@link impliedVol}: a vol (decimal per year), or null with the reason. */
export type ImpliedVolResult = { vol: number } | { vol: null; reason: string };

/** Undiscounted normalised out-of-the-money price: call for k ≥ 1, put for k < 1 (sd > 0). */
function otmPrice(k: number, sd: number): number {
  const d1 = -Math.log(k) / sd + 0.5 * sd;
  const d2 = d1 - sd;
  return k >= 1 ? normCdf(d1) - k * normCdf(d2) : k * normCdf(-d2) - normCdf(-d1);
}

/** Solves otmPrice(k, sd) = target for sd > 0 (0 < target < OTM bound). */
function solveTotalStd(k: number, target: number): number {
  const lnTarget = Math.log(target);
  let lo = 0;
  let hi = Infinity;
  // Start at the inflection point sd* = √(2|ln k|) where d1 = 0 (Jäckel), or the ATM approximation.
  const inflection = Math.sqrt(2 * Math.abs(Math.log(k)));
  let sd = inflection > 0 ? inflection : Math.max(target * 2.5066282746310002, 1e-8);
  for (let iter = 0; iter < 300; iter++) {
    const c = otmPrice(k, sd);
    const f = Math.log(c) - lnTarget;
    if (f === 0) return sd;
    if (f < 0) lo = sd;
    else hi = sd;
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    const vega = normPdf(d1);
    let next = sd - (f * c) / vega;
    if (!Number.isFinite(next) || next <= lo || next >= hi) {
      if (hi === Infinity) next = 2 * sd;
      else if (lo === 0) next = hi / 4;
      else next = lo + 0.5 * (hi - lo);
    }
    if (Math.abs(next - sd) <= 2 * EPS * sd || (hi < Infinity && hi - lo <= 2 * EPS * hi)) return next;
    sd = next;
  }
  return sd;
}

/**
 * Black-76 implied volatility (decimal per year) from a discounted price in USD (or any currency, as F
 * and K), or `{ vol: null, reason }` when it cannot be recovered: inputs not positive and finite, T ≤ 0,
 * price outside the no-arbitrage bounds (below the discounted intrinsic value, or at or above the
 * discounted forward for a call / strike for a put), or a time value too small for float64 to resolve
 * (see the module comment). Never returns a number it could not reproduce the price from.
 *
 * @param isCall 1 call, 0 put
 * @param F forward, K strike (same currency as price)
 * @param T years to expiry
 * @param discount the discount factor applied to the undiscounted Black price (e^{−rT})
 */
export function impliedVol(
  isCall: number,
  F: number,
  K: number,
  T: number,
  discount: number,
  price: number,
): ImpliedVolResult {
  for (const [name, v] of [
    ['forward', F],
    ['strike', K],
    ['t_years', T],
    ['discount', discount],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) return { vol: null, reason: `${name} ${v} must be a positive finite number` };
  }
  if (!Number.isFinite(price)) return { vol: null, reason: `price ${price} is not a finite number` };
  const call = isCall > 0.5;
  const k = K / F;
  const p = price / (discount * F);
  const intrinsic = call ? Math.max(1 - k, 0) : Math.max(k - 1, 0);
  const upper = call ? 1 : k;
  const noise = EPS * Math.max(1, k);
  const timeValue = p - intrinsic;
  if (timeValue < -4 * noise) {
    return {
      vol: null,
      reason: `price ${price} is below the discounted intrinsic value ${intrinsic * discount * F} (no-arbitrage bound)`,
    };
  }
  if (p >= upper) {
    return {
      vol: null,
      reason: `price ${price} is at or above the discounted ${call ? 'forward' : 'strike'} ${upper * discount * F} (no-arbitrage bound)`,
    };
  }
  if (timeValue <= noise) {
    return {
      vol: null,
      reason: `not recoverable: time value ${timeValue * discount * F} is at or below float64 noise of the price (${noise * discount * F})`,
    };
  }
  const sd = solveTotalStd(k, timeValue);
  const rootT = Math.sqrt(T);
  const d1 = -Math.log(k) / sd + 0.5 * sd;
  const vegaPerVol = normPdf(d1) * rootT;
  const volNoise = noise / vegaPerVol;
  if (!(volNoise <= IV_RESOLUTION) || !Number.isFinite(sd)) {
    return {
      vol: null,
      reason: `not recoverable: time value ${timeValue * discount * F} is below float64 resolution (one ulp of max(F, K) moves the vol by ${volNoise.toExponential(2)} > ${IV_RESOLUTION})`,
    };
  }
  return { vol: sd / rootT };
}
