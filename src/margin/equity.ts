/**
 * Equity (METHODOLOGY.md 5): collateral plus the value of options plus the unrealised P&L of futures
 * and perpetuals that carry an entry price. Options are valued at the model value V at `mark_iv`
 * (see optionValue.ts), the base every scenario P&L is measured from.
 */
import type { Balances, PositionBook } from '../model/book.js';
import { KIND_OPTION, type Market } from '../model/market.js';
import { balanceUnitCodes, type SettlementUnits } from './settlementUnits.js';

/**
 * Equity of each settlement unit in its own currency: a coin unit counts its coin balance, `q·V/F`
 * coin per option and `q(1 − entry/F)` coin per future/perpetual with an entry price; the USDC unit
 * counts USD, USDC and USDT balances at 1, `q·V` per option and `q(F − entry)` per future/perpetual.
 * `valuesUsd` is optionValuesUsd(market). Signed (negative when debts exceed assets).
 */
export function unitEquity(units: SettlementUnits, book: PositionBook, balances: Balances, market: Market, valuesUsd: Float64Array): Float64Array {
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const ins = market.instruments;
  const out = new Float64Array(units.count);
  for (let k = 0; k < units.count; k++) {
    const a = units.account[k];
    const c = units.currency[k];
    let eq = 0;
    if (balances.amount.length >= (a + 1) * C) {
      for (let j = 0; j < C; j++) if (codes[j] === c) eq += balances.amount[a * C + j];
    }
    const bu = units.bookUnit[k];
    if (bu >= 0) {
      const coin = c < U;
      for (let p = book.unitStart[bu]; p < book.unitStart[bu + 1]; p++) {
        const i = book.instrumentId[p];
        const q = book.quantity[p];
        const f = ins.forward[i];
        if (ins.kind[i] === KIND_OPTION) eq += coin ? q * valuesUsd[i] / f : q * valuesUsd[i];
        else {
          const entry = book.entryPrice[p];
          if (Number.isFinite(entry)) eq += coin ? q * (1 - entry / f) : q * (f - entry);
        }
      }
    }
    out[k] = eq;
  }
  return out;
}

/**
 * Equity of each account in USD: every balance at its index price (USD, USDC, USDT at 1), `q·V` per
 * option (inverse ones too) and `q(F − entry)` per future/perpetual with an entry price. Signed.
 */
export function accountEquityUsd(book: PositionBook, balances: Balances, market: Market, valuesUsd: Float64Array): Float64Array {
  const U = market.underlyings.length;
  const C = balances.currencies.length;
  const codes = balanceUnitCodes(balances, market);
  const ins = market.instruments;
  const out = new Float64Array(book.accountCount);
  for (let a = 0; a < book.accountCount; a++) {
    let eq = 0;
    if (balances.amount.length >= (a + 1) * C) {
      for (let j = 0; j < C; j++) {
        const c = codes[j];
        if (c < 0) continue;
        eq += balances.amount[a * C + j] * (c < U ? market.indexPrice[c] : 1);
      }
    }
    for (let p = book.accountStart[a]; p < book.accountStart[a + 1]; p++) {
      const i = book.instrumentId[p];
      const q = book.quantity[p];
      if (ins.kind[i] === KIND_OPTION) eq += q * valuesUsd[i];
      else {
        const entry = book.entryPrice[p];
        if (Number.isFinite(entry)) eq += q * (ins.forward[i] - entry);
      }
    }
    out[a] = eq;
  }
  return out;
}

