/**
 * Builds the CSR position book of src/model/book.ts from position rows already turned into ids:
 * sorted by (account, risk unit, instrument id): a stable counting sort by account that carries each
 * row's instrument rank in (unit, id) order, quantity and entry price into contiguous per-account runs,
 * then a stable sort of each run by rank; duplicate (account, instrument) rows summed, and positions
 * netting to exactly 0 left out. Typed arrays throughout; rows are read once, in order. When rows were
 * merged or dropped, the per-position arrays are views of the first `length` values of longer buffers
 * (the per-unit ones are copied out at their size).
 */
import { SETTLE_INVERSE, type Market } from '../model/market.js';
import {
  accountKeyCount,
  accountKeyStrings,
  type AccountKeyBytes,
  type AccountKeyList,
  type PositionBook,
} from '../model/book.js';
import type { AccountKeyType } from './accountKeys.js';

/**
 * Position rows in row order, as one or more chunks (one per record batch, so nothing is concatenated);
 * a row with `instrument[r] < 0` or `account[r] < 0` is not in the book.
 */
export interface PositionChunk {
  /** dense account id */
  account: Int32Array;
  /** instrument id in the market */
  instrument: Int32Array;
  /** signed, units of underlying */
  quantity: Float64Array;
  /** USD; NaN when not given */
  entryPrice: Float64Array;
}

/** The book and what building it merged or left out. */
export interface BuiltBook {
  book: PositionBook;
  /** rows summed into an earlier row of the same (account, instrument) */
  mergedRows: number;
  /** positions whose summed quantity is exactly 0, left out */
  netZeroPositions: number;
  /**
   * merged positions whose entry price was derived from the instrument's forward (some rows without an
   * entry price, or priced rows netting to zero): the only part of the book that depends on a market
   * price, so a book with none can be kept across snapshots with the same instruments
   */
  forwardEntries: number;
}

/**
 * The risk-unit currency code of each instrument: its underlying's index for inverse instruments, U
 * (USDC) for linear ones.
 */
export function unitCurrencyOf(market: Market): Int32Array {
  const ins = market.instruments;
  const U = market.underlyings.length;
  const code = new Int32Array(ins.count);
  for (let i = 0; i < ins.count; i++) code[i] = ins.settlement[i] === SETTLE_INVERSE ? ins.underlying[i]! : U;
  return code;
}

/**
 * Sorts, merges and splits the rows of `chunks` into a PositionBook over `accountKey`'s accounts (as strings, or
 * as bytes: then the book's accountKey decodes them when first read, and accountKeyBytes holds them).
 * Merged entry price: the effective entry that keeps the sum of the rows' unrealised P&L — Σ q·e / Σ q
 * when every merged row gives one (signed quantities), F − (F·Σq_r − Σq_r·e_r) / q when only some do
 * (rows without an entry price carry no unrealised P&L; F the instrument's forward); NaN when none does.
 */
