/**
 * What-if (incremental; docs/methodology.md §10): an account's margins before and after hypothetical
 * trades, every model, without recomputing the book.
 *
 * The state (WhatIfBook) holds, per scenario model, the book's groups (one per risk unit), the float64
 * P&L rows of its scenario set (each instrument's risk vector) and each unit's aggregated P&L vector per
 * bucket (underlying) `p_b[s] = Σ q·pnl(row, s)`; a model whose vectors would not fit a memory budget
 * (var over thousands of scenarios and every account) rebuilds an account's vectors from its positions
 * when asked, the same numbers.
 *
 * A what-if for account A and trades {(i, Δq, price?)}:
 * - the trades are put in a canonical order (instrument, quantity, price) and netted per instrument, so
 *   trades commute exactly and Δq then −Δq is no trade at all (the original bits);
 * - A's positions and the trades make a one-account book, merged by the loader's own rules
 *   (src/io/buildBook.ts: a delta-one trade's price is its entry price); an option's premium is paid
 *   from the settlement currency's balance (coin for an inverse option, at its coin price; USDC for a
 *   linear one), at the given price or, without one, the model value (engine convention: a trade at the
 *   model value leaves equity unchanged; docs/conventions.md). Equity thus changes by
 *   −Δq·(price − model value) (§10), and in span and var, where coin collateral is a spot position, the
 *   premium paid in coin is a change of that collateral;
 * - each unit's vector becomes `p_b + Σ_e (q'_e − q_e)·pnl(row_e, ·)` over the entries whose quantity the
 *   trades changed (q' the merged quantity, q the stored one), then the model's own reduction (worst loss
 *   and its first scenario; the k largest losses for ES) and the model's own preparation (roll shock,
 *   SOM, add-ons: their per-position terms) and assembly: IM, MM, equity, available and status as a full
 *   run of the book with the trades added gives them (tested to 1e-12 relative);
 * - each trade's contribution is its share of its position's Euler contribution after the trades (§9):
 *   `Δq_t / q'_i` of position i's share.
 */
import { buildPositionBook, type PositionChunk } from '../io/buildBook.js';
import type { PnlMatrix, Reduced } from '../engine/types.js';
import type { Balances, PositionBook } from '../model/book.js';
import { KIND_OPTION, SETTLE_INVERSE } from '../model/market.js';
import { hostPnl } from '../engine/hostPnl.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { attributeModel, attributeStandard, type Attribution } from './attribution.js';
import { DIRECTION_NAMES, JOINT, liquidationDistances, type DistanceRows } from './distance.js';
import { subPortfolio, type DistanceEngine } from './remargin.js';
import { accountEquityUsd } from './equity.js';
import { aggregateReference } from './referenceAggregate.js';
import { MARGIN_MODELS, type ScenarioModelName } from './models.js';
import type { ModelPlan } from './plan.js';
import { buildUnitTables, type RunTables } from './runTables.js';
import { settlementUnits } from './settlementUnits.js';
import { standardRows } from './standard.js';
import { accountSummary } from './summary.js';
import { STATUS_NAMES, type MarginRows, type ModelName } from './types.js';

/** The documented maximum number of trades in one what-if. */
export const MAX_TRADES = 20;

/** Stored aggregated vectors of a model only up to this many doubles (256 MiB); above, rebuilt per ask. */
const VECTOR_BUDGET = 32 * 1024 * 1024;

/** A trade with its instrument resolved: Δq in coin (signed), price in the instrument's quote (NaN: none). */
export interface Trade {
  instrument: number;
  quantity: number;
  price: number;
}

interface ModelState {
  name: ScenarioModelName;
  scenarios: ScenarioSet;
  pnl: PnlMatrix;
  plan: ModelPlan;
  /** groups of account a: [accountGroups[a], accountGroups[a + 1]) */
  accountGroups: Int32Array;
  /** per group, B·S doubles at g·B·S: the bucket vectors; null when rebuilt per ask */
  vectors: Float64Array | null;
}

/** One model's margins of one unit, or of the account in USD. */
export interface MarginFigures {
  im: number;
  mm: number;
  equity: number;
  available: number;
  status: (typeof STATUS_NAMES)[number];
}

