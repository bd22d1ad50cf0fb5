/**
 * Every parameter of docs/methodology.md section 6, with the sources' defaults. Per-underlying parameters
 * are maps from underlying (or, for roll-shock, settlement currency) to value, with `other` used for any
 * underlying not listed. A run stores the whole set and its hash (see loadParams.ts).
 * Every parameter's unit, allowed range and source: paramSchema.ts (rendered in src/params/README.md).
 */
export const PARAMS_VERSION = 1;

export type PerUnderlying = Record<string, number> & { other: number };

export interface Params {
  version: number;
  deribitPm: {
    /** R_u: the standard grid's largest relative move */
    priceRange: PerUnderlying;
    bucketsCount: number;
    volRangeUp: PerUnderlying;
    volRangeDown: number;
    shortTermVegaPower: number;
    longTermVegaPower: number;
    minVolForShockUp: number;
    extendedTableFactor: number;
    extendedMoves: number[];
    /** keyed by unit currency: BTC, ETH, USDC, other */
    annualisedMoveRisk: PerUnderlying;
    minAnnualisedMove: PerUnderlying;
    mmFactor: number;
    pnlOffset: number;
  };
  span: {
    /** price scan range as a relative move, used when no history is given */
    psr: PerUnderlying;
    vsr: PerUnderlying;
    extremeMultiple: number;
    extremeCover: number;
    somRate: number;
    imFactor: number;
    /** PSR from history: quantile, horizon (days) and window (daily closes) */
    psrQuantile: number;
    psrHorizonDays: number;
    psrWindowDays: number;
  };
  var: {
    alpha: number;
    horizonDays: number;
    lookbackDays: number;
    ewmaLambda: number;
    ewmaSeedDays: number;
    filtered: boolean;
    mcScenarios: number;
    mcDegreesOfFreedom: number;
    mcSeed: number;
    /** β_u: g = exp(β_u · r_u) */
    volPriceElasticity: PerUnderlying;
    mmFactor: number;
  };
  standard: {
    imBase: PerUnderlying;
    mmBase: PerUnderlying;
    imPerCoin: PerUnderlying;
  };
  liquidity: {
    oiShare: number;
    defaultHalfSpread: number;
    /** cap of the concentration factor c (docs/methodology.md §4e) */
    maxConcentration: number;
  };
}

export function defaultParams(): Params {
  return {
    version: PARAMS_VERSION,
    deribitPm: {
      priceRange: { BTC: 0.16, ETH: 0.18, other: 0.25 },
      bucketsCount: 4,
      volRangeUp: { BTC: 0.5, ETH: 0.4, other: 0.5 },
      volRangeDown: 0.25,
      shortTermVegaPower: 0.3,
      longTermVegaPower: 0.13,
      minVolForShockUp: 0.5,
      extendedTableFactor: 1,
      extendedMoves: [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5],
      annualisedMoveRisk: { BTC: 0.075, ETH: 0.05, USDC: 0.1, other: 0.1 },
      minAnnualisedMove: { BTC: 0.01, ETH: 0.005, USDC: 0.01, other: 0.01 },
      mmFactor: 0.8,
      pnlOffset: 0,
    },
    span: {
      psr: { BTC: 0.12, ETH: 0.15, other: 0.2 },
      vsr: { other: 0.25 },
      extremeMultiple: 2,
      extremeCover: 0.35,
      somRate: 0.01,
      imFactor: 1.1,
      psrQuantile: 0.99,
      psrHorizonDays: 2,
      psrWindowDays: 365,
    },
    var: {
      alpha: 0.99,
      horizonDays: 2,
      lookbackDays: 1000,
      ewmaLambda: 0.94,
      ewmaSeedDays: 30,
      filtered: true,
      mcScenarios: 10_000,
      mcDegreesOfFreedom: 4,
      mcSeed: 20260201,
      volPriceElasticity: { other: -1.0 },
      mmFactor: 0.8,
    },
    standard: {
      imBase: { BTC: 0.02, ETH: 0.02, other: 0.02 },
      mmBase: { BTC: 0.01, ETH: 0.01, other: 0.01 },
      imPerCoin: { BTC: 0.00005, ETH: 0.000004, other: 0.00005 },
    },
    liquidity: {
      oiShare: 0.05,
      defaultHalfSpread: 0.0005,
      maxConcentration: 5,
    },
  };
}

/** The value of a per-underlying parameter for `key`, falling back to `other`. */
export function forUnderlying(p: PerUnderlying, key: string): number {
  const v = p[key];
  return v !== undefined ? v : p.other;
}
