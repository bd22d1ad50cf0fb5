/**
 * The Deribit chain import (docs/data.md, "The Deribit chain import"): the option chain CSV as published by
 * Deribit's API plus the two companion files of dated-future marks (`snapshot_term_mark_price`) and
 * perpetual marks (`perp_futures_mark_price`), mapped to the engine's instruments and underlyings
 * tables. Every instrument is inverse (settles in its coin). Options keep Deribit's coin prices.
 */
import { InputError, fileError, showValue, type Violation } from '../errors.js';
import { ruleRange } from '../io/cellRules.js';
import { cell, collect, columnIndex, dateCell, numberCell, readCsv, textCell, type CsvTable } from './csv.js';
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
 * Reads the three Deribit files and maps them to the engine's tables, checking on the way every rule of
 * docs/data.md "Validation" that applies to imported values (numbers finite, strike > 0, forward > 0,
 * mark_price ≥ 0, 0 < mark_iv ≤ 10, index_price > 0, option_type call/put, unique names, expiry after
 * the snapshot), so that nothing the importer writes is later refused by the loader.
 * @throws InputError listing every violation found, each naming the CSV file (as given), its 0-based
 *   data row, the CSV column, the value and the rule; or naming a file that cannot be read, is not a
 *   text CSV file, lacks columns or has no data rows.
 */
export function importDeribit(files: DeribitFiles, opts: DeribitImportOptions = {}): MarketTables {
  return importDeribitTables(readCsv(files.chain), readCsv(files.futures), readCsv(files.perpetuals), opts);
}

/** `is not > 0: strike must be positive` (the loader's wording, src/io/cellRules.ts) */
const RULE_STRIKE = ruleRange('> 0', 'strike must be positive');
const RULE_FORWARD = ruleRange('> 0', 'forward must be positive');
const RULE_MARK = ruleRange('>= 0', 'mark_price must not be negative');
const RULE_IV = ruleRange('in (0, 10]', 'mark_iv is a decimal volatility per year, 0 < mark_iv <= 10');
const RULE_INDEX = ruleRange('> 0', 'index_price must be positive');
/** a future's or perpetual's mark is both its mark_price and its forward */
const RULE_FUTURE_MARK = ruleRange('> 0', 'the mark is the forward, forward must be positive');

/**
 * The columns of a table, in order, or null after recording each missing one.
 */
function columns<K extends string>(t: CsvTable, names: Record<K, string>, into: Violation[]): Record<K, number> | null {
  const out = {} as Record<K, number>;
  let ok = true;
  for (const key of Object.keys(names) as K[]) {
    const k = collect(into, () => columnIndex(t, names[key]), -1);
    if (k < 0) ok = false;
    out[key] = k;
  }
  return ok ? out : null;
}

/**
 * {@link importDeribit} on already parsed CSV tables.
 * @throws InputError as {@link importDeribit}.
 */
