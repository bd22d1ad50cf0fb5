/**
 * Test fixtures for the margin models: a hand-built market, book and balances, small scenario sets
 * built from docs/methodology.md §3 (so these tests do not depend on src/scenarios), and a float64
 * revaluation into the engine's row layout using the committed float64 kernels (kernels/revalue.ts).
 */
import { pnlRowCount, spotRow, usdRow, coinRow, type PnlMatrix } from '../../src/engine/types.js';
import type { Balances, PositionBook } from '../../src/model/book.js';
import {
  KIND_FUTURE,
  KIND_OPTION,
  KIND_PERPETUAL,
  MS_PER_YEAR,
  OPTION_CALL,
  OPTION_NONE,
  OPTION_PUT,
  SETTLE_INVERSE,
  SETTLE_LINEAR,
  type Market,
} from '../../src/model/market.js';
import { forUnderlying, type Params } from '../../src/params/params.js';
import {
  VOL_DOWN,
  VOL_NONE,
  VOL_REL_DOWN,
  VOL_REL_UP,
  VOL_UP,
  type Family,
  type ScenarioSet,
} from '../../src/scenarios/types.js';
import { revalueCoin, revalueNormalised } from '../../kernels/revalue.js';
import { black76Usd } from '../../src/margin/optionValue.js';

export interface InstrumentSpec {
  name: string;
  underlying: string;
  kind: 'option' | 'future' | 'perpetual';
  type?: 'C' | 'P';
  settlement: 'inverse' | 'linear';
  strike?: number;
  /** ISO time */
  expiry?: string;
  forward: number;
  iv?: number;
  /** quote units (coin for inverse options, USD otherwise); default: the model value (options), the forward */
  mark?: number;
  bid?: number;
  ask?: number;
  oi?: number;
}

export interface UnderlyingSpec {
  name: string;
  index: number;
  rate?: number;
}

/** A Market from literal specs; T in years of 365 days from `snapshot`. */
export function makeMarket(snapshot: string, underlyings: UnderlyingSpec[], specs: InstrumentSpec[]): Market {
  const snap = Date.parse(snapshot);
  const n = specs.length;
  const f64 = (): Float64Array => new Float64Array(n).fill(NaN);
  const ins = {
    count: n,
    name: specs.map((s) => s.name),
    id: new Map(specs.map((s, i) => [s.name, i])),
    underlying: new Int32Array(n),
    kind: new Uint8Array(n),
    optionType: new Uint8Array(n),
    settlement: new Uint8Array(n),
    strike: f64(),
    expiryMs: f64(),
    tYears: new Float64Array(n),
    markPrice: f64(),
    markIv: f64(),
    forward: f64(),
    bidPrice: f64(),
    askPrice: f64(),
    openInterest: f64(),
  };
  const uid = new Map(underlyings.map((u, i) => [u.name, i]));
  specs.forEach((s, i) => {
    ins.underlying[i] = uid.get(s.underlying)!;
    ins.kind[i] = s.kind === 'option' ? KIND_OPTION : s.kind === 'future' ? KIND_FUTURE : KIND_PERPETUAL;
    ins.optionType[i] = s.kind !== 'option' ? OPTION_NONE : s.type === 'C' ? OPTION_CALL : OPTION_PUT;
    ins.settlement[i] = s.settlement === 'inverse' ? SETTLE_INVERSE : SETTLE_LINEAR;
    ins.forward[i] = s.forward;
    if (s.expiry) {
      ins.expiryMs[i] = Date.parse(s.expiry);
      ins.tYears[i] = (ins.expiryMs[i] - snap) / MS_PER_YEAR;
    }
    if (s.kind === 'option') {
      ins.strike[i] = s.strike!;
      ins.markIv[i] = s.iv!;
      const v = black76Usd(
        s.type === 'C',
        s.forward,
        s.strike!,
        ins.tYears[i],
        s.iv!,
        underlyings[ins.underlying[i]].rate ?? 0,
      );
      ins.markPrice[i] = s.mark ?? (s.settlement === 'inverse' ? v / s.forward : v);
    } else {
      ins.markPrice[i] = s.mark ?? s.forward;
    }
    if (s.bid !== undefined) ins.bidPrice[i] = s.bid;
    if (s.ask !== undefined) ins.askPrice[i] = s.ask;
    if (s.oi !== undefined) ins.openInterest[i] = s.oi;
  });
  return {
    snapshotTimeMs: snap,
    underlyings: underlyings.map((u) => u.name),
    underlyingId: uid,
    indexPrice: Float64Array.from(underlyings, (u) => u.index),
    rate: Float64Array.from(underlyings, (u) => u.rate ?? 0),
    instruments: ins,
  };
}

export interface PositionSpec {
  account: string;
  instrument: string;
  qty: number;
  entry?: number;
}
export interface BalanceSpec {
  account: string;
  currency: string;
  amount: number;
}

