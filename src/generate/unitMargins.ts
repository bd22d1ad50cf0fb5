/**
 * The margins of one generated account per settlement unit, as the engine computes them: first the
 * engine's own deribit-pm margin (docs/methodology.md §4a, src/margin/deribitPm.ts), computed for one
 * generated account at a time so the generator can size collateral against it while it streams the
 * book: the scenario set of `buildScenarios('deribit-pm', market, defaultParams())`, revalued with the
 * cpu backend's float64 tile (kernels/revalue.ts revalueTile: the same numbers `run --backend cpu`
 * aggregates), grouped per (account, settlement currency) unit with the set's per-underlying weights
 * and `pnl_offset`, plus the roll shock and the liquidity add-on (src/margin/liquidity.ts). Equity from
 * positions uses the engine's option model values (src/margin/optionValue.ts). Units: a coin unit
 * (inverse instruments of one underlying) in coin, the USDC unit (linear instruments) in USD. Then
 * the standard (per-position) margin of the same units (src/margin/standard.ts `standardFromTable`).
 */
import { KIND_OPTION, KIND_PERPETUAL, SETTLE_INVERSE, type Market } from '../model/market.js';
import { revalueColumns } from '../engine/revalueColumns.js';
import { revalueTile } from '../../kernels/revalue.js';
import { liquidityAddonFromTable, liquidityTable, type LiquidityTable } from '../margin/liquidity.js';
import { optionValuesUsd } from '../margin/optionValue.js';
import { standardFromTable, standardTable, type StandardTable } from '../margin/standardFormulas.js';
import { bucketWeights } from '../margin/plan.js';
import { forUnderlying, type Params } from '../params/params.js';
import { buildScenarios } from '../scenarios/build.js';

/** Per-instrument inputs of the deribit-pm margin, in the instrument's settlement unit currency. */
export interface PmMarginTable {
  instruments: number;
  underlyings: number;
  scenarios: number;
  /** per instrument: unit currency code, the underlying (0..U-1) for inverse, U (USDC) for linear */
  unit: Int32Array;
  /** [i * scenarios + s]: P&L of +1 unit of underlying in the unit's currency (coin row or USD row), gain positive */
  pnl: Float64Array;
  /** [s * underlyings + u]: the set's bucket weights */
  weight: Float64Array;
  /** per instrument: roll shock per unit of |q| (0 for options), unit currency */
  roll: Float64Array;
  /** the liquidity add-on's inputs (src/margin/liquidity.ts: the add-on is computed by its liquidityAddonFromTable) */
  liquidity: LiquidityTable;
  /** per instrument: value of +1 unit in the unit's currency (options V/F coin or V USD; 0 for delta-one) */
  value: Float64Array;
  /** per instrument: forward F (USD), for the unrealised P&L of futures with an entry price */
  forward: Float64Array;
  pnlOffset: number;
  mmFactor: number;
  /** the standard margin's per-instrument coefficients */
  standard: StandardTable;
}

/**
 * Builds the table for `market` under `params` (the engine's defaults when the generator calls it).
 * About I × 35 Black-76 evaluations.
 */
export function pmMarginTable(market: Market, params: Params): PmMarginTable {
  const ins = market.instruments;
  const I = ins.count;
  const U = market.underlyings.length;
  const set = buildScenarios('deribit-pm', market, params);
  const S = set.count;
  const cols = revalueColumns(market, set, params, true);
  revalueTile(cols, 0, I, 0, S);
  const liq = liquidityTable(market, params);
  const values = optionValuesUsd(market);
  const dp = params.deribitPm;
  const unit = new Int32Array(I);
  const pnl = new Float64Array(I * S);
  const roll = new Float64Array(I);
  const value = new Float64Array(I);
  const forward = new Float64Array(I);
  for (let i = 0; i < I; i++) {
    const coin = ins.settlement[i] === SETTLE_INVERSE;
    const c = coin ? ins.underlying[i]! : U;
    const F = ins.forward[i]!;
    unit[i] = c;
    forward[i] = F;
    const row = coin ? I + i : i; // coinRow / usdRow of src/engine/types.ts
    pnl.set(cols.out.subarray(row * S, (row + 1) * S), i * S);
    if (ins.kind[i] === KIND_OPTION) {
      value[i] = coin ? values[i]! / F : values[i]!;
    } else {
      const key = coin ? market.underlyings[c]! : 'USDC';
      const t = ins.kind[i] === KIND_PERPETUAL ? 0 : Math.max(ins.tYears[i]!, 0);
      const r = Math.max(forUnderlying(dp.minAnnualisedMove, key), forUnderlying(dp.annualisedMoveRisk, key) * t);
      roll[i] = coin ? r : r * F;
    }
  }
  return {
    instruments: I,
    underlyings: U,
    scenarios: S,
    unit,
    pnl,
    weight: bucketWeights(set, market),
    roll,
    liquidity: liq,
    value,
    forward,
    pnlOffset: dp.pnlOffset,
    mmFactor: dp.mmFactor,
    standard: standardTable(market, params),
  };
}

