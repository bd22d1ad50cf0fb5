/**
 * Risk units (account, settlement currency) of deribit-pm and standard: the book's units, plus a unit
 * for every currency an account holds a non-zero balance in without holding positions there (so the
 * collateral has a row and counts in equity). Codes 0..U-1 are the underlying coins, U is USDC (which
 * also collects USD and USDT balances).
 */
import type { Balances, PositionBook } from '../model/book.js';
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

/** The units of every account, sorted by (account, currency code). */
export function settlementUnits(book: PositionBook, balances: Balances, market: Market): SettlementUnits {
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const A = book.accountCount;
  const slot = new Int32Array(U + 1);
  const account: number[] = [];
  const currency: number[] = [];
  const bookUnit: number[] = [];
  for (let a = 0; a < A; a++) {
    slot.fill(-2);
    for (let k = book.accountUnitStart[a]; k < book.accountUnitStart[a + 1]; k++) slot[book.unitCurrency[k]] = k;
    if (balances.amount.length >= (a + 1) * C) {
      for (let j = 0; j < C; j++) {
        if (codes[j] >= 0 && balances.amount[a * C + j] !== 0 && slot[codes[j]] === -2) slot[codes[j]] = -1;
      }
    }
    for (let c = 0; c <= U; c++) {
      if (slot[c] === -2) continue;
      account.push(a);
      currency.push(c);
      bookUnit.push(slot[c]);
    }
  }
  return {
    count: account.length,
    account: Int32Array.from(account),
    currency: Int32Array.from(currency),
    bookUnit: Int32Array.from(bookUnit),
    names: [...market.underlyings, 'USDC'],
  };
}