export interface UnitAnswer {
  unit: string;
  currency: string;
  before: MarginFigures | null;
  after: MarginFigures | null;
  deltaIm: number;
  deltaMm: number;
}

export interface TradeContribution {
  instrument: string;
  quantity: number;
  price: number | null;
  unit: string | null;
  currency: string | null;
  /** the trade's share of IM and MM after the trades, in the unit's currency */
  im: number;
  mm: number;
}

export interface ModelAnswer {
  model: ModelName;
  /** the account in USD (account_summary's figures) */
  before: MarginFigures;
  after: MarginFigures;
  deltaIm: number;
  deltaMm: number;
  units: UnitAnswer[];
  trades: TradeContribution[];
}

export interface AccountView {
  account: string;
  models: Array<{
    model: ModelName;
    margins: MarginFigures;
    units: Array<MarginFigures & { unit: string; currency: string }>;
    drivers: Array<{
      instrument: string;
      quantity: number;
      unit: string;
      currency: string;
      im: number;
      mm: number;
      imShare: number | null;
    }>;
  }>;
}

/** One distance-to-liquidation row of an account (docs/methodology.md §7), as the service answers it. */
export interface DistanceAnswer {
  unit: string;
  /** the moved underlying, or 'ALL' for the joint move */
  underlying: string;
  direction: 'down' | 'up';
  /** signed move at liquidation; 0: already below MM; null: none within −90 % … +300 % */
  move: number | null;
  /** the moved index price (null for the joint move and for none) */
  price: number | null;
  /** equity and MM at the move, in the unit's currency (USD for span and var); null for none */
  equity: number | null;
  mm: number | null;
}

/**
 * The search's engine on this thread, in float64: the cpu form of revaluation (hostPnl) and the reference
 * aggregation. An account's search is small; a pool's hand-overs would cost more than they save.
 */
const HOST_ENGINE: DistanceEngine = {
  revalue: async (market, scenarios, params) => hostPnl(market, scenarios, params),
  aggregate: aggregateReference,
};

export interface WhatIfAnswer {
  account: string;
  trades: Array<{ instrument: string; quantity: number; price: number | null }>;
  models: ModelAnswer[];
}

/** The rows of one model for a one-account book, and what they were computed from. */
interface Evaluated {
  rows: MarginRows;
  plan: ModelPlan | null;
  tables: RunTables;
}

/**
 * The what-if state of a book: built once per (book, market) and never changed by a what-if (every
 * ask builds its own one-account book; nothing stored is written).
 */
export class WhatIfBook {
  private readonly models = new Map<ScenarioModelName, ModelState>();

  /**
   * `sets`: per scenario model, its scenario set and the float64 P&L matrix over it (src/engine/hostPnl.ts).
   * `vectorBudget`: the most doubles of unit vectors a model stores (default 256 MiB's worth).
   */
  constructor(
    readonly tables: RunTables,
    sets: ReadonlyMap<ScenarioModelName, { scenarios: ScenarioSet; pnl: PnlMatrix }>,
    vectorBudget = VECTOR_BUDGET,
  ) {
    const A = tables.book.accountCount;
    for (const [name, { scenarios, pnl }] of sets) {
      const plan = MARGIN_MODELS[name].groups({ ...tables, scenarios });
      const G = plan.groups.groupCount;
      const accountGroups = new Int32Array(A + 1);
      for (let g = 0; g < G; g++) accountGroups[plan.account[g] + 1]++;
      for (let a = 0; a < A; a++) accountGroups[a + 1] += accountGroups[a];
      const BS = plan.groups.buckets * pnl.scenarios;
      let vectors: Float64Array | null = null;
      if (G * BS <= vectorBudget) {
        vectors = new Float64Array(G * BS);
        for (let g = 0; g < G; g++) groupVector(plan, pnl, g, vectors.subarray(g * BS, (g + 1) * BS));
      }
      this.models.set(name, { name, scenarios, pnl, plan, accountGroups, vectors });
    }
  }

  /** The scenario models this state answers for (standard always as well). */
  get modelNames(): ModelName[] {
    return [...this.models.keys(), 'standard'];
  }

