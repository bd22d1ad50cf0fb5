/**
 * Margin attribution (Euler; docs/methodology.md §9): each position's share of its unit's scenario part,
 * of each add-on and of the margin, the shares adding up to the model's margin.
 *
 * - Worst-case models (deribit-pm per unit, span per unit): a position's share of the scenario part is
 *   its own weighted loss in the worst scenario s*, `c_e = −f_b(s*)·w[s*,b]·q_e·pnl(row_e, s*)`, where
 *   f_b(s) is the factor adj() applies to its bucket's (underlying's) weighted P&L in s (1 for a loss,
 *   pnl_offset for a gain), so Σ_e c_e = −p[s*] = worst_case; tied worst scenarios share by the mean.
 *   SOM (span) goes to the short options by their own term som_rate·S_u·|q| (in proportion to |q|);
 *   the roll shock to each future and perpetual by its own term; the liquidity add-on to each position
 *   by its own term. MM and IM are the model's formulas applied to the shares (deribit-pm:
 *   MM = mm_factor·(scenario + roll), IM = scenario + roll + add-on; span: MM = the scenario share when
 *   scan_risk ≥ SOM, else the SOM share, IM = im_factor·MM + add-on).
 * - ES (var): the tail weights t_s are those of the engine's ES (docs/conventions.md, "Margin models":
 *   ES is the mean of the k = varTailCount(N, α) largest losses, so t_s = 1/k on each of them; losses
 *   tied at the k-th value share its weight equally), c_e = Σ_s t_s·(−q_e·pnl(row_e, s)); coin collateral
 *   is an entry (a spot row) like a position. IM = scenario + add-on, MM = mm_factor·scenario.
 * - standard: each position's own IM and MM (§4d) and add-on term; it has no scenario part (NaN).
 *
 * Only each unit's scenario vector is rebuilt from its entries (entries × scenarios of the unit, on the
 * calling thread, float64): the shares are read in the worst / tail scenarios of that vector. The P&L
 * matrix given is the float64 reference (a run revalues it on the host for the attribution, so shares
 * are the same on every backend; on a float32 backend the shares add up to the float64 margin, which
 * differs from the stored one by at most the precision bound of docs/methodology.md "Precision").
 */
import type { PnlMatrix } from '../engine/types.js';
import { KIND_OPTION, KIND_PERPETUAL } from '../model/market.js';
import { forUnderlying } from '../params/params.js';
import { liquidityAddonFromTable } from './liquidity.js';
import type { MarginInput, ModelPlan } from './plan.js';
import { sharedFloat64, sharedInt32 } from './rows.js';
import type { RunTables } from './runTables.js';
import { standardFromTable } from './standardFormulas.js';
import type { MarginRows, ModelName } from './types.js';

/** Per (account, unit, position or collateral) of one model: its shares, in the row's currency. */
export interface Attribution {
  model: ModelName;
  count: number;
  /** the MarginRows row (account, unit, currency) the share belongs to */
  marginRow: Int32Array;
  /** instrument id of a position; −1 for coin collateral */
  instrument: Int32Array;
  /** underlying id of coin collateral (span, var); −1 for a position */
  collateral: Int32Array;
  /** the position's quantity (coin), or the collateral amount */
  quantity: Float64Array;
  /** share of the scenario part: worst_case (deribit-pm), scan_risk (span), max(ES, 0) (var); NaN for standard */
  scenario: Float64Array;
  /** share of the roll shock (deribit-pm; NaN elsewhere) */
  rollShock: Float64Array;
  /** share of the short option minimum (span; NaN elsewhere) */
  som: Float64Array;
  /** the position's own liquidity add-on term (reported for standard, not added to its IM) */
  liquidityAddon: Float64Array;
  mm: Float64Array;
  im: Float64Array;
}

function allocAttribution(model: ModelName, n: number): Attribution {
  return {
    model,
    count: n,
    marginRow: sharedInt32(n),
    instrument: sharedInt32(n),
    collateral: sharedInt32(n),
    quantity: sharedFloat64(n),
    scenario: sharedFloat64(n).fill(NaN),
    rollShock: sharedFloat64(n).fill(NaN),
    som: sharedFloat64(n).fill(NaN),
    liquidityAddon: sharedFloat64(n),
    mm: sharedFloat64(n),
    im: sharedFloat64(n),
  };
}

