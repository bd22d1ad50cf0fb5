/**
 * Writes a {@link MarketTables} snapshot as `instruments.arrow` and `underlyings.arrow` (Arrow IPC file
 * format) with the column types of docs/data.md: Utf8 strings, Float64 numbers, Timestamp(ms, UTC) times,
 * nulls where a value is absent (NaN numbers, null strings).
 */
import { join } from 'node:path';
import {
  Float64,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import type { MarketTables } from './marketTables.js';
import { writeFilesAtomic } from './atomicWrite.js';

/** A Float64 column; NaN becomes null. */
export function float64Column(values: Float64Array): Vector<Float64> {
  const n = values.length;
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nulls++;
    else {
      bitmap[i >> 3]! |= 1 << (i & 7);
      data[i] = v;
    }
  }
  return makeVector(
    makeData({ type: new Float64(), length: n, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, data }),
  );
}

/** A Timestamp(ms, UTC) column from ms since the epoch; NaN becomes null. */
export function timestampMsColumn(values: Float64Array): Vector<Timestamp> {
  const n = values.length;
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  const data = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nulls++;
    else {
      bitmap[i >> 3]! |= 1 << (i & 7);
      data[i] = BigInt(Math.round(v));
    }
  }
  return makeVector(
    makeData({
      type: new Timestamp(TimeUnit.MILLISECOND, 'UTC'),
      length: n,
      nullCount: nulls,
      nullBitmap: nulls > 0 ? bitmap : null,
      data,
    }),
  );
}

/** A Utf8 column; null stays null. */
export function utf8Column(values: (string | null)[]): Vector<Utf8> {
  return vectorFromArray(values, new Utf8());
}

/** The instruments table of docs/data.md as an Arrow table. */
export function instrumentsTable(m: MarketTables): Table {
  const t = m.instruments;
  return new Table({
    instrument: utf8Column(t.instrument),
    underlying: utf8Column(t.underlying),
    kind: utf8Column(t.kind),
    option_type: utf8Column(t.optionType),
    strike: float64Column(t.strike),
    expiry: timestampMsColumn(t.expiryMs),
    settlement: utf8Column(t.settlement),
    mark_price: float64Column(t.markPrice),
    mark_iv: float64Column(t.markIv),
    forward: float64Column(t.forward),
    bid_price: float64Column(t.bidPrice),
    ask_price: float64Column(t.askPrice),
    open_interest: float64Column(t.openInterest),
  });
}

/** The underlyings table of docs/data.md as an Arrow table. */
export function underlyingsTable(m: MarketTables): Table {
  const u = m.underlyings;
  return new Table({
    underlying: utf8Column(u.underlying),
    index_price: float64Column(u.indexPrice),
    snapshot_time: timestampMsColumn(new Float64Array(u.underlying.length).fill(u.snapshotTimeMs)),
    rate: float64Column(u.rate),
  });
}

/**
 * Writes `DIR/instruments.arrow` and `DIR/underlyings.arrow` (Arrow IPC file format), creating DIR,
 * through temporary files renamed into place only when both are written.
 * @throws the file-system error when a file cannot be written (no file is left half-written).
 */
export function writeMarket(dir: string, m: MarketTables): { instruments: string; underlyings: string } {
  const instruments = join(dir, 'instruments.arrow');
  const underlyings = join(dir, 'underlyings.arrow');
  writeFilesAtomic([
    { path: instruments, bytes: tableToIPC(instrumentsTable(m), 'file') },
    { path: underlyings, bytes: tableToIPC(underlyingsTable(m), 'file') },
  ]);
  return { instruments, underlyings };
}
