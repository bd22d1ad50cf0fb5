/**
 * `deribit-pm`: coin-margined portfolio margin after Deribit's S:PM (docs/methodology.md §4a). Units are
 * (account, settlement currency): inverse instruments of an underlying make its coin unit, margined
 * in coin on the coin P&L rows; linear instruments of every underlying make the USDC unit, margined in
 * USDC on the USD rows. Buckets are underlyings, weighted by the set's per-underlying weights and
 * combined with `pnl_offset`. Coin collateral has no P&L in coin, so no spot rows enter.
 */
import { coinRow, usdRow, type Reduced } from '../engine/types.js';
import { KIND_OPTION, KIND_PERPETUAL, OPTION_CALL, type Instruments } from '../model/market.js';
import { forUnderlying, type Params } from '../params/params.js';
import { bucketWeights, worstScenarioId, type MarginInput, type ModelPlan } from './plan.js';
import {
  boundSetIndex,
  clearSums,
  deltaBound,
  leastGrowth,
  longOptionsOnly,
  noSlopeBound,
  zeroSlopeBound,
  optionSlopeRange,
  type SlopeBound,
  type SlopeInput,
} from './slope.js';
import { allocMarginRows, sharedFloat64, sharedInt32 } from './rows.js';
import { balanceUnitCodes, type SettlementUnits } from './settlementUnits.js';
import { unitBalances } from './equity.js';
import type { UnitTables } from './runTables.js';
import { fillDerived } from './derived.js';
import type { MarginRows } from './types.js';
import type { ScenarioSet } from '../scenarios/types.js';

/** A deribit-pm plan keeps its settlement units for assembly. */
export interface DeribitPmPlan extends ModelPlan {
  units: SettlementUnits;
}

/** Per unit (group), what deribit-pm's rows take besides the reduced losses. */
export interface DeribitPmPrepared {
  /** the futures roll shock, in the unit's currency */
  roll: Float64Array;
  /** the liquidity add-on, in the unit's currency */
  addon: Float64Array;
  /** unit equity (equity.ts) */
  equity: Float64Array;
  /** standard IM and MM of the unit */
  stdIm: Float64Array;
  stdMm: Float64Array;
}

/**
 * Groups of deribit-pm, one per (account, settlement currency) unit with a position or a balance:
 * coin unit u → coin rows of its inverse instruments; USDC unit → USD rows of its linear instruments;
 * qty = position size in coin (units of underlying), bucket = underlying, weights w[s,u] of the set,
 * pnlOffset = params.deribitPm.pnlOffset (applied to every bucket's positive P&L, a one-underlying
 * unit included, as Deribit's published vectors do: it never changes worst_case). topK 0.
 */
export function deribitPmGroups(input: MarginInput): DeribitPmPlan {
  const { book, market, scenarios, params } = input;
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const units = input.units;
  const G = units.count;
  const groupStart = sharedInt32(G + 1); // shared memory: the cpu pool reads the GroupBook without a copy
  for (let k = 0; k < G; k++) {
    const bu = units.bookUnit[k];
    groupStart[k + 1] = groupStart[k] + (bu >= 0 ? book.unitStart[bu + 1] - book.unitStart[bu] : 0);
  }
  const E = groupStart[G];
  const row = sharedInt32(E);
  const qty = sharedFloat64(E);
  const bucket = sharedInt32(E);
  const entryPosition = new Int32Array(E);
  const underlying = market.instruments.underlying;
  for (let k = 0; k < G; k++) {
    const bu = units.bookUnit[k];
    if (bu < 0) continue;
    const coin = units.currency[k] < U;
    let e = groupStart[k];
    for (let p = book.unitStart[bu]; p < book.unitStart[bu + 1]; p++, e++) {
      const i = book.instrumentId[p];
      row[e] = coin ? coinRow(i, I) : usdRow(i);
      qty[e] = book.quantity[p];
      bucket[e] = underlying[i];
      entryPosition[e] = p;
    }
  }
  return {
    model: 'deribit-pm',
    groups: {
      groupCount: G,
      groupStart,
      row,
      qty,
      bucket,
      buckets: U,
      weight: bucketWeights(scenarios, market),
      pnlOffset: params.deribitPm.pnlOffset,
    },
    request: { topK: 0 },
    account: units.account,
    unit: units.currency,
    unitNames: units.names,
    currency: units.currency,
    currencyNames: units.names,
    entryPosition,
    units,
  };
}

