/**
 * The Deribit chain import (DATA.md, "The Deribit chain import"): the option chain CSV as published by
 * Deribit's API plus the two companion files of dated-future marks (`snapshot_term_mark_price`) and
 * perpetual marks (`perp_futures_mark_price`), mapped to the engine's instruments and underlyings
 * tables. Every instrument is inverse (settles in its coin). Options keep Deribit's coin prices.
 */
import { InputError, fileError, showValue } from '../errors.js';
import { columnIndex, dateCell, numberCell, readCsv, textCell, type CsvTable } from './csv.js';
import type { MarketTables } from './marketTables.js';

/** Paths of the three Deribit files. */
export interface DeribitFiles {
  /** the option chain, e.g. `deribit_options_snapshot_20260201T092323Z.csv` */
  chain: string;
  /** dated futures' marks, e.g. `term_futures_marks_20260201T092323Z.csv` */
  futures: string;
  /** perpetual marks, e.g. `perpetual_futures_prices_20260201T092323Z.csv` */
  perpetuals: string;
}

export interface DeribitImportOptions {
  /**
   * Keep only options and futures expiring on these Deribit expiry codes (`6FEB26`, `27MAR26`, the
   * second part of an instrument name), for every underlying; perpetuals are always kept. The
   * underlyings table (index medians, snapshot time) is still computed over the whole chain file.
   */
  expiries?: string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const EXPIRY_CODE = /^(\d{1,2})([A-Z]{3})(\d{2})$/;

/**
 * The expiry of a Deribit expiry code (`13FEB26`) at 08:00 UTC, Deribit's expiry time, in ms since the
 * epoch; NaN when the code is not a valid date.
 */
export function expiryCodeMs(code: string): number {
  const m = EXPIRY_CODE.exec(code);
  if (!m) return NaN;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!);
  const year = 2000 + Number(m[3]);
  if (month < 0 || day < 1) return NaN;
  const ms = Date.UTC(year, month, day, 8);
  return new Date(ms).getUTCDate() === day ? ms : NaN;
}

/** The expiry code of an instrument name (`BTC-27MAR26-80000-C` → `27MAR26`), or null. */
export function expiryCodeOf(name: string): string | null {
  const parts = name.split('-');
  return parts.length >= 2 ? parts[1]! : null;
}

/** The median of a list of numbers (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

interface Row {
  instrument: string;
  underlying: string;
  kind: number; // 0 perpetual, 1 future, 2 option: the output order within an underlying
  optionType: string | null;
  strike: number;
  expiryMs: number;
  markPrice: number;
  markIv: number;
  forward: number;
  bidPrice: number;
  askPrice: number;
  openInterest: number;
}

const KIND_OUT = ['perpetual', 'future', 'option'];

/**
 * Reads the three Deribit files and maps them to the engine's tables.
 * @throws InputError naming the file, the 0-based data row, the column, the value and the rule for a
 *   missing column, an empty or non-numeric number, an unparseable date or expiry, an unknown option
 *   type, a duplicate instrument, or an instrument expiring at or before the snapshot.
 */
export function importDeribit(files: DeribitFiles, opts: DeribitImportOptions = {}): MarketTables {
  return importDeribitTables(readCsv(files.chain), readCsv(files.futures), readCsv(files.perpetuals), opts);
}

/**
 * {@link importDeribit} on already parsed CSV tables.
 * @throws InputError as {@link importDeribit}.
 */
