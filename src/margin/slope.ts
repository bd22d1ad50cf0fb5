/**
 * Slope bounds for the distance search (docs/methodology.md §7; distance.ts): how fast a status unit's
 * f = E − MM can fall with a move x of some underlyings (each such price × (1 + x)), going down and going up.
 * Each model that has one states it beside its formulas (span.ts, var.ts, deribitPm.ts); what they share is here.
 */
import type { PositionBook } from '../model/book.js';
import { KIND_OPTION, type Market } from '../model/market.js';
import type { MarginInput } from './runTables.js';
import { balanceUnitCodes } from './settlementUnits.js';
import type { ScenarioSet } from '../scenarios/types.js';

/**
 * A bound on how fast a status unit's f = E − MM can fall as some underlyings move (each such price × (1 + x)),
 * per direction of the move: from x to y over an interval of moves whose smallest 1 + x is g > 0,
 * f(y) ≥ f(x) − D(g)·|y − x| with D(g) = max(0, c0 + c1/g + c2/g²) ({@link decline}), `down` for y < x and `up`
 * for y > x, per status unit (the account for span and var, the book's unit for deribit-pm); c1, c2 ≥ 0, and c0
 * below 0 where f rises at least that fast in that direction; Infinity in c0 where the model has none.
 * MarginModel.slopeBound gives it; the distance search skips grid points with it. A model's terms each have a
 * slope within an interval [lo, hi] (in x); f, their minimum, falls going up no faster than the largest −lo and
 * going down no faster than the largest hi, so f cannot fall in a direction where every term rises.
 */
export interface SlopeBound {
  down: SlopeCoefficients;
  up: SlopeCoefficients;
  /**
   * per status unit, Σ|q|·v over its positions (v = |F| in USD, 1 in a coin unit) and its coin collateral where
   * the model aggregates it: the gross size that the float32 devices' error scales with (docs/architecture.md,
   * 5e-7·Σ|q|·v). The scan's slack covers that error with it, since D itself can be far smaller (or 0)
   */
  scale: Float64Array;
  /**
   * per status unit, a floor under f at every move (slope.ts SlopeFloor): where it lies above the devices' error
   * at the search range's least 1 + x, the unit cannot reach liquidation within the range at all, however fast f
   * may fall on the way (a long option's value falls, and with it the scenario losses it can have)
   */
  floor: SlopeFloor;
}

/**
 * f ≥ c0 + c1·g at every move x > −1 of the moved underlyings, g = 1 + x (c1 ≥ 0), per status unit; c0 −Infinity
 * where the model has none. The models give it to a unit whose every position is a long option (its value, ≥ 0,
 * bounds any scenario's loss on it), for their balances: deribit-pm's unit balance, span's USD balances and
 * coin balances at their least scenario value (span.ts, deribitPm.ts).
 */
export interface SlopeFloor {
  c0: Float64Array;
  c1: Float64Array;
}

/** The floor of status unit i at g (SlopeFloor): −Infinity where there is none. */
export function floorAt(floor: SlopeFloor, i: number, g: number): number {
  const f = floor.c0[i]! + floor.c1[i]! * g;
  return Number.isNaN(f) ? -Infinity : f;
}

/**
 * Whether the positions [p0, p1) of `book` are all long options with a mark_iv (their values, and every
 * scenario's, are then ≥ 0 and finite: the models' floors, SlopeFloor).
 */
export function longOptionsOnly(book: PositionBook, market: Market, p0: number, p1: number): boolean {
  const ins = market.instruments;
  for (let p = p0; p < p1; p++) {
    const i = book.instrumentId[p]!;
    const q = book.quantity[p]!;
    if (ins.kind[i] !== KIND_OPTION || !(q > 0) || !Number.isFinite(q)) return false;
    if (!Number.isFinite(ins.markIv[i]!) || !(ins.forward[i]! > 0) || !Number.isFinite(ins.forward[i]!)) return false;
  }
  return true;
}

/** One direction's D(g) = max(0, c0 + c1/g + c2/g²) per status unit (SlopeBound). */
export interface SlopeCoefficients {
  c0: Float64Array;
  c1: Float64Array;
  c2: Float64Array;
}

/** D(g) of status unit i (SlopeBound): how fast its f can fall; Infinity where there is no bound. */
export function decline(c: SlopeCoefficients, i: number, g: number): number {
  const D = c.c0[i]! + c.c1[i]! / g + c.c2[i]! / (g * g);
  return Number.isNaN(D) ? Infinity : Math.max(0, D);
}

