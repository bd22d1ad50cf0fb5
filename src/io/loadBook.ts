/**
 * Loads positions and balances (docs/data.md) against a loaded market into the columnar PositionBook and
 * dense Balances of src/model/book.ts. Both files stream in batch by batch; account and instrument
 * strings become ids from their bytes (dictionaries mapped once), so no string is decoded per row.
 */
import type { Data } from 'apache-arrow';
import { basename } from 'node:path';
import { fileError, showValue } from '../errors.js';
import { CASH_CURRENCIES, type Market } from '../model/market.js';
import type { Balances, LoadStats, PositionBook, RejectedRow } from '../model/book.js';
import { openArrow, type ArrowSource } from './arrowSource.js';
import { resolveSchema, type ColumnSpec, type ResolvedColumn } from './columnSpec.js';
import {
  DictionaryMapper,
  float64Values,
  hasNulls,
  internStrings,
  isNull,
  readFloats,
  setWhereNull,
} from './columnValues.js';
import { AccountKeys, accountKeyType } from './accountKeys.js';
import { Utf8Interner } from './utf8Interner.js';
import { buildPositionBook, type PositionChunk } from './buildBook.js';
import { ViolationLog, type OnInvalid } from './violationLog.js';
import {
  MAX_AMOUNT,
  MAX_PRICE,
  MAX_QUANTITY,
  RULE_FINITE,
  RULE_NULL,
  ruleAtMost,
  ruleMagnitude,
  ruleRange,
} from './cellRules.js';

/** The columns of `positions.arrow` (docs/data.md). */
export const POSITION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'account', kind: 'key', required: true },
  { name: 'instrument', kind: 'string', required: true },
  { name: 'quantity', kind: 'float', required: true },
  { name: 'entry_price', kind: 'float', required: false },
];

/** The columns of `balances.arrow` (docs/data.md). */
export const BALANCE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'account', kind: 'key', required: true },
  { name: 'currency', kind: 'string', required: true },
  { name: 'amount', kind: 'float', required: true },
];

/** Options of {@link loadBook}. */
export interface LoadBookOptions {
  /** what to do with rows that break a rule (default `fail`) */
  onInvalid?: OnInvalid;
  /**
   * Instrument names whose instruments.arrow row was left out under skip, with that row's violation
   * (LoadedMarket.rejectedInstruments): a position on one is recorded as referring to a rejected
   * instrument (naming its row and rule) rather than to one that is not in the snapshot.
   */
  rejectedInstruments?: ReadonlyMap<string, RejectedRow>;
}

/** The rule of a position whose instrument's row of instruments.arrow was left out (`row` its violation). */
export function ruleRejectedInstrument(row: RejectedRow): string {
  const cell = row.column !== null ? `column ${row.column}: ` : '';
  const value = row.value !== null ? `${row.value} ` : '';
  return `was rejected at ${basename(row.file)} row ${row.row} (${cell}${value}${row.rule})`;
}

/** The loaded book, collateral and what loading found. */
export interface LoadedBook {
  book: PositionBook;
  balances: Balances;
  stats: LoadStats;
  /** positions whose merged entry price came from the market's forward (BuiltBook.forwardEntries) */
  forwardEntries: number;
}

/**
 * Reads `positionsFile` and `balancesFile` against `market` and builds the book.
 * Quantities signed, in units of the underlying; entry prices USD; balance amounts in their currency
 * (negative = a loan). Accounts are the union of both files' accepted rows, numbered densely in key
 * order (Int64 numerically, strings by UTF-16 code unit). Quantity-0 rows are dropped and counted;
 * duplicate (account, instrument) rows are summed and counted (entry price: the effective entry that
 * keeps the sum of the rows' unrealised P&L, see buildPositionBook); a position whose rows sum to exactly 0 is left out
 * and counted with the dropped
 * zero rows. Duplicate (account, currency) balance rows are summed and reported in a warning.
 * With `onInvalid: 'skip'` rows that break a rule are left out and returned in `stats.rejected`;
 * pass `rejectedInstruments` (from loadMarket) to name why a position's instrument is missing.
 * @throws InputError under `fail` (default) listing every violation; under either policy when a file
 *   is missing, not Arrow, has a wrong schema, or the two files' account types differ.
 */
