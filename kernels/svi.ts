/**
 * Raw SVI in total variance (docs/methodology.md §11), in the scalar subset gpu.js transpiles, so that the
 * revaluation kernels (kernels/revalue.ts) can evaluate a slice per instrument and scenario.
 *
 *   w(x) = a + b·(ρ·(x − m) + √((x − m)² + σ²)),  x = ln(K/F) the log-moneyness, w = σ_imp²·T
 *
 * The fit, the no-arbitrage checks and their repair are host work in float64 (src/surface/svi.ts); only
 * the evaluation lives here. Same arithmetic in float64 (cpu) and float32 (device): the functions have no
 * cancellation beyond that of x − m, which both forms share.
 */

/** Total variance w(x) of the raw SVI slice (a, b, ρ, m, σ) at log-moneyness x. */
export function sviTotalVariance(a: number, b: number, rho: number, m: number, sig: number, x: number): number {
  const d = x - m;
  return a + b * (rho * d + Math.sqrt(d * d + sig * sig));
}

/**
 * Implied vol √(max(w(x), 0)/T) of the slice at log-moneyness x, T > 0 in years (0 when T ≤ 0: an
 * expired option has no vol to read). Decimal per year.
 */
export function sviVol(a: number, b: number, rho: number, m: number, sig: number, x: number, tYears: number): number {
  let vol = 0.0;
  if (tYears > 0.0) {
    vol = Math.sqrt(Math.max(sviTotalVariance(a, b, rho, m, sig, x), 0.0) / tYears);
  }
  return vol;
}

/**
 * The sticky-moneyness vol of an option (docs/methodology.md §11c, engine convention): the option keeps its
 * own vol σ plus the change of the surface's vol between its base log-moneyness x0 = ln(K/F) and the moved
 * one x0 − ln(1+m): σ + sviVol(x0 − ln(1+m)) − vol0, vol0 = sviVol(x0) computed once per instrument by the
 * same function (so m = 0 gives σ exactly, and a flat slice, b = 0, gives σ exactly for every m).
 * Floored at 0.01 like every other shocked vol.
 */
export function stickyMoneynessVol(
  sigma: number,
  a: number,
  b: number,
  rho: number,
  m: number,
  sig: number,
  x0: number,
  vol0: number,
  tYears: number,
  growth: number,
): number {
  const moved = sviVol(a, b, rho, m, sig, x0 - Math.log(growth), tYears);
  let out = sigma;
  if (moved !== vol0) {
    out = Math.max(sigma + (moved - vol0), 0.01);
  }
  return out;
}
