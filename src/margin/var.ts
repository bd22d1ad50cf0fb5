/**
 * `var`: expected shortfall over a historical (`var-hs`) or Monte Carlo (`var-mc`) scenario set, in
 * USD (docs/methodology.md §4c). One unit per account ('ALL'): the USD rows of every position and a spot row
 * per non-zero coin balance, jointly, in one bucket with weight 1.
 */
import { spotRow, usdRow, type Reduced } from '../engine/types.js';
import { KIND_OPTION, OPTION_CALL } from '../model/market.js';
import { liquidityAddonFromTable } from './liquidity.js';
import { worstScenarioId, type MarginInput, type ModelPlan } from './plan.js';
import {
  accountScales,
  boundSetIndex,
  deltaBound,
  noSlopeBound,
  zeroSlopeBound,
  optionSlopeRange,
  type SlopeBound,
  type SlopeInput,
} from './slope.js';
import { allocMarginRows, sharedFloat64, sharedInt32 } from './rows.js';
import { balanceUnitCodes } from './settlementUnits.js';
import { fillDerived } from './derived.js';
import type { MarginRows } from './types.js';

export type VarModelName = 'var-hs' | 'var-mc';

/**
 * k = ceil(N·(1 − α)), the number of tail scenarios, clipped to [1, N] (0 when N = 0). A product
 * within 1e-9 of an integer counts as that integer, so float noise (0.01 is not exact: 10,000 · (1 −
 * 0.99) = 100.00000000000009) does not add a scenario.
 */
export function varTailCount(scenarios: number, alpha: number): number {
  if (scenarios <= 0) return 0;
  const x = scenarios * (1 - alpha);
  const r = Math.round(x);
  const k = Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x)) ? r : Math.ceil(x);
  return Math.min(scenarios, Math.max(1, k));
}

/**
 * Groups of var: one per account (every account of the book, in id order); positions on their USD
 * rows (qty in coin), then every non-zero coin balance on its spot row; one bucket, weights 1,
 * pnlOffset 1; topK = varTailCount(N, α). `model` defaults from the set's family (historical →
 * var-hs, anything else → var-mc).
 */
export function varGroups(input: MarginInput, model?: VarModelName): ModelPlan {
  const { book, balances, market, scenarios, params } = input;
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const A = book.accountCount;
  const hasBal = balances.amount.length >= A * C;
  const groupStart = sharedInt32(A + 1); // shared memory: the cpu pool reads the GroupBook without a copy
  for (let a = 0; a < A; a++) {
    let n = book.accountStart[a + 1] - book.accountStart[a];
    if (hasBal) for (let j = 0; j < C; j++) if (codes[j] >= 0 && codes[j] < U && balances.amount[a * C + j] !== 0) n++;
    groupStart[a + 1] = groupStart[a] + n;
  }
  const E = groupStart[A];
  const row = sharedInt32(E);
  const qty = sharedFloat64(E);
  const bucket = sharedInt32(E);
  const entryPosition = new Int32Array(E);
  for (let a = 0; a < A; a++) {
    let e = groupStart[a];
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++, e++) {
      row[e] = usdRow(book.instrumentId[p]);
      qty[e] = book.quantity[p];
      entryPosition[e] = p;
    }
    if (!hasBal) continue;
    for (let j = 0; j < C; j++) {
      const u = codes[j];
      const b = balances.amount[a * C + j];
      if (u < 0 || u >= U || b === 0) continue;
      row[e] = spotRow(u, I);
      qty[e] = b;
      entryPosition[e] = -1;
      e++;
    }
  }
  const account = new Int32Array(A);
  for (let a = 0; a < A; a++) account[a] = a;
  return {
    model: model ?? (scenarios.family === 'historical' ? 'var-hs' : 'var-mc'),
    groups: {
      groupCount: A,
      groupStart,
      row,
      qty,
      bucket,
      buckets: 1,
      weight: new Float64Array(scenarios.count).fill(1),
      pnlOffset: 1,
    },
    request: { topK: varTailCount(scenarios.count, params.var.alpha) },
    account,
    unit: new Int32Array(A),
    unitNames: ['ALL'],
    currency: new Int32Array(A),
    currencyNames: ['USD'],
    entryPosition,
  };
}

/** What var's rows need besides the losses, computed while the backend aggregates (MarginModel.prepare). */
export interface VarPrepared {
  /** the rows, with their accounts, liquidity add-ons and equity set */
  rows: MarginRows;
}

