/**
 * Distance to liquidation (docs/methodology.md §7): for every account (per settlement unit in
 * deribit-pm and standard, per account in span and var) and every model, the smallest move of one
 * underlying (all others fixed), and of every underlying together (the joint move), down and up, at
 * which equity falls to the maintenance margin.
 *
 * Every evaluation is a full re-margin of E and MM at the moved market, through the run's own path
 * (remargin.ts: the market moved, the model's scenario set reused, the backend's revaluation and aggregation,
 * the model's assembly; no second pricing path).
 *
 * Search (§7): f(x) = E(x) − MM(x) is scanned on the grid (0.5 % steps to 20 %, 2 % to 60 %, 10 % to
 * x_max), each grid point one re-margin of the accounts whose sign has not changed yet; the first grid
 * point with f ≤ 0 brackets the answer with the scanned point before it (f > 0), and interpolation steps
 * safeguarded by bisection (searchTarget) shrink the bracket until |Δx| ≤ tol. The
 * reported x is the bracket's liquidated end (f(x) ≤ 0; f > 0 at the other end, |Δx| ≤ tol away). A unit
 * already at or below its MM has distance 0; no sign change within the range is "none" (NaN). The
 * refinement re-margins the accounts whose points coincide together, on only the instruments they hold
 * (under a per-unit model, deribit-pm and standard, only the searched units' positions: a settlement unit's
 * E and MM read its own positions and balances alone), and every point of a step as one re-margin
 * (marginCombined: the units side by side, each at its own x; one plan, revaluation, aggregation and assembly).
 *
 * The scan skips what it can prove: a model's slope bound (MarginModel.slopeBound; span, var, deribit-pm)
 * bounds how fast f can fall in the search's direction, f(y) ≥ f(x) − L·|x − y| over an interval of moves (L = 0
 * where every term of f rises that way: slope.ts), so after a point with f > 0 the unit is next
 * evaluated at the first grid point that L·|Δx| (with a slack above the float32 devices' error) may bring to
 * 0 (or, where the model's floor under f lies above that slack over the whole range, nowhere: a unit holding
 * only long options and collateral, slope.ts SlopeFloor); when its first f ≤ 0 follows skipped points, the two
 * grid points before it that were skipped are evaluated
 * (the bracket's near end, and the point before that, where the refinement's first interpolation starts), and a
 * bound that proved a point with E < MM safe stops the search. The answers are the full scan's, bit
 * for bit; at 20,000 accounts it evaluates about a sixth of the (unit, point) pairs (the bounds see the signs of
 * their terms: slope.ts).
 *
 * Engine conventions chosen here (docs/conventions.md):
 * - "f(x) ≤ 0" is read as the engine's liquidation status, E < MM (status.ts, marginStatus; a NaN equity
 *   counts as liquidated): a unit with E = MM (a paid option worth nothing, E = MM = 0) is not liquidated.
 * - Moves apply to the units with a position on the moved underlying (span / var: an account with a
 *   position or a coin balance in it, its USD equity moving with the coin); the joint move to every unit
 *   holding a position. Units holding only collateral have no row.
 * - A moved option's quoted mark (and bid / ask) shifts by its model value's change, floored at 0, so the
 *   unmoved market (x = 0) is the run's market exactly; delta-ones' marks, bids and asks scale by (1 + x).
 */
import { resolveWorker } from '../util/workerPath.js';
import { sharedBufferOf } from '../engine/sharedCopy.js';
import type { Balances, PositionBook } from '../model/book.js';
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { Family, ScenarioSet } from '../scenarios/types.js';
import { MARGIN_MODELS, type ScenarioModelName } from './models.js';
import {
  BATCH_INSTRUMENTS,
  batches,
  eachStatusUnit,
  identity,
  marginAt,
  marginAtMany,
  marginCombined,
  perUnitModel,
  subPortfolio,
  type CombinedJob,
  type DistanceEngine,
  type MarginJob,
  type SubPortfolio,
} from './remargin.js';
import { balanceUnitCodes } from './settlementUnits.js';
import { decline, floorAt, type SlopeBound } from './slope.js';
import type { ModelName } from './types.js';

export interface DistanceOptions {
  /** the largest fall searched (default 0.9, §7) */
  xMaxDown?: number;
  /** the largest rise searched (default 3.0, §7) */
  xMaxUp?: number;
  /** bisection stops when the bracket is at most this wide (default 1e-5, §7) */
  tol?: number;
  /**
   * skip the grid points where the model's slope bound (MarginModel.slopeBound) proves f > 0 (default true;
   * the answers are those of the full scan: false scans every point, for the tests that compare the two)
   */
  slopeSkip?: boolean;
  /** (units still scanning × grid points) per batch of the scan (default SCAN_BLOCK_UNITS) */
  scanBlock?: number;
  /**
   * run the searches on the engine's worker threads when it lends them (DistanceEngine.threads; default true:
   * the same bits as on this thread, liquidationDistances; false: on this thread, through the engine)
   */
  threads?: boolean;
  /**
   * on the threads: each search's status units in this many parts (an integer ≥ 1; at most one a unit), each
   * part a task of its own (default searchParts(): 1 while the searches outnumber the threads, as on 2 cores).
   * Each unit's answer is the same bits in any part; a part re-prices its grid points' instruments for its own
   * units and computes the model's slope bound again.
   */
  searchParts?: number;
  /** called as searches end, with the searches done and their total (distanceSearchCount): for progress */
  onProgress?: (done: number, total: number) => void;
  /**
   * called with each model's DistanceRows (liquidationDistances) as soon as its searches and those of every
   * model before it have ended, in the models' order: a run's report writes a model's rows while the other
   * models' searches still run (the returned array holds the same objects)
   */
  onModel?: (rows: DistanceRows) => void;
}

export const DIRECTION_DOWN = 0;
export const DIRECTION_UP = 1;
export const DIRECTION_NAMES = ['down', 'up'] as const;
/** `underlying` of a joint move (every underlying by the same x). */
export const JOINT = -1;

/** One model's distances: one row per (status unit, moved underlying or JOINT, direction). */
export interface DistanceRows {
  model: ModelName;
  count: number;
  /** account id in the run's book */
  account: Int32Array;
  /** index into unitNames: the settlement unit (deribit-pm, standard) or 'ALL' (span, var: the account) */
  unit: Int32Array;
  unitNames: string[];
  /** index into the market's underlyings, JOINT for the joint move */
  underlying: Int32Array;
  /** DIRECTION_* */
  direction: Uint8Array;
  /** signed x at liquidation; 0 when already at or below MM; NaN = none within the range */
  move: Float64Array;
  /** the moved index price S(1 + x) of the underlying; NaN for the joint move and for none */
  price: Float64Array;
  /** equity and MM at x, in the unit's currency (USD for span and var); NaN for none */
  equity: Float64Array;
  mm: Float64Array;
  /** what the model's searches evaluated, summed */
  search: SearchStats;
}

/** The grid of §7 on one side, as positive |x| values up to `xMax`: 0.5 % to 20 %, 2 % to 60 %, then 10 %. */
export function distanceGrid(xMax: number): number[] {
  const out: number[] = [];
  // in tenths of a percent (integers) so that the grid points are the decimals they name
  for (let k = 5; k <= 200; k += 5) out.push(k);
  for (let k = 220; k <= 600; k += 20) out.push(k);
  for (let k = 700; k <= 100_000; k += 100) out.push(k);
  const g = out.map((k) => k / 1000).filter((x) => x <= xMax + 1e-12);
  if (g.length === 0 || g[g.length - 1]! < xMax - 1e-12) g.push(xMax);
  return g;
}

