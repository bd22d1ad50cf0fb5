/**
 * The portfolio generator: a seeded, exchange-like book over a market snapshot (docs/performance.md,
 * "Workloads"). Account sizes heavy-tailed (accountSizes.ts), legs from the strategy mix
 * (strategies.ts), placed on options in proportion to their open interest, sized so the book holds
 * what an exchange of `referenceAccounts` accounts holds (below), collateral against each account's
 * deribit-pm margin as the engine computes it with its default parameters (collateral.ts,
 * unitMargins.ts). Everything is drawn from one xoshiro128** stream seeded by `seed` (prng.ts): the same
 * market, account count, reference and seed give the same book, bit for bit. Columns are built in typed
 * arrays.
 *
 * Sizing (data/README.md, "The generated book"), in three passes:
 * 1. every account draws its size and strategies; each leg has a raw size in coin (tradeSize.ts) and a
 *    kind (strategies.ts: LEG_OPTION, LEG_HEDGE scaled to open interest; LEG_FIXED as traded);
 * 2. per pool (underlying × settlement) one factor k scales the option-linked legs so that the pool's
 *    options hold, summed over the book and the market makers' side, gross Σ|q| = 2 × ΣOI × N /
 *    reference (an exchange's book is its open interest twice: every contract has a long and a short);
 *    quantities are whole lots (an option leg at least one), so k is refined a few times on the rounded
 *    book. Futures and perpetuals are sized by the options they go with (a covered call's future = its
 *    call, a hedge = −Σ q·Δ of the options it hedges) plus outright and basis trades of the documented
 *    size (USD notional lognormal, median 40,000 × the account's scale, σ 0.9, 1–500 lots; not scaled);
 * 3. the market makers (accounts of 100 positions or more; the largest account when there is none) take
 *    the other side of what the strategies leave: per instrument the net is split into whole-lot chunks of
 *    at most 4 % of its open interest (at most 4 chunks for futures and perpetuals), each given to a
 *    market maker, so every instrument nets to exactly 0. Then each account's positions are emitted in
 *    instrument order and its collateral drawn.
 */
import { KIND_OPTION, type Market } from '../model/market.js';
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL } from '../margin/types.js';
import { defaultParams } from '../params/params.js';
import { accountSizeModel, drawAccountSize } from './accountSizes.js';
import { drawCollateral } from './collateral.js';
import { indexMarket, openInterest } from './marketIndex.js';
import { UnitMarginAccount, pmMarginTable } from './unitMargins.js';
import { Prng } from './prng.js';
import {
  DELTA_HEDGED,
  LEG_HEDGE,
  LEG_OPTION,
  STRATEGIES,
  STRATEGY_MIN_LEGS,
  STRATEGY_WEIGHTS,
  addStrategy,
  type StrategyContext,
} from './strategies.js';
import { drawAccountScale, lots } from './tradeSize.js';

/** The exchange a book is sized against: 100,000 accounts hold the market's whole open interest. */
export const DEFAULT_REFERENCE_ACCOUNTS = 100_000;
/** The largest `accounts` (about 10 positions each, held in memory: ≈ 20 M positions). */
export const MAX_ACCOUNTS = 2_000_000;
/** A market maker's chunk of an instrument's residual: at most this share of its open interest. */
export const MM_CHUNK_OI_SHARE = 0.04;
/** Chunks of a future's or perpetual's residual (no open interest to size them by). */
export const MM_DELTA_ONE_CHUNKS = 4;

export interface GenerateOptions {
  /** number of accounts (1 … MAX_ACCOUNTS) */
  accounts: number;
  /** PRNG seed, a non-negative integer */
  seed: number;
  /** accounts of the exchange whose book is the open interest (default DEFAULT_REFERENCE_ACCOUNTS) */
  referenceAccounts?: number;
}

