/**
 * Loads a book into a what-if state (src/margin/whatif.ts, docs/methodology.md §10): the market, the
 * parameters (and the history when a model uses it), the book, each model's scenario set and its
 * float64 P&L revalued on this thread (src/engine/hostPnl.ts), the stored unit vectors, and the book's
 * margins and statuses per model (the reference aggregation over the same P&L). Used by the `whatif`
 * command and the service; the service reloads it for a new market snapshot, keeping the loaded book
 * when the snapshot allows it ({@link sameBookMarket}): the positions are not read again.
 */
import { hostPnl } from '../engine/hostPnl.js';
import type { PnlMatrix } from '../engine/types.js';
import { loadHistory } from '../history/loadHistory.js';
import { loadBook } from '../io/loadBook.js';
import { loadMarket } from '../io/loadMarket.js';
import { MARGIN_MODELS, requireHistory, usesHistory, type ScenarioModelName } from '../margin/models.js';
import { buildRunTables, buildUnitTables } from '../margin/runTables.js';
import { standardRows } from '../margin/standard.js';
import { accountSummary, type AccountSummary } from '../margin/summary.js';
import type { ModelName } from '../margin/types.js';
import { WhatIfBook } from '../margin/whatif.js';
import type { Market } from '../model/market.js';
import { loadParams } from '../params/loadParams.js';
import { buildScenarios } from '../scenarios/build.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';

export interface WhatIfLoadOptions {
  marketDir: string;
  positions: string;
  balances: string;
  /** scenario models (standard is always answered) */
  models: ScenarioModelName[];
  historyDir?: string;
  paramsFile?: string;
  onInvalid: 'fail' | 'skip';
}

export interface LoadedWhatIf {
  state: WhatIfBook;
  market: Market;
  /** account key → book id */
  accountId: Map<string, number>;
  /** per model (standard too): every account's summary in USD, the statuses a new market is compared by */
  summaries: Map<ModelName, AccountSummary>;
  /** positions whose merged entry price came from the market's forward (LoadedBook.forwardEntries) */
  forwardEntries: number;
  /** whether the book (positions, balances, accounts) was kept from a previous load, not read again */
  bookKept: boolean;
  timingsMs: { load: number; revaluation: number; vectors: number; margins: number };
}

/**
 * Whether a book loaded against `old` is, bit for bit, the book loading it against `next` would give:
 * the same underlyings and the same instruments (names, order, underlying and settlement, so the same
 * ids, balance currencies and risk units) and, when some merged entry price was derived from the forward
 * (`forwardEntries` > 0), the same forwards. Only market prices differ; those the book does not hold.
 */
export function sameBookMarket(old: Market, next: Market, forwardEntries: number): boolean {
  const a = old.instruments;
  const b = next.instruments;
  if (old.underlyings.length !== next.underlyings.length || a.count !== b.count) return false;
  for (let u = 0; u < old.underlyings.length; u++) if (old.underlyings[u] !== next.underlyings[u]) return false;
  for (let i = 0; i < a.count; i++) {
    if (a.name[i] !== b.name[i] || a.underlying[i] !== b.underlying[i] || a.settlement[i] !== b.settlement[i])
      return false;
    if (forwardEntries > 0 && !Object.is(a.forward[i], b.forward[i])) return false;
  }
  return true;
}

/**
 * The what-if state of the inputs. `summaries`: also every account's margins per model (the service's
 * accounts and its status counts; the command skips them). `previous`: a state loaded from the same
 * positions and balances; its book is kept when {@link sameBookMarket} allows it (a new market snapshot
 * of the same instruments), otherwise they are read again. @throws InputError (bad input; var models
 * without a history directory).
 */
export async function loadWhatIf(
  opts: WhatIfLoadOptions,
  summaries = false,
  previous?: LoadedWhatIf,
): Promise<LoadedWhatIf> {
  const t0 = performance.now();
  requireHistory(opts.models, opts.historyDir);
  const lm = await loadMarket(opts.marketDir, { onInvalid: opts.onInvalid });
  const market = lm.market;
  const params = loadParams(opts.paramsFile);

  const history =
    opts.historyDir && usesHistory(opts.models) ? await loadHistory(opts.historyDir, market.underlyings) : undefined;
  const bookKept = previous !== undefined && sameBookMarket(previous.market, market, previous.forwardEntries);
  const { book, balances, forwardEntries } = bookKept
    ? { ...previous.state.tables, forwardEntries: previous.forwardEntries }
    : await loadBook(market, opts.positions, opts.balances, {
        onInvalid: opts.onInvalid,
        rejectedInstruments: lm.rejectedInstruments,
      });
  const tables = buildRunTables(book, balances, market, params);
  const t1 = performance.now();
  const sets = new Map<ScenarioModelName, { scenarios: ScenarioSet; pnl: PnlMatrix }>();
  const perFamily = new Map<Family, { scenarios: ScenarioSet; pnl: PnlMatrix }>();
  for (const m of opts.models) {
    const f = MARGIN_MODELS[m].family;
    let x = perFamily.get(f);
    if (!x) {
      const scenarios = buildScenarios(f, market, params, { history });
      perFamily.set(f, (x = { scenarios, pnl: hostPnl(market, scenarios, params) }));
    }
    sets.set(m, x);
  }
  const t2 = performance.now();
  const state = new WhatIfBook(tables, sets);
  const t3 = performance.now();
  const out = new Map<ModelName, AccountSummary>();
  if (summaries) {
    const unit = buildUnitTables(tables);
    const std = standardRows(tables, unit);
    out.set('standard', accountSummary(std, std, tables));
    // from the stored unit vectors: no second aggregation of the book
    for (const m of sets.keys()) out.set(m, accountSummary(state.bookRows(m, unit), std, tables));
  }
  const t4 = performance.now();
  return {
    state,
    market,
    accountId: bookKept ? previous.accountId : new Map(book.accountKey.map((k, a) => [k, a])),
    summaries: out,
    forwardEntries,
    bookKept,
    timingsMs: { load: t1 - t0, revaluation: t2 - t1, vectors: t3 - t2, margins: t4 - t3 },
  };
}
