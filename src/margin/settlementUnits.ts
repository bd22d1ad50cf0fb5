/**
 * Risk units (account, settlement currency) of deribit-pm and standard: the book's units, plus a unit
 * for every currency an account holds a non-zero balance in without holding positions there (so the
 * collateral has a row and counts in equity). Codes 0..U-1 are the underlying coins, U is USDC (which
 * also collects USD and USDT balances).
 */
import type { Balances, PositionBook } from '../model/book.js';
import { sharedInt32 } from './rows.js';
import { CASH_CURRENCIES, type Market } from '../model/market.js';

export interface SettlementUnits {
  count: number;
  /** per unit: account id */
  account: Int32Array;
  /** per unit: currency code, 0..U-1 the underlying coin, U = USDC */
  currency: Int32Array;
  /** per unit: index of the book's unit holding its positions, −1 when it holds only collateral */
  bookUnit: Int32Array;
  /** names of the currency codes: the market's underlyings, then 'USDC' */
  names: string[];
}

/**
 * Unit code of every balance column: the underlying id for a coin, U (USDC) for USD, USDC and USDT,
 * −1 for anything else (not counted).
 */
export function balanceUnitCodes(balances: Balances, market: Market): Int32Array {
  const U = market.underlyings.length;
  const codes = new Int32Array(balances.currencies.length);
  balances.currencies.forEach((c, j) => {
    const u = market.underlyingId.get(c);
    codes[j] = u !== undefined ? u : (CASH_CURRENCIES as readonly string[]).includes(c) ? U : -1;
  });
  return codes;
}

/** The units of every account, sorted by (account, currency code). Two passes over typed arrays. */
export function settlementUnits(book: PositionBook, balances: Balances, market: Market): SettlementUnits {
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const A = book.accountCount;
  const hasBal = balances.amount.length >= A * C;
  // per account and unit currency c: the book's unit holding its positions, −1 balance only, −2 none
  const slot = new Int32Array(U + 1);
  const fill = (a: number): number => {
    // a loop, not slot.fill(): TypedArray.prototype.fill is a call into V8's runtime (~20–40 ns), twice per account
    for (let c = 0; c <= U; c++) slot[c] = -2;
    for (let k = book.accountUnitStart[a]; k < book.accountUnitStart[a + 1]; k++) slot[book.unitCurrency[k]] = k;
    let n = book.accountUnitStart[a + 1] - book.accountUnitStart[a];
    if (hasBal) {
      const base = a * C;
      for (let j = 0; j < C; j++) {
        const c = codes[j];
        if (c >= 0 && slot[c] === -2 && balances.amount[base + j] !== 0) {
          slot[c] = -1;
          n++;
        }
      }
    }
    return n;
  };
  let count = 0;
  for (let a = 0; a < A; a++) count += fill(a);
  // shared memory: deribit-pm's and standard's rows use these two columns as they are (rows.ts)
  const account = sharedInt32(count);
  const currency = sharedInt32(count);
  const bookUnit = new Int32Array(count);
  let k = 0;
  for (let a = 0; a < A; a++) {
    fill(a);
    for (let c = 0; c <= U; c++) {
      if (slot[c] === -2) continue;
      account[k] = a;
      currency[k] = c;
      bookUnit[k] = slot[c];
      k++;
    }
  }
  return { count, account, currency, bookUnit, names: [...market.underlyings, 'USDC'] };
}
