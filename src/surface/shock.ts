/**
 * Surface stress (docs/methodology.md §11c): named shocks of a slice's level, skew and term structure,
 * each shocked slice kept free of butterfly arbitrage. Engine conventions:
 * - skew: ρ' = ρ + r, kept in [−0.999, 0.999]; b is then capped by Lee's bound b(1 + |ρ'|) ≤ 2;
 * - level and term: the total variance is scaled, w' = λ·w with λ = (1 + level)·(1 + term·e^{−T/τ}),
 *   τ = 30 days (so the ATM total variance is × (1 + level) at every expiry and the short end moves by
 *   up to × (1 + term), a one-year slice by e^{−365/30} of it);
 * - the shocked slice is checked (g ≥ 0 on |x| ≤ 3) and, when it fails, repaired by Gatheral &
 *   Jacquier's SVI-JW repair (src/surface/svi.ts repairButterfly); it is used as shocked when no repair
 *   passes (flagged in the result). The calendar order of the shocked slices is not re-checked.
 */
import { butterflyFree, repairButterfly, type SviParams } from './svi.js';

/** τ of the term shock's weight e^{−T/τ}, in years (30 days). */
export const TERM_SHOCK_TAU = 30 / 365;

export interface SurfaceShock {
  level: number;
  skew: number;
  term: number;
}

export function shockSlice(
  p: SviParams,
  t: number,
  shock: SurfaceShock,
): { params: SviParams; repaired: boolean; arbitrageFree: boolean } {
  const rho = Math.max(-0.999, Math.min(0.999, p.rho + shock.skew));
  const lambda = (1 + shock.level) * (1 + shock.term * Math.exp(-t / TERM_SHOCK_TAU));
  let b = p.b * lambda;
  const lee = 2 / (1 + Math.abs(rho));
  if (b > lee) b = lee;
  const params: SviParams = { a: p.a * lambda, b, rho, m: p.m, sigma: p.sigma };
  if (butterflyFree(params)) return { params, repaired: false, arbitrageFree: true };
  const r = repairButterfly(params, t);
  if (r && butterflyFree(r.params)) return { params: r.params, repaired: true, arbitrageFree: true };
  return { params, repaired: false, arbitrageFree: false };
}
