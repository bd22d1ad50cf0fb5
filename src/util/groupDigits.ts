/**
 * A whole number with its thousands separated by commas, as `n.toLocaleString('en-US')` writes it, without
 * Intl: the process's first toLocaleString loads ICU's data, ~10 ms of the calling thread (measured on the
 * 2-core machine), which a run's main thread spent in the middle of its start (the backend's reason strings).
 * Other numbers (fractions, beyond ±2^53, −0, NaN, ±∞) are toLocaleString's.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3)
    out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return n < 0 ? `-${out}` : out;
}
