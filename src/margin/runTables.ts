/**
 * The tables of one run that every margin model reads, built once from the run's inputs and never
 * written afterwards. Two stages, because they are needed at two moments of a run:
 * - RunTables (buildRunTables), right after the inputs load: option values, the settlement units, each
 *   account's USD equity, and the per-instrument liquidity and standard-margin coefficients;
 * - UnitTables (buildUnitTables), while the backend aggregates the first model: per settlement unit its
 *   equity, standard IM and MM, and liquidity add-on, all in one pass over the book's positions (the
 *   one implementation of those three sums; a pass over a million positions costs more than the
 *   arithmetic).
 * A model gets them as arguments (MarginInput extends RunTables); nothing is computed on demand. The distance
 * search's and the cascade's re-margins build them without what only IM reads (RunTables.statusOnly).
 */
import type { Balances, PositionBook } from '../model/book.js';
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { accountEquityUsd, positionEquity, unitBalances } from './equity.js';
import { liquidityAddonFromTable, liquidityTable, type LiquidityTable } from './liquidity.js';
import { optionValuesUsd } from './optionValue.js';
import { sharedFloat64 } from './rows.js';
import { balanceUnitCodes, settlementUnits, type SettlementUnits } from './settlementUnits.js';
import { standardFromTable, standardTable, type StandardTable } from './standardFormulas.js';

/** The run's inputs and what every model derives from them alone; read-only. */
export interface RunTables {
  readonly book: PositionBook;
  readonly balances: Balances;
  readonly market: Market;
  readonly params: Params;
  /** optionValuesUsd(market): USD per unit of underlying, NaN for delta-ones */
  readonly optionValuesUsd: Float64Array;
  /** the (account, settlement currency) units of deribit-pm and standard (settlementUnits.ts) */
  readonly units: SettlementUnits;
  /** each account's equity in USD (equity.ts, accountEquityUsd) */
  readonly accountEquityUsd: Float64Array;
  /** per instrument: the liquidity add-on's half spreads and concentration caps (liquidity.ts) */
  readonly liquidity: LiquidityTable;
  /** per instrument: the standard-margin coefficients (standardFormulas.ts) */
  readonly standard: StandardTable;
  /**
   * [a·U + u]: each account's index prices, where the accounts sit at different moves of the market (the
   * distance search's combined re-margin, with Market.instrumentIndexPrice); absent: market.indexPrice
   */
  readonly accountIndexPrice?: Float64Array;
  /**
   * true for the distance search's and the cascade's re-margins of a scenario model, which read each row's
   * equity and MM alone (remargin.ts marginAt): what only IM and the standard margin need is not computed.
   * `liquidity` and `standard` are empty (a read gives NaN), UnitTables' standard IM, MM and liquidity add-on
   * are NaN, and so are the rows' IM, add-on, standard margin and available; their margin ratio is MM/E as
   * ever, their status meaningless (liquidation where it is, else margin_call).
   */
  readonly statusOnly?: boolean;
}

/** What a scenario-based model reads: the run's tables and the scenario set of its family. */
export interface MarginInput extends RunTables {
  readonly scenarios: ScenarioSet;
}

/**
 * The RunTables of (book, balances, market, params). `optionValues`: the market's optionValuesUsd when
 * the caller already has it (a run computes it before the book loads, for the report). `units`: the
 * book's settlement units when the caller already has them (they depend on the book and the market's
 * underlyings, not on its prices: the distance search re-margins one book at many moved markets).
 * `accountIndexPrice`: RunTables.accountIndexPrice.
 */
export function buildRunTables(
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  optionValues: Float64Array = optionValuesUsd(market),
  units: SettlementUnits = settlementUnits(book, balances, market),
  accountIndexPrice?: Float64Array,
  statusOnly = false,
): RunTables {
  return Object.freeze({
    book,
    balances,
    market,
    params,
    optionValuesUsd: optionValues,
    accountEquityUsd: accountEquityUsd(book, balances, market, optionValues, accountIndexPrice),
    units,
    liquidity: statusOnly ? NO_LIQUIDITY : liquidityTable(market, params),
    standard: statusOnly ? NO_STANDARD : standardTable(market, params),
    ...(accountIndexPrice ? { accountIndexPrice } : {}),
    ...(statusOnly ? { statusOnly } : {}),
  });
}

/** RunTables.statusOnly's tables: no instrument's (a read gives undefined, NaN in any sum). */
const NO_LIQUIDITY: LiquidityTable = Object.freeze({
  halfCoin: new Float64Array(0),
  halfUsd: new Float64Array(0),
  cap: new Float64Array(0),
  maxConcentration: NaN,
});
const NO_STANDARD: StandardTable = Object.freeze({
  imLin: new Float64Array(0),
  mmLin: new Float64Array(0),
  quad: new Float64Array(0),
  isOption: new Uint8Array(0),
});

/** Per settlement unit of RunTables.units, each amount in the unit's currency. */
export interface UnitTables {
  /** signed equity: balances plus option values plus the unrealised P&L of delta-ones (docs/methodology.md §5) */
  readonly equity: Float64Array;
  /** standard IM and MM: the plain sum over the unit's positions (§4d) */
  readonly standardIm: Float64Array;
  readonly standardMm: Float64Array;
  /** the liquidity add-on: the sum over the unit's positions (§4e) */
  readonly liquidityAddon: Float64Array;
}

/**
 * The UnitTables of `t`, in one pass over the units' positions in book order; a unit without positions
 * has its balances as equity and zero margins. Under RunTables.statusOnly the equity alone (the rest NaN).
 */
export function buildUnitTables(t: RunTables): UnitTables {
  const { units, book, balances, market } = t;
  const U = market.underlyings.length;
  const codes = balanceUnitCodes(balances, market);
  const n = units.count;
  // shared memory: deribit-pm's and standard's rows use these columns as they are (rows.ts)
  const equity = sharedFloat64(n);
  const im = sharedFloat64(n);
  const mm = sharedFloat64(n);
  const addon = sharedFloat64(n);
  const tmp = new Float64Array(2);
  const values = t.optionValuesUsd;
  const stdTable = t.standard;
  const liqTable = t.liquidity;
  // RunTables.statusOnly: the equity alone
  const sums = !t.statusOnly;
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
        eq += positionEquity(market, values, i, q, entryPrice[p], coin);
        if (!sums) continue;
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
  if (!sums) for (const column of [im, mm, addon]) column.fill(NaN);
  return Object.freeze({ equity, standardIm: im, standardMm: mm, liquidityAddon: addon });
}

/**
 * The UnitTables of `t`, built (buildUnitTables) when a column is first read: for the distance search's many
 * re-margins, where a model whose preparation reads none of them (span, var) then never pays for the pass.
 */
export function lazyUnitTables(t: RunTables): UnitTables {
  let built: UnitTables | undefined;
  const tables = (): UnitTables => (built ??= buildUnitTables(t));
  return {
    get equity() {
      return tables().equity;
    },
    get standardIm() {
      return tables().standardIm;
    },
    get standardMm() {
      return tables().standardMm;
    },
    get liquidityAddon() {
      return tables().liquidityAddon;
    },
  };
}

/** A model's input from its parts, the run tables built here (tests, tools: a run builds its tables once). */
export function marginInput(o: {
  book: PositionBook;
  balances: Balances;
  market: Market;
  params: Params;
  scenarios: ScenarioSet;
}): MarginInput {
  return { ...buildRunTables(o.book, o.balances, o.market, o.params), scenarios: o.scenarios };
}