export function importDeribitTables(chain: CsvTable, futures: CsvTable, perps: CsvTable, opts: DeribitImportOptions = {}): MarketTables {
  const rows: Row[] = [];

  // --- the option chain
  const c = {
    timestamp: columnIndex(chain, 'timestamp'),
    name: columnIndex(chain, 'instrument_name'),
    forward: columnIndex(chain, 'underlying'),
    type: columnIndex(chain, 'option_type'),
    strike: columnIndex(chain, 'strike'),
    expiry: columnIndex(chain, 'expiry_datetime'),
    bid: columnIndex(chain, 'bid_price'),
    ask: columnIndex(chain, 'ask_price'),
    mark: columnIndex(chain, 'mark_price'),
    iv: columnIndex(chain, 'implied_volatility'),
    oi: columnIndex(chain, 'open_interest'),
    currency: columnIndex(chain, 'currency'),
    index: columnIndex(chain, 'index_price'),
  };
  if (chain.rows.length === 0) throw fileError(chain.file, 'has no data rows: expected an option chain');
  let snapshotTimeMs = Infinity;
  const indexes = new Map<string, number[]>();
  for (let r = 0; r < chain.rows.length; r++) {
    const ts = dateCell(chain, r, c.timestamp);
    if (ts < snapshotTimeMs) snapshotTimeMs = ts;
    const underlying = textCell(chain, r, c.currency);
    const index = numberCell(chain, r, c.index)!;
    let list = indexes.get(underlying);
    if (!list) indexes.set(underlying, (list = []));
    list.push(index);
    const typeText = textCell(chain, r, c.type);
    const t = typeText.toLowerCase();
    const optionType = t === 'call' || t === 'c' ? 'C' : t === 'put' || t === 'p' ? 'P' : null;
    if (optionType === null) throw new InputError({ file: chain.file, row: r, column: 'option_type', value: showValue(typeText), rule: 'is not an option type: expected call or put' });
    rows.push({
      instrument: textCell(chain, r, c.name),
      underlying,
      kind: 2,
      optionType,
      strike: numberCell(chain, r, c.strike)!,
      expiryMs: dateCell(chain, r, c.expiry),
      markPrice: numberCell(chain, r, c.mark)!,
      markIv: numberCell(chain, r, c.iv)!,
      forward: numberCell(chain, r, c.forward)!,
      bidPrice: numberCell(chain, r, c.bid, true) ?? NaN,
      askPrice: numberCell(chain, r, c.ask, true) ?? NaN,
      openInterest: numberCell(chain, r, c.oi, true) ?? NaN,
    });
  }

  // --- dated futures
  const f = {
    currency: columnIndex(futures, 'currency'),
    name: columnIndex(futures, 'futures_instrument_name'),
    mark: columnIndex(futures, 'snapshot_term_mark_price'),
  };
  for (let r = 0; r < futures.rows.length; r++) {
    const name = textCell(futures, r, f.name);
    const code = expiryCodeOf(name);
    const expiryMs = code === null ? NaN : expiryCodeMs(code);
    if (Number.isNaN(expiryMs)) throw new InputError({ file: futures.file, row: r, column: 'futures_instrument_name', value: showValue(name), rule: 'has no expiry date in its name: expected e.g. BTC-27MAR26' });
    const mark = numberCell(futures, r, f.mark)!;
    rows.push({
      instrument: name, underlying: textCell(futures, r, f.currency), kind: 1, optionType: null, strike: NaN, expiryMs,
      markPrice: mark, markIv: NaN, forward: mark, bidPrice: NaN, askPrice: NaN, openInterest: NaN,
    });
  }

  // --- perpetuals
  const p = {
    coin: columnIndex(perps, 'coin'),
    name: columnIndex(perps, 'instrument_name'),
    mark: columnIndex(perps, 'perp_futures_mark_price'),
  };
  for (let r = 0; r < perps.rows.length; r++) {
    const mark = numberCell(perps, r, p.mark)!;
    rows.push({
      instrument: textCell(perps, r, p.name), underlying: textCell(perps, r, p.coin), kind: 0, optionType: null, strike: NaN, expiryMs: NaN,
      markPrice: mark, markIv: NaN, forward: mark, bidPrice: NaN, askPrice: NaN, openInterest: NaN,
    });
  }

  // --- checks that need every row: unique names, underlyings with an index, expiries after the snapshot
  const fileOf = (row: Row) => (row.kind === 2 ? chain.file : row.kind === 1 ? futures.file : perps.file);
  const rowOf = (i: number) => (i < chain.rows.length ? i : i < chain.rows.length + futures.rows.length ? i - chain.rows.length : i - chain.rows.length - futures.rows.length);
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    const nameColumn = row.kind === 2 ? 'instrument_name' : row.kind === 1 ? 'futures_instrument_name' : 'instrument_name';
    if (seen.has(row.instrument)) throw new InputError({ file: fileOf(row), row: rowOf(i), column: nameColumn, value: showValue(row.instrument), rule: 'appears twice: instrument names must be unique' });
    seen.add(row.instrument);
    if (!indexes.has(row.underlying)) throw new InputError({ file: fileOf(row), row: rowOf(i), column: row.kind === 0 ? 'coin' : 'currency', value: showValue(row.underlying), rule: `has no index price: no option of this currency in ${chain.file}` });
    if (row.kind !== 0 && !(row.expiryMs > snapshotTimeMs)) {
      throw new InputError({ file: fileOf(row), row: rowOf(i), column: row.kind === 2 ? 'expiry_datetime' : 'futures_instrument_name', value: showValue(new Date(row.expiryMs).toISOString()), rule: `is not after the snapshot time ${new Date(snapshotTimeMs).toISOString()}: the instrument has expired` });
    }
  });

  // --- expiry selection
  let kept = rows;
  if (opts.expiries && opts.expiries.length > 0) {
    const wanted = new Set(opts.expiries.map((e) => e.trim().toUpperCase()));
    const found = new Set<string>();
    kept = rows.filter((row) => {
      if (row.kind === 0) return true;
      const code = expiryCodeOf(row.instrument);
      if (code !== null && wanted.has(code)) { found.add(code); return true; }
      return false;
    });
    for (const code of wanted) if (!found.has(code)) throw fileError(chain.file, 'no option or future expires on this expiry code', 'expiry', showValue(code));
  }

  // --- deterministic order: by underlying; perpetual, futures by expiry, options by expiry, strike, C before P
  kept = [...kept].sort((a, b) =>
    a.underlying < b.underlying ? -1 : a.underlying > b.underlying ? 1
      : a.kind - b.kind
      || (Number.isNaN(a.expiryMs) ? 0 : a.expiryMs - b.expiryMs)
      || (a.kind === 2 ? a.strike - b.strike : 0)
      || (a.optionType === b.optionType ? 0 : a.optionType === 'C' ? -1 : 1)
      || (a.instrument < b.instrument ? -1 : a.instrument > b.instrument ? 1 : 0));

  const n = kept.length;
  const num = (pick: (r: Row) => number) => Float64Array.from(kept, pick);
  const underlyings = [...indexes.keys()].sort();
  return {
    instruments: {
      instrument: kept.map((r) => r.instrument),
      underlying: kept.map((r) => r.underlying),
      kind: kept.map((r) => KIND_OUT[r.kind]!),
      optionType: kept.map((r) => r.optionType),
      strike: num((r) => r.strike),
      expiryMs: num((r) => r.expiryMs),
      settlement: new Array<string>(n).fill('inverse'),
      markPrice: num((r) => r.markPrice),
      markIv: num((r) => r.markIv),
      forward: num((r) => r.forward),
      bidPrice: num((r) => r.bidPrice),
      askPrice: num((r) => r.askPrice),
      openInterest: num((r) => r.openInterest),
    },
    underlyings: {
      underlying: underlyings,
      indexPrice: Float64Array.from(underlyings, (u) => median(indexes.get(u)!)),
      rate: new Float64Array(underlyings.length),
      snapshotTimeMs,
    },
  };
}