  /** Whether the stored vectors of `model` are kept (else rebuilt per ask). */
  storesVectors(model: ScenarioModelName): boolean {
    return this.models.get(model)?.vectors != null;
  }

  /**
   * Account `account` (book id) before and after `trades` (instruments resolved; validated by the
   * caller: finite non-zero quantities, at most MAX_TRADES), for `models` (default: every model held).
   * @throws Error when a model is not held.
   */
  whatIf(account: number, trades: readonly Trade[], models: readonly ModelName[] = this.modelNames): WhatIfAnswer {
    const { market, book } = this.tables;
    const ins = market.instruments;
    const canonical = [...trades].sort(
      (x, y) =>
        x.instrument - y.instrument ||
        x.quantity - y.quantity ||
        (Number.isNaN(x.price) ? -Infinity : x.price) - (Number.isNaN(y.price) ? -Infinity : y.price),
    );
    const before = this.oneAccount(account, []);
    const after = this.oneAccount(account, canonical);
    const out: ModelAnswer[] = [];
    const stdBefore = standardRows(before, buildUnitTables(before));
    const stdAfter = standardRows(after, buildUnitTables(after));
    for (const model of models) {
      const b = this.evaluate(model, before, account, stdBefore);
      const a = this.evaluate(model, after, account, stdAfter);
      const sb = accountSummary(b.rows, stdBefore, before);
      const sa = accountSummary(a.rows, stdAfter, after);
      const fig = (s: typeof sb): MarginFigures => ({
        im: s.imUsd[0],
        mm: s.mmUsd[0],
        equity: s.equityUsd[0],
        available: s.equityUsd[0] - s.imUsd[0],
        status: STATUS_NAMES[s.status[0]],
      });
      out.push({
        model,
        before: fig(sb),
        after: fig(sa),
        deltaIm: sa.imUsd[0] - sb.imUsd[0],
        deltaMm: sa.mmUsd[0] - sb.mmUsd[0],
        units: unitAnswers(b.rows, a.rows),
        trades: this.contributions(model, a, trades),
      });
    }
    return {
      account: book.accountKey[account],
      trades: trades.map((t) => ({
        instrument: ins.name[t.instrument],
        quantity: t.quantity,
        price: Number.isNaN(t.price) ? null : t.price,
      })),
      models: out,
    };
  }

  /**
   * Account `account`'s distance to liquidation per model (docs/methodology.md §7, src/margin/distance.ts):
   * the search over the account alone (its status units read no other account), on this thread.
   */
  async distance(
    account: number,
    models: readonly ModelName[] = this.modelNames,
  ): Promise<Record<string, DistanceAnswer[]>> {
    const { book, balances, market, params } = this.tables;
    const sub = subPortfolio(book, balances, market, Int32Array.of(account));
    const sets = new Map<Family, ScenarioSet>();
    for (const m of this.models.values()) sets.set(MARGIN_MODELS[m.name].family, m.scenarios);
    const rows = await liquidationDistances(sub.book, sub.balances, sub.market, params, sets, models, HOST_ENGINE);
    const num = (x: number) => (Number.isNaN(x) ? null : x);
    return Object.fromEntries(
      rows.map((d: DistanceRows) => [
        d.model,
        Array.from({ length: d.count }, (_, r): DistanceAnswer => ({
          unit: d.unitNames[d.unit[r]!]!,
          underlying: d.underlying[r] === JOINT ? 'ALL' : market.underlyings[d.underlying[r]!]!,
          direction: DIRECTION_NAMES[d.direction[r]!]!,
          move: num(d.move[r]!),
          price: num(d.price[r]!),
          equity: num(d.equity[r]!),
          mm: num(d.mm[r]!),
        })),
      ]),
    );
  }