/** What the generator did, for summaries and tests. */
export interface GenerateStats {
  accounts: number;
  referenceAccounts: number;
  positions: number;
  balances: number;
  /** per strategy (STRATEGIES order): accounts that trade it at least once */
  strategyAccounts: Int32Array;
  /** per strategy: times it was added */
  strategyCount: Int32Array;
  /** market-maker accounts, and the positions they took on the other side of the book's net */
  marketMakers: number;
  residualChunks: number;
  /** per pool (2 × underlying + settlement): the factor k of the option-linked legs (NaN: no options traded) */
  optionScale: Float64Array;
  /** accounts drawn thin: between MM and IM (margin call), below MM (liquidation) */
  drawnMarginCall: number;
  drawnLiquidation: number;
  /**
   * accounts whose balances leave them in margin call / liquidation under the engine's deribit-pm (default parameters)
   */
  marginCallAccounts: number;
  liquidationAccounts: number;
  /** the same under standard margin */
  standardMarginCallAccounts: number;
  standardLiquidationAccounts: number;
  /** largest account's position count */
  maxPositions: number;
}

/** A generated book, columnar. Rows are sorted by account, positions by instrument id within an account. */
export interface GeneratedBook {
  /** account id -> key (`A000123`); keys sort like ids */
  accountKeys: string[];
  /**
   * per position: account id, instrument id (the market's), quantity (coin, signed), entry price (USD, NaN for options)
   */
  posAccount: Int32Array;
  posInstrument: Int32Array;
  quantity: Float64Array;
  entryPrice: Float64Array;
  /** per balance: account id, currency code (index into `currencies`), amount in that currency (≥ 0) */
  balAccount: Int32Array;
  balCurrency: Int32Array;
  balAmount: Float64Array;
  /** the market's underlyings, then `USDC` */
  currencies: string[];
  stats: GenerateStats;
}

/** A growable typed-array column. */
class Grow<T extends Int32Array | Float64Array> {
  n = 0;
  constructor(
    public a: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): T {
    return this.a.subarray(0, this.n) as T;
  }
}
const i32 = (n: number) => new Int32Array(n);
const f64 = (n: number) => new Float64Array(n);

/** Account keys `A` + the id zero-padded to max(6, digits) so they sort like the ids. */
export function accountKey(id: number, accounts: number): string {
  return 'A' + String(id).padStart(Math.max(6, String(Math.max(0, accounts - 1)).length), '0');
}

/** Whether any option of the market has open interest > 0 (the generator sizes against it). */
export function hasOpenInterest(market: Market): boolean {
  const ins = market.instruments;
  for (let i = 0; i < ins.count; i++) if (ins.kind[i] === KIND_OPTION && openInterest(market, i) > 0) return true;
  return false;
}

/** Symmetric rounding to whole lots: sign(x)·round(|x|), so a leg and its opposite round alike. */
const roundLots = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

/**
 * Generates a book of `accounts` accounts over `market`.
 * @throws RangeError when accounts is not an integer in 1 … MAX_ACCOUNTS, referenceAccounts is not a
 *   positive integer, the seed is not a non-negative integer, the market has no instruments, or no
 *   option of the market has open interest.
 */