/**
 * The part of var's rows that does not depend on the losses: each row's account, its liquidity add-on (the
 * sum over the group's positions, in entry order) and the account's USD equity.
 */
export function varPrepare(input: MarginInput, plan: ModelPlan): VarPrepared {
  const { book } = input;
  const G = plan.groups.groupCount;
  // every row sets these (fillDerived the margin ratio, available and status)
  const rows = allocMarginRows(plan.model, G, plan.unitNames, plan.currencyNames, [
    'worstScenario',
    'worstCase',
    'var',
    'es',
    'liquidityAddon',
    'im',
    'mm',
    'equity',
    'marginRatio',
    'available',
  ]);
  const equity = input.accountEquityUsd;
  const { groupStart, qty } = plan.groups;
  const liq = input.liquidity;
  for (let g = 0; g < G; g++) {
    // RunTables.statusOnly: no add-on (NaN)
    let addon = input.statusOnly ? NaN : 0;
    for (let e = groupStart[g]; e < groupStart[g + 1] && !input.statusOnly; e++) {
      const p = plan.entryPosition[e];
      if (p >= 0) addon += liquidityAddonFromTable(liq, book.instrumentId[p], qty[e], false);
    }
    rows.account[g] = plan.account[g];
    rows.liquidityAddon[g] = addon;
    rows.equity[g] = equity[g];
  }
  return { rows };
}

/**
 * Rows of var in USD: VaR = the k-th largest loss, ES = the mean of the k largest losses (signed: a
 * book that gains in its whole tail has negative ES); IM = max(ES, 0) + liquidity_addon;
 * MM = mm_factor · max(ES, 0); worst_case = max(0, largest loss) at its first scenario; equity the
 * account's USD equity; status. SOM, scan risk, roll shock, standard: NaN. `prepared`: {@link varPrepare}'s.
 * @throws Error when `reduced` lacks the top-k losses the plan asked for.
 */
export function varAssemble(
  input: MarginInput,
  plan: ModelPlan,
  reduced: Reduced,
  prepared: VarPrepared = varPrepare(input, plan),
): MarginRows {
  const { scenarios, params } = input;
  const G = plan.groups.groupCount;
  const k = plan.request.topK;
  const top = reduced.topLosses;
  if (k > 0 && (!top || top.length < G * k)) throw new Error(`var: the backend returned no top-${k} losses`);
  const rows = prepared.rows;
  for (let g = 0; g < G; g++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += top![g * k + j];
    const es = k > 0 ? sum / k : 0;
    const esPos = Math.max(es, 0);
    rows.var[g] = k > 0 ? top![g * k + k - 1] : 0;
    rows.es[g] = es;
    rows.worstCase[g] = Math.max(0, reduced.worstLoss[g]);
    rows.worstScenario[g] = worstScenarioId(plan, scenarios, reduced.worstScenario, g);
    rows.im[g] = esPos + rows.liquidityAddon[g];
    rows.mm[g] = params.var.mmFactor * esPos;
  }
  fillDerived(rows); // margin ratio, available, status from the account's USD equity, IM and MM
  return rows;
}

/**
 * var's slope bound (slope.ts SlopeBound): per account, constant in x (c1 = c2 = 0). MM = m_F·max(ES, 0) and ES
 * is the mean of the k largest losses, the largest mean over sets T of k scenarios (weights 1, pnl_offset 1), so
 * f = min(E, min_T (E + (m_F/k)·Σ_{s∈T} p_s)), no steeper than its steepest term. In a term T, per position on a
 * moved underlying u (prices F₀(1 + x)):
 * - an option: q·F·((1 − m_F)·Δ + (m_F/k)·Σ_T (1 + m_{s,u})·Δ_s), every delta of the option's sign and at most
 *   D = max(1, e^{−r·T}) (slope.ts deltaBound): within q·F·D·[(1 − m_F), m_F·max_s (1 + m_{s,u})] of that sign;
 * - a future or perpetual: q·F·(e + m_F·mean_T m₁_{s,u}) (e = 1 with an entry price), within its range over the
 *   set's m₁ of u; a coin balance b: b·S·(1 + m_F·mean_T m_{s,u}), likewise.
 * The term E alone has (1, 0) for options and q·F·e, b·S exactly. Each term's slope lies in the sum of its
 * intervals (a hedge's legs, and E against the scenario rows of the same options, offset instead of adding); f
 * falls going down no faster than the terms' largest upper end, going up than their largest −(lower end). No
 * bound (Infinity) under a surface, for an option without mark_iv, for an underlying the set does not cover, or
 * when anything is not finite.
 */