  /**
   * Account `account` as it is, per model (default every model held): its margins in USD (the
   * account_summary figures), per unit, and its `top` largest Euler contributions to IM (§9) with their
   * share of their unit's IM.
   */
  account(account: number, models: readonly ModelName[] = this.modelNames, top = 5): AccountView {
    const one = this.oneAccount(account, []);
    const std = standardRows(one, buildUnitTables(one));
    const ins = this.tables.market.instruments;
    return {
      account: this.tables.book.accountKey[account],
      models: models.map((model) => {
        const ev = this.evaluate(model, one, account, std);
        const s = accountSummary(ev.rows, std, one);
        const attr = this.attribution(model, ev);
        const order = [...Array(attr.count).keys()].sort((x, y) => attr.im[y] - attr.im[x] || x - y).slice(0, top);
        return {
          model,
          margins: {
            im: s.imUsd[0],
            mm: s.mmUsd[0],
            equity: s.equityUsd[0],
            available: s.equityUsd[0] - s.imUsd[0],
            status: STATUS_NAMES[s.status[0]],
          },
          units: unitAnswers(ev.rows, ev.rows).map(({ unit, currency, before }) => ({ unit, currency, ...before! })),
          drivers: order.map((e) => {
            const r = attr.marginRow[e];
            const unitIm = ev.rows.im[r];
            return {
              instrument:
                attr.instrument[e] >= 0
                  ? ins.name[attr.instrument[e]]
                  : `${this.tables.market.underlyings[attr.collateral[e]]} collateral`,
              quantity: attr.quantity[e],
              unit: ev.rows.unitNames[ev.rows.unit[r]],
              currency: ev.rows.currencyNames[ev.rows.currency[r]],
              im: attr.im[e],
              mm: attr.mm[e],
              imShare: unitIm > 0 ? attr.im[e] / unitIm : null,
            };
          }),
        };
      }),
    };
  }

  /**
   * The run tables of a one-account book: account `account`'s positions and balances with the
   * (canonically ordered) trades added, merged by the loader's rules; premiums paid from the balances.
   */
  oneAccount(account: number, trades: readonly Trade[]): RunTables {
    const t = this.tables;
    const { book, balances, market } = t;
    const ins = market.instruments;
    const p0 = book.accountStart[account];
    const p1 = book.accountStart[account + 1];
    // net per instrument (canonical order): a zero net is no trade
    const net: NetTrade[] = [];
    for (const tr of trades) {
      let last = net[net.length - 1];
      if (!last || last.instrument !== tr.instrument) {
        last = { instrument: tr.instrument, quantity: 0, cash: 0, trades: 0, priced: 0, sumQ: 0, sumQP: 0, price: NaN };
        net.push(last);
      }
      last.quantity += tr.quantity;
      last.cash += tradeCash(t, tr);
      last.trades++;
      if (!Number.isNaN(tr.price)) {
        last.priced++;
        last.sumQ += tr.quantity;
        last.sumQP += tr.quantity * tr.price;
        last.price = tr.price;
      }
    }
    const rows = net.filter((x) => x.quantity !== 0);
    const n = p1 - p0 + rows.length;
    const chunk: PositionChunk = {
      account: new Int32Array(n),
      instrument: new Int32Array(n),
      quantity: new Float64Array(n),
      entryPrice: new Float64Array(n),
    };
    chunk.instrument.set(book.instrumentId.subarray(p0, p1));
    chunk.quantity.set(book.quantity.subarray(p0, p1));
    chunk.entryPrice.set(book.entryPrice.subarray(p0, p1));
    const C = balances.currencies.length;
    const amount = new Float64Array(C);
    if (balances.amount.length >= (account + 1) * C)
      amount.set(balances.amount.subarray(account * C, (account + 1) * C));
    rows.forEach((x, j) => {
      const r = p1 - p0 + j;
      chunk.instrument[r] = x.instrument;
      chunk.quantity[r] = x.quantity;
      chunk.entryPrice[r] = ins.kind[x.instrument] === KIND_OPTION ? NaN : netEntry(ins.forward[x.instrument], x);
    });
    // premiums of options: each netted instrument's cash, from its settlement currency
    for (const x of net) {
      if (ins.kind[x.instrument] !== KIND_OPTION || x.cash === 0) continue;
      const cur =
        ins.settlement[x.instrument] === SETTLE_INVERSE ? market.underlyings[ins.underlying[x.instrument]] : 'USDC';
      const j = balances.currencies.indexOf(cur);
      if (j < 0) throw new Error(`what-if: the balances have no ${cur} column for the premium`);
      amount[j] += x.cash;
    }
    const sub: PositionBook = buildPositionBook(market, [chunk], [book.accountKey[account]], book.accountKeyType).book;
    const bal: Balances = { currencies: balances.currencies, amount };
    return {
      book: sub,
      balances: bal,
      market,
      params: t.params,
      optionValuesUsd: t.optionValuesUsd,
      units: settlementUnits(sub, bal, market),
      accountEquityUsd: accountEquityUsd(sub, bal, market, t.optionValuesUsd),
      liquidity: t.liquidity,
      standard: t.standard,
    };
  }

