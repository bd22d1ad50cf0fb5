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
