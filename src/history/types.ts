/**
 * Daily history the scenario families calibrate on: closes per underlying and, where one exists, an
 * implied-volatility index (Deribit's DVOL for BTC). Columns, not rows: a series is a pair of typed arrays.
 */

/** Daily closes of one underlying, one per calendar day, ascending, no gaps. */
export interface PriceSeries {
  underlying: string;
  /** file the series came from (for messages) */
  file: string;
  /** day numbers (days since 1970-01-01 UTC), ascending, consecutive */
  day: Int32Array;
  /** close in USD, > 0 */
  close: Float64Array;
}

/** An implied-volatility index: one value per listed day, ascending; days may be missing. */
export interface VolIndexSeries {
  underlying: string;
  file: string;
  /** day numbers, strictly ascending (gaps allowed) */
  day: Int32Array;
  /** index level in vol points (DVOL 55.2 = 55.2%), > 0 */
  value: Float64Array;
}

/** Everything `loadHistory` read: closes for every requested underlying, vol indices for some. */
export interface History {
  dir: string;
  /** the requested underlyings, in request order */
  underlyings: string[];
  prices: Map<string, PriceSeries>;
  /** only the underlyings that have an index file */
  volIndex: Map<string, VolIndexSeries>;
}
