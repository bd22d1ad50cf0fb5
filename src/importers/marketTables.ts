/**
 * The market snapshot as an importer produces it, column by column, before it is written to
 * `instruments.arrow` and `underlyings.arrow` (docs/data.md, "Tables"). Absent numbers are NaN, absent
 * strings null; the writer turns both into Arrow nulls.
 */

/** The instruments table (one entry per instrument, all arrays the same length). */
export interface InstrumentColumns {
  /** unique name, e.g. `BTC-27MAR26-80000-C` */
  instrument: string[];
  /** `BTC`, `ETH`, … */
  underlying: string[];
  /** `option`, `future` or `perpetual` */
  kind: string[];
  /** `C` or `P` for options, null otherwise */
  optionType: (string | null)[];
  /** USD; NaN (null) when not an option */
  strike: Float64Array;
  /** ms since the epoch, UTC; NaN (null) for perpetuals */
  expiryMs: Float64Array;
  /** `inverse` or `linear` */
  settlement: string[];
  /** coin per unit of underlying for inverse options, USD otherwise */
  markPrice: Float64Array;
  /** decimal per year; NaN (null) when not an option */
  markIv: Float64Array;
  /** USD forward at the instrument's expiry (a future's or perpetual's own mark) */
  forward: Float64Array;
  /** same units as markPrice; NaN (null) when there is no quote */
  bidPrice: Float64Array;
  askPrice: Float64Array;
  /** units of underlying; NaN (null) when absent */
  openInterest: Float64Array;
}

/** The underlyings table. */
export interface UnderlyingColumns {
  underlying: string[];
  /** USD spot index */
  indexPrice: Float64Array;
  /** continuously compounded rate (0 for Deribit: options are valued undiscounted) */
  rate: Float64Array;
  /** ms since the epoch, UTC: one value for the whole snapshot */
  snapshotTimeMs: number;
}

/** A market snapshot ready to write. */
export interface MarketTables {
  instruments: InstrumentColumns;
  underlyings: UnderlyingColumns;
}
