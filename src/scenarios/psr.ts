/**
 * The SPAN price scan range calibrated from history (docs/methodology.md §4b).
 */
import { fileError } from '../errors.js';
import { formatDay } from '../history/dates.js';
import { lastPriceIndexOnOrBefore } from '../history/lookup.js';
import type { PriceSeries } from '../history/types.js';

/** A calibrated PSR and where it came from. */
export interface PsrCalibration {
  /** relative move: PSR = e^q − 1 */
  psr: number;
  /** the quantile of |h-day log returns| */
  q: number;
  /** number of returns (window − h) and the rank taken (1-based) */
  n: number;
  rank: number;
  /** first and last close of the window (YYYY-MM-DD) */
  firstDate: string;
  lastDate: string;
}

/**
 * Nearest-rank quantile: the value at rank ceil(p·n) (1-based) of the sorted values. `p·n` is rounded
 * down by 1e-9 before the ceiling so that 0.07·100 = 7.000000000000001 gives rank 7, not 8.
 */
export function nearestRank(sortedAscending: Float64Array, p: number): { value: number; rank: number } {
  const n = sortedAscending.length;
  const rank = Math.min(n, Math.max(1, Math.ceil(p * n - 1e-9)));
  return { value: sortedAscending[rank - 1]!, rank };
}

/**
 * PSR of one underlying: with the last `window` closes on or before `snapshotDay` (a day number), the
 * n = window − h overlapping returns |ln(P[t]/P[t−h])|, q = their nearest-rank `quantile`, PSR = e^q − 1.
 * @throws InputError naming the closes file when fewer than `window` closes lie on or before the snapshot.
 */
export function psrFromHistory(
  series: PriceSeries,
  snapshotDay: number,
  quantile: number,
  horizonDays: number,
  windowDays: number,
): PsrCalibration {
  const end = lastPriceIndexOnOrBefore(series, snapshotDay);
  const have = end + 1;
  if (have < windowDays) {
    throw fileError(
      series.file,
      `does not reach back far enough: the SPAN PSR of ${series.underlying} needs ${windowDays} daily closes on or before ${formatDay(snapshotDay)}, the file has ${have}${have > 0 ? ` (${formatDay(series.day[0]!)} to ${formatDay(series.day[end]!)})` : ''}`,
    );
  }
  const start = end - windowDays + 1;
  const n = windowDays - horizonDays;
  const r = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = start + horizonDays + k;
    r[k] = Math.abs(Math.log(series.close[t]! / series.close[t - horizonDays]!));
  }
  r.sort();
  const { value: q, rank } = nearestRank(r, quantile);
  return {
    psr: Math.expm1(q),
    q,
    n,
    rank,
    firstDate: formatDay(series.day[start]!),
    lastDate: formatDay(series.day[end]!),
  };
}
