/**
 * Per-run quantities every margin model of a run reads from the same inputs: option values, the
 * settlement units, unit and account equity, the standard margin per unit, and the per-instrument
 * liquidity and standard tables. One MarginShared is built per run (runMargin) and handed to every
 * model through `MarginInput.shared`, to standardRows and to accountSummary; each quantity is computed
 * on first use and then reused. It is an explicit object, not a memo keyed on the inputs: a caller
 * that changes the book, balances, market or params afterwards builds a new one (or passes none, and
 * each model computes what it needs itself).
 */
import type { Balances, PositionBook } from '../model/book.js';
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import { accountEquityUsd, positionEquity, unitBalances, unitEquity } from './equity.js';
import { liquidityAddonFromTable, liquidityTable, unitLiquidityAddon, type LiquidityTable } from './liquidity.js';
import { optionValuesUsd } from './optionValue.js';
import { balanceUnitCodes, settlementUnits, type SettlementUnits } from './settlementUnits.js';
import { standardByUnit, standardFromTable, standardTable, type StandardTable } from './standard.js';

/**
 * The shared quantities of one run over fixed (book, balances, market, params). Every accessor
 * returns the same array on each call (callers must not write into it); results are exactly those of
 * the free functions named in each comment.
 */
export interface MarginShared {
  readonly book: PositionBook;
  readonly balances: Balances;
  readonly market: Market;
  readonly params: Params;
  /** optionValuesUsd(market): USD per unit of underlying, NaN for delta-ones */
  optionValuesUsd(): Float64Array;
  /** settlementUnits(book, balances, market) */
  settlementUnits(): SettlementUnits;
  /** unitEquity(units, …, optionValuesUsd()) in each unit's currency; cached for the shared units only */
  unitEquity(units: SettlementUnits): Float64Array;
  /** accountEquityUsd(book, balances, market, optionValuesUsd()): USD per account */
  accountEquityUsd(): Float64Array;
  /** standardByUnit(book, market, params, units): [IM, MM] per unit; cached for the shared units only */
  standardByUnit(units: SettlementUnits): [Float64Array, Float64Array];
  /** liquidityTable(market, params) */
  liquidityTable(): LiquidityTable;
  /**
   * unitLiquidityAddon(units, book, market, liquidityTable()): the liquidity add-on of each settlement
   * unit in its currency (deribit-pm and standard margin the same units); cached for the shared units only
   */
  unitLiquidityAddon(units: SettlementUnits): Float64Array;
  /** standardTable(market, params) */
  standardTable(): StandardTable;
}

/**
 * A MarginShared over the given inputs; nothing is computed until asked for. `optionValues`: the
 * market's optionValuesUsd when the caller already computed it (runMargin does, before the book loads).
 */
export function createMarginShared(
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  optionValues?: Float64Array,
): MarginShared {
  let values: Float64Array | undefined = optionValues;
  let units: SettlementUnits | undefined;
  let uEquity: Float64Array | undefined;
  let aEquity: Float64Array | undefined;
  let std: [Float64Array, Float64Array] | undefined;
  let liq: LiquidityTable | undefined;
  let unitLiq: Float64Array | undefined;
  let stdTable: StandardTable | undefined;
  // the shared units' equity, standard IM/MM and add-on, all three computed in one pass over their
  // positions when the first is asked for (unitTotals: the same sums, in the same order, as the
  // functions of each; a pass over a million positions each cost more than the arithmetic)
  const totals = (u: SettlementUnits): void => {
    if (uEquity && std && unitLiq) return;
    const t = unitTotals(
      u,
      book,
      balances,
      market,
      shared.optionValuesUsd(),
      shared.standardTable(),
      shared.liquidityTable(),
    );
    uEquity = t.equity;
    std = [t.im, t.mm];
    unitLiq = t.addon;
  };
  const shared: MarginShared = {
    book,
    balances,
    market,
    params,
    optionValuesUsd: () => (values ??= optionValuesUsd(market)),
    settlementUnits: () => (units ??= settlementUnits(book, balances, market)),
    unitEquity: (u) => {
      if (u !== units) return unitEquity(u, book, balances, market, shared.optionValuesUsd());
      totals(u);
      return uEquity!;
    },
    accountEquityUsd: () => (aEquity ??= accountEquityUsd(book, balances, market, shared.optionValuesUsd())),
    standardByUnit: (u) => {
      if (u !== units) return standardByUnit(book, market, params, u, shared.standardTable());
      totals(u);
      return std!;
    },
    liquidityTable: () => (liq ??= liquidityTable(market, params)),
    unitLiquidityAddon: (u) => {
      if (u !== units) return unitLiquidityAddon(u, book, market, shared.liquidityTable());
      totals(u);
      return unitLiq!;
    },
    standardTable: () => (stdTable ??= standardTable(market, params)),
  };
  return shared;
}