export function buildPositionBook(
  market: Market,
  chunks: readonly PositionChunk[],
  accountKey: AccountKeyList,
  accountKeyType: AccountKeyType,
): BuiltBook {
  const I = market.instruments.count;
  const U = market.underlyings.length;
  const A = accountKeyCount(accountKey);
  const unitOf = unitCurrencyOf(market);

  // rank of each instrument in (unit currency, instrument id) order
  const perUnit = new Int32Array(U + 2);
  for (let i = 0; i < I; i++) perUnit[unitOf[i]! + 1]!++;
  for (let c = 0; c <= U; c++) perUnit[c + 1]! += perUnit[c]!;
  const rank = new Int32Array(I);
  const rankInstrument = new Int32Array(I);
  for (let i = 0; i < I; i++) {
    const k = perUnit[unitOf[i]!]!++;
    rank[i] = k;
    rankInstrument[k] = i;
  }

  // scatter the book's rows by account (a stable counting sort), carrying rank, quantity, entry price
  // (the counting and scatter loops are functions of their own: V8 optimised this function again at each of its
  // long loops whose code had not run yet, on this thread: four compiles, ~10 ms; docs/conventions.md, "Backends")
  const segment = new Int32Array(A + 1);
  for (const chunk of chunks) countPerAccount(chunk, segment);
  prefixSums(segment);
  const m = segment[A]!;
  const sRank = new Int32Array(m);
  const sQ = new Float64Array(m);
  const sE = new Float64Array(m);
  const cursor = segment.slice(0, A);
  for (const chunk of chunks) scatterRows(chunk, cursor, rank, sRank, sQ, sE);
  // per account, in one pass: a stable sort of its run by rank (insertion sort for short runs, keyed
  // sort for long ones); duplicates merged in place and net zeros dropped (positions are written at
  // w ≤ the run's start); then its positions split into risk units
  const scratch = new SegmentScratch();
  const accountStart = new Int32Array(A + 1);
  const unitAccount = new Int32Array(m);
  const unitCurrency = new Int32Array(m);
  const unitStartFull = new Int32Array(m + 1);
  const accountUnitStart = new Int32Array(A + 1);
  let units = 0;
  let w = 0;
  let merged = 0;
  let netZero = 0;
  let forwardEntries = 0;
  for (let a = 0; a < A; a++) {
    const end = segment[a + 1]!;
    let k = segment[a]!;
    sortByRank(sRank, sQ, sE, k, end, scratch);
    const first = w;
    while (k < end) {
      const rk = sRank[k]!;
      let q = sQ[k]!;
      let e = sE[k]!;
      let given = e === e ? 1 : 0;
      let rows = 1;
      let sumQE = given ? q * e : 0;
      let sumQ = given ? q : 0;
      k++;
      while (k < end && sRank[k] === rk) {
        const q2 = sQ[k]!;
        const e2 = sE[k]!;
        q += q2;
        rows++;
        if (e2 === e2) {
          given++;
          sumQE += q2 * e2;
          sumQ += q2;
          e = e2;
        }
        merged++;
        k++;
      }
      if (q === 0) {
        netZero++;
        continue;
      }
      const instrument = rankInstrument[rk]!;
      sRank[w] = instrument;
      sQ[w] = q;
      if (given === 0) sE[w] = NaN;
      else if (rows === 1) sE[w] = e;
      else if (given === rows) sE[w] = sumQE / sumQ;
      else {
        // Some rows give no entry price (they carry no unrealised P&L), or the priced rows net to zero
        // (their P&L is locked in): the effective entry e* of the merged quantity keeps the sum of the
        // rows' unrealised P&L, which is linear in q·e for both forms (linear q(F − e), inverse
        // q(1 − e/F)): q(F − e*) = Σ_priced q_r (F − e_r)  ⇒  e* = F − (F·Σq_r − Σq_r·e_r) / q.
        const F = market.instruments.forward[instrument]!;
        sE[w] = F - (F * sumQ - sumQE) / q;
        forwardEntries++;
      }
      w++;
    }
    accountStart[a + 1] = w;
    // its risk units (positions are in unit order: the rank orders by unit first)
    accountUnitStart[a] = units;
    let last = -1;
    for (let p = first; p < w; p++) {
      const c = unitOf[sRank[p]!]!;
      if (c !== last) {
        unitAccount[units] = a;
        unitCurrency[units] = c;
        unitStartFull[units] = p;
        units++;
        last = c;
      }
    }
  }
  const outInstrument = sRank;
  const outQuantity = sQ;
  const outEntry = sE;
  accountUnitStart[A] = units;
  unitStartFull[units] = w;

  // trimmed as views, not copies: memory holds the rows and the book, never a third copy
  const fit = <T extends Int32Array | Float64Array>(x: T, len: number): T =>
    x.length === len ? x : (x.subarray(0, len) as T);
  const columns: Omit<PositionBook, 'accountKey' | 'accountKeyBytes'> = {
    accountCount: A,
    accountKeyType,
    accountStart,
    instrumentId: fit(outInstrument, w),
    quantity: fit(outQuantity, w),
    entryPrice: fit(outEntry, w),
    unitCount: units,
    // the unit columns were sized for one unit per input row: copied out at their count
    unitAccount: unitAccount.slice(0, units),
    unitCurrency: unitCurrency.slice(0, units),
    unitStart: unitStartFull.slice(0, units + 1),
    accountUnitStart,
    unitCurrencies: [...market.underlyings, 'USDC'],
  };
  return {
    book: Array.isArray(accountKey) ? { ...columns, accountKey } : new KeyBytesBook(columns, accountKey),
    mergedRows: merged,
    netZeroPositions: netZero,
    forwardEntries,
  };
}

/** Counts a chunk's book rows per account into segment[a + 1]. */
function countPerAccount({ account, instrument }: PositionChunk, segment: Int32Array): void {
  for (let r = 0; r < account.length; r++) {
    const a = account[r]!;
    if (instrument[r]! >= 0 && a >= 0) segment[a + 1]!++;
  }
}