/** Relative tolerance within which a scenario counts as tied with the worst (float noise only). */
const TIE_TOLERANCE = 1e-14;

/**
 * The Euler shares of group g's scenario part: for each entry e of the group, Σ_s t_s·(−f_b(s)·w[s,b]·q_e·
 * pnl(row_e, s)) into `out[e − e0]`, where the tail weights t_s are the worst scenario(s) (topK = 0:
 * the mean over the tied worst) or the ES tail (topK = k > 0: 1/k each, ties at the k-th loss sharing it).
 * Returns the scenario measure itself (the worst loss, or the ES), from the same vector; `vec` and
 * `loss` are scratch (B·S and S). Exported for the what-if (whatif.ts) and the tests.
 */
export function groupShares(
  plan: Pick<ModelPlan, 'groups' | 'request'>,
  pnl: PnlMatrix,
  g: number,
  out: Float64Array,
  vec: Float64Array = new Float64Array(plan.groups.buckets * pnl.scenarios),
  loss: Float64Array = new Float64Array(pnl.scenarios),
): number {
  const { groupStart, row, qty, bucket, buckets: B, weight, pnlOffset: off } = plan.groups;
  const S = pnl.scenarios;
  const data = pnl.data;
  const e0 = groupStart[g];
  const e1 = groupStart[g + 1];
  if (e1 === e0 || S === 0) return 0;
  vec.fill(0, 0, B * S);
  let mask = 0;
  for (let e = e0; e < e1; e++) {
    const b = bucket[e];
    mask |= 1 << b;
    const q = qty[e];
    const r = row[e] * S;
    const o = b * S;
    for (let s = 0; s < S; s++) vec[o + s] += q * data[r + s];
  }
  for (let s = 0; s < S; s++) {
    let tot = 0;
    for (let b = 0; b < B; b++) {
      if (((mask >>> b) & 1) === 0) continue;
      const x = weight[s * B + b] * vec[b * S + s];
      tot += x < 0 ? x : off * x;
    }
    loss[s] = 0 - tot;
  }
  // the tail: scenario ids and their weights
  const tail: number[] = [];
  const tw: number[] = [];
  let measure: number;
  const k = plan.request.topK;
  if (k > 0) {
    const idx = Array.from({ length: S }, (_, s) => s).sort((x, y) => loss[y] - loss[x] || x - y);
    const kk = Math.min(k, S);
    const v = loss[idx[kk - 1]];
    let above = 0;
    let tied = 0;
    let tiedIn = 0;
    for (let j = 0; j < S; j++) {
      const l = loss[idx[j]];
      if (l > v) above++;
      else if (l === v) {
        tied++;
        if (j < kk) tiedIn++;
      }
    }
    for (let j = 0; j < above + tied; j++) {
      const s = idx[j];
      tail.push(s);
      tw.push(loss[s] > v ? 1 / kk : tiedIn / tied / kk);
    }
    measure = 0;
    for (let j = 0; j < tail.length; j++) measure += tw[j] * loss[tail[j]];
  } else {
    let worst = -Infinity;
    for (let s = 0; s < S; s++) if (loss[s] > worst) worst = loss[s];
    const tol = TIE_TOLERANCE * Math.abs(worst);
    for (let s = 0; s < S; s++) if (loss[s] >= worst - tol) tail.push(s);
    for (let j = 0; j < tail.length; j++) tw.push(1 / tail.length);
    measure = worst;
  }
  for (let e = e0; e < e1; e++) {
    const b = bucket[e];
    const q = qty[e];
    const r = row[e] * S;
    let c = 0;
    for (let j = 0; j < tail.length; j++) {
      const s = tail[j];
      const w = weight[s * B + b];
      const f = w * vec[b * S + s] < 0 ? 1 : off;
      c += tw[j] * -(f * w * q * data[r + s]);
    }
    out[e - e0] = c;
  }
  return measure;
}

/**
 * The attribution of a scenario-based model's rows (deribit-pm, span, var-hs, var-mc): one share row per
 * entry of the plan's groups (positions, and coin collateral in span and var), in group order. `pnl`:
 * the float64 P&L matrix of the model's scenario set; `rows`: the model's rows from `plan`.
 */
