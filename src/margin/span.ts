/**
 * `span`: SPAN-style scan risk in USD (docs/methodology.md §4b). Units are (account, underlying): the USD
 * rows of the underlying's instruments (inverse and linear alike) plus the account's coin balance of
 * the underlying as a spot row. Equity is the account's (USD, every balance and position): each of
 * an account's rows carries the account's equity, and its margin ratio, available and status are the
 * account's, decided on the account's total IM and MM (the sum over its rows). Accounts holding
 * neither positions nor coin have no span row (see summary.ts for per-account totals).
 */
import { spotRow, usdRow, type Reduced } from '../engine/types.js';
import { KIND_OPTION, OPTION_CALL } from '../model/market.js';
import { liquidityAddonFromTable } from './liquidity.js';
import { bucketWeights, worstScenarioId, type MarginInput, type ModelPlan } from './plan.js';
import {
  accountScales,
  boundSetIndex,
  clearSums,
  deltaBound,
  longOptionsOnly,
  noSlopeBound,
  zeroSlopeBound,
  optionSlopeRange,
  type SlopeBound,
  type SlopeFloor,
  type SlopeInput,
} from './slope.js';
import { allocMarginRows, sharedFloat64, sharedInt32 } from './rows.js';
import { balanceUnitCodes } from './settlementUnits.js';
import { fillDerived } from './derived.js';
import type { MarginRows } from './types.js';
import type { ScenarioSet } from '../scenarios/types.js';

/**
 * Groups of span, one per (account, underlying u) with a position on u or a non-zero coin balance of
 * u, sorted by (account, u): entries are positions (USD row, qty in coin) then the coin balance
 * (spot row); bucket u with the set's weights w[s,u] (extremes carry extreme_cover); pnlOffset 1.
 */
export function spanGroups(input: MarginInput): ModelPlan {
  const { book, balances, market, scenarios } = input;
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const coinCol = new Int32Array(U).fill(-1);
  codes.forEach((c, j) => {
    if (c >= 0 && c < U) coinCol[c] = j;
  });
  const und = market.instruments.underlying;
  const A = book.accountCount;
  const hasBal = balances.amount.length >= A * C;
  const coin = (a: number, u: number): number => (hasBal && coinCol[u] >= 0 ? balances.amount[a * C + coinCol[u]] : 0);
  // one pass over the accounts: every position is an entry, and so is every non-zero coin balance
  // (counted first, so the entry columns are allocated at their size); the groups are at most one per
  // (account, underlying), built into scratch arrays of that size and copied out at their count
  let E = book.accountStart[A];
  for (let a = 0; a < A; a++) for (let u = 0; u < U; u++) if (coin(a, u) !== 0) E++;
  const row = sharedInt32(E); // shared memory: the cpu pool reads the GroupBook without a copy
  const qty = sharedFloat64(E);
  const bucket = sharedInt32(E);
  const entryPosition = new Int32Array(E);
  const starts = new Int32Array(A * U + 1);
  const accounts = new Int32Array(A * U);
  const units = new Int32Array(A * U);
  const cnt = new Int32Array(U);
  const next = new Int32Array(U);
  const instrumentId = book.instrumentId;
  const quantity = book.quantity;
  let g = 0;
  for (let a = 0; a < A; a++) {
    const p0 = book.accountStart[a];
    const p1 = book.accountStart[a + 1];
    for (let u = 0; u < U; u++) cnt[u] = 0;
    for (let p = p0; p < p1; p++) cnt[und[instrumentId[p]]]++;
    const first = g;
    for (let u = 0; u < U; u++) {
      const b = coin(a, u);
      if (cnt[u] === 0 && b === 0) continue;
      accounts[g] = a;
      units[g] = u;
      next[u] = starts[g];
      starts[g + 1] = starts[g] + cnt[u] + (b !== 0 ? 1 : 0);
      g++;
    }
    for (let p = p0; p < p1; p++) {
      const i = instrumentId[p];
      const u = und[i];
      const e = next[u]++;
      row[e] = usdRow(i);
      qty[e] = quantity[p];
      bucket[e] = u;
      entryPosition[e] = p;
    }
    for (let h = first; h < g; h++) {
      const u = units[h];
      const b = coin(a, u);
      if (b === 0) continue;
      const e = starts[h + 1] - 1;
      row[e] = spotRow(u, I);
      qty[e] = b;
      bucket[e] = u;
      entryPosition[e] = -1;
    }
  }
  const G = g;
  const groupStart = sharedInt32(G + 1);
  groupStart.set(starts.subarray(0, G + 1));
  const account = accounts.slice(0, G);
  const unit = units.slice(0, G);
  return {
    model: 'span',
    groups: {
      groupCount: G,
      groupStart,
      row,
      qty,
      bucket,
      buckets: U,
      weight: bucketWeights(scenarios, market),
      pnlOffset: 1,
    },
    request: { topK: 0 },
    account,
    unit,
    unitNames: [...market.underlyings],
    currency: new Int32Array(G),
    currencyNames: ['USD'],
    entryPosition,
  };
}

