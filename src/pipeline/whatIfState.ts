/**
 * Loads a book into a what-if state (src/margin/whatif.ts, docs/methodology.md §10): the market, the
 * parameters (and the history when a model uses it), the book, each model's scenario set and its
 * float64 P&L revalued on this thread (src/engine/hostPnl.ts), then the stored unit vectors. Also the
 * parsing of trades (`INSTRUMENT:QTY[@PRICE]` on the command line, JSON objects over HTTP), shared by
 * the `whatif` command and the service, with the rules both enforce.
 */
import { InputError } from '../errors.js';
import { hostPnl } from '../engine/hostPnl.js';
import { loadBook } from '../io/loadBook.js';
import type { ScenarioModelName } from '../margin/models.js';
import { buildRunTables } from '../margin/runTables.js';
import type { ModelName } from '../margin/types.js';
import { MAX_TRADES, WhatIfBook, type Trade } from '../margin/whatif.js';
import type { Market } from '../model/market.js';
import type { PnlMatrix } from '../engine/types.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { planModels } from './planRun.js';
import { loadMarketAndParams, scenarioSets, type RunOptions } from './runMargin.js';

export { MAX_TRADES };

export type WhatIfLoadOptions = Pick<
  RunOptions,
  'marketDir' | 'positions' | 'balances' | 'models' | 'historyDir' | 'paramsFile' | 'scenarioFiles' | 'onInvalid'
>;

export interface LoadedWhatIf {
  state: WhatIfBook;
  market: Market;
  /** account key → book id */
  accountId: Map<string, number>;
  timingsMs: { load: number; scenarios: number; revaluation: number; vectors: number };
}

/**
 * The what-if state of the inputs. @throws InputError (bad input; var models without --history).
 */
export async function loadWhatIf(opts: WhatIfLoadOptions): Promise<LoadedWhatIf> {
  const t0 = performance.now();
  const models = planModels(opts.models);
  if (models.needsHistory && !opts.historyDir && (opts.scenarioFiles ?? []).length === 0)
    throw new InputError({
      file: '--history',
      row: null,
      column: null,
      value: null,
      rule: 'is required by var-hs and var-mc (a directory of daily closes <U>-USD_1d.csv)',
    });
  const loaded = await loadMarketAndParams(opts, models.usesHistory);
  const { market, params } = loaded;
  const { book, balances } = await loadBook(market, opts.positions, opts.balances, {
    onInvalid: opts.onInvalid,
    rejectedInstruments: loaded.rejectedInstruments,
  });
  const tables = buildRunTables(book, balances, market, params);
  const t1 = performance.now();
  const families = scenarioSets(opts, models, market, params, loaded.history);
  const t2 = performance.now();
  const sets = new Map<ScenarioModelName, { scenarios: ScenarioSet; pnl: PnlMatrix }>();
  const pnls = new Map<string, PnlMatrix>();
  models.models.forEach((m, k) => {
    const family = models.family[k]!;
    const scenarios = families.get(family)!;
    let pnl = pnls.get(family);
    if (!pnl) pnls.set(family, (pnl = hostPnl(market, scenarios, params)));
    sets.set(m, { scenarios, pnl });
  });
  const t3 = performance.now();
  const state = new WhatIfBook(tables, sets);
  const t4 = performance.now();
  return {
    state,
    market,
    accountId: new Map(book.accountKey.map((k, a) => [k, a])),
    timingsMs: { load: t1 - t0, scenarios: t2 - t1, revaluation: t3 - t2, vectors: t4 - t3 },
  };
}

/** A trade as given: instrument name, signed quantity (coin), optional price (the instrument's quote). */
export interface TradeInput {
  instrument: string;
  quantity: number;
  price?: number;
}

/**
 * Resolves and checks trades: at most MAX_TRADES, each a known instrument, a finite non-zero quantity and,
 * when given, a finite price ≥ 0 (> 0 for futures and perpetuals). `field(j, name)` names a trade's field
 * in errors (e.g. `--trade` or `trades[2].quantity`). @throws InputError naming the field, value and rule.
 */
export function resolveTrades(
  market: Market,
  trades: readonly TradeInput[],
  field: (j: number, name: string) => string,
): Trade[] {
  const bad = (file: string, value: unknown, rule: string) =>
    new InputError({ file, row: null, column: null, value: JSON.stringify(value) ?? String(value), rule });
  if (trades.length === 0) throw bad(field(-1, ''), [], 'needs at least one trade');
  if (trades.length > MAX_TRADES)
    throw bad(field(-1, ''), trades.length, `holds more than the maximum of ${MAX_TRADES} trades`);
  return trades.map((t, j) => {
    const i = market.instruments.id.get(t.instrument);
    if (i === undefined) throw bad(field(j, 'instrument'), t.instrument, 'is not an instrument of the market');
    if (typeof t.quantity !== 'number' || !Number.isFinite(t.quantity) || t.quantity === 0)
      throw bad(field(j, 'quantity'), t.quantity, 'must be a finite, non-zero number');
    let price = NaN;
    if (t.price !== undefined) {
      const option = market.instruments.kind[i] === 0;
      if (typeof t.price !== 'number' || !Number.isFinite(t.price) || t.price < 0 || (!option && t.price === 0))
        throw bad(field(j, 'price'), t.price, option ? 'must be a finite number ≥ 0' : 'must be a finite number > 0');
      price = t.price;
    }
    return { instrument: i, quantity: t.quantity, price };
  });
}

/** `INSTRUMENT:QTY[@PRICE]` → a TradeInput. @throws InputError naming --trade, the value and the form. */
export function parseTradeArg(text: string): TradeInput {
  const colon = text.lastIndexOf(':');
  const bad = (rule: string) =>
    new InputError({ file: '--trade', row: null, column: null, value: JSON.stringify(text), rule });
  if (colon <= 0) throw bad('must be INSTRUMENT:QTY[@PRICE] (e.g. BTC-27MAR26-80000-C:-2.5@0.031)');
  const instrument = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const at = rest.indexOf('@');
  const qty = at >= 0 ? rest.slice(0, at) : rest;
  const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (!number.test(qty)) throw bad(`has quantity ${JSON.stringify(qty)}: not a decimal number`);
  const out: TradeInput = { instrument, quantity: Number(qty) };
  if (at >= 0) {
    const p = rest.slice(at + 1);
    if (!number.test(p)) throw bad(`has price ${JSON.stringify(p)}: not a decimal number`);
    out.price = Number(p);
  }
  return out;
}

/** The models a what-if may name: the loaded ones. @throws InputError naming `field`. */
export function checkModels(held: readonly ModelName[], asked: readonly ModelName[], field: string): void {
  for (const m of asked)
    if (!held.includes(m))
      throw new InputError({
        file: field,
        row: null,
        column: null,
        value: JSON.stringify(m),
        rule: `is not a loaded model (loaded: ${held.join(', ')})`,
      });
}