export function attributeModel(input: MarginInput, plan: ModelPlan, pnl: PnlMatrix, rows: MarginRows): Attribution {
  const { book, market, params } = input;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const { groupStart, qty } = plan.groups;
  const G = plan.groups.groupCount;
  const E = groupStart[G];
  const a = allocAttribution(plan.model, E);
  const vec = new Float64Array(plan.groups.buckets * pnl.scenarios);
  const loss = new Float64Array(pnl.scenarios);
  let share = new Float64Array(64);
  const model = plan.model;
  const dp = params.deribitPm;
  const minMoves = plan.unitNames.map((n) => (model === 'deribit-pm' ? forUnderlying(dp.minAnnualisedMove, n) : 0));
  const moveRisks = plan.unitNames.map((n) => (model === 'deribit-pm' ? forUnderlying(dp.annualisedMoveRisk, n) : 0));
  for (let g = 0; g < G; g++) {
    const e0 = groupStart[g];
    const e1 = groupStart[g + 1];
    if (e1 - e0 > share.length) share = new Float64Array(2 * (e1 - e0));
    const measure = groupShares(plan, pnl, g, share, vec, loss);
    const counts = measure > 0; // worst_case = max(0, worst loss); var's MM and IM take max(ES, 0)
    const coin = model === 'deribit-pm' && plan.currency[g] < U;
    const scanBinds = model === 'span' && rows.scanRisk[g] >= rows.som[g];
    for (let e = e0; e < e1; e++) {
      const p = plan.entryPosition[e];
      const i = p >= 0 ? book.instrumentId[p] : -1;
      const q = qty[e];
      const scen = counts ? share[e - e0] : 0;
      a.marginRow[e] = g;
      a.instrument[e] = i;
      a.collateral[e] = p >= 0 ? -1 : plan.groups.bucket[e];
      a.quantity[e] = q;
      a.scenario[e] = scen;
      const addon = i >= 0 ? liquidityAddonFromTable(input.liquidity, i, q, coin) : 0;
      a.liquidityAddon[e] = addon;
      if (model === 'deribit-pm') {
        let roll = 0;
        if (ins.kind[i] !== KIND_OPTION) {
          const code = plan.currency[g];
          const t = ins.kind[i] === KIND_PERPETUAL ? 0 : Math.max(ins.tYears[i], 0);
          const x = Math.abs(q) * Math.max(minMoves[code], moveRisks[code] * t);
          roll = coin ? x : x * ins.forward[i];
        }
        a.rollShock[e] = roll;
        a.mm[e] = dp.mmFactor * (scen + roll);
        a.im[e] = scen + roll + addon;
      } else if (model === 'span') {
        const som =
          i >= 0 && ins.kind[i] === KIND_OPTION && q < 0
            ? params.span.somRate * market.indexPrice[plan.unit[g]] * -q
            : 0;
        a.som[e] = som;
        const mm = scanBinds ? scen : som;
        a.mm[e] = mm;
        a.im[e] = params.span.imFactor * mm + addon;
      } else {
        a.mm[e] = params.var.mmFactor * scen;
        a.im[e] = scen + addon;
      }
    }
  }
  return a;
}

/**
 * The attribution of standard's rows (§4d): each position's own IM and MM and add-on term, per
 * (account, settlement currency) unit of `tables.units` (the rows' order). No scenario part.
 */
export function attributeStandard(tables: RunTables): Attribution {
  const { units, book, market } = tables;
  const U = market.underlyings.length;
  let E = 0;
  for (let k = 0; k < units.count; k++) {
    const bu = units.bookUnit[k];
    if (bu >= 0) E += book.unitStart[bu + 1] - book.unitStart[bu];
  }
  const a = allocAttribution('standard', E);
  const tmp = new Float64Array(2);
  let e = 0;
  for (let k = 0; k < units.count; k++) {
    const bu = units.bookUnit[k];
    if (bu < 0) continue;
    const coin = units.currency[k] < U;
    for (let p = book.unitStart[bu]; p < book.unitStart[bu + 1]; p++, e++) {
      const i = book.instrumentId[p];
      const q = book.quantity[p];
      standardFromTable(tables.standard, i, q, tmp);
      a.marginRow[e] = k;
      a.instrument[e] = i;
      a.collateral[e] = -1;
      a.quantity[e] = q;
      a.liquidityAddon[e] = liquidityAddonFromTable(tables.liquidity, i, q, coin);
      a.im[e] = tmp[0];
      a.mm[e] = tmp[1];
    }
  }
  return a;
}