export function importDeribitTables(
  chain: CsvTable,
  futures: CsvTable,
  perps: CsvTable,
  opts: DeribitImportOptions = {},
): MarketTables {
  const bad: Violation[] = [];
  const c = columns(
    chain,
    {
      timestamp: 'timestamp',
      name: 'instrument_name',
      forward: 'underlying',
      type: 'option_type',
      strike: 'strike',
      expiry: 'expiry_datetime',
      bid: 'bid_price',
      ask: 'ask_price',
      mark: 'mark_price',
      iv: 'implied_volatility',
      oi: 'open_interest',
      currency: 'currency',
      index: 'index_price',
    },
    bad,
  );
  const f = columns(
    futures,
    { currency: 'currency', name: 'futures_instrument_name', mark: 'snapshot_term_mark_price' },
    bad,
  );
  const p = columns(perps, { coin: 'coin', name: 'instrument_name', mark: 'perp_futures_mark_price' }, bad);
  if (!c || !f || !p) throw new InputError(bad);
  if (chain.rows.length === 0) throw fileError(chain.file, 'has no data rows: expected an option chain');

  /** each row with where it came from, for the checks that need every row */
  const rows: (Row & {
    file: string;
    row: number;
    nameColumn: string;
    underlyingColumn: string;
    expiryColumn: string;
  })[] = [];
  /** a number cell that must satisfy `ok`; null (after recording) when it does not */
  const checked = (t: CsvTable, r: number, col: number, ok: (x: number) => boolean, rule: string): number | null => {
    const x = collect(bad, () => numberCell(t, r, col), null);
    if (x === null) return null;
    if (!ok(x)) {
      bad.push({ file: t.file, row: r, column: t.header[col]!, value: showValue(cell(t, r, col)), rule });
      return null;
    }
    return x;
  };
  const text = (t: CsvTable, r: number, col: number) => collect(bad, () => textCell(t, r, col), null);
  const optionalNumber = (t: CsvTable, r: number, col: number) =>
    collect(bad, () => numberCell(t, r, col, true), null) ?? NaN;

  // --- the option chain
  let snapshotTimeMs = Infinity;
  const indexes = new Map<string, number[]>();
  for (let r = 0; r < chain.rows.length; r++) {
    const ts = collect(bad, () => dateCell(chain, r, c.timestamp), NaN);
    if (ts < snapshotTimeMs) snapshotTimeMs = ts;
    const name = text(chain, r, c.name);
    const underlying = text(chain, r, c.currency);
    const index = checked(chain, r, c.index, (x) => x > 0, RULE_INDEX);
    if (underlying !== null) {
      let list = indexes.get(underlying);
      if (!list) indexes.set(underlying, (list = []));
      if (index !== null) list.push(index);
    }
    const typeText = text(chain, r, c.type);
    const t = typeText?.toLowerCase();
    const optionType = t === 'call' || t === 'c' ? 'C' : t === 'put' || t === 'p' ? 'P' : null;
    if (typeText !== null && optionType === null)
      bad.push({
        file: chain.file,
        row: r,
        column: 'option_type',
        value: showValue(typeText),
        rule: 'is not an option type: expected call or put',
      });
    const strike = checked(chain, r, c.strike, (x) => x > 0, RULE_STRIKE);
    const expiryMs = collect(bad, () => dateCell(chain, r, c.expiry), NaN);
    const markPrice = checked(chain, r, c.mark, (x) => x >= 0, RULE_MARK);
    const markIv = checked(chain, r, c.iv, (x) => x > 0 && x <= 10, RULE_IV);
    const forward = checked(chain, r, c.forward, (x) => x > 0, RULE_FORWARD);
    const bidPrice = optionalNumber(chain, r, c.bid);
    const askPrice = optionalNumber(chain, r, c.ask);
    const openInterest = optionalNumber(chain, r, c.oi);
    if (
      name === null ||
      underlying === null ||
      optionType === null ||
      strike === null ||
      markPrice === null ||
      markIv === null ||
      forward === null
    )
      continue;
    rows.push({
      instrument: name,
      underlying,
      kind: 2,
      optionType,
      strike,
      expiryMs,
      markPrice,
      markIv,
      forward,
      bidPrice,
      askPrice,
      openInterest,
      file: chain.file,
      row: r,
      nameColumn: 'instrument_name',
      underlyingColumn: 'currency',
      expiryColumn: 'expiry_datetime',
    });
  }

  // --- dated futures
  for (let r = 0; r < futures.rows.length; r++) {
    const name = text(futures, r, f.name);
    let expiryMs = NaN;
    if (name !== null) {
      const code = expiryCodeOf(name);
      expiryMs = code === null ? NaN : expiryCodeMs(code);
      if (Number.isNaN(expiryMs))
        bad.push({
          file: futures.file,
          row: r,
          column: 'futures_instrument_name',
          value: showValue(name),
          rule: 'has no expiry date in its name: expected e.g. BTC-27MAR26',
        });
    }
    const underlying = text(futures, r, f.currency);
    const mark = checked(futures, r, f.mark, (x) => x > 0, RULE_FUTURE_MARK);
    if (name === null || underlying === null || mark === null || Number.isNaN(expiryMs)) continue;
    rows.push({
      instrument: name,
      underlying,
      kind: 1,
      optionType: null,
      strike: NaN,
      expiryMs,
      markPrice: mark,
      markIv: NaN,
      forward: mark,
      bidPrice: NaN,
      askPrice: NaN,
      openInterest: NaN,
      file: futures.file,
      row: r,
      nameColumn: 'futures_instrument_name',
      underlyingColumn: 'currency',
      expiryColumn: 'futures_instrument_name',
    });
  }

  // --- perpetuals
  for (let r = 0; r < perps.rows.length; r++) {
    const name = text(perps, r, p.name);
    const underlying = text(perps, r, p.coin);
    const mark = checked(perps, r, p.mark, (x) => x > 0, RULE_FUTURE_MARK);
    if (name === null || underlying === null || mark === null) continue;
    rows.push({
      instrument: name,
      underlying,
      kind: 0,
      optionType: null,
      strike: NaN,
      expiryMs: NaN,
      markPrice: mark,
      markIv: NaN,
      forward: mark,
      bidPrice: NaN,
      askPrice: NaN,
      openInterest: NaN,
      file: perps.file,
      row: r,
      nameColumn: 'instrument_name',
      underlyingColumn: 'coin',
      expiryColumn: '',
    });
  }

  // --- checks that need every row: unique names, underlyings with an index, expiries after the snapshot
  const firstAt = new Map<string, string>();
  for (const row of rows) {
    const where = `${row.file} row ${row.row}`;
    const first = firstAt.get(row.instrument);
    if (first !== undefined)
      bad.push({
        file: row.file,
        row: row.row,
        column: row.nameColumn,
        value: showValue(row.instrument),
        rule: `appears twice: instrument names must be unique (first at ${first})`,
      });
    else firstAt.set(row.instrument, where);
    if (!indexes.has(row.underlying))
      bad.push({
        file: row.file,
        row: row.row,
        column: row.underlyingColumn,
        value: showValue(row.underlying),
        rule: `has no index price: no option of this currency in ${chain.file}`,
      });
    if (
      row.kind !== 0 &&
      Number.isFinite(snapshotTimeMs) &&
      Number.isFinite(row.expiryMs) &&
      !(row.expiryMs > snapshotTimeMs)
    ) {
      bad.push({
        file: row.file,
        row: row.row,
        column: row.expiryColumn,
        value: showValue(new Date(row.expiryMs).toISOString()),
        rule: `is not after the snapshot time ${new Date(snapshotTimeMs).toISOString()}: ${row.instrument} expired at ${new Date(row.expiryMs).toISOString()}, before the snapshot`,
      });
    }
  }
  if (bad.length > 0) {
    // in file order (chain, futures, perpetuals), then row; a row's violations keep their column order
    const order = [chain.file, futures.file, perps.file];
    throw new InputError(
      [...bad].sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file) || (a.row ?? -1) - (b.row ?? -1)),
    );
  }

  // --- expiry selection
  let kept = rows;
  if (opts.expiries && opts.expiries.length > 0) {
    const wanted = new Set(opts.expiries.map((e) => e.trim().toUpperCase()));
    const found = new Set<string>();
    kept = rows.filter((row) => {
      if (row.kind === 0) return true;
      const code = expiryCodeOf(row.instrument);
      if (code !== null && wanted.has(code)) {
        found.add(code);
        return true;
      }
      return false;
    });
    for (const code of wanted)
      if (!found.has(code))
        throw fileError(chain.file, 'no option or future expires on this expiry code', 'expiry', showValue(code));
  }

  // --- deterministic order: by underlying; perpetual, futures by expiry, options by expiry, strike, C before P
  kept = [...kept].sort((a, b) =>
    a.underlying < b.underlying
      ? -1
      : a.underlying > b.underlying
        ? 1
        : a.kind - b.kind ||
          (Number.isNaN(a.expiryMs) ? 0 : a.expiryMs - b.expiryMs) ||
          (a.kind === 2 ? a.strike - b.strike : 0) ||
          (a.optionType === b.optionType ? 0 : a.optionType === 'C' ? -1 : 1) ||
          (a.instrument < b.instrument ? -1 : a.instrument > b.instrument ? 1 : 0),
  );

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