export function varSlopeBound(input: SlopeInput, moved: Uint8Array): SlopeBound {
  const { book, balances, market, scenarios, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const A = book.accountCount;
  const S = scenarios.count;
  const V = scenarios.underlyings.length;
  const setIndex = boundSetIndex(market, scenarios, moved);
  if (!setIndex) return noSlopeBound(A);
  const out = zeroSlopeBound(A);
  accountScales(input, out.scale);
  const mF = params.var.mmFactor;
  // per underlying: the set's smallest and largest m and m₁
  const mLo = new Float64Array(U).fill(Infinity);
  const mHi = new Float64Array(U).fill(-Infinity);
  const m1Lo = new Float64Array(U).fill(Infinity);
  const m1Hi = new Float64Array(U).fill(-Infinity);
  for (let u = 0; u < U; u++) {
    const j = setIndex[u]!;
    if (j < 0) continue;
    for (let s = 0; s < S; s++) {
      const m = scenarios.move[s * V + j]!;
      const m1 = scenarios.deltaOneMove[s * V + j]!;
      mLo[u] = Math.min(mLo[u]!, m);
      mHi[u] = Math.max(mHi[u]!, m);
      m1Lo[u] = Math.min(m1Lo[u]!, m1);
      m1Hi[u] = Math.max(m1Hi[u]!, m1);
    }
  }
  const codes = balanceUnitCodes(balances, market);
  const hasBal = balances.amount.length >= A * C;
  const range = [0, 0];
  for (let a = 0; a < A; a++) {
    // options' D·|q|·|F| by the sign of their slope, over every moved underlying; the exact parts (E alone) and
    // the intervals of the tail terms' delta-ones and balances
    let up = 0;
    let down = 0;
    let exact = 0;
    let lo = 0;
    let hi = 0;
    // the tail terms' option factor: (1 − m_F, m_F·(1 + m)) with 1 + m over the moved underlyings' ranges
    let growthLo = Infinity;
    let growthHi = -Infinity;
    let finite = true;
    const add = (x: number, y: number) => {
      lo += Math.min(x, y);
      hi += Math.max(x, y);
    };
    if (hasBal)
      for (let j = 0; j < C; j++) {
        const u = codes[j]!;
        const b = balances.amount[a * C + j]!;
        if (u < 0 || u >= U || !moved[u] || b === 0) continue;
        const bS = b * market.indexPrice[u]!;
        exact += bS;
        add(bS * (1 + mF * mLo[u]!), bS * (1 + mF * mHi[u]!));
      }
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++) {
      const i = book.instrumentId[p]!;
      const u = ins.underlying[i]!;
      if (!moved[u]) continue;
      const q = book.quantity[p]!;
      const F = ins.forward[i]!;
      if (ins.kind[i] === KIND_OPTION) {
        if (!Number.isFinite(ins.markIv[i]!)) finite = false;
        const g = Math.abs(q) * Math.abs(F) * deltaBound(market, i);
        if (q > 0 === (ins.optionType[i] === OPTION_CALL)) up += g;
        else down += g;
        growthLo = Math.min(growthLo, 1 + mLo[u]!);
        growthHi = Math.max(growthHi, 1 + mHi[u]!);
      } else {
        const e = Number.isFinite(book.entryPrice[p]!) ? 1 : 0;
        exact += q * F * e;
        add(q * F * (e + mF * m1Lo[u]!), q * F * (e + mF * m1Hi[u]!));
      }
    }
    // E alone: options (1, 0)
    optionSlopeRange(1, 0, up, down, range);
    // f falls going down no faster than the terms' largest upper end, going up than their largest −(lower end)
    let Ldown = exact + range[1]!;
    let Lup = -(exact + range[0]!);
    // a tail term: options' second factor anywhere in m_F·[growthLo, growthHi] (its range over T and the deltas)
    if (up + down > 0) {
      const a1 = 1 - mF;
      const loF = Math.min(0, a1) + Math.min(0, mF * growthLo);
      const hiF = Math.max(0, a1) + Math.max(0, mF * growthHi);
      lo += up * loF - down * hiF;
      hi += up * hiF - down * loF;
    }
    Ldown = Math.max(Ldown, hi);
    Lup = Math.max(Lup, -lo);
    out.down.c0[a] = finite && Number.isFinite(Ldown) ? Ldown : Infinity;
    out.up.c0[a] = finite && Number.isFinite(Lup) ? Lup : Infinity;
  }
  return out;
}
