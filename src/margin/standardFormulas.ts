/**
 * The formulas of `standard`, Deribit's per-position margin without offsets (docs/methodology.md §4d):
 * per position, per instrument as a table for hot loops, and summed per settlement unit. The model that
 * makes rows of them is standard.ts. Amounts in the unit's currency (coin for inverse instruments, USDC
 * for linear ones).
 */
import { KIND_OPTION, OPTION_CALL, SETTLE_INVERSE, instrumentIndexPrice, type Market } from '../model/market.js';
import { forUnderlying, type Params } from '../params/params.js';

/**
 * Standard IM and MM of one position, written to out[0] (IM) and out[1] (MM), ≥ 0, in its settlement
 * currency: coin for inverse instruments, USD(C) for linear ones.
 * - long option: 0 (the premium is paid);
 * - short call: IM = (max(0.15 − OTM/S, 0.10) + mark)·|q|, OTM = max(K − F, 0); MM = (0.075 + mark)·|q|;
 * - short put: MM = (max(0.075, 0.075·mark) + mark)·|q|; IM = max((max(0.15 − OTM/S, 0.10) + mark)·|q|, MM),
 *   OTM = max(F − K, 0);
 *   with mark in coin (a linear option's USD mark / S) and the result × S for linear options;
 * - future, perpetual: IM = (im_base + im_per_coin·|q|)·|q|, MM = (mm_base + im_per_coin·|q|)·|q|,
 *   × F for linear ones (not linear in q: the im_per_coin term grows with size).
 * S is the underlying's index price, F the instrument's forward, rates by underlying name.
 */
export function standardPosition(
  market: Market,
  params: Params,
  instrument: number,
  qty: number,
  out: Float64Array,
): void {
  const ins = market.instruments;
  const a = Math.abs(qty);
  const u = ins.underlying[instrument];
  const name = market.underlyings[u];
  const inverse = ins.settlement[instrument] === SETTLE_INVERSE;
  const f = ins.forward[instrument];
  if (ins.kind[instrument] === KIND_OPTION) {
    if (qty >= 0) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    const s = instrumentIndexPrice(market, instrument);
    const k = ins.strike[instrument];
    const mark = inverse ? ins.markPrice[instrument] : ins.markPrice[instrument] / s;
    let im: number;
    let mm: number;
    if (ins.optionType[instrument] === OPTION_CALL) {
      const otm = Math.max(k - f, 0);
      im = (Math.max(0.15 - otm / s, 0.1) + mark) * a;
      mm = (0.075 + mark) * a;
    } else {
      const otm = Math.max(f - k, 0);
      mm = (Math.max(0.075, 0.075 * mark) + mark) * a;
      im = Math.max((Math.max(0.15 - otm / s, 0.1) + mark) * a, mm);
    }
    const scale = inverse ? 1 : s;
    out[0] = im * scale;
    out[1] = mm * scale;
    return;
  }
  const perCoin = forUnderlying(params.standard.imPerCoin, name);
  const scale = inverse ? 1 : f;
  out[0] = (forUnderlying(params.standard.imBase, name) + perCoin * a) * a * scale;
  out[1] = (forUnderlying(params.standard.mmBase, name) + perCoin * a) * a * scale;
}

/**
 * Per-instrument standard-margin coefficients for hot loops: a position of size q (|q| = a) has
 * IM = (imLin + quad·a)·a and MM = (mmLin + quad·a)·a, except long options (`isOption`, q ≥ 0): 0.
 * Options: quad = 0 and imLin, mmLin the short margin per unit; futures: the base rates and
 * im_per_coin, × F for linear ones. Settlement currency as in {@link standardPosition}.
 */
export interface StandardTable {
  imLin: Float64Array;
  mmLin: Float64Array;
  quad: Float64Array;
  isOption: Uint8Array;
}

/** Builds the StandardTable of every instrument (same formulas as {@link standardPosition}). */
export function standardTable(market: Market, params: Params): StandardTable {
  const ins = market.instruments;
  const n = ins.count;
  const t: StandardTable = {
    imLin: new Float64Array(n),
    mmLin: new Float64Array(n),
    quad: new Float64Array(n),
    isOption: new Uint8Array(n),
  };
  const tmp = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    if (ins.kind[i] === KIND_OPTION) {
      standardPosition(market, params, i, -1, tmp);
      t.imLin[i] = tmp[0];
      t.mmLin[i] = tmp[1];
      t.isOption[i] = 1;
    } else {
      const name = market.underlyings[ins.underlying[i]];
      const scale = ins.settlement[i] === SETTLE_INVERSE ? 1 : ins.forward[i];
      t.imLin[i] = forUnderlying(params.standard.imBase, name) * scale;
      t.mmLin[i] = forUnderlying(params.standard.mmBase, name) * scale;
      t.quad[i] = forUnderlying(params.standard.imPerCoin, name) * scale;
    }
  }
  return t;
}

/** Standard IM (out[0]) and MM (out[1]) of one position from a StandardTable. */
export function standardFromTable(t: StandardTable, instrument: number, qty: number, out: Float64Array): void {
  if (t.isOption[instrument] && qty >= 0) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  const a = Math.abs(qty);
  const quad = t.quad[instrument] * a;
  out[0] = (t.imLin[instrument] + quad) * a;
  out[1] = (t.mmLin[instrument] + quad) * a;
}
