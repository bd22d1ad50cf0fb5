/**
 * Writes a generated book as `positions.arrow` and `balances.arrow` (Arrow IPC file format, record
 * batches of 65,536 rows): positions `account` Dictionary<Int32, Utf8>, `instrument`
 * Dictionary<Int32, Utf8>, `quantity` Float64, `entry_price` Float64 (null for options); balances
 * `account` (the same dictionary), `currency` Utf8, `amount` Float64. Temp files renamed into place.
 */
import { join } from 'node:path';
import {
  Dictionary,
  Float64,
  Int32,
  RecordBatch,
  Table,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  type Data,
  type Vector,
} from 'apache-arrow';
import { writeFilesAtomic } from '../importers/atomicWrite.js';
import type { GeneratedBook } from './book.js';

/** Rows per record batch. */
export const BATCH_ROWS = 65_536;

function dictionaryData(
  type: Dictionary<Utf8, Int32>,
  dictionary: Vector<Utf8>,
  keys: Int32Array,
): Data<Dictionary<Utf8, Int32>> {
  return makeData({ type, length: keys.length, data: keys, dictionary: dictionary as never });
}

function floatData(values: Float64Array, nullable: boolean): Data<Float64> {
  const n = values.length;
  if (!nullable) return makeData({ type: new Float64(), length: n, data: values });
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i]!)) nulls++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({
    type: new Float64(),
    length: n,
    nullCount: nulls,
    nullBitmap: nulls > 0 ? bitmap : null,
    data: values,
  });
}

function batches(rows: number, make: (from: number, to: number) => RecordBatch): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let from = 0; from < rows || (rows === 0 && from === 0); from += BATCH_ROWS) {
    out.push(make(from, Math.min(rows, from + BATCH_ROWS)));
    if (rows === 0) break;
  }
  return out;
}

/** The positions and balances of a book as Arrow tables; `instrumentNames` are the market's, by id. */
export function bookTables(book: GeneratedBook, instrumentNames: string[]): { positions: Table; balances: Table } {
  // explicit dictionary ids: Arrow JS numbers dictionaries from a process-wide counter otherwise, and the
  // bytes must not depend on what ran before in the process
  const accountType = new Dictionary(new Utf8(), new Int32(), 0);
  const instrumentType = new Dictionary(new Utf8(), new Int32(), 1);
  const accounts = vectorFromArray(book.accountKeys, new Utf8());
  const instruments = vectorFromArray(instrumentNames, new Utf8());
  const positions = new Table(
    batches(
      book.posAccount.length,
      (a, b) =>
        new RecordBatch({
          account: dictionaryData(accountType, accounts, book.posAccount.subarray(a, b)),
          instrument: dictionaryData(instrumentType, instruments, book.posInstrument.subarray(a, b)),
          quantity: floatData(book.quantity.subarray(a, b), false),
          entry_price: floatData(book.entryPrice.subarray(a, b), true),
        }),
    ),
  );
  const currencyNames = book.currencies;
  const balances = new Table(
    batches(
      book.balAccount.length,
      (a, b) =>
        new RecordBatch({
          account: dictionaryData(accountType, accounts, book.balAccount.subarray(a, b)),
          currency: vectorFromArray(
            Array.from(book.balCurrency.subarray(a, b), (c) => currencyNames[c]!),
            new Utf8(),
          ).data[0]!,
          amount: floatData(book.balAmount.subarray(a, b), false),
        }),
    ),
  );
  return { positions, balances };
}

/**
 * Writes `DIR/positions.arrow` and `DIR/balances.arrow`, creating DIR; both land or neither does.
 * @throws the file-system error when a file cannot be written.
 */
export function writeBook(
  dir: string,
  book: GeneratedBook,
  instrumentNames: string[],
): { positions: string; balances: string } {
  const t = bookTables(book, instrumentNames);
  const positions = join(dir, 'positions.arrow');
  const balances = join(dir, 'balances.arrow');
  writeFilesAtomic([
    { path: positions, bytes: tableToIPC(t.positions, 'file') },
    { path: balances, bytes: tableToIPC(t.balances, 'file') },
  ]);
  return { positions, balances };
}