  /** One model's rows for a one-account book `one` of account `account`, from the stored vectors. */
  private evaluate(model: ModelName, one: RunTables, account: number, standard: MarginRows): Evaluated {
    if (model === 'standard') return { rows: standard, plan: null, tables: one };
    const st = this.models.get(model);
    if (!st) throw new Error(`what-if: model ${model} is not held (held: ${this.modelNames.join(', ')})`);
    const input = { ...one, scenarios: st.scenarios };
    const m = MARGIN_MODELS[model];
    const plan = m.groups(input);
    const reduced = this.reduce(st, plan, account);
    const rows = m.assemble(input, plan, m.prepare(input, plan, buildUnitTables(one)), reduced);
    return { rows, plan, tables: one };
  }

  /**
   * The Reduced of a one-account plan: per group, the stored vector of the same unit (zeros for a new
   * unit) plus (q' − q)·pnl of each entry whose quantity differs from the stored unit's, then the worst
   * loss, its first scenario and the k largest losses, as the engine's aggregation reduces them.
   */
  private reduce(st: ModelState, plan: ModelPlan, account: number): Reduced {
    const base = st.plan;
    const B = base.groups.buckets;
    const S = st.pnl.scenarios;
    const data = st.pnl.data;
    const G = plan.groups.groupCount;
    const K = plan.request.topK;
    const worstLoss = new Float64Array(G);
    const worstScenario = new Int32Array(G);
    const topLosses = K > 0 ? new Float64Array(G * K) : undefined;
    const vec = new Float64Array(B * S);
    const loss = new Float64Array(S);
    const { groupStart, row, qty, bucket, weight, pnlOffset: off } = plan.groups;
    for (let g = 0; g < G; g++) {
      // the stored unit of the same key (deribit-pm: currency; span: underlying; var: the account)
      let bg = -1;
      for (let h = st.accountGroups[account]; h < st.accountGroups[account + 1]; h++)
        if (base.unit[h] === plan.unit[g]) bg = h;
      if (bg < 0) vec.fill(0);
      else if (st.vectors) vec.set(st.vectors.subarray(bg * B * S, (bg + 1) * B * S));
      else groupVector(base, st.pnl, bg, vec);
      // the entries' changes: new quantity minus stored quantity, row by row
      const was = new Map<number, number>();
      if (bg >= 0)
        for (let e = base.groups.groupStart[bg]; e < base.groups.groupStart[bg + 1]; e++)
          was.set(base.groups.row[e], base.groups.qty[e]);
      let mask = 0;
      for (let e = groupStart[g]; e < groupStart[g + 1]; e++) {
        const b = bucket[e];
        mask |= 1 << b;
        const d = qty[e] - (was.get(row[e]) ?? 0);
        was.delete(row[e]);
        if (d !== 0) addRow(vec, b * S, d, data, row[e] * S, S);
      }
      // stored entries the trades closed
      if (bg >= 0)
        for (let e = base.groups.groupStart[bg]; e < base.groups.groupStart[bg + 1]; e++) {
          const r = base.groups.row[e];
          if (!was.has(r)) continue;
          mask |= 1 << base.groups.bucket[e];
          addRow(vec, base.groups.bucket[e] * S, -base.groups.qty[e], data, r * S, S);
        }
      if (bg >= 0)
        for (let e = base.groups.groupStart[bg]; e < base.groups.groupStart[bg + 1]; e++)
          mask |= 1 << base.groups.bucket[e];
      reduceVector(vec, mask, weight, B, S, off, K, loss, g, worstLoss, worstScenario, topLosses);
    }
    return topLosses ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
  }