export async function loadBook(
  market: Market,
  positionsFile: string,
  balancesFile: string,
  opts: LoadBookOptions = {},
): Promise<LoadedBook> {
  const log = new ViolationLog(opts.onInvalid ?? 'fail');
  const warnings: string[] = [];

  const pos = await openArrow(positionsFile);
  let pcols: Map<string, ResolvedColumn>;
  try {
    const r = resolveSchema(positionsFile, pos.schema, POSITION_COLUMNS);
    pcols = r.columns;
    warnings.push(...r.warnings);
  } catch (e) {
    await pos.close();
    throw e;
  }
  const keyType = accountKeyType(pcols.get('account')!);
  let bal: ArrowSource;
  try {
    bal = await openArrow(balancesFile);
  } catch (e) {
    // (a bad balances file must not leave the positions file open until garbage collection)
    await pos.close();
    throw e;
  }
  let bcols: Map<string, ResolvedColumn>;
  try {
    const r = resolveSchema(balancesFile, bal.schema, BALANCE_COLUMNS);
    bcols = r.columns;
    warnings.push(...r.warnings);
    const bt = accountKeyType(bcols.get('account')!);
    if (bt !== keyType) {
      throw fileError(
        balancesFile,
        `column account has type ${String(bcols.get('account')!.type)}, expected ${keyType === 'utf8' ? 'Utf8 or Dictionary<Utf8>' : 'an integer type (Int64)'} like ${positionsFile}'s account (${String(pcols.get('account')!.type)})`,
        'account',
      );
    }
  } catch (e) {
    await pos.close();
    await bal.close();
    throw e;
  }

  const accounts = new AccountKeys(keyType);
  // accounts: those of accepted rows in either file (marked as the rows are read), numbered in key order
  const used = new UsedFlags();
  let positions: PositionsRead;
  try {
    positions = await readPositions(market, positionsFile, pos, pcols, accounts, used, log, opts.rejectedInstruments);
  } catch (e) {
    await bal.close();
    throw e;
  }
  const balances = await readBalances(market, balancesFile, bal, bcols, accounts, used, log);
  log.throwIfFailing();

  const { accountKey, remap } = accounts.finish(used.upTo(accounts.count));
  for (const { account, instrument } of positions.chunks) remapAccounts(account, instrument, remap);

  const built = buildPositionBook(market, positions.chunks, accountKey, keyType);

  const currencies = [...market.underlyings, ...CASH_CURRENCIES];
  const C = currencies.length;
  // written whole before sumBalances reads them: a fresh array's first read maps each page to the kernel's
  // zero page, and the write that follows faults again to replace it (a copy and a TLB flush on every core
  // running this process: ~20 µs a page on the 2-core VM); fill() faults each page once, writing (24 → 3 ms)
  const A = built.book.accountCount;
  const amount = new Float64Array(A * C).fill(0);
  const seen = new Uint8Array(A * C).fill(0);
  let mergedBalances = 0;
  let balanceRows = 0;
  for (const chunk of balances) {
    balanceRows += chunk.account.length;
    mergedBalances += sumBalances(chunk, remap, C, amount, seen);
  }
  if (mergedBalances > 0)
    warnings.push(
      `${balancesFile}: ${mergedBalances} duplicate (account, currency) row${mergedBalances > 1 ? 's' : ''} summed into earlier rows`,
    );

  const positionsKept = built.book.accountStart[built.book.accountCount]!;
  if (positionsKept === 0) warnings.push(emptyBookWarning(positionsFile, positions.rows, positions.zeroRows, built));
  return {
    book: built.book,
    balances: { currencies, amount },
    forwardEntries: built.forwardEntries,
    stats: {
      positionRows: positions.rows,
      balanceRows,
      mergedPositionRows: built.mergedRows,
      droppedZeroRows: positions.zeroRows + built.netZeroPositions,
      warnings,
      rejected: log.rejected,
    },
  };
}

/** Each position row's provisional account id replaced by its final one (−1 for a row not in the book). */
function remapAccounts(account: Int32Array, instrument: Int32Array, remap: Int32Array): void {
  for (let r = 0; r < account.length; r++) account[r] = instrument[r]! >= 0 ? remap[account[r]!]! : -1;
}

/**
 * Adds a balances batch's accepted rows into `amount` (account × currency cells, `seen` marking those written);
 * returns how many rows fell on a cell already written (duplicates, summed).
 */
function sumBalances(
  { account, currency, amount: amt }: BalanceChunk,
  remap: Int32Array,
  C: number,
  amount: Float64Array,
  seen: Uint8Array,
): number {
  let merged = 0;
  for (let r = 0; r < account.length; r++) {
    const c = currency[r]!;
    if (c < 0) continue;
    const cell = remap[account[r]!]! * C + c;
    if (seen[cell]) merged++;
    seen[cell] = 1;
    amount[cell]! += amt[r]!;
  }
  return merged;
}

