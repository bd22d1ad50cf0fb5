/**
 * Equity (docs/methodology.md §5): collateral plus the value of options plus the unrealised P&L of futures
 * and perpetuals that carry an entry price. Options are valued at the model value V at `mark_iv`
 * (see optionValue.ts), the base every scenario P&L is measured from.
 */
import type { Balances, PositionBook } from '../model/book.js';
import { KIND_OPTION, type Market } from '../model/market.js';
import { balanceUnitCodes } from './settlementUnits.js';

/**
 * What one position adds to its unit's equity, in the unit's currency (`coin`: a coin unit): `q·V/F`
 * coin or `q·V` USD per option, `q(1 − entry/F)` coin or `q(F − entry)` USD per future or perpetual
 * with an entry price, 0 without one.
 */
export function positionEquity(
  market: Market,
  valuesUsd: Float64Array,
  i: number,
  q: number,
  entry: number,
  coin: boolean,
): number {
  const ins = market.instruments;
  const f = ins.forward[i];
  if (ins.kind[i] === KIND_OPTION) return coin ? (q * valuesUsd[i]) / f : q * valuesUsd[i];
  if (Number.isFinite(entry)) return coin ? q * (1 - entry / f) : q * (f - entry);
  return 0;
}

/**
 * The balances part of a unit's equity: the account's balances whose currency settles in the unit's
 * currency `c` (`codes`: balanceUnitCodes), added in currency order.
 */
export function unitBalances(balances: Balances, codes: Int32Array, a: number, c: number): number {
  const C = balances.currencies.length;
  let eq = 0;
  if (balances.amount.length >= (a + 1) * C) {
    for (let j = 0; j < C; j++) if (codes[j] === c) eq += balances.amount[a * C + j];
  }
  return eq;
}

/**
 * Equity of each account in USD: every balance at its index price (USD, USDC, USDT at 1), `q·V` per
 * option (inverse ones too) and `q(F − entry)` per future/perpetual with an entry price. Signed.
 * `accountIndex` ([a·U + u]): each account's own index prices (RunTables.accountIndexPrice), where the
 * accounts sit at different moves of the market; absent: the market's.
 */
export function accountEquityUsd(
  book: PositionBook,
  balances: Balances,
  market: Market,
  valuesUsd: Float64Array,
  accountIndex?: Float64Array,
): Float64Array {
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
        eq +=
          balances.amount[a * C + j] * (c < U ? (accountIndex ? accountIndex[a * U + c] : market.indexPrice[c]) : 1);
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
