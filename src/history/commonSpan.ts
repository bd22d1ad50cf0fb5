/**
 * The span of days every underlying's close series covers, as the history-calibrated scenario families
 * (historical, Monte Carlo) need it before they check that it is long enough.
 */
import type { History, PriceSeries } from './types.js';

/** The close series of some underlyings and the days they all cover (day numbers, days since 1970-01-01 UTC). */
export interface CommonSpan {
  /** the close series, in the order of the underlyings asked for */
  series: PriceSeries[];
  /** the latest of (first day + lead) over the series; −Infinity when there are none */
  first: number;
  /** the earliest last day over the series, and no later than the snapshot's day */
  last: number;
  /** the first series whose first day + lead is `first` (the file that limits the window, for messages) */
  limiting: PriceSeries;
}

/**
 * The close series of `underlyings` in `history` and the days they all cover: from the latest first day
 * plus `lead` (days a series must have before a day is usable, e.g. EWMA seed and horizon) to the earliest
 * last day, capped at `snapDay`. The span may be empty (first > last); callers check its length.
 * @throws Error when `history` was loaded without one of the underlyings (a caller's bug, not an input error).
 */
export function commonSpan(
  history: History,
  underlyings: readonly string[],
  snapDay: number,
  lead: number,
): CommonSpan {
  const series: PriceSeries[] = underlyings.map((u) => {
    const s = history.prices.get(u);
    if (!s) throw new Error(`history was loaded without ${u}`);
    return s;
  });
  let first = -Infinity,
    last = snapDay,
    limiting = series[0]!;
  for (const s of series) {
    const f = s.day[0]! + lead;
    if (f > first) {
      first = f;
      limiting = s;
    }
    last = Math.min(last, s.day[s.day.length - 1]!);
  }
  return { series, first, last, limiting };
}