/** The refinement's steps (searchTarget): one point at the secant root of the bracket's ends, the first. */
const STEP_FIRST = 0;
/** A pair around the secant root of the bracket's ends. */
const STEP_SECANT = 1;
/** One point, the bracket's middle. */
const STEP_BISECT = 2;
/** A pair around an interpolated guess (the inverse quadratic after the first step, or a Newton root). */
const STEP_GUESS = 3;
/** Newton steps from a pair's slope a unit may take (then the secant and bisection guarantee the end). */
const NEWTON_STEPS = 3;
/** Search.prev of a unit with no scanned point before its last one. */
const NO_POINT = -2;

/**
 * The inverse quadratic interpolation of f's root through three points (x as a quadratic in f); NaN or ±∞
 * where two f coincide.
 */
function inverseQuadratic(a: number, fa: number, b: number, fb: number, c: number, fc: number): number {
  return (
    (a * fb * fc) / ((fa - fb) * (fa - fc)) +
    (b * fa * fc) / ((fb - fa) * (fb - fc)) +
    (c * fa * fb) / ((fc - fa) * (fc - fb))
  );
}

/**
 * The scan evaluates blocks of grid points together, as many as keep (units still scanning × points) near
 * this: a small book pays per backend call, a large one per evaluation (a unit resolved early in a block
 * costs the rest of the block).
 */
const SCAN_BLOCK_UNITS = 20_000;

/**
 * Tasks per worker thread the searches aim at when the threads outnumber them (searchParts). On 16 cores the
 * 12 searches of deribit-pm and span ran as 12 tasks and the whole book took 16.2–17.3 s, the length of its
 * longest search (deribit-pm's joint move down), against 20 s on 2 cores; in 3 parts each (2 tasks a thread)
 * 8.8 s, and 6 parts were no faster (bench/README.md "Session 21", measured before the parts' scan blocks).
 */
const SEARCH_TASKS_PER_WORKER = 2;

/**
 * How many parts each of `searches` searches is cut into on `workers` threads: 1 while the searches fill the
 * threads (each part re-prices its grid points' instruments, work a single search shares), else enough for
 * SEARCH_TASKS_PER_WORKER tasks a thread.
 */
export function searchParts(workers: number, searches: number): number {
  if (searches >= workers || searches === 0) return 1;
  return Math.ceil((SEARCH_TASKS_PER_WORKER * workers) / searches);
}

/**
 * Every model's distances (module comment; docs/methodology.md §7) for the book: per status unit, per
 * underlying it is exposed to and jointly, down and up. `sets`: the run's scenario set per family.
 *
 * Each model's status units and their values at the unmoved market come from one re-margin of the book on
 * `engine`; then every (model, moved underlying or JOINT, direction) is a search of its own (searchTarget),
 * independent of the others. When the engine lends its float64 worker threads (DistanceEngine.threads) the
 * searches run there, each on one thread with the cpu kernels (distanceWorker.ts: the cpu backend's bits),
 * so that the search's host work (moved markets, run tables, assembly) runs on every thread at once instead of
 * on this one while the pool waits for it; a search keeps the whole book, so each grid point's instruments are
 * still revalued once for all its accounts.
 */
export async function liquidationDistances(
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  models: readonly ModelName[],
  engine: DistanceEngine,
  opts: DistanceOptions = {},
): Promise<DistanceRows[]> {
  for (const [name, asked] of [
    ['searchParts', opts.searchParts],
    ['scanBlock', opts.scanBlock],
  ] as const)
    if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1))
      throw new Error(`distance: ${name} must be an integer ≥ 1, got ${asked}`);
  const U = market.underlyings.length;
  const targets = [JOINT, ...Array.from({ length: U }, (_, u) => u)];
  const setups: StatusUnits[] = [];
  for (const model of models) setups.push(await statusUnits(model, book, balances, market, params, sets, engine));
  const searches = models.flatMap((model, m) =>
    targets.flatMap((u) => [DIRECTION_DOWN, DIRECTION_UP].map((dir): SearchTask => ({ m, model, u, dir }))),
  );
  const threads = opts.threads !== false ? engine.threads : undefined;
  // each model's rows once its searches have ended, handed on in the models' order (DistanceOptions.onModel)
  const found: SearchRows[] = new Array<SearchRows>(searches.length);
  const open = models.map((_, m) => searches.filter((s) => s.m === m).length);
  const done: DistanceRows[] = [];
  const modelRows = (m: number): DistanceRows =>
    distanceRows(
      models[m]!,
      market,
      setups[m]!,
      searches.flatMap((s, j) => (s.m === m ? [{ u: s.u, dir: s.dir, rows: found[j]! }] : [])),
    );
  let ended = 0;
  const ends = (j: number, r: SearchRows): void => {
    found[j] = r;
    opts.onProgress?.(++ended, searches.length);
    open[searches[j]!.m]!--;
    while (done.length < models.length && open[done.length] === 0) {
      const rows = modelRows(done.length);
      done.push(rows);
      opts.onModel?.(rows);
    }
  };
  if (threads && threads.workers > 1) {
    const filename = resolveWorker('distanceWorker', import.meta.url);
    // the book's columns on shared memory once: every search's message shares them instead of copying
    const shared = sharedPortfolio(book, balances);
    const P = opts.searchParts ?? searchParts(threads.workers, searches.length);
    // handed to the threads (in this order) the larger first, so that the last to end are small: the joint moves,
    // then each underlying alone; down (the finer grid's 40 points and a coin unit's P&L growing as 1/(1 + x)),
    // then up. On the whole book, 2 threads: deribit-pm's joint move down alone is a third of the work
    const rank = (s: SearchTask) => (s.u === JOINT ? 0 : 2) + (s.dir === DIRECTION_DOWN ? 0 : 1);
    const order = searches.map((_, j) => j).sort((a, b) => rank(searches[a]!) - rank(searches[b]!) || a - b);
    await Promise.all(
      order.map(async (j) => {
        const s = searches[j]!;
        const family = s.model === 'standard' ? undefined : MARGIN_MODELS[s.model as ScenarioModelName].family;
        const set = family && sets.get(family);
        const su = setups[s.m]!;
        // the search's units in P consecutive parts, each a task; their rows join into the search's
        const length = Math.min(P, Math.max(1, su.count));
        const parts = await Promise.all(
          Array.from({ length }, (_, p) => {
            const from = Math.floor((su.count * p) / length);
            const to = Math.floor((su.count * (p + 1)) / length);
            const task: DistanceSearch = {
              ...shared,
              market,
              params,
              sets: family && set ? [[family, set]] : [],
              model: s.model,
              underlying: s.u,
              direction: s.dir,
              units: length === 1 ? su : statusUnitsPart(su, U, from, to),
              opts: {
                ...opts,
                threads: false,
                onProgress: undefined,
                onModel: undefined,
                // the scan's batches of grid points as long as the whole search's: a part's share of the block
                // (its units alone under the whole block took 2.5× the (unit, point) pairs at 6 parts)
                scanBlock: length === 1 ? opts.scanBlock : partBlock(opts.scanBlock, to - from, su.count),
              },
            };
            return threads.run(filename, task).then((r) => ({ from, rows: r as SearchRows }));
          }),
        );
        ends(j, parts.length === 1 ? parts[0]!.rows : joinParts(parts));
      }),
    );
  } else {
    for (const [j, s] of searches.entries())
      ends(
        j,
        await searchTarget(s.model, book, balances, market, params, sets, engine, opts, setups[s.m]!, s.u, s.dir),
      );
  }
  // every model was handed on as its last search ended (each searches every target both ways); this only
  // completes the list for a model without searches, were there one
  while (done.length < models.length) done.push(modelRows(done.length));
  return done;
}

/**
 * Status units [from, to) of `su` over `U` underlyings, as views of its arrays (a part of a search:
 * liquidationDistances); `exposed` holds U flags a unit.
 */
