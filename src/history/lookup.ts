/**
 * Lookups into history series by day number.
 */
import type { PriceSeries, VolIndexSeries } from './types.js';

/** Index of the close on `day` in a gap-free series, or −1 when the series does not cover that day. */
export function priceIndex(s: PriceSeries, day: number): number {
  const n = s.day.length;
  if (n === 0) return -1;
  const i = day - s.day[0]!;
  return i >= 0 && i < n ? i : -1;
}

/**
 * The index value of the last listed day on or before `day` (DVOL has missing days), or NaN when the
 * series starts after `day`. Binary search.
 */
export function volIndexOnOrBefore(s: VolIndexSeries, day: number): number {
  let lo = 0,
    hi = s.day.length - 1,
    found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s.day[mid]! <= day) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? NaN : s.value[found]!;
}

/** Index of the last close on or before `day`, or −1 when the series starts after it. */
export function lastPriceIndexOnOrBefore(s: PriceSeries, day: number): number {
  const n = s.day.length;
  if (n === 0 || day < s.day[0]!) return -1;
  return Math.min(n - 1, day - s.day[0]!);
}
