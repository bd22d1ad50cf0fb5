/**
 * Re-margining a part of the run's book at a moved market: the evaluations of the distance search
 * (distance.ts, docs/methodology.md §7) and the cascade's rounds (cascade.ts, §8).
 *
 * Every evaluation is a full re-margin at the moved market, through the run's own path: the market is
 * moved (index, every forward and every delta-one's mark of the underlying × (1 + x); options keep their
 * `mark_iv`, sticky strike, and their mark moves by their model value's change), the model's scenario set
 * is reused as it is (its moves are relative, so applied to the moved prices they are §3's scenario set
 * rebuilt around the moved market; PSR, R_u and the weights unchanged), the backend revalues and
 * aggregates, and the model assembles its rows (MM and equity at x). There is no second pricing path. What only
 * IM reads (the liquidity add-on, the standard margin of deribit-pm's units) is left out of a scenario model's
 * re-margins (RunTables.statusOnly): their rows' IM, add-on, standard margin, available and status are NaN or
 * meaningless; equity and MM are the run's bits.
 *
 * Three ways in: marginAt / marginAtMany re-margin sub-portfolios (subPortfolio: some accounts, and a market of
 * only their instruments), a batch of them in one backend call (the scan's blocks of grid points);
 * marginCombined re-margins many small jobs, each at its own move, as one book cut from the run's (the
 * refinement's steps). A moved option's quoted mark (and bid / ask) shifts by its model value's change, floored
 * at 0, so the unmoved market (x = 0) is the run's market exactly; delta-ones' marks, bids and asks scale by
 * (1 + x) (docs/conventions.md).
 */