function statusUnitsPart(su: StatusUnits, U: number, from: number, to: number): StatusUnits {
  return {
    count: to - from,
    account: su.account.subarray(from, to),
    code: su.code.subarray(from, to),
    exposed: su.exposed.subarray(from * U, to * U),
    eq0: su.eq0.subarray(from, to),
    mm0: su.mm0.subarray(from, to),
    unitNames: su.unitNames,
  };
}

/** The scan block (DistanceOptions.scanBlock) of a part of `n` of a search's `N` units: its share. */
function partBlock(block: number | undefined, n: number, N: number): number {
  return Math.max(1, Math.round(((block ?? SCAN_BLOCK_UNITS) * n) / N));
}

/** One search's rows from its parts' (each numbering its units from its `from`), stats added up. */
function joinParts(parts: ReadonlyArray<{ from: number; rows: SearchRows }>): SearchRows {
  const n = parts.reduce((t, p) => t + p.rows.unit.length, 0);
  const out: SearchRows = {
    unit: new Int32Array(n),
    move: new Float64Array(n),
    equity: new Float64Array(n),
    mm: new Float64Array(n),
    stats: { searches: 1, scanPairs: 0, brackets: 0, refinePoints: 0, refineSteps: 0 },
  };
  let at = 0;
  for (const { from, rows } of parts) {
    for (let r = 0; r < rows.unit.length; r++) out.unit[at + r] = rows.unit[r]! + from;
    out.move.set(rows.move, at);
    out.equity.set(rows.equity, at);
    out.mm.set(rows.mm, at);
    at += rows.unit.length;
    out.stats.scanPairs += rows.stats.scanPairs;
    out.stats.brackets += rows.stats.brackets;
    out.stats.refinePoints += rows.stats.refinePoints;
    // the parts refine side by side: the search took as many steps as its longest part
    out.stats.refineSteps = Math.max(out.stats.refineSteps, rows.stats.refineSteps);
  }
  return out;
}

/** How many searches liquidationDistances runs: per model, every underlying and the joint move, both directions. */
export function distanceSearchCount(models: readonly ModelName[], market: Market): number {
  return models.length * (market.underlyings.length + 1) * 2;
}

interface SearchTask {
  m: number;
  model: ModelName;
  u: number;
  dir: number;
}

/** What a worker thread of the search gets (distanceWorker.ts): one (model, underlying or JOINT, direction). */
export interface DistanceSearch {
  book: PositionBook;
  balances: Balances;
  market: Market;
  params: Params;
  sets: Array<[Family, ScenarioSet]>;
  model: ModelName;
  underlying: number;
  direction: number;
  units: StatusUnits;
  opts: DistanceOptions;
}

/** The search a worker thread runs (distanceWorker.ts), on its own thread's `engine`. */
export function runDistanceSearch(t: DistanceSearch, engine: DistanceEngine): Promise<SearchRows> {
  return searchTarget(
    t.model,
    t.book,
    t.balances,
    t.market,
    t.params,
    new Map(t.sets),
    engine,
    t.opts,
    t.units,
    t.underlying,
    t.direction,
  );
}

/** A view of the same values on shared memory (sharedCopy.ts: the array itself when it already is). */
function sharedView<T extends Float64Array | Int32Array | Uint8Array>(a: T): T {
  const ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  return new ctor(sharedBufferOf(a));
}

/**
 * The book's columns and the balances on shared memory (a view of the same values, or the arrays themselves
 * when they already are): what a search or a cascade sends to worker threads, which then share them instead
 * of copying them with every message.
 */
export function sharedPortfolio(book: PositionBook, balances: Balances): { book: PositionBook; balances: Balances } {
  return { book: sharedBook(book), balances: { ...balances, amount: sharedView(balances.amount) } };
}

function sharedBook(book: PositionBook): PositionBook {
  return {
    ...book,
    // by name: a loaded book's keys may be its class's getter, which a spread does not copy (buildBook.ts)
    accountKey: book.accountKey,
    accountStart: sharedView(book.accountStart),
    instrumentId: sharedView(book.instrumentId),
    quantity: sharedView(book.quantity),
    entryPrice: sharedView(book.entryPrice),
    unitAccount: sharedView(book.unitAccount),
    unitCurrency: sharedView(book.unitCurrency),
    unitStart: sharedView(book.unitStart),
    accountUnitStart: sharedView(book.accountUnitStart),
  };
}

/**
 * A model's status units with a position (struct of arrays: it travels to the search's threads), and their
 * equity and MM at the unmoved market. `code`: the settlement unit's code (deribit-pm, standard) or −1 (the
 * account: span, var); `exposed[k·U + u]`: 1 when unit k is exposed to underlying u (a position on it; span
 * and var: or a coin balance in it).
 */
export interface StatusUnits {
  count: number;
  account: Int32Array;
  code: Int32Array;
  exposed: Uint8Array;
  eq0: Float64Array;
  mm0: Float64Array;
  /** the rows' unit names (the base re-margin's: the settlement units, or ['ALL']) */
  unitNames: string[];
}

async function statusUnits(
  model: ModelName,
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
): Promise<StatusUnits> {
  const U = market.underlyings.length;
  const all = new Int32Array(book.accountCount);
  for (let a = 0; a < all.length; a++) all[a] = a;
  const full = subPortfolio(book, balances, market, all);
  const base = await marginAt(model, full, new Float64Array(U).fill(1), params, sets, engine);
  const perUnit = perUnitModel(model);
  const codes = balanceUnitCodes(balances, market);
  const C = balances.currencies.length;
  const account: number[] = [];
  const code: number[] = [];
  const exposedAll: number[] = [];
  const eq0: number[] = [];
  const mm0: number[] = [];
  const exposed = new Uint8Array(U);
  eachStatusUnit(model, base, full, (a, c, eq, mm) => {
    exposed.fill(0);
    let any = false;
    for (let k = book.accountUnitStart[a]; k < book.accountUnitStart[a + 1]; k++) {
      if (perUnit && book.unitCurrency[k] !== c) continue;
      for (let p = book.unitStart[k]; p < book.unitStart[k + 1]; p++) {
        exposed[market.instruments.underlying[book.instrumentId[p]]] = 1;
        any = true;
      }
    }
    if (!any) return;
    if (!perUnit && balances.amount.length >= (a + 1) * C)
      for (let j = 0; j < C; j++)
        if (codes[j]! < U && codes[j]! >= 0 && balances.amount[a * C + j] !== 0) exposed[codes[j]!] = 1;
    account.push(a);
    code.push(c);
    exposedAll.push(...exposed);
    eq0.push(eq);
    mm0.push(mm);
  });
  return {
    count: account.length,
    account: Int32Array.from(account),
    code: Int32Array.from(code),
    exposed: Uint8Array.from(exposedAll),
    eq0: Float64Array.from(eq0),
    mm0: Float64Array.from(mm0),
    unitNames: perUnit ? base.unitNames : ['ALL'],
  };
}

/** The units that one search answers (index into StatusUnits), with their move, equity and MM there. */
export interface SearchRows {
  unit: Int32Array;
  move: Float64Array;
  equity: Float64Array;
  mm: Float64Array;
  /** what the search evaluated */
  stats: SearchStats;
}

/**
 * What searches evaluated (their cost apart from the machine): the scan's (unit, grid point) re-margins, the
 * brackets it found, the refinement's (unit, move) re-margins and its steps (summed over searches in
 * DistanceRows.search; the bench records them).
 */
export interface SearchStats {
  searches: number;
  scanPairs: number;
  brackets: number;
  refinePoints: number;
  refineSteps: number;
}

