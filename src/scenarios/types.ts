/**
 * A scenario set: the table every family builds once, in float64, on the CPU. Per-underlying arrays are
 * scenario-major: element [s * U + u], with U = `underlyings.length` (the order of the market's
 * underlyings the set was built for).
 */

/** Vol rules (docs/methodology.md §2). */
export const VOL_UP = 0;
export const VOL_NONE = 1;
export const VOL_DOWN = 2;
export const VOL_REL_UP = 3;
export const VOL_REL_DOWN = 4;
export const VOL_MULT = 5;
export const VOL_RULE_NAMES = ['up', 'none', 'down', 'rel_up', 'rel_down', 'mult'] as const;

export type Family = 'deribit-pm' | 'span' | 'historical' | 'monte-carlo' | 'stress';

export interface ScenarioSet {
  family: Family;
  count: number;
  underlyings: string[];
  /** scenario id (deribit-pm: 0..34 as documented; others 0..count-1) */
  id: Int32Array;
  /** grid position, date, or event name */
  label: string[];
  /** [s*U+u] weight w[s,u] (deribit-pm extended weights differ per underlying; span extremes 0.35; else 1) */
  weight: Float64Array;
  /** [s] time step in days (Δt = dtDays / 365 years) */
  dtDays: Float64Array;
  /** [s*U+u] relative price move m applied to options (F' = F(1+m)) */
  move: Float64Array;
  /**
   * [s*U+u] move applied to futures and perpetuals (deribit-pm extended: the standard edge of the same sign; else =
   * move)
   */
  deltaOneMove: Float64Array;
  /** [s*U+u] VOL_* */
  volRule: Uint8Array;
  /** [s*U+u] multiplier g for VOL_MULT, the relative shift vsr for VOL_REL_UP/DOWN, 1 otherwise */
  volParam: Float64Array;
  /** provenance: dates used, PSR per underlying, seed, parameters hash, … (JSON-serialisable) */
  meta: Record<string, unknown>;
  /**
   * Surface shocks (docs/methodology.md §11c; stress events only, absent elsewhere), [s*U+u]: level a
   * (total variance × (1 + a)), skew r (ρ + r) and term s (short end × (1 + s·e^{−T/τ}), τ = 30 days);
   * 0 = none. Applied to the fitted surface by src/surface/shock.ts.
   */
  surfaceShock?: { level: Float64Array; skew: Float64Array; term: Float64Array };
}