/** A span plan, with what spanPrepare computed. */

/** Per group (account, underlying), what span's rows take besides the reduced losses (USD). */
export interface SpanPrepared {
  /** SOM = som_rate · S_u · Σ_{short options of u} |q| */
  som: Float64Array;
  /** the liquidity add-on */
  addon: Float64Array;
}

/**
 * What span's rows need besides the reduced losses, per group: the short option minimum and the
 * liquidity add-on. A run computes it while the backend aggregates.
 */
export function spanPrepare(input: MarginInput, plan: ModelPlan): SpanPrepared {
  const { book, market, params } = input;
  const ins = market.instruments;
  const G = plan.groups.groupCount;
  const { groupStart, qty } = plan.groups;
  const liq = input.liquidity;
  // RunTables.statusOnly: no add-on (NaN)
  const addons = !input.statusOnly;
  const somRate = params.span.somRate;
  const U = market.underlyings.length;
  const som = new Float64Array(G);
  const addon = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    let shortOptions = 0;
    let a = 0;
    for (let e = groupStart[g]; e < groupStart[g + 1]; e++) {
      const p = plan.entryPosition[e];
      if (p < 0) continue;
      const i = book.instrumentId[p];
      const q = qty[e];
      if (addons) a += liquidityAddonFromTable(liq, i, q, false);
      if (ins.kind[i] === KIND_OPTION && q < 0) shortOptions -= q;
    }
    const u = plan.unit[g];
    const s = input.accountIndexPrice ? input.accountIndexPrice[plan.account[g] * U + u] : market.indexPrice[u];
    som[g] = somRate * s * shortOptions;
    addon[g] = addons ? a : NaN;
  }
  return { som, addon };
}

/**
 * Rows of span in USD: scan_risk = max(0, max_s w[s]·(−p[s])) (also reported as worst_case);
 * SOM and the add-on (spanPrepare); MM = max(scan_risk, SOM); IM = im_factor · MM + liquidity_addon
 * (USD). Equity, margin ratio, available and status per account (module comment). standardIm/standardMm
 * NaN (standard units are settlement currencies).
 */
export function spanAssemble(
  input: MarginInput,
  plan: ModelPlan,
  prepared: SpanPrepared,
  reduced: Reduced,
): MarginRows {
  const { scenarios, params } = input;
  const G = plan.groups.groupCount;
  // every row sets these (fillDerived the margin ratio and available)
  const rows = allocMarginRows('span', G, plan.unitNames, plan.currencyNames, [
    'worstScenario',
    'worstCase',
    'scanRisk',
    'som',
    'liquidityAddon',
    'mm',
    'im',
    'equity',
    'marginRatio',
    'available',
  ]);
  const { som, addon } = prepared;
  const imFactor = params.span.imFactor;
  const equityUsd = input.accountEquityUsd;
  for (let g = 0; g < G; g++) {
    const scan = Math.max(0, reduced.worstLoss[g]);
    const mm = Math.max(scan, som[g]);
    rows.account[g] = plan.account[g];
    rows.unit[g] = plan.unit[g];
    rows.currency[g] = 0;
    rows.worstScenario[g] = worstScenarioId(plan, scenarios, reduced.worstScenario, g);
    rows.scanRisk[g] = scan;
    rows.som[g] = som[g];
    rows.liquidityAddon[g] = addon[g];
    rows.mm[g] = mm;
    rows.im[g] = imFactor * mm + addon[g];
    rows.equity[g] = equityUsd[plan.account[g]];
  }
  // the account's margin ratio, available and status (its rows' IM and MM added), worst_case = scan_risk
  fillDerived(rows);
  return rows;
}

