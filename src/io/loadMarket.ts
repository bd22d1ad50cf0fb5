/**
 * Loads the market snapshot (`instruments.arrow`, `underlyings.arrow` of docs/data.md) into a {@link Market}:
 * instruments get dense ids in file order, every attribute lands in a typed array, and every rule of
 * docs/data.md is checked, each violation naming file, row (0-based), column, value and rule.
 */
import { join } from 'node:path';
import { fileError, showValue } from '../errors.js';
import {
  KIND_NAMES,
  KIND_OPTION,
  KIND_FUTURE,
  KIND_PERPETUAL,
  OPTION_CALL,
  OPTION_NONE,
  OPTION_PUT,
  SETTLEMENT_NAMES,
  SETTLE_INVERSE,
  SETTLE_LINEAR,
  MS_PER_YEAR,
  type Instruments,
  type Market,
} from '../model/market.js';
import type { RejectedRow } from '../model/book.js';
import type { ColumnSpec } from './columnSpec.js';
import { readSmallTable, type SmallTable } from './readTable.js';
import { ViolationLog, type OnInvalid } from './violationLog.js';
import {
  MAX_OPEN_INTEREST,
  MAX_PRICE,
  RULE_FINITE,
  RULE_NULL,
  ruleAtMost,
  ruleOneOf,
  ruleRange,
  ruleRequiredFor,
} from './cellRules.js';

/** The columns of `underlyings.arrow` (docs/data.md). */
export const UNDERLYING_COLUMNS: readonly ColumnSpec[] = [
  { name: 'underlying', kind: 'string', required: true },
  { name: 'index_price', kind: 'float', required: true },
  { name: 'snapshot_time', kind: 'timestamp', required: true },
  { name: 'rate', kind: 'float', required: false },
];

/** The columns of `instruments.arrow` (docs/data.md); option-only columns are checked per row. */
export const INSTRUMENT_COLUMNS: readonly ColumnSpec[] = [
  { name: 'instrument', kind: 'string', required: true },
  { name: 'underlying', kind: 'string', required: true },
  { name: 'kind', kind: 'string', required: true },
  { name: 'option_type', kind: 'string', required: false },
  { name: 'strike', kind: 'float', required: false },
  { name: 'expiry', kind: 'timestamp', required: false },
  { name: 'settlement', kind: 'string', required: true },
  { name: 'mark_price', kind: 'float', required: true },
  { name: 'mark_iv', kind: 'float', required: false },
  { name: 'forward', kind: 'float', required: true },
  { name: 'bid_price', kind: 'float', required: false },
  { name: 'ask_price', kind: 'float', required: false },
  { name: 'open_interest', kind: 'float', required: false },
];

/** What loading the market found: the market, warnings (unknown columns) and rows left out under skip. */
export interface LoadedMarket {
  market: Market;
  warnings: string[];
  rejected: RejectedRow[];
  /**
   * Under skip: each instrument name whose instruments.arrow row was left out, with that row's first
   * violation (the first row of a name; empty under fail). Pass it to loadBook's `rejectedInstruments`
   * so positions on such an instrument say why it is missing.
   */
  rejectedInstruments: Map<string, RejectedRow>;
}