/**
 * The warning of a book without a position (an empty positions table, every quantity 0, or every
 * position netting to 0): not an error, but every margin of the run is 0, which is rarely what was meant.
 */
function emptyBookWarning(file: string, rows: number, zeroRows: number, built: { netZeroPositions: number }): string {
  const why =
    rows === 0
      ? 'the table has no rows'
      : zeroRows === rows
        ? `every quantity is 0 (${rows} row${rows === 1 ? '' : 's'} dropped)`
        : `no row was kept (${zeroRows} with quantity 0, ${built.netZeroPositions} position${built.netZeroPositions === 1 ? '' : 's'} netting to 0, the rest rejected)`;
  return `${file}: the book has no positions: ${why}; every margin of the run is 0`;
}

/** One flag per provisional account id (1: an accepted row names it), grown as ids are added. */
class UsedFlags {
  flags = new Uint8Array(1024);
  /** makes room for ids below `n` (call after interning a batch's keys; re-read `flags` after it) */
  ensure(n: number): void {
    if (n <= this.flags.length) return;
    const bigger = new Uint8Array(Math.max(n, 2 * this.flags.length));
    bigger.set(this.flags);
    this.flags = bigger;
  }
  /** the flags of ids [0, n) */
  upTo(n: number): Uint8Array {
    this.ensure(n);
    return this.flags.subarray(0, n);
  }
}

/** instrument marker of a row left out for a violation */
const REJECTED = -1;
/** instrument marker of a quantity-0 row (dropped, but its account exists) */
const ZERO = -2;

interface PositionsRead {
  /** one per record batch: provisional account ids; market instrument id, REJECTED or ZERO */
  chunks: PositionChunk[];
  rows: number;
  zeroRows: number;
}

async function readPositions(
  market: Market,
  file: string,
  src: Awaited<ReturnType<typeof openArrow>>,
  cols: Map<string, ResolvedColumn>,
  accounts: AccountKeys,
  used: UsedFlags,
  log: ViolationLog,
  rejectedInstruments?: ReadonlyMap<string, RejectedRow>,
): Promise<PositionsRead> {
  const out: PositionsRead = { chunks: [], rows: 0, zeroRows: 0 };
  const accCol = cols.get('account')!;
  const insCol = cols.get('instrument')!;
  const qCol = cols.get('quantity')!;
  const eCol = cols.get('entry_price');
  const names = new Utf8Interner(Math.max(1024, market.instruments.count));
  const dict = new DictionaryMapper(names);
  let localToMarket: Int32Array = new Int32Array(0);
  const marketId = (name: string) => market.instruments.id.get(name) ?? -1;
  // quantities and entry prices read in place where the file was read whole and holds them as float64 (no
  // copy: the file's bytes stay in memory until the book is built anyway); streamed, a view would keep its
  // batch's whole buffer alive, so they are copied, as are entry prices with nulls (NaN there)
  const inPlace = (col: ResolvedColumn, data: Data) => (src.readWhole ? float64Values(col, data) : null);
  /** the rows of a batch that acceptPositionRows left to the slow path */
  const slow: number[] = [];
  let row0 = 0;
  for await (const batch of src.batches()) {
    // a turn of the event loop per batch: the file is read whole (arrowSource.ts), so without it this
    // thread would not handle other threads' messages for the whole load (the cpu pool hands a worker
    // its next task only then: a run's second revaluation waited for the end of the load)
    await new Promise<void>((resolve) => setImmediate(resolve));
    const n = batch.numRows;
    const cs = batch.data.children as Data[];
    const acc = new Int32Array(n);
    const ins = new Int32Array(n);
    accounts.intern(file, accCol, cs[accCol.index]!, acc, 0);
    used.ensure(accounts.count);
    const flags = used.flags;
    internStrings(insCol, cs[insCol.index]!, names, dict, ins, 0);
    localToMarket = extendLocalIds(localToMarket, names, marketId);
    const qData = cs[qCol.index]!;
    const q = inPlace(qCol, qData) ?? floatsOf(qCol, qData);
    const qNulls = hasNulls(qData);
    const eData = eCol ? cs[eCol.index]! : null;
    let e: Float64Array;
    if (!eData) e = new Float64Array(n).fill(NaN);
    else if (hasNulls(eData)) {
      e = floatsOf(eCol!, eData);
      setWhereNull(eData, e, 0, NaN);
    } else e = inPlace(eCol!, eData) ?? floatsOf(eCol!, eData);
    out.chunks.push({ account: acc, instrument: ins, quantity: q, entryPrice: e });
    out.rows += n;
    slow.length = 0;
    out.zeroRows += acceptPositionRows(acc, ins, q, e, localToMarket, flags, qNulls, slow);
    // the slow path: find every violation of each row the fast path did not accept, in row order
    for (const i of slow) {
      const local = ins[i]!;
      const id = local >= 0 ? localToMarket[local]! : -1;
      const x = q[i]!;
      const ev = e[i]!;
      const r = row0 + i;
      const before = log.violations.length;
      if (acc[i]! < 0) log.add(file, r, 'account', 'null', RULE_NULL);
      if (local < 0) log.add(file, r, 'instrument', 'null', RULE_NULL);
      else if (id < 0) {
        const name = names.get(local);
        const why = rejectedInstruments?.get(name);
        log.add(
          file,
          r,
          'instrument',
          showValue(name),
          why ? ruleRejectedInstrument(why) : 'is not an instrument of the market snapshot (instruments.arrow)',
        );
      }
      if (qNulls && isNull(qData, i)) log.add(file, r, 'quantity', 'null', RULE_NULL);
      else if (!(x - x === 0)) log.add(file, r, 'quantity', showValue(x), RULE_FINITE);
      else if (Math.abs(x) > MAX_QUANTITY)
        log.add(
          file,
          r,
          'quantity',
          showValue(x),
          ruleMagnitude('quantity', MAX_QUANTITY, 'units of the underlying', 'E10'),
        );
      if (eData && !isNull(eData, i)) {
        if (ev === Infinity || ev === -Infinity) log.add(file, r, 'entry_price', showValue(ev), RULE_FINITE);
        else if (ev < 0)
          log.add(file, r, 'entry_price', showValue(ev), ruleRange('>= 0', 'entry_price must not be negative (E12)'));
        else if (ev > MAX_PRICE)
          log.add(file, r, 'entry_price', showValue(ev), ruleAtMost('entry_price', MAX_PRICE, 'USD', 'E12'));
      }
      if (log.violations.length > before) ins[i] = REJECTED;
      else {
        flags[acc[i]!] = 1;
        ins[i] = x === 0 ? ZERO : id;
        if (x === 0) out.zeroRows++;
      }
    }
    row0 += n;
  }
  return out;
}