/**
 * span's slope bound (slope.ts SlopeBound): per account, constant in x (c1 = c2 = 0). An account's f is
 * C + Σ_u (E_u − MM_u): C its USD balances and the terms of unmoved underlyings (constant), E_u the USD value of
 * its positions on u and coin balance of u, MM_u = max(0, max_s w_s·(−p_s), SOM_u) with p_s the group's P&L in
 * scenario s (pnl_offset 1, one bucket). So E_u − MM_u = min(E_u, min_s (E_u + w_s·p_s), E_u − SOM_u), and a
 * minimum is no steeper than its steepest term. Each term's slope in x, where every price is F₀(1 + x):
 * - an option: q·F·(α₁·Δ + α₂·Δ_s) with (α₁, α₂) = (1 − w, w·(1 + m_s)), Δ its discounted delta at the moved
 *   forward and Δ_s at the scenario's; a call's both lie in [0, c], a put's in [−c, 0], c = max(1, e^{−r·T})
 *   (slope.ts deltaBound; a scenario's shorter T' discounts by no more): so its slope lies in an interval whose
 *   sign is the position's (q > 0 call, q < 0 put: up), and the options' intervals add;
 * - a future or perpetual: q·F·(e + w·m₁_s) exactly (e = 1 with an entry price, its equity q(F − entry);
 *   0 without); a coin balance b: b·S·(1 + w·m_s); SOM: −som_rate·S·Σ_short |q|, exactly.
 * f falls going down no faster than its terms' largest upper end, going up no faster than their largest −(lower
 * end), summed over the moved underlyings (SlopeBound). This sees that a hedge's legs move against each other,
 * and that an account whose terms all rise in a direction cannot fall that way, where a sum of
 * |q|·F·c over positions does not (with such a sum, span's scans at 20,000 accounts of the intraday book
 * evaluated twice the (account, point) pairs).
 * No bound (Infinity) under a surface, for an option without mark_iv, for an underlying the set does not
 * cover, or when anything is not finite.
 *
 * The floor (slope.ts SlopeFloor), for an account whose every position is a long option and whose coin balances
 * are ≥ 0: with g_u = 1 + x_u, E_u = b_u·S_u·g_u + Σ q·V and p_s = b_u·S_u·g_u·m_s + Σ q·(V_s − V) ≥ b_u·S_u·g_u·m_s
 * − Σ q·V (values ≥ 0), so for w_s in [0, 1] either w_s·(−p_s) ≤ 0 or E_u + w_s·p_s ≥ b_u·S_u·g_u·(1 + w_s·m_s) +
 * (1 − w_s)·Σ q·V; SOM_u = 0. Hence E_u − MM_u ≥ b_u·S_u·g_u·κ_u, κ_u = min(1, min_s (1 + w_s·m_s)) (≥ 0 here: a
 * set whose κ_u < 0 or whose weights leave [0, 1] gives no floor), and f ≥ C + Σ_u b_u·S_u·g_u·κ_u: c0 = C + the
 * unmoved underlyings' terms, c1 = the moved ones' at g = 1.
 */
export function spanSlopeBound(input: SlopeInput, moved: Uint8Array): SlopeBound {
  const { book, balances, market, scenarios, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const A = book.accountCount;
  const S = scenarios.count;
  const setIndex = boundSetIndex(market, scenarios, moved);
  if (!setIndex) return noSlopeBound(A);
  const out = zeroSlopeBound(A);
  accountScales(input, out.scale);
  const V = scenarios.underlyings.length;
  const weight = bucketWeights(scenarios, market);
  const kappa = floorFactors(scenarios, setIndex, weight);
  const somRate = params.span.somRate;
  const codes = balanceUnitCodes(balances, market);
  const hasBal = balances.amount.length >= A * C;
  // per underlying of the account: Σ c·|q|·F over options whose slope is ≥ 0 (long calls, short puts) and ≤ 0,
  // Σ q·F over delta-ones with an entry and over all of them, the coin balance's b·S, Σ |q| of short options
  const up = new Float64Array(U);
  const down = new Float64Array(U);
  const withEntry = new Float64Array(U);
  const deltaOne = new Float64Array(U);
  const coin = new Float64Array(U);
  const short = new Float64Array(U);
  const held = new Uint8Array(U);
  const sums = [up, down, withEntry, deltaOne, coin, short, held];
  // per underlying, the largest upper end (fall going down) and −(lower end) (fall going up) over its terms, a
  // term's slope d plus the options' interval at the factors (α₁, α₂)
  const range = [0, 0];
  let fallDown = 0;
  let fallUp = 0;
  const term = (u: number, d: number, a1: number, a2: number): void => {
    optionSlopeRange(a1, a2, up[u]!, down[u]!, range);
    fallDown = Math.max(fallDown, d + range[1]!);
    fallUp = Math.max(fallUp, -(d + range[0]!));
  };
  for (let a = 0; a < A; a++) {
    clearSums(sums, U);
    let L = 0;
    let Ldown = 0;
    let Lup = 0;
    if (hasBal)
      for (let j = 0; j < C; j++) {
        const u = codes[j]!;
        const b = balances.amount[a * C + j]!;
        if (u >= 0 && u < U && moved[u] && b !== 0) {
          coin[u] += b * market.indexPrice[u]!;
          held[u] = 1;
        }
      }
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++) {
      const i = book.instrumentId[p]!;
      const u = ins.underlying[i]!;
      if (!moved[u]) continue;
      held[u] = 1;
      const q = book.quantity[p]!;
      const F = ins.forward[i]!;
      if (ins.kind[i] === KIND_OPTION) {
        if (!Number.isFinite(ins.markIv[i]!)) L = Infinity;
        const g = Math.abs(q) * Math.abs(F) * deltaBound(market, i);
        // the slope's sign: a call's value rises with F, a put's falls; F > 0 keeps it
        if (q > 0 === (ins.optionType[i] === OPTION_CALL)) up[u] += g;
        else down[u] += g;
        if (q < 0) short[u] -= q;
      } else {
        deltaOne[u] += q * F;
        if (Number.isFinite(book.entryPrice[p]!)) withEntry[u] += q * F;
      }
    }
    for (let u = 0; u < U && L < Infinity; u++) {
      if (!held[u]) continue;
      const index = market.indexPrice[u]!;
      fallDown = -Infinity;
      fallUp = -Infinity;
      // E_u alone (the max's 0) and E_u − SOM_u: options at (α₁, α₂) = (1, 0)
      term(u, withEntry[u]! + coin[u]!, 1, 0);
      term(u, withEntry[u]! + coin[u]! - somRate * index * short[u]!, 1, 0);
      const j = setIndex[u]!;
      for (let s = 0; s < S; s++) {
        const w = weight[s * U + u]!;
        const m = scenarios.move[s * V + j]!;
        const m1 = scenarios.deltaOneMove[s * V + j]!;
        term(u, withEntry[u]! + w * m1 * deltaOne[u]! + coin[u]! * (1 + w * m), 1 - w, w * (1 + m));
      }
      // f = C + Σ_u (E_u − MM_u): the underlyings' falls add (one rising may offset another falling)
      Ldown += fallDown;
      Lup += fallUp;
    }
    // anything not finite (an option without mark_iv: L = ∞; an infinite balance): no bound
    out.down.c0[a] = Number.isFinite(L + Ldown) ? L + Ldown : Infinity;
    out.up.c0[a] = Number.isFinite(L + Lup) ? L + Lup : Infinity;
    if (longOptionsOnly(book, market, book.accountStart[a]!, book.accountStart[a + 1]!))
      accountFloor(input, a, codes, kappa, moved, out.floor);
  }
  return out;
}