/** An instant for a message: ISO 8601 when a Date can hold it, else the number of ms as read. */
const iso = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`);

/**
 * E9 (docs/data.md): magnitudes the engine's arithmetic holds. Every timestamp lies between these two
 * instants (a Date beyond ±8.64e15 ms cannot be printed; an expiry centuries out overflows exp(−r·t));
 * a rate is within ±RATE_MAX per year (exp(−r·t) of −1e300 is +∞); a forward within a factor
 * FORWARD_FACTOR of its underlying's index price, and a strike within STRIKE_FACTOR of the forward (a
 * forward or strike of 5e-324 passes `> 0` and turned every margin of the account into NaN).
 */
export const TIME_MIN_MS = Date.UTC(1970, 0, 1);
export const TIME_MAX_MS = Date.UTC(2100, 0, 1);
export const RATE_MAX = 1;
export const FORWARD_FACTOR = 10;
export const STRIKE_FACTOR = 1000;
const RULE_TIME = 'is not between 1970-01-01 and 2100-01-01: a timestamp of the snapshot must be a date of this era';

/**
 * Reads `dir/underlyings.arrow` and `dir/instruments.arrow` and checks every rule of docs/data.md.
 * Prices and forwards in USD (inverse options' prices in coin), vols decimal per year, times in ms UTC;
 * `tYears` = (expiry − snapshot) / MS_PER_YEAR, 0 for perpetuals; `rate` 0 when absent.
 * With `onInvalid: 'skip'` rows that break a rule are left out and returned in `rejected` (an
 * instrument whose underlying was left out is then rejected too).
 * @throws InputError under `fail` (default) listing every violation; under either policy when a file is
 *   missing, not Arrow, has a wrong schema, or has no usable rows.
 */
export async function loadMarket(
  dir: string,
  opts: { onInvalid?: OnInvalid; missingMarkIv?: 'refuse' | 'allow' } = {},
): Promise<LoadedMarket> {
  const log = new ViolationLog(opts.onInvalid ?? 'fail');
  const uFile = join(dir, 'underlyings.arrow');
  const iFile = join(dir, 'instruments.arrow');
  const ut = await readSmallTable(uFile, UNDERLYING_COLUMNS);
  const it = await readSmallTable(iFile, INSTRUMENT_COLUMNS);
  const u = checkUnderlyings(ut, log);
  const rejectedInstruments = new Map<string, RejectedRow>();
  const instruments = checkInstruments(
    it,
    u.underlyingId,
    u.indexPrice,
    u.named,
    u.snapshotTimeMs,
    uFile,
    log,
    rejectedInstruments,
    opts.missingMarkIv === 'allow',
  );
  log.throwIfFailing();
  if (u.underlyings.length === 0) throw fileError(uFile, 'has no usable rows; expected at least one underlying');
  if (instruments.count === 0) throw fileError(iFile, 'has no usable rows; expected at least one instrument');
  return {
    market: {
      snapshotTimeMs: u.snapshotTimeMs,
      underlyings: u.underlyings,
      underlyingId: u.underlyingId,
      indexPrice: u.indexPrice,
      rate: u.rate,
      instruments,
    },
    warnings: [...ut.warnings, ...it.warnings],
    rejected: log.rejected,
    rejectedInstruments,
  };
}

function checkUnderlyings(t: SmallTable, log: ViolationLog): Omit<Market, 'instruments'> & { named: Set<string> } {
  const file = t.file;
  const name = t.columns.get('underlying')!;
  const index = t.columns.get('index_price')!;
  const snap = t.columns.get('snapshot_time')!;
  const rate = t.columns.get('rate');
  const underlyings: string[] = [];
  const underlyingId = new Map<string, number>();
  const indexPrice: number[] = [];
  const rates: number[] = [];
  let snapshotTimeMs = NaN;
  let snapshotRow = -1;
  const firstSeen = new Map<string, number>();
  for (let r = 0; r < t.rows; r++) {
    const before = log.violations.length;
    const bad = (column: string, value: string | null, rule: string) => log.add(file, r, column, value, rule);
    const u = name.strings![r]!;
    if (u === null) bad('underlying', 'null', RULE_NULL);
    else if (firstSeen.has(u))
      bad('underlying', showValue(u), `is a duplicate: underlying must be unique (first at row ${firstSeen.get(u)})`);
    else firstSeen.set(u, r);
    const x = index.numbers![r]!;
    if (index.isNull[r]) bad('index_price', 'null', RULE_NULL);
    else if (!Number.isFinite(x)) bad('index_price', showValue(x), RULE_FINITE);
    else if (!(x > 0)) bad('index_price', showValue(x), ruleRange('> 0', 'index_price must be positive'));
    else if (x > MAX_PRICE) bad('index_price', showValue(x), ruleAtMost('index_price', MAX_PRICE, 'USD', 'E12'));
    const s = snap.numbers![r]!;
    if (snap.isNull[r]) bad('snapshot_time', 'null', RULE_NULL);
    else if (!(s >= TIME_MIN_MS && s < TIME_MAX_MS)) bad('snapshot_time', iso(s), RULE_TIME);
    else if (snapshotRow < 0) {
      snapshotTimeMs = s;
      snapshotRow = r;
    } else if (s !== snapshotTimeMs)
      bad(
        'snapshot_time',
        iso(s),
        `differs from row ${snapshotRow}'s ${iso(snapshotTimeMs)}: one snapshot_time for the whole snapshot`,
      );
    let q = 0;
    if (rate && !rate.isNull[r]) {
      q = rate.numbers![r]!;
      if (!Number.isFinite(q)) bad('rate', showValue(q), RULE_FINITE);
      else if (!(Math.abs(q) <= RATE_MAX))
        bad(
          'rate',
          showValue(q),
          ruleRange(`in [-${RATE_MAX}, ${RATE_MAX}]`, 'rate is continuously compounded per year, -100 % to +100 %'),
        );
    }
    if (log.violations.length > before) continue;
    underlyingId.set(u!, underlyings.length);
    underlyings.push(u!);
    indexPrice.push(x);
    rates.push(q);
  }
  if (snapshotRow < 0 && t.rows > 0 && log.onInvalid === 'skip')
    throw fileError(file, 'has no snapshot_time; expected one value for the whole snapshot', 'snapshot_time');
  return {
    named: new Set(firstSeen.keys()),
    snapshotTimeMs,
    underlyings,
    underlyingId,
    indexPrice: Float64Array.from(indexPrice),
    rate: Float64Array.from(rates),
  };
}