/** For each status unit exposed to one underlying only, that underlying (−1 for none or several). */
function singleExposure(su: StatusUnits, U: number): Int32Array {
  const out = new Int32Array(su.count).fill(-1);
  for (let k = 0; k < su.count; k++) {
    let n = 0;
    for (let u = 0; u < U; u++)
      if (su.exposed[k * U + u]) {
        n++;
        out[k] = u;
      }
    if (n !== 1) out[k] = -1;
  }
  return out;
}

/**
 * One search of §7 (module comment): every status unit of `su` exposed to `u` (JOINT: every unit), moved in
 * direction `dir`, except those exposed to `u` alone (their joint rows are theirs: distanceRows copies them).
 * The units proven safe on the whole grid answer "none"; the others are scanned to a bracket, its near end
 * evaluated where the bound skipped it, and the bracket refined ({@link Search}).
 */
async function searchTarget(
  model: ModelName,
  book: PositionBook,
  balances: Balances,
  market: Market,
  params: Params,
  sets: ReadonlyMap<Family, ScenarioSet>,
  engine: DistanceEngine,
  opts: DistanceOptions,
  su: StatusUnits,
  u: number,
  dir: number,
): Promise<SearchRows> {
  const search = new Search({ model, book, balances, market, params, sets, engine, opts }, su, u, dir);
  await search.scan(search.members());
  await search.nearEnds();
  await search.refine();
  return search.rows();
}

/**
 * A search's view of its model's slope bound (Search.slopeBound), per status unit k: how fast f can fall over an
 * interval whose least 1 + x is g, the floor under f at g, and the gross size (slope.ts SlopeBound).
 */
interface BoundOf {
  slope: (k: number, g: number) => number;
  floor: (k: number, g: number) => number;
  grossOf: (k: number) => number;
}

/** What a search reads besides its status units and direction. */
interface SearchInputs {
  model: ModelName;
  book: PositionBook;
  balances: Balances;
  market: Market;
  params: Params;
  sets: ReadonlyMap<Family, ScenarioSet>;
  engine: DistanceEngine;
  opts: DistanceOptions;
}

/** One evaluation: the status units `members` (indexes into su) re-margined in `sub` at x. */
interface Evaluation extends Point {
  sub: SubPortfolio;
}

/** A point of the refinement: the status units `members` (indexes into su) at x. */
interface Point {
  x: number;
  members: readonly number[];
}

/** An evaluation's answer for its members[j]: E and MM there (NaN, NaN: the unit has no row at x). */
type OnValue = (e: number, j: number, eq: number, mm: number) => void;

/**
 * The state of one search (searchTarget), per status unit in typed arrays indexed like `su`, and its steps:
 * {@link members} (units already below MM at x = 0 answer 0), {@link scan} (the grid, skipping points the slope
 * bound proves safe, to each unit's first point with E < MM), {@link nearEnds} (the point before a hit that
 * the bound skipped), {@link refine} (each bracket to |Δx| ≤ tol), {@link rows}.
 */
class Search {
  private readonly U: number;
  private readonly tol: number;
  private readonly sign: number;
  /** (account, unit code) → index into the status units, −1 for none (keyOf's numbering) */
  private readonly index: Int32Array;
  private readonly K: number;
  /** each status unit's book unit (−1: none; per-unit models: the unit of its currency in its account) */
  private readonly bookUnit: Int32Array;
  /** per-unit models: the book units a sub-portfolio keeps (scratch of build) */
  private readonly keep: Uint8Array | undefined;
  private readonly ownSubs = new Map<number, SubPortfolio>();
  /** the slope bound's accessors (slope.ts SlopeBound), computed at the first unit that asks */
  private readonly bound: BoundOf;
  private readonly out = { unit: [] as number[], move: [] as number[], equity: [] as number[], mm: [] as number[] };
  private readonly stats: SearchStats = { searches: 1, scanPairs: 0, brackets: 0, refinePoints: 0, refineSteps: 0 };
  // scratch of evaluate: a unit's (equity, MM) in the evaluation numbered stamp[k]
  private readonly stamp: Float64Array;
  private readonly eqK: Float64Array;
  private readonly mmK: Float64Array;
  private evaluations = 0;
  private readonly grid: number[];
  // per status unit: its bracket's near end lo (E ≥ MM) and far end hi (E < MM, with E and MM there), in the
  // order the brackets were found
  private readonly lo: Float64Array;
  private readonly hiX: Float64Array;
  private readonly hiEq: Float64Array;
  private readonly hiMm: Float64Array;
  private readonly bracketed: number[] = [];
  // f at each unit's last point with E ≥ MM (its bracket's near end), that point's grid index (−1: x = 0) and
  // |E| + |MM| there
  private readonly fLo: Float64Array;
  private readonly last: Int32Array;
  // the scanned point before `last` (grid index, −1: x = 0; −2: none) and f there: the first refinement step's
  // third point (refinePoints)
  private readonly prev: Int32Array;
  private readonly fPrev: Float64Array;
  /** each bracketed unit's hit: the grid index of its first point with E < MM */
  private readonly hit: Int32Array;
  private readonly size: Float64Array;
  /** the bound's gross size per unit (SlopeBound.scale), for the scan's slack */
  private readonly gross: Float64Array;
  /**
   * the grid points the bound skipped among the two before a unit's hit (the bracket's near end and the point
   * before it, refinePoints' third point), evaluated after the scan: grid index → its units
   */
  private readonly nearEnd = new Map<number, number[]>();

  constructor(
    private readonly inp: SearchInputs,
    private readonly su: StatusUnits,
    private readonly u: number,
    private readonly dir: number,
  ) {
    const { book, market, opts, model } = inp;
    const U = (this.U = market.underlyings.length);
    this.tol = opts.tol ?? 1e-5;
    this.sign = dir === DIRECTION_DOWN ? -1 : 1;
    this.K = U + 2; // unit codes 0..U (coins, USDC), and −1 (the account) stored as K − 1
    this.index = new Int32Array(book.accountCount * this.K).fill(-1);
    for (let k = 0; k < su.count; k++) this.index[this.keyOf(su.account[k]!, su.code[k]!)] = k;
    this.bookUnit = Int32Array.from({ length: su.count }, (_, k) => {
      const a = su.account[k]!;
      for (let j = book.accountUnitStart[a]; j < book.accountUnitStart[a + 1]; j++)
        if (book.unitCurrency[j] === su.code[k]) return j;
      return -1;
    });
    const perUnit = perUnitModel(model);
    this.keep = perUnit ? new Uint8Array(book.unitCount) : undefined;
    this.bound = this.slopeBound(perUnit);
    this.stamp = new Float64Array(su.count).fill(-1);
    this.eqK = new Float64Array(su.count);
    this.mmK = new Float64Array(su.count);
    this.grid = distanceGrid([opts.xMaxDown ?? 0.9, opts.xMaxUp ?? 3.0][dir]!);
    const n = su.count;
    this.lo = new Float64Array(n);
    this.hiX = new Float64Array(n);
    this.hiEq = new Float64Array(n);
    this.hiMm = new Float64Array(n);
    this.fLo = new Float64Array(n);
    this.last = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.fPrev = new Float64Array(n);
    this.hit = new Int32Array(n);
    this.size = new Float64Array(n);
    this.gross = new Float64Array(n);
  }

  private keyOf(a: number, code: number): number {
    return a * this.K + (code < 0 ? this.K - 1 : code);
  }