/**
 * One account's margins per unit currency c (0..U-1 coin, U USDC): add its positions, then
 * {@link UnitMarginAccount.finish}; `im`, `mm` (deribit-pm), `stdIm`, `stdMm` (standard), `value`
 * (equity of the positions alone: option values and futures' unrealised P&L) and `held` are indexed by
 * c, in the unit's currency. Reused across accounts.
 */
export class UnitMarginAccount {
  readonly im: Float64Array;
  readonly mm: Float64Array;
  readonly stdIm: Float64Array;
  readonly stdMm: Float64Array;
  readonly value: Float64Array;
  readonly held: Uint8Array;
  private readonly vec: Float64Array;
  private readonly used: Uint8Array;
  private readonly roll: Float64Array;
  private readonly addon: Float64Array;
  private readonly tmp: Float64Array;

  constructor(private readonly t: PmMarginTable) {
    const U = t.underlyings;
    this.im = new Float64Array(U + 1);
    this.mm = new Float64Array(U + 1);
    this.stdIm = new Float64Array(U + 1);
    this.stdMm = new Float64Array(U + 1);
    this.tmp = new Float64Array(2);
    this.value = new Float64Array(U + 1);
    this.held = new Uint8Array(U + 1);
    this.vec = new Float64Array((U + 1) * U * t.scenarios);
    this.used = new Uint8Array((U + 1) * U);
    this.roll = new Float64Array(U + 1);
    this.addon = new Float64Array(U + 1);
  }

  /** Starts a new account. */
  reset(): void {
    this.vec.fill(0);
    this.used.fill(0);
    this.roll.fill(0);
    this.addon.fill(0);
    this.value.fill(0);
    this.held.fill(0);
    this.stdIm.fill(0);
    this.stdMm.fill(0);
  }

  /** Adds a position: instrument id, signed quantity (coin), entry price (USD; NaN for none). */
  add(i: number, q: number, entryPrice: number, underlying: number, isOption: boolean): void {
    const t = this.t;
    const S = t.scenarios;
    const c = t.unit[i]!;
    const slot = c * t.underlyings + underlying;
    this.held[c] = 1;
    this.used[slot] = 1;
    const base = slot * S;
    const row = i * S;
    for (let s = 0; s < S; s++) this.vec[base + s] = this.vec[base + s]! + q * t.pnl[row + s]!;
    const a = Math.abs(q);
    this.roll[c] = this.roll[c]! + a * t.roll[i]!;
    // the engine's own add-on (docs/methodology.md §4e): coin units in coin, the USDC unit in USD
    this.addon[c] = this.addon[c]! + liquidityAddonFromTable(t.liquidity, i, q, c < t.underlyings);
    standardFromTable(t.standard, i, q, this.tmp);
    this.stdIm[c] = this.stdIm[c]! + this.tmp[0]!;
    this.stdMm[c] = this.stdMm[c]! + this.tmp[1]!;
    if (isOption) this.value[c] = this.value[c]! + q * t.value[i]!;
    else if (Number.isFinite(entryPrice)) {
      const F = t.forward[i]!;
      this.value[c] = this.value[c]! + (c < t.underlyings ? q * (1 - entryPrice / F) : q * (F - entryPrice));
    }
  }

  /**
   * The loss of unit c in every scenario, Σ_b adj(w[s,b]·p_b[s]) negated (positive = a loss), into `out`
   * (length scenarios): the vector whose maximum, floored at 0, is the unit's worst case (finish). The
   * report page draws it on the deribit-pm grid (src/cli/gridLosses.ts).
   */
  unitLosses(c: number, out: Float64Array): void {
    const t = this.t;
    const U = t.underlyings;
    for (let s = 0; s < t.scenarios; s++) {
      let p = 0;
      for (let b = 0; b < U; b++) {
        if (!this.used[c * U + b]) continue;
        const x = t.weight[s * U + b]! * this.vec[(c * U + b) * t.scenarios + s]!;
        p += x < 0 ? x : t.pnlOffset * x;
      }
      out[s] = -p;
    }
  }

  /**
   * Fills im and mm of every held unit: worst loss over the scenarios of Σ_b adj(w[s,b]·p_b[s])
   * (adj(x) = x below 0, pnl_offset·x above), floored at 0, plus the roll shock = risk-matrix margin
   * (rmm); MM = mm_factor·rmm, IM = rmm + liquidity add-on. Units not held get 0.
   */
  finish(): void {
    const t = this.t;
    const S = t.scenarios;
    const U = t.underlyings;
    for (let c = 0; c <= U; c++) {
      this.im[c] = 0;
      this.mm[c] = 0;
      if (!this.held[c]) continue;
      let worst = -Infinity;
      for (let s = 0; s < S; s++) {
        let p = 0;
        for (let b = 0; b < U; b++) {
          if (!this.used[c * U + b]) continue;
          const x = t.weight[s * U + b]! * this.vec[(c * U + b) * S + s]!;
          p += x < 0 ? x : t.pnlOffset * x;
        }
        if (-p > worst) worst = -p;
      }
      const rmm = Math.max(0, worst) + this.roll[c]!;
      this.mm[c] = t.mmFactor * rmm;
      this.im[c] = rmm + this.addon[c]!;
    }
  }
}