  /**
   * The whole book's rows of `model` from the stored vectors (the reduction as in `reduce`, then the
   * model's preparation and assembly over the book's tables): the margins a full run gives, to rounding
   * (the vectors sum each unit's entries in entry order). `standard` is standardRows.
   */
  bookRows(model: ScenarioModelName, unit = buildUnitTables(this.tables)): MarginRows {
    const st = this.models.get(model);
    if (!st) throw new Error(`what-if: model ${model} is not held (held: ${this.modelNames.join(', ')})`);
    const plan = st.plan;
    const { groupStart, bucket, buckets: B, weight, pnlOffset: off, groupCount: G } = plan.groups;
    const S = st.pnl.scenarios;
    const K = plan.request.topK;
    const worstLoss = new Float64Array(G);
    const worstScenario = new Int32Array(G);
    const topLosses = K > 0 ? new Float64Array(G * K) : undefined;
    const scratch = new Float64Array(B * S);
    const loss = new Float64Array(S);
    for (let g = 0; g < G; g++) {
      let vec: Float64Array;
      if (st.vectors) vec = st.vectors.subarray(g * B * S, (g + 1) * B * S);
      else groupVector(plan, st.pnl, g, (vec = scratch));
      let mask = 0;
      for (let e = groupStart[g]; e < groupStart[g + 1]; e++) mask |= 1 << bucket[e];
      reduceVector(vec, mask, weight, B, S, off, K, loss, g, worstLoss, worstScenario, topLosses);
    }
    const input = { ...this.tables, scenarios: st.scenarios };
    const m = MARGIN_MODELS[model];
    const reduced = topLosses ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
    return m.assemble(input, plan, m.prepare(input, plan, unit), reduced);
  }

  /** The Euler attribution (§9) of one model's rows of a one-account book. */
  private attribution(model: ModelName, a: Evaluated): Attribution {
    if (model === 'standard') return attributeStandard(a.tables);
    const st = this.models.get(model as ScenarioModelName)!;
    return attributeModel({ ...a.tables, scenarios: st.scenarios }, a.plan!, st.pnl, a.rows);
  }

  /** Each trade's share of its position's Euler contribution (§9) after the trades, in its unit's currency. */
  private contributions(model: ModelName, a: Evaluated, trades: readonly Trade[]): TradeContribution[] {
    const { market } = this.tables;
    const ins = market.instruments;
    const attr = this.attribution(model, a);
    return trades.map((t) => {
      let im = 0;
      let mm = 0;
      let unit: string | null = null;
      let currency: string | null = null;
      for (let e = 0; e < attr.count; e++) {
        if (attr.instrument[e] !== t.instrument || attr.quantity[e] === 0) continue;
        const f = t.quantity / attr.quantity[e];
        im += f * attr.im[e];
        mm += f * attr.mm[e];
        const r = attr.marginRow[e];
        unit = a.rows.unitNames[a.rows.unit[r]];
        currency = a.rows.currencyNames[a.rows.currency[r]];
      }
      return {
        instrument: ins.name[t.instrument],
        quantity: t.quantity,
        price: Number.isNaN(t.price) ? null : t.price,
        unit,
        currency,
        im,
        mm,
      };
    });
  }
}

/** The trades of one instrument, netted in canonical order. */
interface NetTrade extends Trade {
  /** the premiums paid, in the settlement currency (options; negative for a purchase) */
  cash: number;
  trades: number;
  /** the priced trades: how many, Σ Δq and Σ Δq·price (a delta-one's entry) */
  priced: number;
  sumQ: number;
  sumQP: number;
}

/**
 * The entry price of a delta-one's netted trades, by the loader's merge rule (src/io/buildBook.ts): the
 * price of a single priced trade; Σ Δq·price / Σ Δq when every trade is priced; F − (F·Σq_p − Σq_p·p) / q
 * when only some are (an unpriced trade is at F: no unrealised P&L); NaN when none is.
 */
function netEntry(F: number, x: NetTrade): number {
  if (x.priced === 0) return NaN;
  if (x.trades === 1) return x.price;
  if (x.priced === x.trades) return x.sumQP / x.sumQ;
  return F - (F * x.sumQ - x.sumQP) / x.quantity;
}

