/**
 * Hand-made markets and histories for the scenario tests: only what a scenario family reads (the
 * underlyings, their order, the snapshot time).
 */
import type { History, PriceSeries, VolIndexSeries } from '../../src/history/types.js';
import type { Market } from '../../src/model/market.js';

/** A market with the given underlyings and no instruments; snapshot at `snapshotIso` (UTC). */
export function marketOf(
  underlyings: string[],
  snapshotIso = '2026-02-01T09:23:23Z',
  indexPrice: number[] = underlyings.map(() => 100),
): Market {
  return {
    snapshotTimeMs: Date.parse(snapshotIso),
    underlyings: [...underlyings],
    underlyingId: new Map(underlyings.map((u, i) => [u, i])),
    indexPrice: Float64Array.from(indexPrice),
    rate: new Float64Array(underlyings.length),
    instruments: {
      count: 0,
      name: [],
      id: new Map(),
      underlying: new Int32Array(0),
      kind: new Uint8Array(0),
      optionType: new Uint8Array(0),
      settlement: new Uint8Array(0),
      strike: new Float64Array(0),
      expiryMs: new Float64Array(0),
      tYears: new Float64Array(0),
      markPrice: new Float64Array(0),
      markIv: new Float64Array(0),
      forward: new Float64Array(0),
      bidPrice: new Float64Array(0),
      askPrice: new Float64Array(0),
      openInterest: new Float64Array(0),
    },
  };
}

/** Day number of an ISO date. */
export const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

/** A gap-free close series starting on `firstIso`. */
export function priceSeries(underlying: string, firstIso: string, close: number[]): PriceSeries {
  const d0 = day(firstIso);
  return {
    underlying,
    file: `${underlying}-USD_1d.csv`,
    day: Int32Array.from(close, (_, i) => d0 + i),
    close: Float64Array.from(close),
  };
}

/** Closes 100·exp(cumulative sum of the given daily log returns), first close 100. */
export function closesFromLogReturns(d: number[]): number[] {
  const out = [100];
  let x = Math.log(100);
  for (const r of d) {
    x += r;
    out.push(Math.exp(x));
  }
  return out;
}

/** A history over the given series and vol indices. */
export function historyOf(prices: PriceSeries[], vols: VolIndexSeries[] = []): History {
  return {
    dir: 'test-history',
    underlyings: prices.map((p) => p.underlying),
    prices: new Map(prices.map((p) => [p.underlying, p])),
    volIndex: new Map(vols.map((v) => [v.underlying, v])),
  };
}

/** A vol index with values on the listed days only. */
export function volSeries(underlying: string, points: Array<[string, number]>): VolIndexSeries {
  return {
    underlying,
    file: `dvol_${underlying.toLowerCase()}.csv`,
    day: Int32Array.from(points, ([d]) => day(d)),
    value: Float64Array.from(points, ([, v]) => v),
  };
}