/** A float or integer column's values as a new Float64Array (readFloats). */
function floatsOf(col: ResolvedColumn, data: Data): Float64Array {
  const out = new Float64Array(data.length);
  readFloats(col, data, out, 0);
  return out;
}

/**
 * The local ids of `names` past `map.length` mapped by `lookup` (−1: none), in a longer copy of `map`; `map`
 * itself when no name was added. (The row loops of a load are functions of their own, each with one loop, so
 * that V8 optimises each once: a function of several long loops is optimised, on this thread, again at each
 * loop whose code has not run yet, measured 43 ms of compilation for the two readers' loops.)
 */
function extendLocalIds(map: Int32Array, names: Utf8Interner, lookup: (name: string) => number): Int32Array {
  if (names.count <= map.length) return map;
  const bigger = new Int32Array(names.count);
  bigger.set(map);
  for (let k = map.length; k < names.count; k++) bigger[k] = lookup(names.get(k));
  return bigger;
}

/**
 * The fast path of a positions batch: each row that breaks no rule gets its market instrument id (ZERO for
 * quantity 0) and marks its account used; the others are pushed onto `slow` (row order) and left as read.
 * Returns the number of quantity-0 rows accepted.
 */
function acceptPositionRows(
  acc: Int32Array,
  ins: Int32Array,
  q: Float64Array,
  e: Float64Array,
  localToMarket: Int32Array,
  flags: Uint8Array,
  qNulls: boolean,
  slow: number[],
): number {
  let zeroRows = 0;
  const n = acc.length;
  for (let i = 0; i < n; i++) {
    const local = ins[i]!;
    const id = local >= 0 ? localToMarket[local]! : -1;
    const x = q[i]!;
    const ev = e[i]!;
    // (x - x === 0: finite; an entry price is absent (NaN) or in [0, MAX_PRICE])
    if (
      acc[i]! >= 0 &&
      id >= 0 &&
      x - x === 0 &&
      x <= MAX_QUANTITY &&
      x >= -MAX_QUANTITY &&
      !qNulls &&
      ((ev >= 0 && ev <= MAX_PRICE) || ev !== ev)
    ) {
      flags[acc[i]!] = 1;
      ins[i] = x === 0 ? ZERO : id;
      if (x === 0) zeroRows++;
    } else slow.push(i);
  }
  return zeroRows;
}

