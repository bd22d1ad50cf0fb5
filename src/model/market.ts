/**
 * The market snapshot as the engine computes on it: instruments with dense integer ids (0..count-1)
 * and every attribute in a typed array. Strings stay here, at the edge; hot loops see ids only.
 */

export const KIND_OPTION = 0;
export const KIND_FUTURE = 1;
export const KIND_PERPETUAL = 2;
export const KIND_NAMES = ['option', 'future', 'perpetual'] as const;

export const OPTION_NONE = 0;
export const OPTION_CALL = 1;
export const OPTION_PUT = 2;

export const SETTLE_INVERSE = 0;
export const SETTLE_LINEAR = 1;
export const SETTLEMENT_NAMES = ['inverse', 'linear'] as const;

/** Cash currencies, valued at 1 USD. */
export const CASH_CURRENCIES = ['USD', 'USDC', 'USDT'] as const;

/** Milliseconds in the engine's year of 365 days. */
export const MS_PER_YEAR = 365 * 86_400_000;

export interface Instruments {
  count: number;
  /** id -> name */
  name: string[];
  /** name -> id */
  id: Map<string, number>;
  /** index into `Market.underlyings` */
  underlying: Int32Array;
  /** KIND_* */
  kind: Uint8Array;
  /** OPTION_* (OPTION_NONE for futures and perpetuals) */
  optionType: Uint8Array;
  /** SETTLE_* */
  settlement: Uint8Array;
  /** USD; NaN when not an option */
  strike: Float64Array;
  /** ms since epoch, UTC; NaN for perpetuals */
  expiryMs: Float64Array;
  /** years of 365 days from the snapshot to expiry; 0 for perpetuals */
  tYears: Float64Array;
  /** coin per unit of underlying for inverse options, USD otherwise */
  markPrice: Float64Array;
  /** decimal per year; NaN when not an option */
  markIv: Float64Array;
  /** USD forward at this instrument's expiry (a future's or perpetual's own mark) */
  forward: Float64Array;
  /** same units as markPrice; NaN when no quote */
  bidPrice: Float64Array;
  askPrice: Float64Array;
  /** units of underlying; NaN when absent */
  openInterest: Float64Array;
}

export interface Market {
  /** ms since epoch, UTC: the time every T is measured from */
  snapshotTimeMs: number;
  /** underlying names, e.g. ['BTC', 'ETH'] (order of the underlyings file) */
  underlyings: string[];
  underlyingId: Map<string, number>;
  /** USD spot index per underlying */
  indexPrice: Float64Array;
  /** continuously compounded rate per underlying (0 when absent) */
  rate: Float64Array;
  instruments: Instruments;
  /**
   * The fitted surface as the revaluation reads it (docs/methodology.md §11c; src/surface/surface.ts
   * instrumentSlices), set when the run revalues under sticky moneyness or a scenario set shocks the
   * surface: per instrument the raw SVI parameters [a, b, ρ, m, σ] of its expiry's fitted slice, [i·5 + j]
   * (flat, all 0, for futures, perpetuals and options whose slice is not fitted), and the dynamics.
   * Absent: sticky strike without surface shocks, every option keeps its own vol.
   */
  volSurface?: { params: Float64Array; stickyMoneyness: boolean };
  /**
   * Per instrument, the index price of its underlying, where the instruments are copies at different moves
   * of the market (the distance search's combined re-margin, src/margin/distance.ts: `indexPrice` is then
   * NaN, and each account's index prices are RunTables.accountIndexPrice). Absent: `indexPrice[underlying]`.
   */
  instrumentIndexPrice?: Float64Array;
}

/** The index price of instrument i's underlying (Market.instrumentIndexPrice where the market has it). */
export function instrumentIndexPrice(market: Market, i: number): number {
  return market.instrumentIndexPrice
    ? market.instrumentIndexPrice[i]
    : market.indexPrice[market.instruments.underlying[i]];
}