/**
 * A PositionBook and Balances as the loader builds them: accounts sorted by key, rows of one
 * (account, instrument) summed, zero rows dropped, positions sorted by (account, unit, instrument).
 */
export function makePortfolio(
  market: Market,
  positions: PositionSpec[],
  balances: BalanceSpec[] = [],
): { book: PositionBook; balances: Balances } {
  const U = market.underlyings.length;
  const keys = [...new Set([...positions.map((p) => p.account), ...balances.map((b) => b.account)])].sort();
  const aid = new Map(keys.map((k, a) => [k, a]));
  const merged = new Map<string, { a: number; i: number; q: number; entry: number }>();
  for (const p of positions) {
    const i = market.instruments.id.get(p.instrument);
    if (i === undefined) throw new Error(`fixture: unknown instrument ${p.instrument}`);
    const key = `${p.account}\u0000${i}`;
    const m = merged.get(key);
    if (m) m.q += p.qty;
    else merged.set(key, { a: aid.get(p.account)!, i, q: p.qty, entry: p.entry ?? NaN });
  }
  const unitOf = (i: number): number =>
    market.instruments.settlement[i] === SETTLE_INVERSE ? market.instruments.underlying[i] : U;
  const rows = [...merged.values()]
    .filter((r) => r.q !== 0)
    .sort((x, y) => x.a - y.a || unitOf(x.i) - unitOf(y.i) || x.i - y.i);
  const P = rows.length;
  const A = keys.length;
  const accountStart = new Int32Array(A + 1);
  for (const r of rows) accountStart[r.a + 1]++;
  for (let a = 0; a < A; a++) accountStart[a + 1] += accountStart[a];
  const unitAccount: number[] = [];
  const unitCurrency: number[] = [];
  const unitStart: number[] = [0];
  const accountUnitStart = new Int32Array(A + 1);
  rows.forEach((r, p) => {
    const c = unitOf(r.i);
    const last = unitAccount.length - 1;
    if (last < 0 || unitAccount[last] !== r.a || unitCurrency[last] !== c) {
      if (last >= 0) unitStart.push(p);
      unitAccount.push(r.a);
      unitCurrency.push(c);
      accountUnitStart[r.a + 1]++;
    }
  });
  unitStart.push(P);
  if (P === 0) unitStart.length = 1;
  for (let a = 0; a < A; a++) accountUnitStart[a + 1] += accountUnitStart[a];
  const book: PositionBook = {
    accountCount: A,
    accountKey: keys,
    accountKeyType: 'utf8',
    accountStart,
    instrumentId: Int32Array.from(rows, (r) => r.i),
    quantity: Float64Array.from(rows, (r) => r.q),
    entryPrice: Float64Array.from(rows, (r) => r.entry),
    unitCount: unitAccount.length,
    unitAccount: Int32Array.from(unitAccount),
    unitCurrency: Int32Array.from(unitCurrency),
    unitStart: Int32Array.from(unitStart),
    accountUnitStart,
    unitCurrencies: [...market.underlyings, 'USDC'],
  };
  const currencies = [...market.underlyings, 'USD', 'USDC', 'USDT'];
  const amount = new Float64Array(A * currencies.length);
  for (const b of balances)
    amount[aid.get(b.account)! * currencies.length + currencies.indexOf(b.currency)] += b.amount;
  return { book, balances: { currencies, amount } };
}

/** Allocates a scenario set of `count` scenarios over `underlyings` (weights 1, vol none, no moves). */
export function emptySet(family: Family, count: number, underlyings: string[]): ScenarioSet {
  const n = count * underlyings.length;
  return {
    family,
    count,
    underlyings: [...underlyings],
    id: Int32Array.from({ length: count }, (_, s) => s),
    label: Array.from({ length: count }, (_, s) => String(s)),
    weight: new Float64Array(n).fill(1),
    dtDays: new Float64Array(count),
    move: new Float64Array(n),
    deltaOneMove: new Float64Array(n),
    volRule: new Uint8Array(n).fill(VOL_NONE),
    volParam: new Float64Array(n).fill(1),
    meta: {},
  };
}

/** The deribit-pm grid of docs/methodology.md §3a: 27 standard scenarios (id (j+B)·3+v) and 8 extended ones. */
export function deribitPmSet(market: Market, params: Params): ScenarioSet {
  const p = params.deribitPm;
  const B = p.bucketsCount;
  const U = market.underlyings.length;
  const nStd = (2 * B + 1) * 3;
  const set = emptySet('deribit-pm', nStd + p.extendedMoves.length, market.underlyings);
  const R = market.underlyings.map((u) => forUnderlying(p.priceRange, u));
  for (let j = -B; j <= B; j++) {
    for (let v = 0; v < 3; v++) {
      const s = (j + B) * 3 + v;
      for (let u = 0; u < U; u++) {
        set.move[s * U + u] = set.deltaOneMove[s * U + u] = (R[u] * j) / B;
        set.volRule[s * U + u] = [VOL_UP, VOL_NONE, VOL_DOWN][v];
      }
    }
  }
  p.extendedMoves.forEach((m, k) => {
    const s = nStd + k;
    for (let u = 0; u < U; u++) {
      set.move[s * U + u] = m;
      set.deltaOneMove[s * U + u] = m < 0 ? -R[u] : R[u];
      set.volRule[s * U + u] = VOL_UP;
      set.weight[s * U + u] = (p.extendedTableFactor * R[u]) / Math.abs(m);
    }
  });
  return set;
}