  /**
   * The model's slope bound per status unit for moves of u in this search's direction (slope.ts SlopeBound: how
   * fast f can fall, D over an interval of moves whose smallest 1 + x is g; 0 where f cannot fall that way,
   * Infinity where the model has no bound), indexed by account (span) or book unit
   * (deribit-pm), and the gross size the float32 devices' error scales with (SlopeBound.scale).
   */
  private slopeBound(perUnit: boolean): BoundOf {
    const { model, opts, book, balances, market, params, sets } = this.inp;
    const scenarioModel = model === 'standard' ? undefined : MARGIN_MODELS[model as ScenarioModelName];
    const bound = opts.slopeSkip !== false ? scenarioModel?.slopeBound : undefined;
    if (!bound) return { slope: () => Infinity, floor: () => -Infinity, grossOf: () => 0 };
    const boundIndex = perUnit ? this.bookUnit : this.su.account;
    const moved = new Uint8Array(this.U);
    if (this.u === JOINT) moved.fill(1);
    else moved[this.u] = 1;
    // computed at the first unit that asks (a search without members, e.g. deribit-pm's single underlyings, never does)
    let b: SlopeBound | undefined;
    const ask = () =>
      (b ??= bound({ book, balances, market, params, scenarios: sets.get(scenarioModel!.family)! }, moved));
    return {
      slope: (k, g) => {
        const i = boundIndex[k]!;
        if (i < 0 || !(g > 0)) return Infinity;
        const b = ask();
        return decline(this.dir === DIRECTION_DOWN ? b.down : b.up, i, g);
      },
      floor: (k, g) => {
        const i = boundIndex[k]!;
        return i < 0 || !(g > 0) ? -Infinity : floorAt(ask().floor, i, g);
      },
      grossOf: (k) => {
        const i = boundIndex[k]!;
        return i < 0 ? 0 : ask().scale[i]!;
      },
    };
  }

  private push(k: number, x: number, eq: number, mm: number): void {
    this.out.unit.push(k);
    this.out.move.push(x);
    this.out.equity.push(eq);
    this.out.mm.push(mm);
  }

  /** the market's factors at a move x of u (JOINT: of every underlying) */
  private factorAt(x: number): Float64Array {
    const factor = new Float64Array(this.U).fill(1);
    if (this.u === JOINT) factor.fill(1 + x);
    else factor[this.u] = 1 + x;
    return factor;
  }

  /** f at each evaluation's x (moving u, or all for JOINT): onValue(e, j, …) for its members[j] */
  private async evaluate(evals: readonly Evaluation[], onValue: OnValue): Promise<void> {
    const { model, params, sets, engine } = this.inp;
    const jobs = evals.map((ev): MarginJob => ({ sub: ev.sub, factor: this.factorAt(ev.x) }));
    const results = await marginAtMany(model, jobs, params, sets, engine);
    evals.forEach((ev, e) => {
      const n = this.evaluations++;
      eachStatusUnit(model, results[e]!, ev.sub, (a, code, eq, mm) => {
        const k = this.index[this.keyOf(a, code)]!;
        if (k < 0) return;
        this.stamp[k] = n;
        this.eqK[k] = eq;
        this.mmK[k] = mm;
      });
      // a unit without a row at x (e.g. its only collateral unit) keeps nothing: treated as liquidated
      ev.members.forEach((k, j) =>
        this.stamp[k] === n ? onValue(e, j, this.eqK[k]!, this.mmK[k]!) : onValue(e, j, NaN, NaN),
      );
    });
  }

  /**
   * f at each point's x for its members, as evaluate gives it, from one combined re-margin of all the points
   * (marginCombined): for the refinement, whose points are many and small (each a few units at their own x)
   */
  private async evaluateCombined(points: readonly Point[], onValue: OnValue): Promise<void> {
    const { model, params, sets, engine, book, balances, market } = this.inp;
    const su = this.su;
    // as many points at once as keep the instruments revalued together within BATCH_INSTRUMENTS (a position is
    // at most one instrument copy)
    const positions = (e: number) => points[e]!.members.reduce((n, k) => n + this.positionsOf(k), 0);
    for (const [e0, e1] of batches(points.length, positions, BATCH_INSTRUMENTS)) {
      const part = points.slice(e0, e1);
      const jobs = part.map((pt) => this.combinedJob(pt.members, pt.x));
      const { rows, job, accounts } = await marginCombined(
        model,
        { book, balances, market },
        jobs,
        params,
        sets,
        engine,
      );
      // (point, unit) → its (E, MM): a unit may be at several points of the part
      const got = new Map<number, number>();
      const eqs: number[] = [];
      const mms: number[] = [];
      eachStatusUnit(model, rows, { accounts: identity(accounts.length) }, (c, code, eq, mm) => {
        const k = this.index[this.keyOf(accounts[c]!, code)]!;
        if (k < 0) return;
        got.set(job[c]! * su.count + k, eqs.push(eq) - 1);
        mms.push(mm);
      });
      // a unit without a row at x (e.g. its only collateral unit) keeps nothing: treated as liquidated
      part.forEach((pt, i) =>
        pt.members.forEach((k, j) => {
          const r = got.get(i * su.count + k);
          if (r === undefined) onValue(e0 + i, j, NaN, NaN);
          else onValue(e0 + i, j, eqs[r]!, mms[r]!);
        }),
      );
    }
  }

  /** the positions status unit k re-margins with: its book unit's (per-unit models) or its account's */
  private positionsOf(k: number): number {
    const { book } = this.inp;
    if (!this.keep) return book.accountStart[this.su.account[k]! + 1]! - book.accountStart[this.su.account[k]!]!;
    const j = this.bookUnit[k]!;
    return j < 0 ? 0 : book.unitStart[j + 1]! - book.unitStart[j]!;
  }

  /**
   * The combined re-margin's job of `members` (units) at x: their accounts, and under a per-unit model only their
   * own units (as build cuts their sub-portfolio).
   */
  private combinedJob(members: readonly number[], x: number): CombinedJob {
    const { su, bookUnit, keep } = this;
    const factor = this.factorAt(x);
    if (members.length === 1) {
      const k = members[0]!;
      const accounts = Int32Array.of(su.account[k]!);
      if (!keep) return { accounts, factor };
      return { accounts, units: bookUnit[k]! >= 0 ? Int32Array.of(bookUnit[k]!) : new Int32Array(0), factor };
    }
    const accounts = Int32Array.from(new Set(members.map((k) => su.account[k]!))).sort();
    if (!keep) return { accounts, factor };
    const units = Int32Array.from(new Set(members.map((k) => bookUnit[k]!).filter((j) => j >= 0))).sort();
    return { accounts, units, factor };
  }

  /**
   * The sub-portfolio of `members` (units): their accounts, and under a per-unit model only the members' own
   * positions (a settlement unit's E and MM read its own positions and balances alone, so a unit's rows are
   * the same bits without its account's other units, which then cost nothing).
   */
  private build(members: readonly number[]): SubPortfolio {
    const { book, balances, market } = this.inp;
    const { su, keep, bookUnit } = this;
    // their accounts, ascending and once each: members in status-unit order have them ascending already (one
    // pass); any other order goes through a set
    const list = new Int32Array(members.length);
    let n = 0;
    let ascending = true;
    for (const k of members) {
      const a = su.account[k]!;
      if (n > 0 && a === list[n - 1]) continue;
      if (n > 0 && a < list[n - 1]!) ascending = false;
      list[n++] = a;
    }
    const accounts = ascending ? list.slice(0, n) : Int32Array.from(new Set(list.subarray(0, n))).sort();
    if (!keep) return subPortfolio(book, balances, market, accounts);
    for (const k of members) if (bookUnit[k]! >= 0) keep[bookUnit[k]!] = 1;
    const sub = subPortfolio(book, balances, market, accounts, keep);
    for (const k of members) if (bookUnit[k]! >= 0) keep[bookUnit[k]!] = 0;
    return sub;
  }

  /** {@link build}'s sub-portfolio; one member's is kept for the search. */
  private subOf(members: readonly number[]): SubPortfolio {
    const key = members.length === 1 ? members[0]! : -1;
    if (key < 0 || (!this.keep && new Set(members.map((k) => this.su.account[k]!)).size > 1))
      return this.build(members);
    let sub = this.ownSubs.get(key);
    if (!sub) this.ownSubs.set(key, (sub = this.build(members)));
    return sub;
  }