/** The premium a trade pays into its settlement currency's balance: −Δq·price (options; 0 otherwise). */
function tradeCash(t: RunTables, tr: Trade): number {
  const ins = t.market.instruments;
  const i = tr.instrument;
  if (ins.kind[i] !== KIND_OPTION) return 0;
  const value = ins.settlement[i] === SETTLE_INVERSE ? t.optionValuesUsd[i] / ins.forward[i] : t.optionValuesUsd[i];
  const price = Number.isNaN(tr.price) ? value : tr.price;
  return -tr.quantity * price;
}

/**
 * Group g's reduction from its bucket vectors `vec` (B·S) over the buckets in `mask`, as the engine's
 * aggregation reduces (kernels/aggregate.ts): loss[s] = 0 − Σ_b adj(w[s,b]·p_b[s]), the worst loss and its
 * first scenario, and the K largest losses descending (−Infinity beyond S). `loss` is scratch (S).
 */
function reduceVector(
  vec: Float64Array,
  mask: number,
  weight: Float64Array,
  B: number,
  S: number,
  off: number,
  K: number,
  loss: Float64Array,
  g: number,
  worstLoss: Float64Array,
  worstScenario: Int32Array,
  topLosses: Float64Array | undefined,
): void {
  let worst = -Infinity;
  let at = -1;
  for (let s = 0; s < S; s++) {
    let tot = 0;
    for (let b = 0; b < B; b++) {
      if (((mask >>> b) & 1) === 0) continue;
      const x = weight[s * B + b] * vec[b * S + s];
      tot += x < 0 ? x : off * x;
    }
    const l = 0 - tot;
    loss[s] = l;
    if (l > worst || at < 0) {
      worst = l;
      at = s;
    }
  }
  worstLoss[g] = worst;
  worstScenario[g] = at;
  if (topLosses) {
    const sorted = Float64Array.from(loss).sort().reverse();
    for (let j = 0; j < K; j++) topLosses[g * K + j] = j < S ? sorted[j] : -Infinity;
  }
}

/** vec[o + s] += d · data[r + s] for s < S. */
function addRow(
  vec: Float64Array,
  o: number,
  d: number,
  data: Float64Array | Float32Array,
  r: number,
  S: number,
): void {
  for (let s = 0; s < S; s++) vec[o + s] += d * data[r + s];
}

/** Group g's bucket vectors p_b[s] = Σ_{entries of b} q·pnl(row, s), in entry order, into `out` (B·S). */
function groupVector(plan: ModelPlan, pnl: PnlMatrix, g: number, out: Float64Array): void {
  const { groupStart, row, qty, bucket } = plan.groups;
  const S = pnl.scenarios;
  out.fill(0);
  for (let e = groupStart[g]; e < groupStart[g + 1]; e++) addRow(out, bucket[e] * S, qty[e], pnl.data, row[e] * S, S);
}

/** Per unit name: the rows before and after (a unit the trades open or close is null on one side). */
function unitAnswers(before: MarginRows, after: MarginRows): UnitAnswer[] {
  const fig = (r: MarginRows, k: number): MarginFigures => ({
    im: r.im[k],
    mm: r.mm[k],
    equity: r.equity[k],
    available: r.available[k],
    status: STATUS_NAMES[r.status[k]],
  });
  const names = new Map<string, { b: number; a: number; currency: string }>();
  for (let k = 0; k < before.count; k++)
    names.set(before.unitNames[before.unit[k]], { b: k, a: -1, currency: before.currencyNames[before.currency[k]] });
  for (let k = 0; k < after.count; k++) {
    const n = after.unitNames[after.unit[k]];
    const x = names.get(n) ?? { b: -1, a: -1, currency: after.currencyNames[after.currency[k]] };
    x.a = k;
    names.set(n, x);
  }
  return [...names].map(([unit, { b, a, currency }]) => {
    const fb = b >= 0 ? fig(before, b) : null;
    const fa = a >= 0 ? fig(after, a) : null;
    return {
      unit,
      currency,
      before: fb,
      after: fa,
      deltaIm: (fa?.im ?? 0) - (fb?.im ?? 0),
      deltaMm: (fa?.mm ?? 0) - (fb?.mm ?? 0),
    };
  });
}