/**
 * κ_u of spanSlopeBound's floor per market underlying: min(1, min_s (1 + w_s·m_s)), NaN where the floor does not
 * hold (a weight outside [0, 1], κ_u < 0, or the set without u).
 */
function floorFactors(scenarios: ScenarioSet, setIndex: readonly number[], weight: Float64Array): Float64Array {
  const U = setIndex.length;
  const V = scenarios.underlyings.length;
  const kappa = new Float64Array(U).fill(1);
  for (let u = 0; u < U; u++) {
    const j = setIndex[u]!;
    if (j < 0) kappa[u] = NaN;
    for (let s = 0; s < scenarios.count && j >= 0; s++) {
      const w = weight[s * U + u]!;
      if (!(w >= 0 && w <= 1)) kappa[u] = NaN;
      kappa[u] = Math.min(kappa[u]!, 1 + w * scenarios.move[s * V + j]!);
    }
    if (!(kappa[u]! >= 0)) kappa[u] = NaN;
  }
  return kappa;
}

/**
 * spanSlopeBound's floor of account a (its positions long options only) into `floor`: C + Σ_u b_u·S_u·κ_u·g_u over
 * its balances, the moved underlyings' part in c1; none (c0 −Infinity) with a coin balance < 0, a coin whose κ_u is
 * NaN or whose index price is not > 0, an underlying of its options whose κ_u is NaN, or anything not finite.
 */
function accountFloor(
  input: SlopeInput,
  a: number,
  codes: Int32Array,
  kappa: Float64Array,
  moved: Uint8Array,
  floor: SlopeFloor,
): void {
  const { book, balances, market } = input;
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  for (let p = book.accountStart[a]!; p < book.accountStart[a + 1]!; p++)
    if (Number.isNaN(kappa[market.instruments.underlying[book.instrumentId[p]!]!]!)) return;
  let c0 = 0;
  let c1 = 0;
  if (balances.amount.length >= (a + 1) * C)
    for (let j = 0; j < C; j++) {
      const u = codes[j]!;
      const b = balances.amount[a * C + j]!;
      if (u < 0 || b === 0) continue;
      if (u >= U) c0 += b;
      else if (!(b > 0) || Number.isNaN(kappa[u]!) || !(market.indexPrice[u]! > 0)) return;
      else if (moved[u]) c1 += b * market.indexPrice[u]! * kappa[u]!;
      else c0 += b * market.indexPrice[u]! * kappa[u]!;
    }
  if (!Number.isFinite(c0) || !Number.isFinite(c1)) return;
  floor.c0[a] = c0;
  floor.c1[a] = c1;
}
