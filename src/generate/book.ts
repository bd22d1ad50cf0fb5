/**
 * The portfolio generator: a seeded, exchange-like book over a market snapshot (PERFORMANCE.md,
 * "Workloads"). Account sizes heavy-tailed (accountSizes.ts), legs from the strategy mix
 * (strategies.ts), sizes in coin (tradeSize.ts), collateral against each account's deribit-pm margin as
 * the engine computes it with its default parameters (collateral.ts, unitMargins.ts). Everything is drawn from one
 * xoshiro128** stream seeded by `seed` (prng.ts): the same
 * market, account count and seed give the same book, bit for bit. Columns are built in typed arrays.
 */
import { KIND_OPTION, type Market } from '../model/market.js';
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL } from '../margin/types.js';
import { defaultParams } from '../params/params.js';
import { accountSizeModel, drawAccountSize } from './accountSizes.js';
import { drawCollateral } from './collateral.js';
import { indexMarket } from './marketIndex.js';
import { UnitMarginAccount, pmMarginTable } from './unitMargins.js';
import { Prng } from './prng.js';
import {
  DELTA_HEDGED,
  STRATEGIES,
  STRATEGY_MIN_LEGS,
  STRATEGY_WEIGHTS,
  addStrategy,
  type StrategyContext,
} from './strategies.js';
import { drawAccountScale } from './tradeSize.js';

export interface GenerateOptions {
  /** number of accounts (≥ 1) */
  accounts: number;
  /** PRNG seed, a non-negative integer */
  seed: number;
}

/** What the generator did, for summaries and tests. */
export interface GenerateStats {
  accounts: number;
  positions: number;
  balances: number;
  /** per strategy (STRATEGIES order): accounts that trade it at least once */
  strategyAccounts: Int32Array;
  /** per strategy: times it was added */
  strategyCount: Int32Array;
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

/**
 * Generates a book of `accounts` accounts over `market`.
 * @throws RangeError when accounts < 1, the seed is not a non-negative integer, or the market has no
 *   instruments.
 */
export function generateBook(market: Market, opts: GenerateOptions): GeneratedBook {
  const N = opts.accounts;
  if (!Number.isSafeInteger(N) || N < 1) throw new RangeError(`accounts must be a positive integer, got ${N}`);
  const I = market.instruments.count;
  if (I === 0) throw new RangeError('the market has no instruments');
  const rng = new Prng(opts.seed);
  const index = indexMarket(market);
  const ins = market.instruments;
  const margin = new UnitMarginAccount(pmMarginTable(market, defaultParams()));
  const sizes = accountSizeModel(I);

  const posAccount = new Grow(i32(Math.max(16, N * 12)), i32);
  const posInstrument = new Grow(i32(Math.max(16, N * 12)), i32);
  const quantity = new Grow(f64(Math.max(16, N * 12)), f64);
  const entryPrice = new Grow(f64(Math.max(16, N * 12)), f64);
  const balAccount = new Grow(i32(Math.max(16, N * 2)), i32);
  const balCurrency = new Grow(i32(Math.max(16, N * 2)), i32);
  const balAmount = new Grow(f64(Math.max(16, N * 2)), f64);
  const stats: GenerateStats = {
    accounts: N,
    positions: 0,
    balances: 0,
    maxPositions: 0,
    drawnMarginCall: 0,
    drawnLiquidation: 0,
    marginCallAccounts: 0,
    liquidationAccounts: 0,
    standardMarginCallAccounts: 0,
    standardLiquidationAccounts: 0,
    strategyAccounts: new Int32Array(STRATEGIES.length),
    strategyCount: new Int32Array(STRATEGIES.length),
  };

  // the current account's legs, merged per instrument
  const stamp = new Int32Array(I).fill(-1);
  const slot = new Int32Array(I);
  const ids = new Int32Array(I);
  const q = new Float64Array(I);
  const entry = new Float64Array(I);
  let count = 0;
  let live = 0;
  let account = 0;
  const sink = {
    add(id: number, dq: number, e: number) {
      if (stamp[id] !== account) {
        stamp[id] = account;
        slot[id] = count;
        ids[count] = id;
        q[count] = 0;
        entry[count] = e;
        count++;
      }
      const k = slot[id]!;
      const before = q[k]! !== 0;
      q[k] = q[k]! + dq;
      if (Math.abs(q[k]!) < 1e-9) q[k] = 0;
      const after = q[k]! !== 0;
      live += (after ? 1 : 0) - (before ? 1 : 0);
    },
  };
  const weights = new Float64Array(STRATEGIES.length);
  const used = new Uint8Array(STRATEGIES.length);
  const order = new Int32Array(I);
  const balances = {
    add(c: number, amount: number) {
      balAccount.push(account);
      balCurrency.push(c);
      balAmount.push(amount);
    },
  };

  for (account = 0; account < N; account++) {
    const n = drawAccountSize(rng, sizes);
    const marketMaker = n >= 100;
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

    // emit the live positions in instrument order; accumulate the deribit-pm margin per unit
    for (let k = 0; k < count; k++) order[k] = ids[k]!;
    const sorted = order.subarray(0, count).sort();
    margin.reset();
    let emitted = 0;
    for (let k = 0; k < count; k++) {
      const id = sorted[k]!;
      const j = slot[id]!;
      const qty = q[j]!;
      if (qty === 0) continue;
      const isOption = ins.kind[id] === KIND_OPTION;
      const e = isOption ? NaN : entry[j]!;
      posAccount.push(account);
      posInstrument.push(id);
      quantity.push(qty);
      entryPrice.push(e);
      emitted++;
      margin.add(id, qty, e, ins.underlying[id]!, isOption);
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