export function generateBook(market: Market, opts: GenerateOptions): GeneratedBook {
  const N = opts.accounts;
  if (!Number.isSafeInteger(N) || N < 1 || N > MAX_ACCOUNTS)
    throw new RangeError(`accounts must be an integer from 1 to ${MAX_ACCOUNTS}, got ${N}`);
  const ref = opts.referenceAccounts ?? DEFAULT_REFERENCE_ACCOUNTS;
  if (!Number.isSafeInteger(ref) || ref < 1)
    throw new RangeError(`referenceAccounts must be a positive integer, got ${ref}`);
  const I = market.instruments.count;
  if (I === 0) throw new RangeError('the market has no instruments');
  if (!hasOpenInterest(market))
    throw new RangeError('the market has no open interest: no option has open_interest > 0 to size the book by');
  const rng = new Prng(opts.seed);
  const index = indexMarket(market);
  const ins = market.instruments;
  const U = market.underlyings.length;
  const sizes = accountSizeModel(I);
  const stats: GenerateStats = {
    accounts: N,
    referenceAccounts: ref,
    positions: 0,
    balances: 0,
    maxPositions: 0,
    marketMakers: 0,
    residualChunks: 0,
    optionScale: new Float64Array(2 * U).fill(NaN),
    drawnMarginCall: 0,
    drawnLiquidation: 0,
    marginCallAccounts: 0,
    liquidationAccounts: 0,
    standardMarginCallAccounts: 0,
    standardLiquidationAccounts: 0,
    strategyAccounts: new Int32Array(STRATEGIES.length),
    strategyCount: new Int32Array(STRATEGIES.length),
  };

  // ---- pass 1: every account's legs, merged per instrument, raw sizes
  const accStart = new Int32Array(N + 1);
  const p1Ins = new Grow(i32(Math.max(16, N * 12)), i32);
  const p1Scaled = new Grow(f64(Math.max(16, N * 12)), f64);
  const p1Fixed = new Grow(f64(Math.max(16, N * 12)), f64);
  const p1Entry = new Grow(f64(Math.max(16, N * 12)), f64);
  const p1MinLot = new Grow(i32(Math.max(16, N * 12)), i32);
  const isMm = new Uint8Array(N);
  const stamp = new Int32Array(I).fill(-1);
  const slot = new Int32Array(I);
  const ids = new Int32Array(I);
  const qs = new Float64Array(I);
  const qf = new Float64Array(I);
  const entry = new Float64Array(I);
  const minLot = new Int32Array(I);
  let count = 0;
  let live = 0;
  let account = 0;
  const clean = (x: number) => (Math.abs(x) < 1e-9 ? 0 : x);
  const sink = {
    add(id: number, dq: number, e: number, kind: number) {
      if (stamp[id] !== account) {
        stamp[id] = account;
        slot[id] = count;
        ids[count] = id;
        qs[count] = 0;
        qf[count] = 0;
        minLot[count] = 0;
        entry[count] = e;
        count++;
      }
      const k = slot[id]!;
      const before = qs[k]! !== 0 || qf[k]! !== 0;
      if (kind === LEG_OPTION || kind === LEG_HEDGE) qs[k] = clean(qs[k]! + dq);
      else qf[k] = clean(qf[k]! + dq);
      if (kind !== LEG_HEDGE) minLot[k] = 1;
      const after = qs[k]! !== 0 || qf[k]! !== 0;
      live += (after ? 1 : 0) - (before ? 1 : 0);
    },
  };
  const weights = new Float64Array(STRATEGIES.length);
  const used = new Uint8Array(STRATEGIES.length);
  for (account = 0; account < N; account++) {
    const n = drawAccountSize(rng, sizes);
    const marketMaker = n >= 100;
    isMm[account] = marketMaker ? 1 : 0;
    const ctx: StrategyContext = {
      rng,
      index,
      sink,
      marketMaker,
      scale: drawAccountScale(rng),
      primary: rng.weighted(index.underlyingWeight),
    };
    count = 0;
    live = 0;
    used.fill(0);
    for (let attempts = 0; live < n && attempts < 20 + 10 * n; attempts++) {
      const remaining = n - live;
      for (let s = 0; s < weights.length; s++) {
        weights[s] =
          STRATEGY_MIN_LEGS[s]! <= remaining ? STRATEGY_WEIGHTS[s]! * (marketMaker && s === DELTA_HEDGED ? 20 : 1) : 0;
      }
      const s = rng.weighted(weights);
      if (addStrategy(s, ctx, remaining)) {
        stats.strategyCount[s]!++;
        if (!used[s]) {
          used[s] = 1;
          stats.strategyAccounts[s]!++;
        }
      }
    }
    for (let k = 0; k < count; k++) {
      if (qs[k]! === 0 && qf[k]! === 0) continue;
      p1Ins.push(ids[k]!);
      p1Scaled.push(qs[k]!);
      p1Fixed.push(qf[k]!);
      p1Entry.push(entry[k]!);
      p1MinLot.push(minLot[k]!);
    }
    accStart[account + 1] = p1Ins.n;
  }
  const P = p1Ins.n;
  const pIns = p1Ins.done(),
    pScaled = p1Scaled.done(),
    pFixed = p1Fixed.done(),
    pMinLot = p1MinLot.done();
  const pEntry = p1Entry.done();

  // ---- pass 2: the factor k per pool, on the rounded book (quantities in whole lots)
  const lotOf = (i: number) => index.lot[ins.underlying[i]!]!;
  const poolOf = (i: number) => 2 * ins.underlying[i]! + ins.settlement[i]!;
  const isOption = (i: number) => ins.kind[i] === KIND_OPTION;
  const target = new Float64Array(2 * U);
  for (let i = 0; i < I; i++) if (isOption(i)) target[poolOf(i)]! += (2 * openInterest(market, i) * N) / ref;
  const k = new Float64Array(2 * U).fill(1);
  const netRaw = new Float64Array(I);
  const grossRaw = new Float64Array(2 * U);
  for (let p = 0; p < P; p++) {
    const i = pIns[p]!;
    if (!isOption(i)) continue;
    netRaw[i]! += pScaled[p]!;
    grossRaw[poolOf(i)]! += Math.abs(pScaled[p]!);
  }
  for (let i = 0; i < I; i++) if (isOption(i)) grossRaw[poolOf(i)]! += Math.abs(netRaw[i]!);
  for (let g = 0; g < 2 * U; g++) if (grossRaw[g]! > 0 && target[g]! > 0) k[g] = target[g]! / grossRaw[g]!;
  const qLots = new Float64Array(P);
  const netLots = new Float64Array(I);
  const grossCoin = new Float64Array(2 * U);
  const round = () => {
    netLots.fill(0);
    grossCoin.fill(0);
    for (let p = 0; p < P; p++) {
      const i = pIns[p]!;
      const x = (k[poolOf(i)]! * pScaled[p]! + pFixed[p]!) / lotOf(i);
      let r = roundLots(x);
      if (r === 0 && pMinLot[p] === 1 && x !== 0) r = x < 0 ? -1 : 1;
      qLots[p] = r;
      netLots[i]! += r;
      if (isOption(i)) grossCoin[poolOf(i)]! += Math.abs(r) * lotOf(i);
    }
    for (let i = 0; i < I; i++) if (isOption(i)) grossCoin[poolOf(i)]! += Math.abs(netLots[i]!) * lotOf(i);
  };
  for (let it = 0; it < 4; it++) {
    round();
    if (it === 3) break;
    for (let g = 0; g < 2 * U; g++)
      if (grossCoin[g]! > 0 && target[g]! > 0) k[g] = k[g]! * (target[g]! / grossCoin[g]!);
  }
  for (let g = 0; g < 2 * U; g++) if (grossRaw[g]! > 0) stats.optionScale[g] = k[g]!;

  // ---- pass 3a: the market makers take the other side of each instrument's net
  let mms: number[] = [];
  for (let a = 0; a < N; a++) if (isMm[a]) mms.push(a);
  if (mms.length === 0) {
    let best = 0;
    for (let a = 1; a < N; a++) if (accStart[a + 1]! - accStart[a]! > accStart[best + 1]! - accStart[best]!) best = a;
    mms = [best];
  }
  const M = mms.length;
  stats.marketMakers = M;
  const exAcc: number[] = [];
  const exIns: number[] = [];
  const exLots: number[] = [];
  for (let i = 0; i < I; i++) {
    const total = -netLots[i]!;
    if (total === 0) continue;
    const abs = Math.abs(total);
    const oi = openInterest(market, i);
    const wanted =
      isOption(i) && oi > 0
        ? Math.ceil(abs / Math.max(1, Math.floor((MM_CHUNK_OI_SHARE * oi) / lotOf(i))))
        : MM_DELTA_ONE_CHUNKS;
    const chunks = Math.max(1, Math.min(M, abs, wanted));
    const start = rng.int(M);
    const base = Math.floor(abs / chunks);
    const rem = abs - base * chunks;
    for (let j = 0; j < chunks; j++) {
      exAcc.push(mms[(start + j) % M]!);
      exIns.push(i);
      exLots.push(Math.sign(total) * (base + (j < rem ? 1 : 0)));
    }
  }
  stats.residualChunks = exAcc.length;
  // group the chunks by account (counting sort, stable)
  const exStart = new Int32Array(N + 1);
  for (const a of exAcc) exStart[a + 1]!++;
  for (let a = 0; a < N; a++) exStart[a + 1]! += exStart[a]!;
  const exOrder = new Int32Array(exAcc.length);
  {
    const fill = exStart.slice(0, N);
    exAcc.forEach((a, c) => (exOrder[fill[a]!++] = c));
  }

  // ---- pass 3b: emit each account's positions in instrument order, its margin and its collateral
  const margin = new UnitMarginAccount(pmMarginTable(market, defaultParams()));
  const posAccount = new Grow(i32(Math.max(16, P + exAcc.length)), i32);
  const posInstrument = new Grow(i32(Math.max(16, P + exAcc.length)), i32);
  const quantity = new Grow(f64(Math.max(16, P + exAcc.length)), f64);
  const entryPrice = new Grow(f64(Math.max(16, P + exAcc.length)), f64);
  const balAccount = new Grow(i32(Math.max(16, N * 2)), i32);
  const balCurrency = new Grow(i32(Math.max(16, N * 2)), i32);
  const balAmount = new Grow(f64(Math.max(16, N * 2)), f64);
  const balances = {
    add(c: number, amount: number) {
      balAccount.push(account);
      balCurrency.push(c);
      balAmount.push(amount);
    },
  };
  stamp.fill(-1);
  const order = new Int32Array(I);
  const merge = (i: number, l: number, e: number) => {
    if (stamp[i] !== account) {
      stamp[i] = account;
      slot[i] = count;
      ids[count] = i;
      qs[count] = 0;
      entry[count] = e;
      count++;
    }
    qs[slot[i]!]! += l;
  };
  for (account = 0; account < N; account++) {
    count = 0;
    for (let p = accStart[account]!; p < accStart[account + 1]!; p++) merge(pIns[p]!, qLots[p]!, pEntry[p]!);
    for (let x = exStart[account]!; x < exStart[account + 1]!; x++) {
      const c = exOrder[x]!;
      const i = exIns[c]!;
      // a market maker's new future or perpetual is entered at the mark
      merge(i, exLots[c]!, isOption(i) ? NaN : Math.round(ins.markPrice[i]! * 100) / 100);
    }
    for (let j = 0; j < count; j++) order[j] = ids[j]!;
    const sorted = order.subarray(0, count).sort();
    margin.reset();
    let emitted = 0;
    for (let j = 0; j < count; j++) {
      const id = sorted[j]!;
      const s = slot[id]!;
      if (qs[s]! === 0) continue;
      const qty = lots(qs[s]!, lotOf(id));
      const opt = isOption(id);
      const e = opt ? NaN : entry[s]!;
      posAccount.push(account);
      posInstrument.push(id);
      quantity.push(qty);
      entryPrice.push(e);
      emitted++;
      margin.add(id, qty, e, ins.underlying[id]!, opt);
    }
    margin.finish();
    const outcome = drawCollateral(rng, margin, market.indexPrice, balances);
    if (outcome.drawn === STATUS_MARGIN_CALL) stats.drawnMarginCall++;
    if (outcome.drawn === STATUS_LIQUIDATION) stats.drawnLiquidation++;
    if (outcome.status === STATUS_MARGIN_CALL) stats.marginCallAccounts++;
    if (outcome.status === STATUS_LIQUIDATION) stats.liquidationAccounts++;
    if (outcome.standardStatus === STATUS_MARGIN_CALL) stats.standardMarginCallAccounts++;
    if (outcome.standardStatus === STATUS_LIQUIDATION) stats.standardLiquidationAccounts++;
    if (emitted > stats.maxPositions) stats.maxPositions = emitted;
  }

  const accountKeys = Array.from({ length: N }, (_, a) => accountKey(a, N));
  stats.positions = posAccount.n;
  stats.balances = balAccount.n;
  return {
    accountKeys,
    posAccount: posAccount.done(),
    posInstrument: posInstrument.done(),
    quantity: quantity.done(),
    entryPrice: entryPrice.done(),
    balAccount: balAccount.done(),
    balCurrency: balCurrency.done(),
    balAmount: balAmount.done(),
    currencies: [...market.underlyings, 'USDC'],
    stats,
  };
}