/** One per record batch. */
interface BalanceChunk {
  account: Int32Array;
  /** index into [...underlyings, ...CASH_CURRENCIES]; -1 when rejected */
  currency: Int32Array;
  amount: Float64Array;
}

async function readBalances(
  market: Market,
  file: string,
  src: Awaited<ReturnType<typeof openArrow>>,
  cols: Map<string, ResolvedColumn>,
  accounts: AccountKeys,
  used: UsedFlags,
  log: ViolationLog,
): Promise<BalanceChunk[]> {
  const out: BalanceChunk[] = [];
  const accCol = cols.get('account')!;
  const curCol = cols.get('currency')!;
  const amtCol = cols.get('amount')!;
  const currencies = [...market.underlyings, ...CASH_CURRENCIES];
  const names = new Utf8Interner(64);
  const dict = new DictionaryMapper(names);
  let localToCurrency: Int32Array = new Int32Array(0);
  const currencyIndex = (name: string) => currencies.indexOf(name);
  /** the rows of a batch that acceptBalanceRows left to the slow path */
  const slow: number[] = [];
  let row0 = 0;
  for await (const batch of src.batches()) {
    const n = batch.numRows;
    const cs = batch.data.children as Data[];
    const acc = new Int32Array(n);
    const cur = new Int32Array(n);
    const amt = new Float64Array(n);
    out.push({ account: acc, currency: cur, amount: amt });
    accounts.intern(file, accCol, cs[accCol.index]!, acc, 0);
    used.ensure(accounts.count);
    const flags = used.flags;
    internStrings(curCol, cs[curCol.index]!, names, dict, cur, 0);
    localToCurrency = extendLocalIds(localToCurrency, names, currencyIndex);
    const aData = cs[amtCol.index]!;
    readFloats(amtCol, aData, amt, 0);
    const aNulls = hasNulls(aData);
    slow.length = 0;
    acceptBalanceRows(acc, cur, amt, localToCurrency, flags, aNulls ? aData : null, slow);
    for (const i of slow) {
      const local = cur[i]!;
      const c = local >= 0 ? localToCurrency[local]! : -1;
      const x = amt[i]!;
      const r = row0 + i;
      if (acc[i]! < 0) log.add(file, r, 'account', 'null', RULE_NULL);
      if (local < 0) log.add(file, r, 'currency', 'null', RULE_NULL);
      else if (c < 0)
        log.add(
          file,
          r,
          'currency',
          showValue(names.get(local)),
          `is not an underlying of the snapshot (${market.underlyings.join(', ')}) or a cash currency (${CASH_CURRENCIES.join(', ')})`,
        );
      if (aNulls && isNull(aData, i)) log.add(file, r, 'amount', 'null', RULE_NULL);
      else if (!(x - x === 0)) log.add(file, r, 'amount', showValue(x), RULE_FINITE);
      else if (Math.abs(x) > MAX_AMOUNT)
        log.add(file, r, 'amount', showValue(x), ruleMagnitude('amount', MAX_AMOUNT, 'units of its currency', 'E11'));
      cur[i] = -1;
    }
    row0 += n;
  }
  return out;
}

/**
 * The fast path of a balances batch: each row that breaks no rule gets its currency's index and marks its
 * account used; the others are pushed onto `slow` (row order) and left as read. `nulls`: the amount column
 * when it has nulls.
 */
function acceptBalanceRows(
  acc: Int32Array,
  cur: Int32Array,
  amt: Float64Array,
  localToCurrency: Int32Array,
  flags: Uint8Array,
  nulls: Data | null,
  slow: number[],
): void {
  const n = acc.length;
  for (let i = 0; i < n; i++) {
    const local = cur[i]!;
    const c = local >= 0 ? localToCurrency[local]! : -1;
    const x = amt[i]!;
    if (
      acc[i]! >= 0 &&
      c >= 0 &&
      x - x === 0 &&
      x <= MAX_AMOUNT &&
      x >= -MAX_AMOUNT &&
      !(nulls !== null && isNull(nulls, i))
    ) {
      cur[i] = c;
      flags[acc[i]!] = 1;
    } else slow.push(i);
  }
}
