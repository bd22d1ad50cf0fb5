/**
 * `deribit-pm`: coin-margined portfolio margin after Deribit's S:PM (docs/methodology.md §4a). Units are
 * (account, settlement currency): inverse instruments of an underlying make its coin unit, margined
 * in coin on the coin P&L rows; linear instruments of every underlying make the USDC unit, margined in
 * USDC on the USD rows. Buckets are underlyings, weighted by the set's per-underlying weights and
 * combined with `pnl_offset`. Coin collateral has no P&L in coin, so no spot rows enter.
 */
import { coinRow, usdRow, type Reduced } from '../engine/types.js';
import { KIND_OPTION, KIND_PERPETUAL, OPTION_CALL, type Instruments } from '../model/market.js';
import { forUnderlying } from '../params/params.js';
import { bucketWeights, worstScenarioId, type MarginInput, type ModelPlan } from './plan.js';
import { deltaBound, scenarioExtremes, type SlopeBound, type SlopeInput } from './slope.js';
import { allocMarginRows, sharedFloat64, sharedInt32 } from './rows.js';
import type { SettlementUnits } from './settlementUnits.js';
import type { UnitTables } from './runTables.js';
import { fillDerived } from './derived.js';
import type { MarginRows } from './types.js';

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
  // every row sets these (fillDerived the rest)
  const rows = allocMarginRows('deribit-pm', G, units.names, units.names, [
    'worstScenario',
    'worstCase',
    'rollShock',
    'deltaShock',
    'riskMatrixMargin',
    'liquidityAddon',
    'mm',
    'im',
    'equity',
    'standardIm',
    'standardMm',
    'marginRatio',
    'available',
  ]);
  const { roll, addon, equity, stdIm, stdMm } = prepared;
  const mmFactor = params.deribitPm.mmFactor;
  for (let g = 0; g < G; g++) {
    const code = units.currency[g];
    const worst = Math.max(0, reduced.worstLoss[g]);
    const rmm = worst + roll[g];
    rows.account[g] = units.account[g];
    rows.unit[g] = code;
    rows.currency[g] = code;
    rows.worstScenario[g] = worstScenarioId(plan, scenarios, reduced.worstScenario, g);
    rows.worstCase[g] = worst;
    rows.rollShock[g] = roll[g];
    rows.liquidityAddon[g] = addon[g];
    rows.mm[g] = mmFactor * rmm;
    rows.equity[g] = equity[g];
    rows.standardIm[g] = stdIm[g];
    rows.standardMm[g] = stdMm[g];
  }
  // risk_matrix_margin, IM = risk_matrix_margin + liquidity_addon, delta_shock 0, ratio, available, status
  fillDerived(rows);
  return rows;
}

/**
 * deribit-pm's slope bound (slope.ts SlopeBound), per unit of the book: its f = E − MM in the unit's currency
 * under a move x of the underlyings flagged in `moved`, over an interval of moves whose smallest 1 + x is g.
 * With D = max(1, e^{−r·T}) bounding every discounted delta, W the set's largest |w|, A = max(1, |pnl_offset|)
 * (adj's slope), μ its smallest 1 + m, and m_F = |mm_factor|:
 * - a USDC unit (linear instruments, USD values and rows) is linear in x through F₀(1 + x): per position on a
 *   moved underlying, c0 += |q|·F·D·(1 + m_F·W·A·max(|1 + m| + 1)) for an option, |q|·F·(1 + m_F·(W·A·max|m₁| +
 *   r_roll)) for a future or perpetual (r_roll = |rollRate|, its roll shock per unit of F);
 * - a coin unit of a moved underlying (inverse instruments in coin): an option's coin value V/F has
 *   d/dx = (∂V/∂F − V/F)/(1 + x), and |∂V/∂F − V/F| ≤ D for a call, ≤ D·(1 + K/F) for a put (0 ≤ V/F ≤ D·K/F);
 *   its coin scenario rows are differences of two such values (at F(1 + m) and F); so c1 += |q|·D·(1 + 2·m_F·W·A)
 *   and, for a put, c2 += |q|·D·(K/F₀)·(1 + m_F·W·A·(1 + 1/μ)); a future with an entry e adds |q|·|e|/F₀ to c2
 *   (d/dx of q(1 − e/F)); coin delta-one rows 1 − 1/(1 + m₁), the roll shock in coin and coin balances do not move.
 * No bound (Infinity) under a surface, for an option without mark_iv, when a scenario's 1 + m ≤ 0, or when
 * anything is not finite.
 */
export function deribitPmSlopeBound(input: SlopeInput, moved: Uint8Array): SlopeBound {
  const { book, market, scenarios, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const n = book.unitCount;
  const out: SlopeBound = { c0: new Float64Array(n), c1: new Float64Array(n), c2: new Float64Array(n) };
  const x = scenarioExtremes(scenarios);
  if (market.volSurface || scenarios.surfaceShock || !(x.leastGrowth > 0)) {
    out.c0.fill(Infinity);
    return out;
  }
  const dp = params.deribitPm;
  const risk = Math.abs(dp.mmFactor) * x.weight * Math.max(1, Math.abs(dp.pnlOffset));
  const usdcMinMove = forUnderlying(dp.minAnnualisedMove, 'USDC');
  const usdcMoveRisk = forUnderlying(dp.annualisedMoveRisk, 'USDC');
  for (let k = 0; k < n; k++) {
    const code = book.unitCurrency[k];
    const coin = code < U;
    if (coin && !moved[code]) continue; // the unit's prices do not move
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    for (let p = book.unitStart[k]; p < book.unitStart[k + 1]; p++) {
      const i = book.instrumentId[p];
      const u = ins.underlying[i];
      if (!moved[u]) continue;
      const q = Math.abs(book.quantity[p]);
      const F = Math.abs(ins.forward[i]);
      if (ins.kind[i] === KIND_OPTION) {
        if (!Number.isFinite(ins.markIv[i])) {
          c0 = Infinity;
          break;
        }
        const D = deltaBound(market, i);
        if (!coin) c0 += q * F * D * (1 + risk * x.optionMove);
        else {
          c1 += q * D * (1 + 2 * risk);
          if (ins.optionType[i] !== OPTION_CALL)
            c2 += q * D * (Math.abs(ins.strike[i]) / F) * (1 + risk * (1 + 1 / x.leastGrowth));
        }
      } else if (!coin) {
        const roll = Math.abs(rollRate(ins, i, usdcMinMove, usdcMoveRisk));
        c0 += q * F * (1 + Math.abs(dp.mmFactor) * roll + risk * x.deltaOneMove);
      } else if (Number.isFinite(book.entryPrice[p])) c2 += (q * Math.abs(book.entryPrice[p])) / F;
    }
    out.c0[k] = Number.isNaN(c0) || Number.isNaN(c1) || Number.isNaN(c2) ? Infinity : c0;
    out.c1[k] = c1;
    out.c2[k] = c2;
  }
  return out;
}