  /**
   * The units to scan: those exposed to u (but not to u alone), with E ≥ MM at x = 0; a unit already below
   * MM there answers a move of 0.
   */
  members(): number[] {
    const { su, u, U } = this;
    const single = singleExposure(su, U);
    const members: number[] = [];
    for (let k = 0; k < su.count; k++) {
      if (u !== JOINT && !su.exposed[k * U + u]) continue;
      if (u !== JOINT && single[k] === u) continue; // copied from the joint rows (distanceRows)
      if (!(su.eq0[k]! >= su.mm0[k]!)) this.push(k, 0, su.eq0[k]!, su.mm0[k]!);
      else members.push(k);
    }
    return members;
  }

  /**
   * the first grid index unit k must be evaluated at after its last point: the slope bound proves f > 0 before it
   * (the grid's length: on all of it)
   */
  private needAfter(k: number): number {
    const { grid, dir } = this;
    const i = this.last[k]!;
    const x0 = i < 0 ? 0 : grid[i]!;
    const end = grid[grid.length - 1]!;
    // the floor (c1 ≥ 0) at the rest of the range's least 1 + x, above the devices' error (as below) at any point
    // of it: their E, MM and Σ|q|·v grow by at most 1/(1 + x) going down (a coin unit's puts) and 1 + x going up,
    // times the options' delta bound (slope.ts deltaBound: 1 but under a negative rate), ~2× room in 2e-5
    const gLeast = dir === DIRECTION_DOWN ? 1 - end : 1 + x0;
    const growth = dir === DIRECTION_DOWN ? 1 / gLeast : 1 + end;
    if (this.bound.floor(k, gLeast) > 2e-5 * (this.size[k]! + this.gross[k]!) * growth) return grid.length;
    const f = this.fLo[k]!;
    // going up, how fast f can fall from x0 on (its smallest 1 + x is at x0); going down, at each grid[j]
    const up = dir === DIRECTION_DOWN ? NaN : this.bound.slope(k, 1 + x0);
    let j = i + 1;
    for (; j < grid.length; j++) {
      // how fast f can fall from x0 to grid[j]
      const L = dir === DIRECTION_DOWN ? this.bound.slope(k, 1 - grid[j]!) : up;
      // proven while L·|Δx| stays below f by more than the backend's error in E and MM could move it: the
      // float32 device bound (docs/architecture.md: 1e-5·|MM| + 5e-7·Σ|q|·v) at both points, with room to spare;
      // Σ|q|·v is the bound's scale (a hedged unit's L can be far below it)
      const slack = 2e-5 * (this.size[k]! + Math.max(L, this.gross[k]!));
      if (!(L * (grid[j]! - x0) * (1 + 1e-6) + slack < f)) break;
    }
    return j;
  }

  /** The scan (§7): each unit's first grid point with f ≤ 0 brackets its root; f > 0 on the whole grid: none. */
  async scan(members: readonly number[]): Promise<void> {
    const { su, grid, sign, stats } = this;
    const opts = this.inp.opts;
    // per unit: the first grid index it must be evaluated at (the bound proves f > 0 before it)
    const need = new Int32Array(su.count);
    // the units still scanning, in order: the first `count`, compacted in place as units end (a filtered copy
    // of ~100,000 units per block of the whole book was 2 % of the search's time, with its garbage)
    const active = Int32Array.from(this.startScan(members, need));
    let count = active.length;
    const done = new Uint8Array(su.count);
    let next = 0;
    while (count > 0 && next < grid.length) {
      // a block of grid points in one batch: as many as keep (active units × points) near SCAN_BLOCK_UNITS
      const perBlock = Math.floor((opts.scanBlock ?? SCAN_BLOCK_UNITS) / count);
      const n = Math.max(1, Math.min(grid.length - next, perBlock));
      const block = grid.slice(next, next + n).map((g) => sign * g);
      // the units that need a point of the block, re-margined together at every point of it
      const here: number[] = [];
      for (let j = 0; j < count; j++) if (need[active[j]!]! < next + n) here.push(active[j]!);
      if (here.length === 0) {
        next += n;
        continue;
      }
      const sub = this.subOf(here);
      const A = here.length;
      stats.scanPairs += A * n;
      const eqAt = new Float64Array(n * A);
      const mmAt = new Float64Array(n * A);
      await this.evaluate(
        block.map((x) => ({ sub, x, members: here })),
        (b, j, eq, mm) => {
          eqAt[b * A + j] = eq;
          mmAt[b * A + j] = mm;
        },
      );
      for (let j = 0; j < A; j++) if (this.takeBlock(here[j]!, j, A, next, block, eqAt, mmAt, need)) done[here[j]!] = 1;
      let kept = 0;
      for (let j = 0; j < count; j++) if (done[active[j]!] === 0) active[kept++] = active[j]!;
      count = kept;
      next += n;
    }
    for (let j = 0; j < count; j++) this.push(active[j]!, NaN, NaN, NaN);
  }

  /**
   * The scan's start: each member's f, size and gross at x = 0 and the first grid index it needs (into
   * `need`); the members that need one, while those the bound proves positive on the whole grid get "none".
   */
  private startScan(members: readonly number[], need: Int32Array): number[] {
    const { su, grid, fLo, last, size } = this;
    for (const k of members) {
      fLo[k] = su.eq0[k]! - su.mm0[k]!;
      last[k] = -1;
      this.prev[k] = NO_POINT;
      size[k] = Math.abs(su.eq0[k]!) + Math.abs(su.mm0[k]!);
      this.gross[k] = this.bound.grossOf(k);
    }
    const active: number[] = [];
    for (const k of members) {
      need[k] = this.needAfter(k);
      if (need[k]! < grid.length) active.push(k);
      else this.push(k, NaN, NaN, NaN); // f > 0 proven on the whole grid: none within the range
    }
    return active;
  }

  /**
   * Unit k (column j of A) through a scanned block of grid points from index `next`: its first point with
   * E < MM brackets the root; with none, its last point moves up and its next needed index with it.
   * True when the unit's scan is over (bracketed, or "none": f > 0 proven to the grid's end).
   */
  private takeBlock(
    k: number,
    j: number,
    A: number,
    next: number,
    block: readonly number[],
    eqAt: Float64Array,
    mmAt: Float64Array,
    need: Int32Array,
  ): boolean {
    for (let b = 0; b < block.length; b++) {
      const eq = eqAt[b * A + j]!;
      const mm = mmAt[b * A + j]!;
      if (!(eq >= mm)) {
        this.bracket(k, next + b, block[b]!, eq, mm);
        return true;
      }
      this.prev[k] = this.last[k]!;
      this.fPrev[k] = this.fLo[k]!;
      this.last[k] = next + b;
      this.fLo[k] = eq - mm;
      this.size[k] = Math.abs(eq) + Math.abs(mm);
    }
    need[k] = this.needAfter(k);
    if (need[k]! < this.grid.length) return false;
    this.push(k, NaN, NaN, NaN);
    return true;
  }

  /** x at grid index i of this search (−1: x = 0) */
  private xAt(i: number): number {
    return i < 0 ? 0 : this.sign * this.grid[i]!;
  }