import {
  pnlRowCount,
  type PnlMatrix,
  type Reduced,
  type GroupBook,
  type ReduceRequest,
  type WorkerThreads,
} from '../engine/types.js';
import { sharedArray } from '../engine/revalueColumns.js';
import { spotRowValues } from '../../kernels/revalue.js';
import type { Balances, PositionBook } from '../model/book.js';
import { KIND_OPTION, SETTLE_INVERSE, type Instruments, type Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { MARGIN_MODELS, type MarginModel, type ScenarioModelName } from './models.js';
import { optionValuesUsd } from './optionValue.js';
import { buildRunTables, lazyUnitTables, type MarginInput, type RunTables } from './runTables.js';
import { settlementUnits, type SettlementUnits } from './settlementUnits.js';
import type { ModelPlan } from './plan.js';
import { standardRows } from './standard.js';
import type { MarginRows, ModelName } from './types.js';

/** What a re-margin needs of a backend: the run's revaluation and aggregation (a Backend fits). */
export interface DistanceEngine {
  revalue(market: Market, scenarios: ScenarioSet, params: Params): Promise<PnlMatrix>;
  aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced> | Reduced;
  /**
   * the backend's float64 worker threads (Backend.threads: the cpu backend, auto when both phases run on cpu):
   * when lent, each search (model, moved underlying or joint move, direction) runs on one of them
   * (liquidationDistances)
   */
  readonly threads?: WorkerThreads;
}

/**
 * The market moved by `factor[u]` = 1 + x_u per underlying: index and every forward × factor;
 * delta-ones' mark, bid and ask × factor; an option's mark, bid and ask + its model value's change
 * (in its quote units: coin for inverse options), floored at 0. `base`: optionValuesUsd(market).
 */
export function moveMarket(market: Market, factor: Float64Array, base: Float64Array = optionValuesUsd(market)): Market {
  return movedMarket(market, factor, base).market;
}

/** moveMarket, with the moved market's optionValuesUsd (computed on the way). */
function movedMarket(
  market: Market,
  factor: Float64Array,
  base: Float64Array,
): { market: Market; values: Float64Array } {
  const ins = market.instruments;
  const k = new Float64Array(ins.count);
  for (let i = 0; i < ins.count; i++) k[i] = factor[ins.underlying[i]];
  return moveEach(
    market,
    k,
    Float64Array.from(market.indexPrice, (s, u) => s * factor[u]),
    base,
  );
}

/**
 * The market with each instrument i moved by its own factor `k[i]` = 1 + x (moveMarket's rules, instrument
 * by instrument) and the index prices `indexPrice`, with its optionValuesUsd.
 */
function moveEach(
  market: Market,
  k: Float64Array,
  indexPrice: Float64Array,
  base: Float64Array,
): { market: Market; values: Float64Array } {
  const ins = market.instruments;
  const n = ins.count;
  const forward = new Float64Array(n);
  for (let i = 0; i < n; i++) forward[i] = ins.forward[i] * k[i];
  const movedIns: Instruments = {
    ...ins,
    forward,
    markPrice: new Float64Array(ins.markPrice),
    bidPrice: new Float64Array(ins.bidPrice),
    askPrice: new Float64Array(ins.askPrice),
  };
  const moved: Market = { ...market, indexPrice, instruments: movedIns };
  const values = optionValuesUsd(moved);
  for (let i = 0; i < n; i++) {
    if (ins.kind[i] !== KIND_OPTION) {
      movedIns.markPrice[i] *= k[i];
      movedIns.bidPrice[i] *= k[i];
      movedIns.askPrice[i] *= k[i];
      continue;
    }
    const d =
      ins.settlement[i] === SETTLE_INVERSE ? values[i] / forward[i] - base[i] / ins.forward[i] : values[i] - base[i];
    movedIns.markPrice[i] = Math.max(0, ins.markPrice[i] + d);
    movedIns.bidPrice[i] = Math.max(0, ins.bidPrice[i] + d);
    movedIns.askPrice[i] = Math.max(0, ins.askPrice[i] + d);
  }
  return { market: moved, values };
}

/** A part of the run's book: some accounts, their balances, and a market of only the instruments they hold. */
export interface SubPortfolio {
  book: PositionBook;
  balances: Balances;
  market: Market;
  /** local account id → the run's account id */
  accounts: Int32Array;
  /** local instrument id → the market's instrument id */
  instruments: Int32Array;
}

/**
 * The accounts `accounts` (the run's ids, ascending) of (book, balances) over the instruments they hold.
 * `keepUnit` (indexed by the book's units): only the positions of the units flagged 1 (the accounts keep
 * every balance); every unit when absent.
 */
export function subPortfolio(
  book: PositionBook,
  balances: Balances,
  market: Market,
  accounts: Int32Array,
  keepUnit?: Uint8Array,
): SubPortfolio {
  const ins = market.instruments;
  // the instruments held, ascending, and each one's local id in `used` (reset to −1 before returning: a
  // sub-portfolio late in a scan holds a few of the market's instruments, so nothing scans them all)
  const used = instrumentSlots(ins.count);
  // the book's columns as locals, and index loops only: this runs per block of the scan
  const { accountUnitStart: bookUnitStart, unitStart: bookPosStart, instrumentId: bookIns } = book;
  let P = 0;
  let units = 0;
  const ids: number[] = [];
  const A = accounts.length;
  const C = balances.currencies.length;
  let subBook: PositionBook;
  let amount: Float64Array;
  // the slots are shared by every call on this thread: reset to −1 however the copy ends
  try {
    // the sizes first (the units' bounds only), then one pass over the positions themselves (they lie all over
    // the book: reading them once, not twice, is most of this function's time), then the instruments' local ids
    for (let j = 0; j < accounts.length; j++) {
      const a = accounts[j];
      for (let k = bookUnitStart[a]; k < bookUnitStart[a + 1]; k++) {
        if (keepUnit && keepUnit[k] !== 1) continue;
        P += bookPosStart[k + 1] - bookPosStart[k];
        units++;
      }
    }
    const accountKey: string[] = new Array<string>(A);
    for (let j = 0; j < A; j++) accountKey[j] = book.accountKey[accounts[j]!]!;
    subBook = newBook(A, P, units, accountKey, book);
    const { accountStart, accountUnitStart, instrumentId, quantity, entryPrice, unitAccount, unitCurrency, unitStart } =
      subBook;
    amount = new Float64Array(A * C);
    let p2 = 0;
    let k2 = 0;
    const { quantity: bookQty, entryPrice: bookEntry, unitCurrency: bookCurrency } = book;
    const bal = balances.amount;
    for (let j = 0; j < A; j++) {
      const a = accounts[j];
      if (bal.length >= (a + 1) * C) for (let c = 0; c < C; c++) amount[j * C + c] = bal[a * C + c];
      for (let k = bookUnitStart[a]; k < bookUnitStart[a + 1]; k++) {
        if (keepUnit && keepUnit[k] !== 1) continue;
        unitAccount[k2] = j;
        unitCurrency[k2] = bookCurrency[k];
        for (let p = bookPosStart[k]; p < bookPosStart[k + 1]; p++, p2++) {
          const i = bookIns[p];
          if (used[i] === -1) used[i] = ids.push(i);
          instrumentId[p2] = i;
          quantity[p2] = bookQty[p];
          entryPrice[p2] = bookEntry[p];
        }
        unitStart[k2 + 1] = p2;
        k2++;
      }
      accountStart[j + 1] = p2;
      accountUnitStart[j + 1] = k2;
    }
    ids.sort((x, y) => x - y);
    for (let j = 0; j < ids.length; j++) used[ids[j]!] = j;
    for (let p = 0; p < P; p++) instrumentId[p] = used[instrumentId[p]!]!;
  } finally {
    for (const i of ids) used[i] = -1;
  }
  return {
    book: subBook,
    balances: { currencies: balances.currencies, amount },
    market: pickMarket(market, ids, true),
    accounts,
    instruments: Int32Array.from(ids),
  };
}

/**
 * A PositionBook of A accounts (keys `accountKey`), P positions and N units, its columns zero, to be filled;
 * its key type and unit currencies `like`'s.
 */
function newBook(A: number, P: number, N: number, accountKey: string[], like: PositionBook): PositionBook {
  return {
    accountCount: A,
    accountKey,
    accountKeyType: like.accountKeyType,
    accountStart: new Int32Array(A + 1),
    instrumentId: new Int32Array(P),
    quantity: new Float64Array(P),
    entryPrice: new Float64Array(P),
    unitCount: N,
    unitAccount: new Int32Array(N),
    unitCurrency: new Int32Array(N),
    unitStart: new Int32Array(N + 1),
    accountUnitStart: new Int32Array(A + 1),
    unitCurrencies: like.unitCurrencies,
  };
}

/** Scratch of subPortfolio: one slot per instrument of the largest market seen, every slot −1 between calls. */
let slots = new Int32Array(0);

function instrumentSlots(n: number): Int32Array {
  if (slots.length < n) slots = new Int32Array(n).fill(-1);
  return slots;
}

/**
 * The market with only the instruments `ids` of `market`, in that order (a repeated id is another copy), each
 * column gathered in one pass, with their Market.volSurface slices [j·5 + c]; the index and rates `market`'s.
 * `nameIndex`: Instruments.id maps each name to its position (empty otherwise: copies share names).
 */
function pickMarket(market: Market, ids: ArrayLike<number>, nameIndex: boolean): Market {
  const n = ids.length;
  const from = market.instruments;
  const g = <T extends Float64Array | Int32Array | Uint8Array>(src: T): T => {
    const out = new (src.constructor as new (n: number) => T)(n);
    for (let i = 0; i < n; i++) out[i] = src[ids[i]!]!;
    return out;
  };
  const name = new Array<string>(n);
  for (let i = 0; i < n; i++) name[i] = from.name[ids[i]!]!;
  const ins: Instruments = {
    count: n,
    name,
    id: nameIndex ? new Map(name.map((nm, j) => [nm, j])) : new Map(),
    underlying: g(from.underlying),
    kind: g(from.kind),
    optionType: g(from.optionType),
    settlement: g(from.settlement),
    strike: g(from.strike),
    expiryMs: g(from.expiryMs),
    tYears: g(from.tYears),
    markPrice: g(from.markPrice),
    markIv: g(from.markIv),
    forward: g(from.forward),
    bidPrice: g(from.bidPrice),
    askPrice: g(from.askPrice),
    openInterest: g(from.openInterest),
  };
  if (!market.volSurface) return { ...market, instruments: ins };
  const params = new Float64Array(n * 5);
  const src = market.volSurface.params;
  for (let i = 0; i < n; i++) params.set(src.subarray(ids[i]! * 5, ids[i]! * 5 + 5), i * 5);
  return { ...market, instruments: ins, volSurface: { params, stickyMoneyness: market.volSurface.stickyMoneyness } };
}

/** Whether the model's status is decided per settlement unit (else on the account's USD totals). */
export function perUnitModel(model: ModelName): boolean {
  return model === 'deribit-pm' || model === 'standard';
}

/**
 * The model's rows of `sub` at the market moved by `factor` (a full re-margin of E and MM, module comment: a
 * scenario model's rows have no IM, RunTables.statusOnly).
 */
export async function marginAt(
  model: ModelName,
  sub: SubPortfolio,
  factor: Float64Array,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
): Promise<MarginRows> {
  return (await marginAtMany(model, [{ sub, factor }], params, sets, engine))[0]!;
}

/** One re-margin of a batch: a sub-portfolio at a moved market. */
export interface MarginJob {
  sub: SubPortfolio;
  factor: Float64Array;
}

/** Consecutive ranges [k0, k1) of n items whose sizes sum to at most `max` (an item larger than `max` alone). */
export function batches(n: number, size: (k: number) => number, max: number): Array<[k0: number, k1: number]> {
  const out: Array<[number, number]> = [];
  let k0 = 0;
  while (k0 < n) {
    let k1 = k0;
    let total = 0;
    while (k1 < n && (k1 === k0 || total + size(k1) <= max)) total += size(k1++);
    out.push([k0, k1]);
    k0 = k1;
  }
  return out;
}

/**
 * Most instruments (summed over its jobs; evaluateCombined counts the positions, at least as many) one backend
 * call of marginAtMany or evaluateCombined revalues. Small
 * enough that a call's P&L matrix (2 rows × 16–35 scenarios × 8 bytes an instrument: ~2 MiB at deribit-pm's 35)
 * and its groups stay in a core's cache between the revaluation and the aggregation: at 100,000 the refinement's
 * calls wrote and re-read 56 MiB each, and the whole book took 20.3–20.8 s on 2 cores against 18.9–19.2 s at
 * 4,000 (1.2 against 2.2–2.4 s of system time, 250 MiB less peak RSS; bench/README.md "Session 22").
 */
export const BATCH_INSTRUMENTS = 4_000;

/**
 * The model's rows of every job (each `sub` at the market moved by its `factor`), in as few backend
 * calls as the batch allows: the jobs' moved markets side by side as one market of instrument copies
 * (each job's own instruments, moved), revalued once over the model's scenario set, and one aggregation
 * of every job's groups, their rows pointed at the job's copies; each job's spot rows (coin collateral)
 * are S_u(1 + x_u)·m from the kernels' spotRowValues. Each cell is the kernel's for that instrument and
 * scenario, so a job's rows are bit for bit those of re-margining it alone.
 */
export async function marginAtMany(
  model: ModelName,
  jobs: readonly MarginJob[],
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
): Promise<MarginRows[]> {
  const m = model === 'standard' ? undefined : MARGIN_MODELS[model as ScenarioModelName];
  const scenarios = m && sets.get(m.family);
  if (m && !scenarios) throw new Error(`distance: no ${m.family} scenario set for ${model}`);
  const prepared = jobs.map((j) => {
    const c = cacheOf(j.sub);
    const { market: moved, values } = movedMarket(j.sub.market, j.factor, c.values);
    const tables = buildRunTables(j.sub.book, j.sub.balances, moved, params, values, c.units, undefined, !!m);
    let plan: ModelPlan | undefined;
    if (m && scenarios) {
      const key = `${model}\u0000${scenarios.family}`;
      plan = c.plans.get(key);
      if (!plan) c.plans.set(key, (plan = m.groups({ ...tables, scenarios })));
    }
    return { moved, tables, plan };
  });
  if (!m || !scenarios) return prepared.map((p) => standardRows(p.tables));
  const out: MarginRows[] = [];
  for (const [k0, k1] of batches(jobs.length, (k) => prepared[k]!.moved.instruments.count, BATCH_INSTRUMENTS))
    out.push(...(await batch(m, prepared.slice(k0, k1), scenarios, params, engine)));
  return out;
}

/**
 * What re-margining one sub-portfolio at any moved market shares, computed at its first evaluation: its
 * option values at the unmoved market (moveMarket's base), its settlement units and each model's groups
 * (they depend on the book, the underlyings and the scenario set, not on prices: plan.ts).
 */
interface SubCache {
  values: Float64Array;
  units: SettlementUnits;
  plans: Map<string, ModelPlan>;
}

const subCaches = new WeakMap<SubPortfolio, SubCache>();

function cacheOf(sub: SubPortfolio): SubCache {
  let c = subCaches.get(sub);
  if (!c) {
    c = {
      values: optionValuesUsd(sub.market),
      units: settlementUnits(sub.book, sub.balances, sub.market),
      plans: new Map(),
    };
    subCaches.set(sub, c);
  }
  return c;
}

async function batch(
  m: MarginModel,
  jobs: Array<{ moved: Market; tables: RunTables; plan?: ModelPlan }>,
  scenarios: ScenarioSet,
  params: Params,
  engine: DistanceEngine,
): Promise<MarginRows[]> {
  const market = jobs[0]!.moved;
  const U = market.underlyings.length;
  const S = scenarios.count;
  const together = concatMarkets(jobs.map((j) => j.moved));
  const I = together.instruments.count;
  const pnl = await engine.revalue(together, scenarios, params);
  // every job's groups, rows pointed at its copies
  const inputs = jobs.map((j): MarginInput => ({ ...j.tables, scenarios }));
  const plans = inputs.map((input, k) => jobs[k]!.plan ?? m.groups(input));
  if (jobs.length === 1) {
    // one job (most of the scan's batches: a block of one grid point) reads the matrix as its own run would: its
    // groups' rows are already the matrix's, its spot rows the matrix's own at its index prices (writeSpotRows:
    // the same spotRowValues), so nothing is copied (the same bits as the general path below)
    const [input, plan] = [inputs[0]!, plans[0]!];
    const prep = m.prepare(input, plan, lazyUnitTables(input));
    return [m.assemble(input, plan, prep, await engine.aggregate(pnl, plan.groups, plan.request))];
  }
  const { rows, data } = plans.some((p, k) => readsSpotRows(p.groups, jobs[k]!.moved.instruments.count))
    ? withJobSpotRows(
        pnl,
        I,
        U,
        scenarios,
        jobs.map((j) => j.moved.indexPrice),
      )
    : pnl;
  const units = inputs.map((input) => lazyUnitTables(input));
  const preps = inputs.map((input, k) => m.prepare(input, plans[k]!, units[k]!));
  let G = 0;
  let E = 0;
  for (const p of plans) {
    G += p.groups.groupCount;
    E += p.groups.groupStart[p.groups.groupCount]!;
  }
  // on shared memory: the cpu pool reads them without a copy
  const groupStart = sharedArray(Int32Array, G + 1);
  const row = sharedArray(Int32Array, E);
  const qty = sharedArray(Float64Array, E);
  const bucket = sharedArray(Int32Array, E);
  let g = 0;
  let e = 0;
  let offset = 0;
  plans.forEach((p, k) => {
    const L = jobs[k]!.moved.instruments.count;
    const gb = p.groups;
    const n = gb.groupStart[gb.groupCount]!;
    for (let x = 0; x < n; x++) {
      const r = gb.row[x]!;
      row[e + x] = r < L ? offset + r : r < 2 * L ? I + offset + (r - L) : pnlRowCount(I, U) + k * U + (r - 2 * L);
    }
    qty.set(gb.qty.subarray(0, n), e);
    bucket.set(gb.bucket.subarray(0, n), e);
    for (let x = 0; x < gb.groupCount; x++) groupStart[g + x + 1] = e + gb.groupStart[x + 1]!;
    g += gb.groupCount;
    e += n;
    offset += L;
  });
  const first = plans[0]!.groups;
  const reduced = await engine.aggregate(
    { rows, scenarios: S, data },
    {
      groupCount: G,
      groupStart,
      row,
      qty,
      bucket,
      buckets: first.buckets,
      weight: first.weight,
      pnlOffset: first.pnlOffset,
    },
    plans[0]!.request,
  );
  const K = plans[0]!.request.topK;
  let g0 = 0;
  return plans.map((p, k) => {
    const g1 = g0 + p.groups.groupCount;
    const part: Reduced = {
      worstLoss: reduced.worstLoss.subarray(g0, g1),
      worstScenario: reduced.worstScenario.subarray(g0, g1),
      topLosses: reduced.topLosses?.subarray(g0 * K, g1 * K),
    };
    g0 = g1;
    return m.assemble(inputs[k]!, p, preps[k], part);
  });
}

/** The run's book, its balances and market: what a combined re-margin's jobs are cut from (marginCombined). */
export interface Portfolio {
  book: PositionBook;
  balances: Balances;
  market: Market;
}

/** One job of a combined re-margin (marginCombined): some accounts of the book at the market moved by `factor`. */
export interface CombinedJob {
  /** the run's account ids, ascending */
  accounts: Int32Array;
  /**
   * the book's units whose positions the job keeps, ascending, each of one of `accounts` (a per-unit model's
   * searched units: subPortfolio's keepUnit; the accounts keep every balance); absent: all of their units
   */
  units?: Int32Array;
  factor: Float64Array;
}

/**
 * The model's rows of every job at once, as one re-margin (the refinement's steps: many small jobs, each a few
 * units at their own x, where marginAtMany's per-job sub-portfolios, tables, plans and assemblies would cost more
 * than the pricing). The jobs side by side as one book cut from `from` (each job's accounts, its kept units'
 * positions in book order, and a copy of each instrument it holds, as subPortfolio cuts them); each copy moved by
 * its job's factor (moveEach), each account and copy valued at its job's index prices
 * (RunTables.accountIndexPrice, Market.instrumentIndexPrice; the combined market's own indexPrice is NaN, so
 * a read of it would show); one plan, one revaluation, one aggregation (each job's spot rows its own), one
 * assembly. Every figure is per instrument, per account or per group and computed as for its job alone, so
 * each row is the bits of re-margining its job's sub-portfolio alone (distance.test.ts). Returns the rows over
 * the combined book and, per combined account, its job and the run's account id.
 */
export async function marginCombined(
  model: ModelName,
  from: Portfolio,
  jobs: readonly CombinedJob[],
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
): Promise<{ rows: MarginRows; job: Int32Array; accounts: Int32Array }> {
  const m = model === 'standard' ? undefined : MARGIN_MODELS[model as ScenarioModelName];
  const scenarios = m && sets.get(m.family);
  if (m && !scenarios) throw new Error(`distance: no ${m.family} scenario set for ${model}`);
  const { book, balances, job, accounts, accountIndex, copies } = combinedBook(from, jobs);
  const root = from.market;
  const U = root.underlyings.length;
  const rootValues = rootValuesOf(root);
  const rootUnderlying = root.instruments.underlying;
  // per instrument copy: its job's factor, index price and unmoved option value
  const I = copies.id.length;
  const factorOf = new Float64Array(I);
  const indexOf = new Float64Array(I);
  const base = new Float64Array(I);
  for (let i = 0; i < I; i++) {
    const r = copies.id[i]!;
    const u = rootUnderlying[r]!;
    const factor = jobs[copies.job[i]!]!.factor;
    factorOf[i] = factor[u]!;
    indexOf[i] = root.indexPrice[u]! * factor[u]!;
    base[i] = rootValues[r]!;
  }
  // the jobs' instruments side by side, as the copies they re-margin
  const together = pickMarket(root, copies.id, false);
  const { market: moved, values } = moveEach(
    { ...together, instrumentIndexPrice: indexOf },
    factorOf,
    new Float64Array(U).fill(NaN),
    base,
  );
  const units = settlementUnits(book, balances, moved);
  const tables = buildRunTables(book, balances, moved, params, values, units, accountIndex, !!m);
  if (!m || !scenarios) return { rows: standardRows(tables), job, accounts };
  const input: MarginInput = { ...tables, scenarios };
  const plan = m.groups(input);
  const prepared = m.prepare(input, plan, lazyUnitTables(input));
  const pnl = await engine.revalue(moved, scenarios, params);
  const S = scenarios.count;
  // (the shared spot rows, at the NaN index, are read by no group)
  const spot = pnlRowCount(I, U);
  const { rows: rowCount, data } = readsSpotRows(plan.groups, I)
    ? withJobSpotRows(
        pnl,
        I,
        U,
        scenarios,
        jobs.map((jb) => Float64Array.from(root.indexPrice, (x, u) => x * jb.factor[u]!)),
      )
    : pnl;
  // the groups on shared memory (the cpu pool reads them without a copy), spot entries pointed at their job's rows
  const gb = plan.groups;
  const G = gb.groupCount;
  const E = gb.groupStart[G]!;
  const groupStart = sharedArray(Int32Array, G + 1);
  const row = sharedArray(Int32Array, E);
  const qty = sharedArray(Float64Array, E);
  const bucket = sharedArray(Int32Array, E);
  groupStart.set(gb.groupStart.subarray(0, G + 1));
  qty.set(gb.qty.subarray(0, E));
  bucket.set(gb.bucket.subarray(0, E));
  for (let g = 0; g < G; g++) {
    const r0 = spot + job[plan.account[g]!]! * U - 2 * I;
    for (let e = gb.groupStart[g]!; e < gb.groupStart[g + 1]!; e++) {
      const r = gb.row[e]!;
      row[e] = r < 2 * I ? r : r0 + r;
    }
  }
  const reduced = await engine.aggregate(
    { rows: rowCount, scenarios: S, data },
    {
      groupCount: G,
      groupStart,
      row,
      qty,
      bucket,
      buckets: gb.buckets,
      weight: gb.weight,
      pnlOffset: gb.pnlOffset,
    },
    plan.request,
  );
  return { rows: m.assemble(input, plan, prepared, reduced), job, accounts };
}

/**
 * marginCombined's book: the jobs' accounts side by side (their balances, and the positions of their kept units in
 * book order, each pointing at its job's copy of the instrument: one per instrument a job holds, in the order
 * first held), with per combined account its job, its run id and its index prices ([a·U + u], the job's moved
 * ones), and per instrument copy its market id and job.
 */
function combinedBook(
  from: Portfolio,
  jobs: readonly CombinedJob[],
): {
  book: PositionBook;
  balances: Balances;
  job: Int32Array;
  accounts: Int32Array;
  accountIndex: Float64Array;
  copies: { id: Int32Array; job: Int32Array };
} {
  const { book: root, balances: rootBalances, market } = from;
  const U = market.underlyings.length;
  const C = rootBalances.currencies.length;
  const { accountStart, accountUnitStart, unitStart, instrumentId, quantity, entryPrice, unitCurrency } = root;
  let A = 0;
  let N = 0;
  let P = 0;
  for (const { accounts: list, units } of jobs) {
    A += list.length;
    if (units) for (const k of units) P += unitStart[k + 1]! - unitStart[k]!;
    else
      for (const a of list) {
        N += accountUnitStart[a + 1]! - accountUnitStart[a]!;
        P += accountStart[a + 1]! - accountStart[a]!;
      }
    if (units) N += units.length;
  }
  const accountKey = new Array<string>(A);
  const book = newBook(A, P, N, accountKey, root);
  const amount = new Float64Array(A * C);
  const job = new Int32Array(A);
  const accounts = new Int32Array(A);
  const accountIndex = new Float64Array(A * U);
  // at most one instrument copy per position
  const copyId = new Int32Array(P);
  const copyJob = new Int32Array(P);
  const slot = instrumentSlots(market.instruments.count);
  let a2 = 0;
  let k2 = 0;
  let p2 = 0;
  let i2 = 0;
  let first = 0;
  // the slots are shared by every call on this thread: reset to −1 however the copy ends
  try {
    jobs.forEach(({ accounts: list, units, factor }, j) => {
      first = i2;
      let next = 0; // the job's next kept unit
      for (const a of list) {
        job[a2] = j;
        accounts[a2] = a;
        accountKey[a2] = root.accountKey[a]!;
        for (let u = 0; u < U; u++) accountIndex[a2 * U + u] = market.indexPrice[u]! * factor[u]!;
        if (rootBalances.amount.length >= (a + 1) * C)
          for (let c = 0; c < C; c++) amount[a2 * C + c] = rootBalances.amount[a * C + c]!;
        for (let k = accountUnitStart[a]!; k < accountUnitStart[a + 1]!; k++) {
          if (units) {
            if (units[next] !== k) continue;
            next++;
          }
          book.unitAccount[k2] = a2;
          book.unitCurrency[k2] = unitCurrency[k]!;
          for (let p = unitStart[k]!; p < unitStart[k + 1]!; p++, p2++) {
            const i = instrumentId[p]!;
            if (slot[i] === -1) {
              slot[i] = i2;
              copyId[i2] = i;
              copyJob[i2++] = j;
            }
            book.instrumentId[p2] = slot[i]!;
            book.quantity[p2] = quantity[p]!;
            book.entryPrice[p2] = entryPrice[p]!;
          }
          book.unitStart[++k2] = p2;
        }
        book.accountStart[++a2] = p2;
        book.accountUnitStart[a2] = k2;
      }
      for (let i = first; i < i2; i++) slot[copyId[i]!] = -1;
      first = i2;
      if (units && next !== units.length)
        throw new Error(
          `marginCombined: job ${j} keeps a unit of none of its accounts, or its units are not ascending`,
        );
    });
  } finally {
    for (let i = first; i < i2; i++) slot[copyId[i]!] = -1;
  }
  return {
    book,
    balances: { currencies: rootBalances.currencies, amount },
    job,
    accounts,
    accountIndex,
    copies: { id: copyId.subarray(0, i2), job: copyJob.subarray(0, i2) },
  };
}

/**
 * optionValuesUsd of a market the searches cut sub-portfolios from, once per market (per instrument: the bits
 * of any sub-portfolio's).
 */
const rootValues = new WeakMap<Market, Float64Array>();

function rootValuesOf(market: Market): Float64Array {
  let v = rootValues.get(market);
  if (!v) rootValues.set(market, (v = optionValuesUsd(market)));
  return v;
}

/**
 * Whether any entry of `groups` reads a spot row (row ≥ 2·I for I instruments: coin collateral in span and var;
 * deribit-pm's and standard's groups read none, and then the P&L matrix needs no rows per job).
 */
function readsSpotRows(groups: GroupBook, I: number): boolean {
  const end = groups.groupStart[groups.groupCount]!;
  for (let e = 0; e < end; e++) if (groups.row[e]! >= 2 * I) return true;
  return false;
}

/**
 * The P&L matrix `pnl` of I instruments with a block of U spot rows per job after the shared ones, on shared
 * memory (the cpu pool reads it without a copy): job k's row of underlying u is pnlRowCount(I, U) + k·U + u,
 * S_u·m at its index prices `index[k]` (kernels' spotRowValues).
 */
function withJobSpotRows(
  pnl: PnlMatrix,
  I: number,
  U: number,
  scenarios: ScenarioSet,
  index: readonly Float64Array[],
): { rows: number; data: Float64Array | Float32Array } {
  const S = scenarios.count;
  const spot = pnlRowCount(I, U);
  const rows = spot + index.length * U;
  const data =
    pnl.data instanceof Float64Array ? sharedArray(Float64Array, rows * S) : sharedArray(Float32Array, rows * S);
  data.set(pnl.data.subarray(0, spot * S));
  index.forEach((s, k) => {
    for (let u = 0; u < U; u++) spotRowValues(s[u]!, scenarios.move, u, U, S, data, (spot + k * U + u) * S);
  });
  return { rows, data };
}

/** Markets of the same underlyings side by side: their instruments in order, the first's index and rates. */
function concatMarkets(markets: Market[]): Market {
  if (markets.length === 1) return markets[0]!;
  const n = markets.reduce((s, x) => s + x.instruments.count, 0);
  const cat = <T extends Float64Array | Int32Array | Uint8Array>(f: (i: Instruments) => T): T => {
    const first = f(markets[0]!.instruments);
    const out = new (first.constructor as new (n: number) => T)(n);
    let o = 0;
    for (const x of markets) {
      out.set(f(x.instruments), o);
      o += x.instruments.count;
    }
    return out;
  };
  const name = markets.flatMap((x) => x.instruments.name);
  const ins: Instruments = {
    count: n,
    name,
    id: new Map(),
    underlying: cat((i) => i.underlying),
    kind: cat((i) => i.kind),
    optionType: cat((i) => i.optionType),
    settlement: cat((i) => i.settlement),
    strike: cat((i) => i.strike),
    expiryMs: cat((i) => i.expiryMs),
    tYears: cat((i) => i.tYears),
    markPrice: cat((i) => i.markPrice),
    markIv: cat((i) => i.markIv),
    forward: cat((i) => i.forward),
    bidPrice: cat((i) => i.bidPrice),
    askPrice: cat((i) => i.askPrice),
    openInterest: cat((i) => i.openInterest),
  };
  const surface = markets[0]!.volSurface;
  if (!surface) return { ...markets[0]!, instruments: ins };
  // each market's slices after the previous one's, as its instruments
  const params = new Float64Array(n * 5);
  let o = 0;
  for (const x of markets) {
    params.set(x.volSurface!.params, o);
    o += x.instruments.count * 5;
  }
  return { ...markets[0]!, instruments: ins, volSurface: { params, stickyMoneyness: surface.stickyMoneyness } };
}

/** 0, 1, … n − 1 (the combined book's own account ids, for eachStatusUnit) */
export function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * f = E − MM per status unit of `rows` (over `sub`): calls `out(account, code, equity, mm)` with the
 * run's account id and the unit code (−1: the account, span and var: its equity, and the sum of its
 * rows' MM). The one definition of a model's status unit, for the distance search and the cascade.
 */
export function eachStatusUnit(
  model: ModelName,
  rows: MarginRows,
  sub: Pick<SubPortfolio, 'accounts'>,
  out: (account: number, code: number, equity: number, mm: number) => void,
): void {
  if (perUnitModel(model)) {
    for (let r = 0; r < rows.count; r++) out(sub.accounts[rows.account[r]]!, rows.unit[r], rows.equity[r], rows.mm[r]);
    return;
  }
  let r = 0;
  while (r < rows.count) {
    const a = rows.account[r];
    let mm = 0;
    const eq = rows.equity[r];
    while (r < rows.count && rows.account[r] === a) mm += rows.mm[r++];
    out(sub.accounts[a]!, -1, eq, mm);
  }
}
