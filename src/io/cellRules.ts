/**
 * The wording of the per-cell rules of docs/data.md, shared by every loader so that a rule reads the same
 * whichever file breaks it. Each returns the `rule` part of a Violation; the value is rendered
 * separately with showValue.
 */

/** A required cell holds null. */
export const RULE_NULL = 'is not allowed: the column is required';
/** A number that is NaN or infinite. */
export const RULE_FINITE = 'is not a finite number';

/** A required-only-for-some-rows cell holds null, e.g. `strike` of an option. */
export function ruleRequiredFor(what: string): string {
  return `is not allowed: the column is required for ${what}`;
}

/** A value outside its set, e.g. kind not in option | future | perpetual. */
export function ruleOneOf(values: readonly string[]): string {
  return `is not one of ${values.join(' | ')}`;
}

/** A number outside its range, e.g. `is not > 0: strike must be positive`. */
export function ruleRange(condition: string, meaning: string): string {
  return `is not ${condition}: ${meaning}`;
}

/**
 * Bounds on magnitudes (docs/data.md E10–E13): far beyond any real book or market, and far enough inside
 * the range of a double that no margin computed from them overflows to ±∞ (1e9 coin × 1e12 USD = 1e21).
 */
/** The largest |quantity| of a position, in units of the underlying (E10). */
export const MAX_QUANTITY = 1e9;
/** The largest |amount| of a balance, in units of its currency (E11). */
export const MAX_AMOUNT = 1e15;
/**
 * The largest price (E12): strike, forward, mark, bid and ask price, index price and entry price, in USD
 * (inverse options' prices in coin per coin, which are far smaller).
 */
export const MAX_PRICE = 1e12;
/** The largest open interest, in units of the underlying (E12). */
export const MAX_OPEN_INTEREST = 1e12;

/** A number beyond its bound, e.g. `is not <= 1e12: prices are at most 1e12 USD (E12)`. */
export function ruleAtMost(column: string, max: number, unit: string, rule: string): string {
  return ruleRange(`<= ${max}`, `${column} is at most ${max} ${unit} (${rule})`);
}

/** |x| beyond its bound, e.g. `is not in [-1e9, 1e9]: |quantity| is at most 1e9 coin (E10)`. */
export function ruleMagnitude(column: string, max: number, unit: string, rule: string): string {
  return ruleRange(`in [-${max}, ${max}]`, `|${column}| is at most ${max} ${unit} (${rule})`);
}
