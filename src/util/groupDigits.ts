/**
 * Numbers as the engine's text output writes them (en-US: thousands separated by commas), without Intl: the
 * process's first toLocaleString or Intl.NumberFormat loads ICU's data, ~10 ms of the calling thread (measured on
 * the 2-core machine), which a run's main thread spent mid-start (the backend's reason strings) and, once that was
 * gone, at its very end (the summary). Each function gives exactly what Intl gives (tested against it).
 */

/**
 * A whole number with its thousands separated by commas, as `n.toLocaleString('en-US')` writes it. Other numbers
 * (fractions, beyond ±2^53, −0, NaN, ±∞) are toLocaleString's.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  return n < 0 ? `-${groupString(String(-n))}` : groupString(String(n));
}

/** A string of decimal digits with a comma before every third digit from the right. */
function groupString(digits: string): string {
  let out = '';
  for (let end = digits.length; end > 0; end -= 3)
    out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return out;
}

/**
 * `x` with exactly `digits` fraction digits (0 to 20) and its thousands separated by commas, as
 * `new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x)`
 * writes it: ICU rounds the shortest decimal that reads back as x (what String(x) writes: 1.005 is "1.005", so
 * 1.01 at two digits, where x.toFixed(2), from x's exact binary value, says 1.00), half away from zero, and keeps
 * the sign of a negative number (−0 too) that rounds to zero. NaN and ±∞ are Intl's.
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x) || !Number.isInteger(digits) || digits < 0 || digits > 20)
    return new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
  const negative = x < 0 || Object.is(x, -0);
  // the shortest decimal of |x|: its digits, and where the decimal point falls among them
  const s = String(Math.abs(x));
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exponent = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  let all = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  let point = (dot < 0 ? mantissa.length : dot) + exponent;
  if (point <= 0) {
    all = '0'.repeat(1 - point) + all;
    point = 1;
  }
  if (point > all.length) all += '0'.repeat(point - all.length);
  let kept = all.slice(0, point + digits);
  kept += '0'.repeat(point + digits - kept.length);
  // half away from zero: the first digit dropped decides
  if (all.length > point + digits && all.charCodeAt(point + digits) >= 53) {
    const d = kept.split('');
    let i = d.length - 1;
    for (; i >= 0 && d[i] === '9'; i--) d[i] = '0';
    if (i < 0) d.unshift('1');
    else d[i] = String.fromCharCode(d[i]!.charCodeAt(0) + 1);
    kept = d.join('');
  }
  const whole = kept.slice(0, kept.length - digits).replace(/^0+(?=\d)/, '');
  const fraction = kept.slice(kept.length - digits);
  return `${negative ? '-' : ''}${groupString(whole)}${digits > 0 ? `.${fraction}` : ''}`;
}
