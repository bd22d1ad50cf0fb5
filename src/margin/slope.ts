/**
 * Slope bounds for the distance search (docs/methodology.md §7; distance.ts): how fast a status unit's
 * f = E − MM can change with a move x of some underlyings (each such price × (1 + x)). Each model that has
 * one states it beside its formulas (span.ts, var.ts, deribitPm.ts); what they share is here.
 */
import { KIND_OPTION, type Market } from '../model/market.js';
import type { MarginInput } from './runTables.js';
import { balanceUnitCodes } from './settlementUnits.js';
import type { ScenarioSet } from '../scenarios/types.js';

/**
 * A bound on how fast a status unit's f = E − MM can change with a move x of some underlyings (each such price
 * × (1 + x)): over any interval of moves whose smallest 1 + x is g > 0, |f(x) − f(y)| ≤ L(g)·|x − y| with
 * L(g) = c0 + c1/g + c2/g², per status unit (the account for span, the book's unit for deribit-pm); Infinity
 * in c0 where the model has none. MarginModel.slopeBound gives it; the distance search skips grid points with it.
 */
export interface SlopeBound {
  c0: Float64Array;
  c1: Float64Array;
  c2: Float64Array;
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
 * max(0, α₁) + max(0, α₂); into `out` as [low, high]. The models' slope bounds share it (span.ts, deribitPm.ts).
 */
export function optionSlopeRange(a1: number, a2: number, up: number, down: number, out: number[]): void {
  const lo = Math.min(0, a1) + Math.min(0, a2);
  const hi = Math.max(0, a1) + Math.max(0, a2);
  out[0] = up * lo - down * hi;
  out[1] = up * hi - down * lo;
}

/** The largest |w|, |m|, |1 + m| + 1 and |m₁| of a scenario set, and its smallest 1 + m (for slope bounds). */
export function scenarioExtremes(scenarios: ScenarioSet): {
  weight: number;
  move: number;
  optionMove: number;
  deltaOneMove: number;
  leastGrowth: number;
} {
  let weight = 0;
  let move = 0;
  let optionMove = 0;
  let deltaOneMove = 0;
  let leastGrowth = Infinity;
  for (const w of scenarios.weight) weight = Math.max(weight, Math.abs(w));
  for (const m of scenarios.move) {
    move = Math.max(move, Math.abs(m));
    optionMove = Math.max(optionMove, Math.abs(1 + m) + 1);
    leastGrowth = Math.min(leastGrowth, 1 + m);
  }
  for (const m of scenarios.deltaOneMove) deltaOneMove = Math.max(deltaOneMove, Math.abs(m));
  return { weight, move, optionMove, deltaOneMove, leastGrowth };
}

/**
 * The bound of an account whose f is in USD and whose MM is built from scenario losses of its positions' USD
 * rows and coin balances' spot rows (var), per account, constant in x (c1 = c2 = 0). MM's slope is at most
 * `lossScale` times the largest slope of one scenario's P&L (a maximum, a weighted maximum, a tail mean and
 * max(0, ·) are no steeper than their steepest term). A sum of |q|·F·c over positions: span's own bound
 * (span.ts spanSlopeBound) sees the signs of the terms and is about 2–3× tighter.
 *
 * Every term is linear in x through a price F₀(1 + x) (S₀(1 + x) for the index), and the USD value of every
 * instrument has |∂V/∂F| ≤ c = max(1, e^{−r·T}) (Black-76: a discounted delta; a delta-one: 1), so with the
 * set's largest |m|, |1 + m| + 1 and |m₁| (scenarioExtremes), per moved underlying u:
 * - equity: |b_u|·S_u + Σ_p |q_p|·F_p·c_p (coin balance; options at their model value, futures with an entry);
 * - one scenario's P&L: Σ_options |q|·F·c·max(|1 + m| + 1) + Σ_delta-ones |q|·F·max|m₁| + |b_u|·S_u·max|m|.
 * No bound (Infinity) when the revaluation's vol depends on the price (a surface: sticky moneyness or surface
 * shocks), when an option has no mark_iv (valued at its quoted mark), or when anything is not finite.
 */
export function usdAccountSlopeBound(input: SlopeInput, moved: Uint8Array, lossScale: number): SlopeBound {
  const { book, balances, market, scenarios } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const A = book.accountCount;
  const out: SlopeBound = { c0: new Float64Array(A), c1: new Float64Array(A), c2: new Float64Array(A) };
  if (market.volSurface || scenarios.surfaceShock) {
    out.c0.fill(Infinity);
    return out;
  }
  const x = scenarioExtremes(scenarios);
  const scan = lossScale;
  const codes = balanceUnitCodes(balances, market);
  const hasBal = balances.amount.length >= A * C;
  for (let a = 0; a < A; a++) {
    let L = 0;
    if (hasBal)
      for (let j = 0; j < C; j++) {
        const u = codes[j];
        if (u >= 0 && u < U && moved[u]) {
          const b = Math.abs(balances.amount[a * C + j]) * market.indexPrice[u];
          L += b + scan * b * x.move; // its USD value, and its spot row in every scenario
        }
      }
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++) {
      const i = book.instrumentId[p];
      const u = ins.underlying[i];
      if (!moved[u]) continue;
      const q = Math.abs(book.quantity[p]);
      const F = Math.abs(ins.forward[i]);
      if (ins.kind[i] === KIND_OPTION) {
        if (!Number.isFinite(ins.markIv[i])) {
          L = Infinity;
          break;
        }
        const c = deltaBound(market, i);
        L += q * F * c * (1 + scan * x.optionMove);
      } else L += q * F * (1 + scan * x.deltaOneMove);
    }
    out.c0[a] = Number.isNaN(L) ? Infinity : L;
  }
  return out;
}