  /**
   * Unit k's first point with E < MM is grid index h (x, E and MM there): its bracket's far end. Its near end is
   * grid index h − 1 and the first refinement step's third point h − 2 (x = 0 at index −1; none when h = 0), as a
   * full scan has them: those the bound skipped are evaluated after the scan (nearEnds).
   */
  private bracket(k: number, h: number, x: number, eq: number, mm: number): void {
    this.bracketed.push(k);
    this.hit[k] = h;
    this.hiX[k] = x;
    this.hiEq[k] = eq;
    this.hiMm[k] = mm;
    const i = this.last[k]!;
    if (i === h - 1) this.lo[k] = this.xAt(i);
    else this.nearEndAt(h - 1, k);
    if (h === 0) return; // the near end is x = 0: no point before it
    if (i === h - 2) {
      // the scan's last point is the one before the near end
      this.prev[k] = i;
      this.fPrev[k] = this.fLo[k]!;
    } else if (this.prev[k] !== h - 2) this.nearEndAt(h - 2, k);
  }

  private nearEndAt(i: number, k: number): void {
    const list = this.nearEnd.get(i);
    if (list) list.push(k);
    else this.nearEnd.set(i, [k]);
  }

  /**
   * The points before the hits that the bound skipped (bracket): f > 0 there (the bound), evaluated for the
   * refinement's start; a point with E < MM would mean the model's bound is wrong, and the search says so rather
   * than answer.
   */
  async nearEnds(): Promise<void> {
    if (this.nearEnd.size === 0) return;
    const { model, book } = this.inp;
    const index = [...this.nearEnd.keys()];
    // grid points, counted as the scan's (a full scan evaluates them there)
    for (const list of this.nearEnd.values()) this.stats.scanPairs += list.length;
    const evals = [...this.nearEnd].map(([i, list]): Evaluation => ({
      sub: this.subOf(list),
      x: this.xAt(i),
      members: list,
    }));
    await this.evaluate(evals, (e, j, eq, mm) => {
      const k = evals[e]!.members[j]!;
      if (!(eq >= mm))
        throw new Error(
          `distance: ${model}'s slope bound is wrong: account ${book.accountKey[this.su.account[k]!]} (unit code ` +
            `${this.su.code[k]}) has E < MM at x = ${evals[e]!.x}, a point the bound proved safe`,
        );
      if (index[e] === this.hit[k]! - 1) {
        this.lo[k] = evals[e]!.x;
        this.fLo[k] = eq - mm;
      } else {
        this.prev[k] = index[e]!;
        this.fPrev[k] = eq - mm;
      }
    });
  }

  /**
   * The refinement of every bracket [lo: E ≥ MM, hi: E < MM] to |Δx| ≤ tol: interpolation steps, safeguarded by
   * bisection. A pair step evaluates a guess c at c ± 0.45·tol: it closes the bracket when the root lies within
   * 0.45·tol of c. The steps, per unit (`step`):
   * - FIRST: the inverse quadratic interpolation through the bracket's ends and the grid point before them
   *   (Search.prev; the secant root of the ends where it falls outside): on the grid's finest step a pair around
   *   it (there it is mostly within 0.45·tol of the root: on the bench book it closes over 90 % of those brackets at
   *   once), on a wider step one point there;
   * - after one point, a pair around the inverse quadratic interpolation of the old ends and that point (f is
   *   smooth between the scenario set's kinks: the curvature the interpolation missed);
   * - a pair with both points on one side gives f's slope there: a pair around its Newton root next, at most
   *   NEWTON_STEPS times per unit;
   * - otherwise (a guess outside the bracket, Newton spent) a pair around the secant root of the ends, and a
   *   bisection after any step that did not halve the bracket, so a unit takes at most twice bisection's steps
   *   plus NEWTON_STEPS + 2 (none of these widens the bracket). Every point re-margins only its units; a step's
   *   points are one combined re-margin. The answers differ from bisection's by less than tol
   *   (docs/conventions.md).
   */
  async refine(): Promise<void> {
    const { tol, su, lo, hiX, stats } = this;
    const step = new Uint8Array(su.count).fill(STEP_FIRST);
    const guess = new Float64Array(su.count);
    const newtons = new Uint8Array(su.count);
    let open = this.bracketed.filter((k) => Math.abs(hiX[k]! - lo[k]!) > tol);
    while (open.length > 0) {
      const { which, xs } = this.refinePoints(open, step, guess);
      // units sharing a point re-margined together
      const byX = new Map<number, number[]>();
      which.forEach((k, j) => {
        const list = byX.get(xs[j]!);
        if (list) list.push(k);
        else byX.set(xs[j]!, [k]);
      });
      const evals = [...byX].map(([x, list]): Point => ({ x, members: list }));
      stats.refinePoints += which.length;
      stats.refineSteps++;
      const got = new Map<number, Array<[x: number, eq: number, mm: number]>>();
      await this.evaluateCombined(evals, (e, j, eq, mm) => {
        const k = evals[e]!.members[j]!;
        let list = got.get(k);
        if (!list) got.set(k, (list = []));
        list.push([evals[e]!.x, eq, mm]);
      });
      for (const k of open) this.refineUnit(k, got.get(k)!, step, guess, newtons);
      open = open.filter((k) => Math.abs(hiX[k]! - lo[k]!) > tol);
    }
  }

  /** The points of one refinement step: unit which[j] at xs[j] (refine's steps). */
  private refinePoints(
    open: readonly number[],
    step: Uint8Array,
    guess: Float64Array,
  ): { which: number[]; xs: number[] } {
    const { tol, lo, hiX, hiEq, hiMm, fLo } = this;
    const which: number[] = [];
    const xs: number[] = [];
    const at = (k: number, x: number) => {
      which.push(k);
      xs.push(x);
    };
    for (const k of open) {
      const a = lo[k]!;
      const b = hiX[k]!;
      const fa = fLo[k]!;
      const fb = hiEq[k]! - hiMm[k]!;
      const d = Math.sign(b - a);
      const inside = (x: number) => (x - a) * d > 0 && (b - x) * d > 0;
      const secant = fa - fb > 0 && Number.isFinite(fa - fb) ? a + (fa * (b - a)) / (fa - fb) : NaN;
      if (step[k] === STEP_FIRST) {
        // the inverse quadratic through the bracket's ends and the grid point before them, where it falls inside
        // (else the secant root): on the grid's finest step a pair around it (it is then mostly within 0.45·tol
        // of the root), on a wider one a point
        const p = this.prev[k]!;
        const q = p === NO_POINT ? NaN : inverseQuadratic(this.xAt(p), this.fPrev[k]!, a, fa, b, fb);
        const c = inside(q) ? q : secant;
        if (inside(c) && Math.abs(b - a) <= this.grid[0]! * (1 + 1e-9)) {
          step[k] = STEP_GUESS;
          guess[k] = c;
        } else if (inside(c)) {
          at(k, c);
          continue;
        }
      }
      const c = step[k] === STEP_GUESS ? guess[k]! : step[k] === STEP_BISECT ? NaN : secant;
      let pushed = 0;
      for (const x of [c - d * 0.45 * tol, c + d * 0.45 * tol])
        if (inside(x)) {
          at(k, x);
          pushed++;
        }
      if (pushed === 0) at(k, 0.5 * (a + b));
    }
    return { which, xs };
  }

