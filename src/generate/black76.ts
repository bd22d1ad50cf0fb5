/**
 * Black-76 for the generator's own choices (the delta a delta-hedged book is hedged to): undiscounted,
 * on forward F, strike K, vol sigma (decimal per year), T years, values in USD per unit of underlying.
 * Collateral is NOT sized with this: see unitMargins.ts (the engine's deribit-pm).
 */

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
