/**
 * How many positions each generated account holds: heavy-tailed like an exchange's book (most accounts a
 * few positions, a few market makers thousands). A lognormal with median 3 and σ = 1.55 has mean
 * 3·e^(σ²/2) ≈ 10, so `--accounts N` gives about 10·N positions; capped by what the market can hold.
 */
import type { Prng } from './prng.js';

/** Parameters of the account-size distribution. */
export interface AccountSizeModel {
  /** median positions per account */
  median: number;
  /** σ of log(size) */
  sigma: number;
  /** largest size (distinct instruments an account can hold) */
  cap: number;
}

/**
 * The default model for a market of `instrumentCount` instruments: median 3, σ 1.55, cap min(5000, 90% of the
 * instruments).
 */
export function accountSizeModel(instrumentCount: number): AccountSizeModel {
  return { median: 3, sigma: 1.55, cap: Math.max(1, Math.min(5000, Math.floor(0.9 * instrumentCount))) };
}

/** One account's target number of positions: round(median · e^(σ·Z)), clamped to [1, cap]. */
export function drawAccountSize(rng: Prng, m: AccountSizeModel): number {
  const n = Math.round(m.median * Math.exp(m.sigma * rng.normal()));
  return Math.min(m.cap, Math.max(1, n));
}