/** Running sums in place: x[k] becomes x[0] + … + x[k]. */
function prefixSums(x: Int32Array): void {
  for (let k = 1; k < x.length; k++) x[k]! += x[k - 1]!;
}

/** Scatters a chunk's book rows to their accounts' runs (cursor: each run's next free slot), in row order. */
function scatterRows(
  { account, instrument, quantity, entryPrice }: PositionChunk,
  cursor: Int32Array,
  rank: Int32Array,
  sRank: Int32Array,
  sQ: Float64Array,
  sE: Float64Array,
): void {
  for (let r = 0; r < account.length; r++) {
    const i = instrument[r]!;
    const a = account[r]!;
    if (i < 0 || a < 0) continue;
    const k = cursor[a]!++;
    sRank[k] = rank[i]!;
    sQ[k] = quantity[r]!;
    sE[k] = entryPrice[r]!;
  }
}

/** Reusable buffers for sorting long per-account runs. */
class SegmentScratch {
  keys = new Float64Array(0);
  q = new Float64Array(0);
  e = new Float64Array(0);
  ensure(n: number): void {
    if (this.keys.length >= n) return;
    this.keys = new Float64Array(n);
    this.q = new Float64Array(n);
    this.e = new Float64Array(n);
  }
}

/** 2^31: a run position fits below it, so rank·2^31 + position is an exact, unique float64 key. */
const POSITION_SPAN = 2147483648;

/** Sorts rank[lo, hi) ascending, stably, moving q and e along. */
function sortByRank(
  rank: Int32Array,
  q: Float64Array,
  e: Float64Array,
  lo: number,
  hi: number,
  scratch: SegmentScratch,
): void {
  const len = hi - lo;
  if (len < 2) return;
  if (len <= 48) {
    for (let k = lo + 1; k < hi; k++) {
      const r = rank[k]!;
      if (rank[k - 1]! <= r) continue;
      const qk = q[k]!;
      const ek = e[k]!;
      let j = k - 1;
      while (j >= lo && rank[j]! > r) {
        rank[j + 1] = rank[j]!;
        q[j + 1] = q[j]!;
        e[j + 1] = e[j]!;
        j--;
      }
      rank[j + 1] = r;
      q[j + 1] = qk;
      e[j + 1] = ek;
    }
    return;
  }
  let sorted = true;
  for (let k = lo + 1; k < hi && sorted; k++) if (rank[k - 1]! > rank[k]!) sorted = false;
  if (sorted) return;
  scratch.ensure(len);
  const keys = scratch.keys.subarray(0, len);
  for (let k = 0; k < len; k++) keys[k] = rank[lo + k]! * POSITION_SPAN + k;
  keys.sort();
  scratch.q.set(q.subarray(lo, hi));
  scratch.e.set(e.subarray(lo, hi));
  for (let k = 0; k < len; k++) {
    const r = Math.floor(keys[k]! / POSITION_SPAN);
    const from = keys[k]! - r * POSITION_SPAN;
    rank[lo + k] = r;
    q[lo + k] = scratch.q[from]!;
    e[lo + k] = scratch.e[from]!;
  }
}

/**
 * A book whose account keys are bytes (accountKeyBytes), decoded into `accountKey` when it is first read: a run
 * that only writes its report never reads them on this thread. The getter is the class's: an object literal with
 * a getter is a dictionary-mode object in V8, and every loop that read the book's columns through it paid for
 * that (the phases after the load +15–25 ms each). A spread of this book (`{ ...book }`) has no accountKey:
 * name it (distance.ts sharedBook).
 */
// the book's columns, as the class's own fields (declaration merging: the constructor assigns them)
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
interface KeyBytesBook extends Omit<PositionBook, 'accountKey' | 'accountKeyBytes'> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
class KeyBytesBook implements PositionBook {
  readonly accountKeyBytes: AccountKeyBytes;
  private keyStrings: string[] | null = null;

  constructor(c: Omit<PositionBook, 'accountKey' | 'accountKeyBytes'>, keys: AccountKeyBytes) {
    Object.assign(this, c);
    this.accountKeyBytes = keys;
  }

  get accountKey(): string[] {
    return (this.keyStrings ??= accountKeyStrings(this.accountKeyBytes));
  }
}