/**
 * What deribit-pm's rows need besides the reduced losses, per unit: roll_shock = Σ_{futures,
 * perpetuals} |q|·max(min_annualised_move, annualised_move_risk·T) (T = 0 for perpetuals; parameters
 * keyed by the unit currency: BTC, ETH, USDC; × F in the USDC unit), the liquidity add-on, the unit's
 * equity and its standard IM and MM (from the run's UnitTables). A run computes it while the backend
 * aggregates.
 */
export function deribitPmPrepare(input: MarginInput, plan: DeribitPmPlan, unit: UnitTables): DeribitPmPrepared {
  const { book, market, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const units = plan.units;
  const G = units.count;
  const dp = params.deribitPm;
  const { groupStart, qty } = plan.groups;
  const entryPosition = plan.entryPosition;
  const roll = new Float64Array(G);
  // roll-shock rates per unit currency code (BTC, ETH, …, USDC)
  const minMoves = units.names.map((n) => forUnderlying(dp.minAnnualisedMove, n));
  const moveRisks = units.names.map((n) => forUnderlying(dp.annualisedMoveRisk, n));
  for (let g = 0; g < G; g++) {
    const code = units.currency[g];
    const coin = code < U;
    const minMove = minMoves[code];
    const moveRisk = moveRisks[code];
    let r = 0;
    for (let e = groupStart[g]; e < groupStart[g + 1]; e++) {
      const i = book.instrumentId[entryPosition[e]];
      const q = qty[e];
      if (ins.kind[i] === KIND_OPTION) continue;
      const x = Math.abs(q) * rollRate(ins, i, minMove, moveRisk);
      r += coin ? x : x * ins.forward[i];
    }
    roll[g] = r;
  }
  // the unit's add-on, equity and standard margin: the same units and positions as standard margin's
  return { roll, addon: unit.liquidityAddon, equity: unit.equity, stdIm: unit.standardIm, stdMm: unit.standardMm };
}

/**
 * The roll shock of one future or perpetual per unit of size (in coin; × F in the USDC unit):
 * max(min_annualised_move, annualised_move_risk · T), T = 0 for a perpetual.
 */
function rollRate(ins: Instruments, i: number, minMove: number, moveRisk: number): number {
  const t = ins.kind[i] === KIND_PERPETUAL ? 0 : Math.max(ins.tYears[i], 0);
  return Math.max(minMove, moveRisk * t);
}

/**
 * Rows of deribit-pm from the reduced worst losses, in the unit's currency (coin or USDC):
 * worst_case = max(0, worst loss); roll_shock (deribitPmPrepare); delta_shock = 0 (not modelled);
 * risk_matrix_margin = worst_case + roll_shock; MM = mm_factor · rmm; IM = rmm + liquidity_addon;
 * equity per unit (equity.ts); the standard margin of the same unit in standardIm/standardMm; status.
 * worstScenario is the set's id.
 */
export function deribitPmAssemble(
  input: MarginInput,
  plan: DeribitPmPlan,
  prepared: DeribitPmPrepared,
  reduced: Reduced,
): MarginRows {
  const { scenarios, params } = input;
  const units = plan.units;
  const G = units.count;
  const { roll, addon, equity, stdIm, stdMm } = prepared;
  // the unit's account, currency, add-on, equity and standard margin are the run's own columns (one row per
  // unit, in the units' order): taken as they are; every row sets the others (fillDerived the rest)
  const rows = allocMarginRows(
    'deribit-pm',
    G,
    units.names,
    units.names,
    [
      'worstScenario',
      'worstCase',
      'rollShock',
      'deltaShock',
      'riskMatrixMargin',
      'mm',
      'im',
      'marginRatio',
      'available',
    ],
    {
      account: units.account,
      unit: units.currency,
      currency: units.currency,
      liquidityAddon: addon,
      equity,
      standardIm: stdIm,
      standardMm: stdMm,
    },
  );
  const mmFactor = params.deribitPm.mmFactor;
  for (let g = 0; g < G; g++) {
    const worst = Math.max(0, reduced.worstLoss[g]);
    const rmm = worst + roll[g];
    rows.worstScenario[g] = worstScenarioId(plan, scenarios, reduced.worstScenario, g);
    rows.worstCase[g] = worst;
    rows.rollShock[g] = roll[g];
    rows.mm[g] = mmFactor * rmm;
  }
  // risk_matrix_margin, IM = risk_matrix_margin + liquidity_addon, delta_shock 0, ratio, available, status
  fillDerived(rows);
  return rows;
}

/**
 * deribit-pm's slope bound (slope.ts SlopeBound), per unit of the book: its f = E − MM in the unit's currency
 * under a move x of the underlyings flagged in `moved`, over an interval of moves whose smallest 1 + x is g.
 * MM = m_F·(max(0, max_s −p_s) + roll), p_s = Σ_b adj(w_{s,b}·p_{b,s}) over the unit's buckets (underlyings), adj
 * the identity on losses and × pnl_offset on gains. So f = min(E − m_F·roll, min_s (E − m_F·roll + m_F·p_s)), no
 * steeper than its steepest term; on each piece of adj a scenario's term is E − m_F·roll + Σ_b β_b·p_{b,s} with
 * β_b = m_F·w_{s,b}·(1 or pnl_offset), and a bucket's slope is taken over both pieces (their hull). Per position,
 * with D = max(1, e^{−r·T}) bounding every discounted delta (slope.ts deltaBound):
 * - a USDC unit (linear instruments, USD values and rows, prices F₀(1 + x)): an option's slope is
 *   q·F·((1 − β)·Δ + β·(1 + m_s)·Δ_s), Δ and Δ_s its deltas at the moved and the scenario's forward, a call's in
 *   [0, D], a put's in [−D, 0]: an interval of the position's sign (slope.ts optionSlopeRange); a future or
 *   perpetual's is q·F·(e + β·m₁_s) exactly (e = 1 with an entry price, else 0), less m_F·|q|·r_roll·F for its roll
 *   shock (r_roll = rollRate): c0;
 * - a coin unit (inverse instruments, coin values V/F and rows V_s/F_s − V/F): d(V/F)/dx = (∂V/∂F − V/F)/(1 + x), and
 *   ∂V/∂F − V/F is e^{−rT}·(K/F)·N(d₂) ∈ [0, D] for a call, −e^{−rT}·(K/F)·N(−d₂) ∈ [−D·K/F, 0] for a put (the
 *   scenario's the same at F_s = F·(1 + x)·(1 + m_s)); so calls add q·((1 − β)·[0, D] + β·[0, D]) to c1 and puts
 *   −q·(K/F₀)·((1 − β)·[0, D] + β/(1 + m_s)·[0, D]) to c2 (F ≥ F₀·g, 1/(1 + x) ≤ 1/g), and a future with an entry
 *   e its q·e/F₀ to c2 exactly (d/dx of q(1 − e/F)); coin delta-one rows, the coin roll shock and coin balances
 *   do not move.
 * The intervals of a term add (a hedge's legs offset, and E and m_F·p_s, whose options move together, no longer
 * add as two terms), and f falls going down no faster than the largest upper end over the terms, going up no
 * faster than the largest −(lower end) (termSlopes): a unit whose every term rises with x cannot fall going up,
 * and one whose every term falls with x cannot fall going down (the scan then skips the rest of the grid from
 * any point where f exceeds its slack, distance.ts). No bound (Infinity) under a surface, for
 * an option without mark_iv, when a scenario's 1 + m ≤ 0, for an underlying the set does not cover, or when
 * anything is not finite.
 *
 * The floor (slope.ts SlopeFloor), for a unit whose every position is a long option: each option's value in the
 * unit's currency is V ≥ 0 at any move and in any scenario, so its row is ≥ −V (coin: V_s/F_s − V/F ≥ −V/F; USDC:
 * V_s − V ≥ −V), a bucket's p_{b,s} ≥ −V_b, adj(w·p) ≥ w·min(0, p) (w ≥ 0, pnl_offset ≥ 0), and the worst loss is
 * at most W·ΣV_b with W the set's largest weight; roll is 0 (no delta-ones). So f = B + ΣV − m_F·max(0, worst) ≥
 * B + (1 − m_F·W)·ΣV ≥ B, the unit's balances (equity.ts unitBalances), where m_F·W ≤ 1: c0 = B, c1 = 0.
 */
export function deribitPmSlopeBound(input: SlopeInput, moved: Uint8Array): SlopeBound {
  const { book, balances, market, scenarios, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const n = book.unitCount;
  // a coin unit's scenario rows divide by 1 + m
  const setIndex = boundSetIndex(market, scenarios, moved);
  if (!setIndex || !(leastGrowth(scenarios) > 0)) return noSlopeBound(n);
  const out = zeroSlopeBound(n);
  const dp = params.deribitPm;
  const pieces = dp.pnlOffset === 1 ? [1] : [1, dp.pnlOffset];
  const weight = bucketWeights(scenarios, market);
  const terms = boundTerms(scenarios, setIndex, weight, dp.mmFactor, pieces);
  const floors = floorHolds(weight, dp.mmFactor, dp.pnlOffset);
  const codes = balanceUnitCodes(balances, market);
  const sums = new UnitSlopeSums(U, params);
  // termSlopes' c: [c0, c1, c2] going down, then going up
  const c = [0, 0, 0, 0, 0, 0];
  const directions = [out.down, out.up];
  for (let k = 0; k < n; k++) {
    const code = book.unitCurrency[k]!;
    const coin = code < U;
    for (let p = book.unitStart[k]; p < book.unitStart[k + 1]; p++)
      out.scale[k] += Math.abs(book.quantity[p]!) * (coin ? 1 : Math.abs(ins.forward[book.instrumentId[p]!]!));
    if (floors && longOptionsOnly(book, market, book.unitStart[k]!, book.unitStart[k + 1]!))
      out.floor.c0[k] = unitBalances(balances, codes, book.unitAccount[k]!, code);
    if (coin && !moved[code]) continue; // the unit's prices do not move
    sums.add(input, k, coin, moved);
    termSlopes(sums, coin, terms, pieces.length, c);
    const ok = sums.finite && c.every((x) => Number.isFinite(x));
    for (let j = 0; j < 2; j++) {
      const d = directions[j]!;
      d.c0[k] = ok ? c[3 * j]! : Infinity;
      d.c1[k] = ok ? c[3 * j + 1]! : 0;
      d.c2[k] = ok ? c[3 * j + 2]! : 0;
    }
  }
  return out;
}

/**
 * Whether deribitPmSlopeBound's floor holds for the set's weights: every weight finite and ≥ 0, pnl_offset ≥ 0, and
 * m_F·W ≤ 1 for the largest weight W.
 */
function floorHolds(weight: Float64Array, mF: number, pnlOffset: number): boolean {
  let W = 0;
  for (const w of weight) {
    if (!(w >= 0) || !Number.isFinite(w)) return false;
    W = Math.max(W, w);
  }
  return pnlOffset >= 0 && Number.isFinite(pnlOffset) && mF >= 0 && mF * W <= 1;
}

/**
 * One book unit's positions summed per bucket (underlying) for deribitPmSlopeBound: options' D·|q|·(F or 1 or
 * K/F) by the sign of their slope (calls, and puts apart for a coin unit: c2), Σ q·F over the USDC delta-ones
 * with an entry and over all of them, a coin unit's Σ q·e/F₀ over its futures with an entry, the USDC roll
 * shock's slope m_F·Σ |q|·r_roll·F, the buckets held, and whether every option has a mark_iv.
 */
class UnitSlopeSums {
  readonly up: Float64Array;
  readonly down: Float64Array;
  readonly putUp: Float64Array;
  readonly putDown: Float64Array;
  readonly withEntry: Float64Array;
  readonly deltaOne: Float64Array;
  readonly held: Uint8Array;
  /** every per-underlying sum above, cleared per unit (slope.ts clearSums) */
  private readonly sums: readonly (Float64Array | Uint8Array)[];
  roll = 0;
  futures = 0;
  finite = true;
  private readonly mF: number;
  private readonly usdcMinMove: number;
  private readonly usdcMoveRisk: number;

  constructor(U: number, params: Params) {
    const dp = params.deribitPm;
    this.mF = dp.mmFactor;
    this.usdcMinMove = forUnderlying(dp.minAnnualisedMove, 'USDC');
    this.usdcMoveRisk = forUnderlying(dp.annualisedMoveRisk, 'USDC');
    this.up = new Float64Array(U);
    this.down = new Float64Array(U);
    this.putUp = new Float64Array(U);
    this.putDown = new Float64Array(U);
    this.withEntry = new Float64Array(U);
    this.deltaOne = new Float64Array(U);
    this.held = new Uint8Array(U);
    this.sums = [this.up, this.down, this.putUp, this.putDown, this.withEntry, this.deltaOne, this.held];
  }

  /** The sums of book unit k (`coin`: a coin unit) over its positions on the underlyings flagged in `moved`. */
  add(input: SlopeInput, k: number, coin: boolean, moved: Uint8Array): void {
    const { book, market } = input;
    const ins = market.instruments;
    const { mF, usdcMinMove, usdcMoveRisk } = this;
    const { up, down, putUp, putDown, withEntry, deltaOne, held } = this;
    clearSums(this.sums, up.length);
    this.roll = 0;
    this.futures = 0;
    this.finite = true;
    for (let p = book.unitStart[k]; p < book.unitStart[k + 1]; p++) {
      const i = book.instrumentId[p]!;
      const u = ins.underlying[i]!;
      if (!moved[u]) continue;
      held[u] = 1;
      const q = book.quantity[p]!;
      const F = ins.forward[i]!;
      if (ins.kind[i] === KIND_OPTION) {
        if (!Number.isFinite(ins.markIv[i]!)) this.finite = false;
        const D = deltaBound(market, i);
        const call = ins.optionType[i] === OPTION_CALL;
        if (!coin) {
          // USD value: a call's slope has q's sign, a put's the opposite
          if (q > 0 === call) up[u] += Math.abs(q) * Math.abs(F) * D;
          else down[u] += Math.abs(q) * Math.abs(F) * D;
        } else if (call) {
          if (q > 0) up[u] += q * D;
          else down[u] -= q * D;
        } else {
          const g = Math.abs(q) * D * (Math.abs(ins.strike[i]!) / Math.abs(F));
          if (q < 0) putUp[u] += g;
          else putDown[u] += g;
        }
      } else if (!coin) {
        deltaOne[u] += q * F;
        if (Number.isFinite(book.entryPrice[p]!)) withEntry[u] += q * F;
        this.roll += mF * Math.abs(q) * Math.abs(rollRate(ins, i, usdcMinMove, usdcMoveRisk)) * Math.abs(F);
      } else if (Number.isFinite(book.entryPrice[p]!)) this.futures += (q * book.entryPrice[p]!) / F;
    }
  }
}

/** optionSlopeRange's answer (scratch of termSlopes; the bound runs on one thread and is not re-entrant) */
const SLOPE_RANGE = [0, 0];

/**
 * A unit's bound from its sums: per term of the minimum (t = 0: E − m_F·roll alone; t = s + 1: scenario s), each
 * held bucket's slope interval, the hull over adj's `pieces`, summed over buckets, in three parts (in USD for a USDC
 * unit; the 1/(1 + x) and 1/(1 + x)² parts for a coin unit); c = [c0, c1, c2] going down, then going up
 * (SlopeBound): the largest upper end over the terms (going down) and the largest −(lower end) (going up), the
 * 1/g and 1/g² parts taken at 0 where they are negative (1/(1 + x) ≤ 1/g, and a falling part only helps).
 */
function termSlopes(
  sums: UnitSlopeSums,
  coin: boolean,
  table: ReturnType<typeof boundTerms>,
  pieces: number,
  c: number[],
): void {
  const { up, down, putUp, putDown, withEntry, deltaOne, held, roll, futures } = sums;
  const { termGrowth, termDeltaOne, termBeta, terms } = table;
  const U = held.length;
  const range = SLOPE_RANGE;
  c.fill(-Infinity);
  for (const t of terms) {
    let lo0 = -roll;
    let hi0 = -roll;
    let lo1 = 0;
    let hi1 = 0;
    let lo2 = futures;
    let hi2 = futures;
    for (let b = 0; b < U; b++) {
      if (!held[b]) continue;
      const tb = t * U + b;
      const growth = termGrowth[tb]!;
      let l0 = Infinity;
      let h0 = -Infinity;
      let l1 = Infinity;
      let h1 = -Infinity;
      let l2 = Infinity;
      let h2 = -Infinity;
      for (let p = 0; p < (t === 0 ? 1 : pieces); p++) {
        const beta = termBeta[(t * 2 + p) * U + b]!;
        if (!coin) {
          optionSlopeRange(1 - beta, beta * growth, up[b]!, down[b]!, range);
          const d = withEntry[b]! + beta * termDeltaOne[tb]! * deltaOne[b]!;
          l0 = Math.min(l0, d + range[0]!);
          h0 = Math.max(h0, d + range[1]!);
        } else {
          optionSlopeRange(1 - beta, beta, up[b]!, down[b]!, range);
          l1 = Math.min(l1, range[0]!);
          h1 = Math.max(h1, range[1]!);
          optionSlopeRange(1 - beta, beta / growth, putUp[b]!, putDown[b]!, range);
          l2 = Math.min(l2, range[0]!);
          h2 = Math.max(h2, range[1]!);
        }
      }
      if (!coin) {
        lo0 += l0;
        hi0 += h0;
      } else {
        lo1 += l1;
        hi1 += h1;
        lo2 += l2;
        hi2 += h2;
      }
    }
    c[0] = Math.max(c[0]!, hi0);
    c[1] = Math.max(c[1]!, hi1, 0);
    c[2] = Math.max(c[2]!, hi2, 0);
    c[3] = Math.max(c[3]!, -lo0);
    c[4] = Math.max(c[4]!, -lo1, 0);
    c[5] = Math.max(c[5]!, -lo2, 0);
  }
}

/**
 * The terms of deribitPmSlopeBound's minimum, per term t (0: E − m_F·roll alone, β = 0; s + 1: scenario s) and
 * bucket b: 1 + m and m₁ ([t·U + b]), and β at each piece p of adj ([(t·2 + p)·U + b]: m_F·w_{s,b} × 1 or
 * pnl_offset); `terms`, the t whose numbers differ (a set's scenarios of one price move and several vol shocks
 * give the same).
 */
function boundTerms(
  scenarios: ScenarioSet,
  setIndex: readonly number[],
  weight: Float64Array,
  mF: number,
  pieces: readonly number[],
): { termGrowth: Float64Array; termDeltaOne: Float64Array; termBeta: Float64Array; terms: number[] } {
  const S = scenarios.count;
  const U = setIndex.length;
  const V = scenarios.underlyings.length;
  const termGrowth = new Float64Array((S + 1) * U).fill(1);
  const termDeltaOne = new Float64Array((S + 1) * U);
  const termBeta = new Float64Array((S + 1) * 2 * U);
  for (let s = 0; s < S; s++)
    for (let b = 0; b < U; b++) {
      const j = setIndex[b]!;
      if (j < 0) continue;
      const tb = (s + 1) * U + b;
      termGrowth[tb] = 1 + scenarios.move[s * V + j]!;
      termDeltaOne[tb] = scenarios.deltaOneMove[s * V + j]!;
      pieces.forEach((piece, p) => (termBeta[((s + 1) * 2 + p) * U + b] = mF * weight[s * U + b]! * piece));
    }
  const seen = new Set<string>();
  const terms: number[] = [];
  for (let t = 0; t <= S; t++) {
    const key = [
      ...termGrowth.subarray(t * U, (t + 1) * U),
      ...termDeltaOne.subarray(t * U, (t + 1) * U),
      ...termBeta.subarray(t * 2 * U, (t + 1) * 2 * U),
    ].join();
    if (!seen.has(key)) {
      seen.add(key);
      terms.push(t);
    }
  }
  return { termGrowth, termDeltaOne, termBeta, terms };
}
