/**
 * The per-account summary across risk units, in USD: what the report's `account_summary` view gives
 * (since report schema 5 the view derives it from the margin rows, as summarizeRows does).
 */
import { CASH_CURRENCIES, type Market } from '../model/market.js';
import type { RunTables } from './runTables.js';
import { STATUS, SUMMARY_DERIVED } from './derived.js';
import { sharedFloat64, sharedInt32, sharedUint8 } from './rows.js';
import type { MarginRows, ModelName } from './types.js';

/**
 * One row per account of the book (id order), columnar, every amount in USD (positive margins).
 * - equity_usd: deribit-pm and standard: Σ over the account's units of the unit's equity × the index
 *   price of its coin (× 1 for USDC); span and var: the account's USD equity (docs/methodology.md §5).
 * - im_usd, mm_usd: Σ over the account's rows, converted the same way.
 * - margin_ratio = mm_usd / equity_usd (+Infinity when equity_usd ≤ 0).
 * - status (STATUS_*): deribit-pm and standard: the worst of the unit statuses (units are margined
 *   separately, so one unit in liquidation is liquidated whatever the others hold); span and var: from
 *   the USD totals. An account without rows: from its USD equity against zero margin.
 * - standard_im_usd: the account's standard IM (Σ of `standard` rows, converted); saving_usd =
 *   standard_im_usd − im_usd (positive when portfolio margin asks less).
 */
export interface AccountSummary {
  model: ModelName;
  count: number;
  /** account id in the PositionBook */
  account: Int32Array;
  equityUsd: Float64Array;
  imUsd: Float64Array;
  mmUsd: Float64Array;
  marginRatio: Float64Array;
  status: Uint8Array;
  standardImUsd: Float64Array;
  /** standard MM of the same account in USD */
  standardMmUsd: Float64Array;
  savingUsd: Float64Array;
}

/**
 * USD value of one unit of each of `names`: the index price of an underlying coin, 1 for a cash currency, NaN
 * otherwise.
 */
export function usdRates(names: string[], market: Market): Float64Array {
  return Float64Array.from(names, (n) => {
    const u = market.underlyingId.get(n);
    if (u !== undefined) return market.indexPrice[u];
    return (CASH_CURRENCIES as readonly string[]).includes(n) ? 1 : NaN;
  });
}

/**
 * Per standard-rows block: its IM and MM per account in USD, computed once and shared (read-only) by
 * every model's summary of the run; a block must not change after its first summary.
 */
const standardUsdCache = new WeakMap<
  MarginRows,
  { market: Market; accounts: number; im: Float64Array; mm: Float64Array }
>();

function standardUsd(standard: MarginRows, market: Market, A: number): [Float64Array, Float64Array] {
  const hit = standardUsdCache.get(standard);
  if (hit && hit.market === market && hit.accounts === A) return [hit.im, hit.mm];
  const stdRate = usdRates(standard.currencyNames, market);
  // sums read before they are written: written whole first (docs/conventions.md, Backends: a fresh page read
  // first faults twice)
  const im = sharedFloat64(A).fill(0);
  const mm = sharedFloat64(A).fill(0);
  for (let r = 0; r < standard.count; r++) {
    im[standard.account[r]] += standard.im[r] * stdRate[standard.currency[r]];
    mm[standard.account[r]] += standard.mm[r] * stdRate[standard.currency[r]];
  }
  standardUsdCache.set(standard, { market, accounts: A, im, mm });
  return [im, mm];
}

/**
 * The account summary of one model's rows; `standard` is standardRows(tables) of the same run (its IM
 * gives standard_im_usd).
 */
export function accountSummary(rows: MarginRows, standard: MarginRows, tables: RunTables): AccountSummary {
  return summarizeRows(rows, standard, tables.accountEquityUsd, tables.market);
}

/**
 * The account summary from what it is made of: one model's rows, the standard rows, each account's USD
 * equity (accountEquityUsd; its length is the number of accounts) and the market's index prices
 * (usdRates). Every USD sum starts at 0 and adds the rows in their order, `amount × rate` each: the
 * report's account_summary view (schema.ts) derives the same numbers from the stored rows this way.
 */
export function summarizeRows(
  rows: MarginRows,
  standard: MarginRows,
  accountEquity: Float64Array,
  market: Market,
): AccountSummary {
  const A = accountEquity.length;
  const perUnit = rows.model === 'deribit-pm' || rows.model === 'standard';
  const rate = usdRates(rows.currencyNames, market);
  // the summary owns its columns; the sums below read them before they write them, so each is written whole
  // first (docs/conventions.md, Backends: a fresh page read first faults twice; 3 models × 3 columns of the
  // intraday run's 100,000 accounts cost ~13 ms of the main thread while the report committed)
  const equityUsd = sharedFloat64(A);
  if (!perUnit) equityUsd.set(accountEquity);
  else equityUsd.fill(0);
  const fallback = perUnit ? accountEquity : equityUsd;
  const imUsd = sharedFloat64(A).fill(0);
  const mmUsd = sharedFloat64(A).fill(0);
  const worst = new Int8Array(A).fill(-1);
  for (let r = 0; r < rows.count; r++) {
    const a = rows.account[r];
    const x = rate[rows.currency[r]];
    imUsd[a] += rows.im[r] * x;
    mmUsd[a] += rows.mm[r] * x;
    if (perUnit) {
      equityUsd[a] += rows.equity[r] * x;
      worst[a] = Math.max(worst[a], rows.status[r]);
    }
  }
  const [standardImUsd, standardMmUsd] = standardUsd(standard, market, A);
  const account = sharedInt32(A);
  const ratio = sharedFloat64(A);
  const status = sharedUint8(A);
  const savingUsd = sharedFloat64(A);
  for (let a = 0; a < A; a++) {
    account[a] = a;
    if (perUnit && worst[a] < 0) equityUsd[a] = fallback[a];
  }
  // the derived columns as the account_summary view derives them (src/margin/derived.ts)
  SUMMARY_DERIVED.margin_ratio!.fill(ratio, A, mmUsd, equityUsd);
  SUMMARY_DERIVED.saving!.fill(savingUsd, A, standardImUsd, imUsd);
  // status: the worst unit's for per-unit models, else from the USD totals (§5)
  STATUS.fill(status, A, equityUsd, imUsd, mmUsd);
  if (perUnit) for (let a = 0; a < A; a++) if (worst[a] >= 0) status[a] = worst[a];
  return {
    model: rows.model,
    count: A,
    account,
    equityUsd,
    imUsd,
    mmUsd,
    marginRatio: ratio,
    status,
    standardImUsd,
    standardMmUsd,
    savingUsd,
  };
}
