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
import { accountEquityUsd, unitEquity } from './equity.js';
import { liquidityTable, unitLiquidityAddon, type LiquidityTable } from './liquidity.js';
import { optionValuesUsd } from './optionValue.js';
import { settlementUnits, type SettlementUnits } from './settlementUnits.js';
import { standardByUnit, standardTable, type StandardTable } from './standard.js';

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
export function createMarginShared(book: PositionBook, balances: Balances, market: Market, params: Params, optionValues?: Float64Array): MarginShared {
  let values: Float64Array | undefined = optionValues;
  let units: SettlementUnits | undefined;
  let uEquity: Float64Array | undefined;
  let aEquity: Float64Array | undefined;
  let std: [Float64Array, Float64Array] | undefined;
  let liq: LiquidityTable | undefined;
  let unitLiq: Float64Array | undefined;
  let stdTable: StandardTable | undefined;
  const shared: MarginShared = {
    book, balances, market, params,
    optionValuesUsd: () => (values ??= optionValuesUsd(market)),
    settlementUnits: () => (units ??= settlementUnits(book, balances, market)),
    unitEquity: (u) => {
      if (u !== units) return unitEquity(u, book, balances, market, shared.optionValuesUsd());
      return (uEquity ??= unitEquity(u, book, balances, market, shared.optionValuesUsd()));
    },
    accountEquityUsd: () => (aEquity ??= accountEquityUsd(book, balances, market, shared.optionValuesUsd())),
    standardByUnit: (u) => {
      if (u !== units) return standardByUnit(book, market, params, u, shared.standardTable());
      return (std ??= standardByUnit(book, market, params, u, shared.standardTable()));
    },
    liquidityTable: () => (liq ??= liquidityTable(market, params)),
    unitLiquidityAddon: (u) => {
      if (u !== units) return unitLiquidityAddon(u, book, market, shared.liquidityTable());
      return (unitLiq ??= unitLiquidityAddon(u, book, market, shared.liquidityTable()));
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
export function sharedFor(input: { book: PositionBook; balances: Balances; market: Market; params: Params; shared?: MarginShared }): MarginShared {
  const s = input.shared;
  if (!s) return createMarginShared(input.book, input.balances, input.market, input.params);
  checkShared(s, input.book, input.balances, input.market, input.params);
  return s;
}

/**
 * Checks that `shared` was built over exactly these input objects.
 * @throws Error naming the first input that differs.
 */
export function checkShared(shared: MarginShared, book: PositionBook, balances: Balances, market: Market, params?: Params): void {
  const differs = shared.book !== book ? 'book' : shared.balances !== balances ? 'balances' : shared.market !== market ? 'market'
    : params !== undefined && shared.params !== params ? 'params' : null;
  if (differs) throw new Error(`margin: the shared per-run values were built for another ${differs}`);
}