/** What a slope bound reads: the book at the unmoved market, and the model's scenario set. */
export type SlopeInput = Pick<MarginInput, 'book' | 'balances' | 'market' | 'scenarios' | 'params'>;

/**
 * A bound on an option's discounted delta |∂V/∂F| (Black-76: e^{−r·T} times a delta in [0, 1]): max(1, e^{−r·T}),
 * T floored at 0 and a missing rate read as 0. The one definition the models' slope bounds share.
 */
export function deltaBound(market: Market, i: number): number {
  const u = market.instruments.underlying[i];
  return Math.max(1, Math.exp(-(market.rate[u] || 0) * Math.max(market.instruments.tYears[i], 0)));
}

/**
 * The range of Σ (α₁·Δ + α₂·Δ_s) over options whose Δ and Δ_s (two deltas, at two prices) each lie in [0, 1]
 * times their weight in `up`, or in [−1, 0] times their weight in `down` (a slope of known sign, its size
 * bounded by the weight): `up`·[lo, hi] + `down`·[−hi, −lo] with lo = min(0, α₁) + min(0, α₂) and hi =
 * max(0, α₁) + max(0, α₂); into `out` as [low, high]. The models' slope bounds share it (span.ts,
 * deribitPm.ts, var.ts).
 */
export function optionSlopeRange(a1: number, a2: number, up: number, down: number, out: number[]): void {
  const lo = Math.min(0, a1) + Math.min(0, a2);
  const hi = Math.max(0, a1) + Math.max(0, a2);
  out[0] = up * lo - down * hi;
  out[1] = up * hi - down * lo;
}

/**
 * Sets the first n values of every array of `sums` to 0: a slope bound's per-underlying sums, cleared per account
 * or unit. A loop, not fill(): TypedArray.prototype.fill is a call into V8's runtime (20–40 ns), seven a unit.
 */
export function clearSums(sums: readonly (Float64Array | Uint8Array)[], n: number): void {
  for (const a of sums) for (let u = 0; u < n; u++) a[u] = 0;
}

/** A SlopeBound of n status units, every column 0 (f cannot fall) and no floor, for a model's bound to fill. */
export function zeroSlopeBound(n: number): SlopeBound {
  const zero = (): SlopeCoefficients => ({ c0: new Float64Array(n), c1: new Float64Array(n), c2: new Float64Array(n) });
  const floor = { c0: new Float64Array(n).fill(-Infinity), c1: new Float64Array(n) };
  return { down: zero(), up: zero(), scale: new Float64Array(n), floor };
}

/**
 * SlopeBound.scale of the models bounded per account (span, var): Σ |b|·S over each account's coin balances
 * (the spot rows they aggregate) and Σ |q·F| over its positions, into `scale` (indexed by account).
 */
export function accountScales(input: SlopeInput, scale: Float64Array): void {
  const { book, balances, market } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const hasBal = balances.amount.length >= book.accountCount * C;
  for (let a = 0; a < book.accountCount; a++) {
    if (hasBal)
      for (let j = 0; j < C; j++) {
        const u = codes[j]!;
        const b = balances.amount[a * C + j]!;
        if (u >= 0 && u < U && b !== 0) scale[a] += Math.abs(b) * market.indexPrice[u]!;
      }
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++)
      scale[a] += Math.abs(book.quantity[p]! * ins.forward[book.instrumentId[p]!]!);
  }
}

/** A SlopeBound of n status units, none of them bounded (c0 Infinity, no floor: the scan evaluates every point). */
export function noSlopeBound(n: number): SlopeBound {
  const b = zeroSlopeBound(n);
  b.down.c0.fill(Infinity);
  b.up.c0.fill(Infinity);
  return b;
}

/**
 * Each market underlying's index among the scenario set's underlyings, when the models' bounds can hold at all:
 * null under a surface or a set's surface shocks (an option's vol then moves with its price, and its delta is no
 * longer Black-76's at a fixed vol) or when a moved underlying is not in the set.
 */
export function boundSetIndex(market: Market, scenarios: ScenarioSet, moved: Uint8Array): number[] | null {
  if (market.volSurface || scenarios.surfaceShock) return null;
  const index = market.underlyings.map((n) => scenarios.underlyings.indexOf(n));
  return index.some((j, u) => moved[u] && j < 0) ? null : index;
}

/** The smallest 1 + m of a scenario set (a coin unit's rows divide by it: deribitPm.ts). */
export function leastGrowth(scenarios: ScenarioSet): number {
  let least = Infinity;
  for (const m of scenarios.move) least = Math.min(least, 1 + m);
  return least;
}