/**
 * The MarginShared a model uses for `input`: `input.shared` when given, else a fresh one of its own
 * (so a model called without one computes everything itself, as before).
 * @throws Error when `input.shared` was built over another book, balances, market or params object.
 */
export function sharedFor(input: {
  book: PositionBook;
  balances: Balances;
  market: Market;
  params: Params;
  shared?: MarginShared;
}): MarginShared {
  const s = input.shared;
  if (!s) return createMarginShared(input.book, input.balances, input.market, input.params);
  checkShared(s, input.book, input.balances, input.market, input.params);
  return s;
}

/**
 * Checks that `shared` was built over exactly these input objects.
 * @throws Error naming the first input that differs.
 */
export function checkShared(
  shared: MarginShared,
  book: PositionBook,
  balances: Balances,
  market: Market,
  params?: Params,
): void {
  const differs =
    shared.book !== book
      ? 'book'
      : shared.balances !== balances
        ? 'balances'
        : shared.market !== market
          ? 'market'
          : params !== undefined && shared.params !== params
            ? 'params'
            : null;
  if (differs) throw new Error(`margin: the shared per-run values were built for another ${differs}`);
}

/** Per settlement unit: its equity, standard IM and MM, and liquidity add-on (each in its currency). */
export interface UnitTotals {
  equity: Float64Array;
  im: Float64Array;
  mm: Float64Array;
  addon: Float64Array;
}

/**
 * unitEquity, standardByUnit and unitLiquidityAddon of `units` in one pass over their positions: each
 * sum takes the same terms in the same order as in its own function (so the same doubles; tested).
 */
export function unitTotals(
  units: SettlementUnits,
  book: PositionBook,
  balances: Balances,
  market: Market,
  valuesUsd: Float64Array,
  stdTable: StandardTable,
  liqTable: LiquidityTable,
): UnitTotals {
  const U = market.underlyings.length;
  const codes = balanceUnitCodes(balances, market);
  const n = units.count;
  const equity = new Float64Array(n);
  const im = new Float64Array(n);
  const mm = new Float64Array(n);
  const addon = new Float64Array(n);
  const tmp = new Float64Array(2);
  const { instrumentId, quantity, entryPrice, unitStart } = book;
  for (let k = 0; k < n; k++) {
    const c = units.currency[k];
    let eq = unitBalances(balances, codes, units.account[k], c);
    const bu = units.bookUnit[k];
    if (bu >= 0) {
      const coin = c < U;
      let sIm = 0;
      let sMm = 0;
      let a = 0;
      for (let p = unitStart[bu]; p < unitStart[bu + 1]; p++) {
        const i = instrumentId[p];
        const q = quantity[p];
        eq += positionEquity(market, valuesUsd, i, q, entryPrice[p], coin);
        standardFromTable(stdTable, i, q, tmp);
        sIm += tmp[0];
        sMm += tmp[1];
        a += liquidityAddonFromTable(liqTable, i, q, coin);
      }
      im[k] = sIm;
      mm[k] = sMm;
      addon[k] = a;
    }
    equity[k] = eq;
  }
  return { equity, im, mm, addon };
}