  /** Unit k's bracket narrowed by its step's points `pts` (x, E, MM), and its next step chosen. */
  private refineUnit(
    k: number,
    pts: Array<[x: number, eq: number, mm: number]>,
    step: Uint8Array,
    guess: Float64Array,
    newtons: Uint8Array,
  ): void {
    const { lo, hiX, hiEq, hiMm, fLo } = this;
    const a = lo[k]!;
    const b = hiX[k]!;
    const fa = fLo[k]!;
    const fb = hiEq[k]! - hiMm[k]!;
    const width = Math.abs(b - a);
    // the points in order from the near end: the first with E < MM is the new far end
    pts.sort((p, q) => Math.abs(p[0] - a) - Math.abs(q[0] - a));
    for (const [x, eq, mm] of pts) {
      if (eq >= mm) {
        lo[k] = x;
        fLo[k] = eq - mm;
      } else {
        hiX[k] = x;
        hiEq[k] = eq;
        hiMm[k] = mm;
        break;
      }
    }
    const d = Math.sign(hiX[k]! - lo[k]!);
    const inside = (x: number) => Number.isFinite(x) && (x - lo[k]!) * d > 0 && (hiX[k]! - x) * d > 0;
    let next = Math.abs(hiX[k]! - lo[k]!) > 0.5 * width ? STEP_BISECT : STEP_SECANT;
    if (step[k] === STEP_FIRST && pts.length === 1) {
      // inverse quadratic interpolation through the old ends and the new point
      const [x, eq, mm] = pts[0]!;
      const q = inverseQuadratic(a, fa, b, fb, x, eq - mm);
      if (inside(q)) {
        guess[k] = q;
        next = STEP_GUESS;
      } else next = STEP_SECANT;
    } else if (
      pts.length === 2 &&
      pts[0]![1] >= pts[0]![2] === pts[1]![1] >= pts[1]![2] &&
      newtons[k]! < NEWTON_STEPS
    ) {
      // both points of the pair on one side: Newton from the one nearer the root, with their slope
      const [x1, e1, m1] = pts[0]!;
      const [x2, e2, m2] = pts[1]!;
      const slope = (e2 - m2 - (e1 - m1)) / (x2 - x1);
      const q = e1 >= m1 ? x2 - (e2 - m2) / slope : x1 - (e1 - m1) / slope;
      if (inside(q)) {
        guess[k] = q;
        next = STEP_GUESS;
        newtons[k]++;
      }
    }
    step[k] = next;
  }

  /** The search's answers: every unit it was asked for, with its move, equity and MM there. */
  rows(): SearchRows {
    for (const k of this.bracketed) this.push(k, this.hiX[k]!, this.hiEq[k]!, this.hiMm[k]!);
    this.stats.brackets = this.bracketed.length;
    return {
      unit: Int32Array.from(this.out.unit),
      move: Float64Array.from(this.out.move),
      equity: Float64Array.from(this.out.equity),
      mm: Float64Array.from(this.out.mm),
      stats: this.stats,
    };
  }
}

/**
 * A model's DistanceRows from its searches: each unit exposed to one underlying only gets its joint rows as
 * that underlying's too (the moved market differs only in prices it never reads, so they are the same bits),
 * and the rows are put in (account, unit, underlying, direction) order.
 */
function distanceRows(
  model: ModelName,
  market: Market,
  su: StatusUnits,
  searches: ReadonlyArray<{ u: number; dir: number; rows: SearchRows }>,
): DistanceRows {
  const U = market.underlyings.length;
  const K = U + 2;
  const single = singleExposure(su, U);
  // the searches' rows, then each joint row of a unit exposed to one underlying again as that underlying's
  let n = 0;
  for (const { u, rows: f } of searches)
    for (let r = 0; r < f.unit.length; r++) n += u === JOINT && single[f.unit[r]!]! >= 0 ? 2 : 1;
  const unitOf = new Int32Array(n);
  const under = new Int32Array(n);
  const dirOf = new Uint8Array(n);
  const from = new Int32Array(n); // the row of its search
  const searchOf = new Int32Array(n);
  let m = 0;
  searches.forEach(({ u, dir, rows: f }, j) => {
    for (let r = 0; r < f.unit.length; r++) {
      unitOf[m] = f.unit[r]!;
      under[m] = u;
      dirOf[m] = dir;
      from[m] = r;
      searchOf[m++] = j;
    }
  });
  for (let r = 0, end = m; r < end; r++) {
    const k = unitOf[r]!;
    if (under[r] !== JOINT || single[k]! < 0) continue;
    unitOf[m] = k;
    under[m] = single[k]!;
    dirOf[m] = dirOf[r]!;
    from[m] = from[r]!;
    searchOf[m++] = searchOf[r]!;
  }
  // in (account, unit code, underlying with JOINT last, direction) order: one number per row, unique, so the order
  // is total
  const accountOf = new Int32Array(n);
  const sortKey = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const k = unitOf[r]!;
    const u = under[r]!;
    accountOf[r] = su.account[k]!;
    sortKey[r] = ((su.account[k]! * K + (su.code[k]! + 1)) * (U + 1) + (u === JOINT ? U : u)) * 2 + dirOf[r]!;
  }
  const byKey = orderByAccount(accountOf, sortKey);
  const perUnit = perUnitModel(model);
  const res: DistanceRows = {
    model,
    count: n,
    account: new Int32Array(n),
    unit: new Int32Array(n),
    unitNames: su.unitNames,
    underlying: new Int32Array(n),
    direction: new Uint8Array(n),
    move: new Float64Array(n),
    price: new Float64Array(n),
    equity: new Float64Array(n),
    mm: new Float64Array(n),
    search: { searches: 0, scanPairs: 0, brackets: 0, refinePoints: 0, refineSteps: 0 },
  };
  for (const { rows: f } of searches)
    for (const key of Object.keys(res.search) as Array<keyof SearchStats>) res.search[key] += f.stats[key];
  for (let r = 0; r < n; r++) {
    const i = byKey[r]!;
    const k = unitOf[i]!;
    const u = under[i]!;
    const f = searches[searchOf[i]!]!.rows;
    const x = f.move[from[i]!]!;
    res.account[r] = su.account[k]!;
    res.unit[r] = perUnit ? su.code[k]! : 0;
    res.underlying[r] = u;
    res.direction[r] = dirOf[i]!;
    res.move[r] = x;
    res.price[r] = u === JOINT || Number.isNaN(x) ? NaN : market.indexPrice[u]! * (1 + x);
    res.equity[r] = f.equity[from[i]!]!;
    res.mm[r] = f.mm[from[i]!]!;
  }
  return res;
}

/**
 * The rows' indexes in ascending `key` order, where the key orders rows by their account first (`account[r]`, ≥ 0)
 * and every account holds few rows (distanceRows: its units × (U + 1) × 2): counted into their accounts
 * (linear), then each account's rows sorted by key (an insertion sort), instead of a comparator sort of them all.
 */
function orderByAccount(account: Int32Array, key: Float64Array): Int32Array {
  const n = account.length;
  let A = 0;
  for (let r = 0; r < n; r++) A = Math.max(A, account[r]! + 1);
  const at = new Int32Array(A + 1);
  for (let r = 0; r < n; r++) at[account[r]! + 1]++;
  for (let a = 0; a < A; a++) at[a + 1] += at[a]!;
  const order = new Int32Array(n);
  const fill = at.slice(0, A);
  for (let r = 0; r < n; r++) order[fill[account[r]!]!++] = r;
  for (let a = 0; a < A; a++)
    for (let i = at[a]! + 1; i < at[a + 1]!; i++) {
      const r = order[i]!;
      let j = i - 1;
      for (; j >= at[a]! && key[order[j]!]! > key[r]!; j--) order[j + 1] = order[j]!;
      order[j + 1] = r;
    }
  return order;
}

/**
 * Per model, how many accounts' nearest joint move (either direction; over the account's units) lies
 * within each threshold |x| ≤ t (the run summary's distance lines).
 */
export function accountsWithin(d: DistanceRows, thresholds: readonly number[] = [0.01, 0.02, 0.05, 0.1]): number[] {
  const nearest = new Map<number, number>();
  for (let r = 0; r < d.count; r++) {
    if (d.underlying[r] !== JOINT || Number.isNaN(d.move[r])) continue;
    const x = Math.abs(d.move[r]);
    const a = d.account[r];
    nearest.set(a, Math.min(nearest.get(a) ?? Infinity, x));
  }
  return thresholds.map((t) => [...nearest.values()].filter((x) => x <= t + 1e-12).length);
}