function checkInstruments(
  t: SmallTable,
  underlyingId: Map<string, number>,
  indexPrice: Float64Array,
  named: Set<string>,
  snapshotMs: number,
  uFile: string,
  log: ViolationLog,
  rejectedNames: Map<string, RejectedRow>,
  allowMissingMarkIv = false,
): Instruments {
  const file = t.file;
  const col = (n: string) => t.columns.get(n);
  const str = (n: string, r: number): string | null => col(n)?.strings![r] ?? null;
  const nul = (n: string, r: number): boolean => {
    const c = col(n);
    return !c || c.isNull[r] === 1;
  };
  const num = (n: string, r: number): number => col(n)?.numbers![r] ?? NaN;

  const names: string[] = [];
  const id = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const out = {
    underlying: [] as number[],
    kind: [] as number[],
    optionType: [] as number[],
    settlement: [] as number[],
    strike: [] as number[],
    expiryMs: [] as number[],
    tYears: [] as number[],
    markPrice: [] as number[],
    markIv: [] as number[],
    forward: [] as number[],
    bidPrice: [] as number[],
    askPrice: [] as number[],
    openInterest: [] as number[],
  };
  for (let r = 0; r < t.rows; r++) {
    const before = log.violations.length;
    const bad = (column: string, value: string | null, rule: string) => log.add(file, r, column, value, rule);
    /** a required finite number; returns NaN after recording a violation */
    const required = (c: string, rule: string | null, ok: (x: number) => boolean, forWhat?: string): number => {
      if (nul(c, r)) {
        bad(c, 'null', forWhat ? ruleRequiredFor(forWhat) : RULE_NULL);
        return NaN;
      }
      const x = num(c, r);
      if (!Number.isFinite(x)) {
        bad(c, showValue(x), RULE_FINITE);
        return NaN;
      }
      if (rule !== null && !ok(x)) {
        bad(c, showValue(x), rule);
        return NaN;
      }
      if (x > MAX_PRICE) {
        // every required number of the table is a price (E12)
        bad(c, showValue(x), ruleAtMost(c, MAX_PRICE, 'USD', 'E12'));
        return NaN;
      }
      return x;
    };
    /** an optional number: null or NaN mean absent, infinities are violations */
    const optional = (c: string): number => {
      if (nul(c, r)) return NaN;
      const x = num(c, r);
      if (x === Infinity || x === -Infinity) {
        bad(c, showValue(x), RULE_FINITE);
        return NaN;
      }
      return x;
    };

    const name = str('instrument', r);
    if (name === null) bad('instrument', 'null', RULE_NULL);
    else if (firstSeen.has(name))
      bad(
        'instrument',
        showValue(name),
        `is a duplicate: instrument must be unique (first at row ${firstSeen.get(name)})`,
      );
    else firstSeen.set(name, r);

    const und = str('underlying', r);
    let uid = -1;
    if (und === null) bad('underlying', 'null', RULE_NULL);
    else if (!underlyingId.has(und) && named.has(und)) {
      if (log.onInvalid === 'skip')
        bad('underlying', showValue(und), `was left out: its row in ${uFile} breaks a rule`);
    } else if (!underlyingId.has(und))
      bad(
        'underlying',
        showValue(und),
        `is not an underlying of ${uFile} (${[...underlyingId.keys()].join(', ') || 'none'})`,
      );
    else uid = underlyingId.get(und)!;

    const kindName = str('kind', r);
    const kind = kindName === null ? -1 : (KIND_NAMES as readonly string[]).indexOf(kindName);
    if (kindName === null) bad('kind', 'null', RULE_NULL);
    else if (kind < 0) bad('kind', showValue(kindName), ruleOneOf(KIND_NAMES));

    const settleName = str('settlement', r);
    const settlement = settleName === null ? -1 : (SETTLEMENT_NAMES as readonly string[]).indexOf(settleName);
    if (settleName === null) bad('settlement', 'null', RULE_NULL);
    else if (settlement < 0) bad('settlement', showValue(settleName), ruleOneOf(SETTLEMENT_NAMES));

    const markPrice = required('mark_price', ruleRange('>= 0', 'mark_price must not be negative'), (x) => x >= 0);
    const forward = required('forward', ruleRange('> 0', 'forward must be positive'), (x) => x > 0);

    let optionType = OPTION_NONE;
    let strike = NaN;
    let markIv = NaN;
    let expiryMs = NaN;
    if (kind === KIND_OPTION) {
      const ot = str('option_type', r);
      if (ot === null) bad('option_type', 'null', ruleRequiredFor('options'));
      else if (ot === 'C') optionType = OPTION_CALL;
      else if (ot === 'P') optionType = OPTION_PUT;
      else bad('option_type', showValue(ot), ruleOneOf(['C', 'P']));
      strike = required('strike', ruleRange('> 0', 'strike must be positive'), (x) => x > 0, 'options');
      // `--fill-iv surface` (missingMarkIv 'allow'): a null mark_iv is left NaN for the surface to fill
      // (src/pipeline/volSurface.ts); a present value still obeys every rule
      if (allowMissingMarkIv && nul('mark_iv', r)) markIv = NaN;
      else
        markIv = required(
          'mark_iv',
          ruleRange('in (0, 10]', 'mark_iv is a decimal volatility per year, 0 < mark_iv <= 10'),
          (x) => x > 0 && x <= 10,
          'options',
        );
    }
    if (kind === KIND_OPTION || kind === KIND_FUTURE) {
      if (nul('expiry', r)) bad('expiry', 'null', ruleRequiredFor('options and futures'));
      else {
        expiryMs = num('expiry', r);
        if (!(expiryMs >= TIME_MIN_MS && expiryMs < TIME_MAX_MS)) bad('expiry', iso(expiryMs), RULE_TIME);
        else if (!(expiryMs > snapshotMs) && Number.isFinite(snapshotMs)) {
          bad(
            'expiry',
            iso(expiryMs),
            `is not after snapshot_time ${iso(snapshotMs)}: instrument ${showValue(name)} expired at ${iso(expiryMs)}, before the snapshot at ${iso(snapshotMs)}`,
          );
        }
      }
    }
    if (uid >= 0 && Number.isFinite(forward)) {
      const index = indexPrice[uid]!;
      if (!(forward >= index / FORWARD_FACTOR && forward <= index * FORWARD_FACTOR))
        bad(
          'forward',
          showValue(forward),
          `is not within a factor ${FORWARD_FACTOR} of the index price of ${und} (${showValue(index)} in ${uFile}): a forward that far from its index is a unit or data error`,
        );
      else if (Number.isFinite(strike) && !(strike >= forward / STRIKE_FACTOR && strike <= forward * STRIKE_FACTOR))
        bad(
          'strike',
          showValue(strike),
          `is not within a factor ${STRIKE_FACTOR} of the forward (${showValue(forward)}): a strike that far from its forward is a unit or data error`,
        );
    }
    const bid = optional('bid_price');
    const ask = optional('ask_price');
    const oi = optional('open_interest');
    // E12, E13: quotes and open interest are not negative nor beyond their bounds, and ask >= bid
    const atLeast0 = (c: string, x: number, max: number, unit: string) => {
      if (x < 0) bad(c, showValue(x), ruleRange('>= 0', `${c} must not be negative (E12)`));
      else if (x > max) bad(c, showValue(x), ruleAtMost(c, max, unit, 'E12'));
    };
    atLeast0('bid_price', bid, MAX_PRICE, 'USD');
    atLeast0('ask_price', ask, MAX_PRICE, 'USD');
    atLeast0('open_interest', oi, MAX_OPEN_INTEREST, 'units of the underlying');
    if (ask < bid)
      bad(
        'ask_price',
        showValue(ask),
        ruleRange(`>= bid_price ${showValue(bid)}`, 'the ask must not be below the bid (E13)'),
      );

    if (log.violations.length > before) {
      // the first row of a name decides (later rows of it are duplicates): remember why it was left out
      if (log.onInvalid === 'skip' && name !== null && firstSeen.get(name) === r) {
        rejectedNames.set(name, log.rejected[log.rejected.length - 1]!);
      }
      continue;
    }
    id.set(name!, names.length);
    names.push(name!);
    out.underlying.push(uid);
    out.kind.push(kind);
    out.optionType.push(optionType);
    out.settlement.push(settlement === SETTLE_LINEAR ? SETTLE_LINEAR : SETTLE_INVERSE);
    out.strike.push(strike);
    out.expiryMs.push(kind === KIND_PERPETUAL ? NaN : expiryMs);
    out.tYears.push(kind === KIND_PERPETUAL ? 0 : (expiryMs - snapshotMs) / MS_PER_YEAR);
    out.markPrice.push(markPrice);
    out.markIv.push(markIv);
    out.forward.push(forward);
    out.bidPrice.push(bid);
    out.askPrice.push(ask);
    out.openInterest.push(oi);
  }
  return {
    count: names.length,
    name: names,
    id,
    underlying: Int32Array.from(out.underlying),
    kind: Uint8Array.from(out.kind),
    optionType: Uint8Array.from(out.optionType),
    settlement: Uint8Array.from(out.settlement),
    strike: Float64Array.from(out.strike),
    expiryMs: Float64Array.from(out.expiryMs),
    tYears: Float64Array.from(out.tYears),
    markPrice: Float64Array.from(out.markPrice),
    markIv: Float64Array.from(out.markIv),
    forward: Float64Array.from(out.forward),
    bidPrice: Float64Array.from(out.bidPrice),
    askPrice: Float64Array.from(out.askPrice),
    openInterest: Float64Array.from(out.openInterest),
  };
}