/** The 16-scenario span set of docs/methodology.md §3b (classic SPAN order), PSR and VSR per underlying from params. */
export function spanSet(market: Market, params: Params): ScenarioSet {
  const sp = params.span;
  const U = market.underlyings.length;
  const set = emptySet('span', 16, market.underlyings);
  // [fraction of PSR, vol rule]; extremes at extreme_multiple with vol none and weight extreme_cover
  const order: Array<[number, number]> = [
    [0, VOL_REL_UP],
    [0, VOL_REL_DOWN],
    [1 / 3, VOL_REL_UP],
    [1 / 3, VOL_REL_DOWN],
    [-1 / 3, VOL_REL_UP],
    [-1 / 3, VOL_REL_DOWN],
    [2 / 3, VOL_REL_UP],
    [2 / 3, VOL_REL_DOWN],
    [-2 / 3, VOL_REL_UP],
    [-2 / 3, VOL_REL_DOWN],
    [1, VOL_REL_UP],
    [1, VOL_REL_DOWN],
    [-1, VOL_REL_UP],
    [-1, VOL_REL_DOWN],
    [sp.extremeMultiple, VOL_NONE],
    [-sp.extremeMultiple, VOL_NONE],
  ];
  order.forEach(([fr, rule], s) => {
    for (let u = 0; u < U; u++) {
      const name = market.underlyings[u];
      set.move[s * U + u] = set.deltaOneMove[s * U + u] = fr * forUnderlying(sp.psr, name);
      set.volRule[s * U + u] = rule;
      set.volParam[s * U + u] = rule === VOL_NONE ? 1 : forUnderlying(sp.vsr, name);
      if (s >= 14) set.weight[s * U + u] = sp.extremeCover;
    }
  });
  return set;
}

/** A joint set (historical-like): scenario s moves underlying u by moves[s][u], vol none, weight 1. */
export function jointSet(family: Family, market: Market, moves: number[][]): ScenarioSet {
  const U = market.underlyings.length;
  const set = emptySet(family, moves.length, market.underlyings);
  moves.forEach((row, s) =>
    row.forEach((m, u) => {
      set.move[s * U + u] = set.deltaOneMove[s * U + u] = m;
    }),
  );
  return set;
}

/** Float64 revaluation of every instrument (USD and coin rows) and every spot row, docs/methodology.md §1–2. */
export function revalue(market: Market, set: ScenarioSet, params: Params): PnlMatrix {
  const ins = market.instruments;
  const I = ins.count;
  const U = market.underlyings.length;
  const S = set.count;
  const dp = params.deribitPm;
  const data = new Float64Array(pnlRowCount(I, U) * S);
  for (let i = 0; i < I; i++) {
    const u = ins.underlying[i];
    const f = ins.forward[i];
    const up = forUnderlying(dp.volRangeUp, market.underlyings[u]);
    for (let s = 0; s < S; s++) {
      const x = s * U + u;
      const args = [
        ins.kind[i],
        ins.optionType[i] === OPTION_CALL ? 1 : 0,
        ins.strike[i] / f,
        ins.tYears[i],
        ins.markIv[i],
        market.rate[u],
        set.move[x],
        set.deltaOneMove[x],
        set.volRule[x],
        set.volParam[x],
        set.dtDays[s] / 365,
        up,
        dp.volRangeDown,
        dp.minVolForShockUp,
        dp.shortTermVegaPower,
        dp.longTermVegaPower,
      ] as const;
      data[usdRow(i) * S + s] = f * revalueNormalised(...args);
      data[coinRow(i, I) * S + s] = revalueCoin(...args);
    }
  }
  for (let u = 0; u < U; u++)
    for (let s = 0; s < S; s++) data[spotRow(u, I) * S + s] = market.indexPrice[u] * set.move[s * U + u];
  return { rows: pnlRowCount(I, U), scenarios: S, data };
}

/**
 * 200 pinned joint moves for var over a market: the first underlying from −20% to +19.8%, the others 1.25× it plus a
 * wobble.
 */
export function pinnedJointMoves(market: Market): number[][] {
  return Array.from({ length: 200 }, (_, s) => {
    const b = (((s * 67) % 200) - 100) / 500;
    return market.underlyings.map((_, u) => (u === 0 ? b : 1.25 * b + (s % 5 === 0 ? -0.03 : 0.01)));
  });
}
