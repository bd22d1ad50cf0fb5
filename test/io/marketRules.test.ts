/**
 * One test per validation rule of docs/data.md for the market snapshot: each breaks one cell of a small
 * valid snapshot (test/fixtures/io/arrowTables.ts) and asserts the message names the file, the row
 * (0-based), the column, the value found and the rule.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { loadMarket } from '../../src/io/loadMarket.js';
import { InputError, formatViolation } from '../../src/errors.js';
import { EXPIRY_MS, SNAPSHOT_MS, writeMarket, type Cols } from '../fixtures/io/arrowTables.js';

type Edit = (u: Cols, i: Cols) => void;
const set = (c: Cols, column: string, row: number, value: unknown) => {
  c[column]!.values[row] = value;
};

/** [rule, file, edit, row, column, value as shown, words of the rule] */
const cases: [string, 'instruments' | 'underlyings', Edit, number, string, string, string][] = [
  [
    'instrument not null',
    'instruments',
    (_u, i) => set(i, 'instrument', 2, null),
    2,
    'instrument',
    'null',
    'the column is required',
  ],
  [
    'instrument unique',
    'instruments',
    (_u, i) => set(i, 'instrument', 3, 'BTC-27MAR26'),
    3,
    'instrument',
    '"BTC-27MAR26"',
    'must be unique (first at row 2)',
  ],
  [
    'underlying not null',
    'instruments',
    (_u, i) => set(i, 'underlying', 1, null),
    1,
    'underlying',
    'null',
    'the column is required',
  ],
  [
    'underlying in underlyings',
    'instruments',
    (_u, i) => set(i, 'underlying', 4, 'XRP'),
    4,
    'underlying',
    '"XRP"',
    'is not an underlying of',
  ],
  ['kind not null', 'instruments', (_u, i) => set(i, 'kind', 0, null), 0, 'kind', 'null', 'the column is required'],
  [
    'kind in its set',
    'instruments',
    (_u, i) => set(i, 'kind', 2, 'swap'),
    2,
    'kind',
    '"swap"',
    'is not one of option | future | perpetual',
  ],
  [
    'option_type in its set',
    'instruments',
    (_u, i) => set(i, 'option_type', 1, 'put'),
    1,
    'option_type',
    '"put"',
    'is not one of C | P',
  ],
  [
    'option_type required for options',
    'instruments',
    (_u, i) => set(i, 'option_type', 0, null),
    0,
    'option_type',
    'null',
    'required for options',
  ],
  [
    'settlement in its set',
    'instruments',
    (_u, i) => set(i, 'settlement', 5, 'usdc'),
    5,
    'settlement',
    '"usdc"',
    'is not one of inverse | linear',
  ],
  [
    'settlement not null',
    'instruments',
    (_u, i) => set(i, 'settlement', 6, null),
    6,
    'settlement',
    'null',
    'the column is required',
  ],
  ['strike > 0', 'instruments', (_u, i) => set(i, 'strike', 4, -2500), 4, 'strike', '-2500', 'is not > 0'],
  [
    'strike required for options',
    'instruments',
    (_u, i) => set(i, 'strike', 1, null),
    1,
    'strike',
    'null',
    'required for options',
  ],
  ['strike finite', 'instruments', (_u, i) => set(i, 'strike', 0, NaN), 0, 'strike', 'NaN', 'is not a finite number'],
  ['forward > 0', 'instruments', (_u, i) => set(i, 'forward', 3, 0), 3, 'forward', '0', 'is not > 0'],
  [
    'forward not null',
    'instruments',
    (_u, i) => set(i, 'forward', 2, null),
    2,
    'forward',
    'null',
    'the column is required',
  ],
  [
    'forward finite',
    'instruments',
    (_u, i) => set(i, 'forward', 2, Infinity),
    2,
    'forward',
    'Infinity',
    'is not a finite number',
  ],
  [
    'mark_price >= 0',
    'instruments',
    (_u, i) => set(i, 'mark_price', 0, -0.01),
    0,
    'mark_price',
    '-0.01',
    'is not >= 0',
  ],
  [
    'mark_price not null',
    'instruments',
    (_u, i) => set(i, 'mark_price', 5, null),
    5,
    'mark_price',
    'null',
    'the column is required',
  ],
  ['mark_iv > 0', 'instruments', (_u, i) => set(i, 'mark_iv', 0, 0), 0, 'mark_iv', '0', 'is not in (0, 10]'],
  ['mark_iv <= 10', 'instruments', (_u, i) => set(i, 'mark_iv', 1, 45), 1, 'mark_iv', '45', 'is not in (0, 10]'],
  [
    'mark_iv required for options',
    'instruments',
    (_u, i) => set(i, 'mark_iv', 6, null),
    6,
    'mark_iv',
    'null',
    'required for options',
  ],
  [
    'expiry required for futures',
    'instruments',
    (_u, i) => set(i, 'expiry', 2, null),
    2,
    'expiry',
    'null',
    'required for options and futures',
  ],
  [
    'optional numbers finite',
    'instruments',
    (_u, i) => set(i, 'ask_price', 2, Infinity),
    2,
    'ask_price',
    'Infinity',
    'is not a finite number',
  ],
  ['index_price > 0', 'underlyings', (u) => set(u, 'index_price', 1, -1), 1, 'index_price', '-1', 'is not > 0'],
  [
    'index_price not null',
    'underlyings',
    (u) => set(u, 'index_price', 0, null),
    0,
    'index_price',
    'null',
    'the column is required',
  ],
  [
    'index_price finite',
    'underlyings',
    (u) => set(u, 'index_price', 0, NaN),
    0,
    'index_price',
    'NaN',
    'is not a finite number',
  ],
  [
    'underlying unique',
    'underlyings',
    (u) => set(u, 'underlying', 1, 'BTC'),
    1,
    'underlying',
    '"BTC"',
    'must be unique (first at row 0)',
  ],
  [
    'a single snapshot_time',
    'underlyings',
    (u) => set(u, 'snapshot_time', 1, SNAPSHOT_MS + 1000),
    1,
    'snapshot_time',
    '2026-02-01T09:23:24.000Z',
    "differs from row 0's 2026-02-01T09:23:23.000Z",
  ],
  [
    'snapshot_time not null',
    'underlyings',
    (u) => set(u, 'snapshot_time', 0, null),
    0,
    'snapshot_time',
    'null',
    'the column is required',
  ],
  ['rate finite', 'underlyings', (u) => set(u, 'rate', 1, NaN), 1, 'rate', 'NaN', 'is not a finite number'],
  // E9: magnitudes the arithmetic holds (found by the fuzz suite, test/fuzz)
  [
    'E9 snapshot_time a date of this era (9e15 ms crashed the run: Invalid time value)',
    'underlyings',
    (u) => set(u, 'snapshot_time', 0, 2 ** 53 + 2),
    0,
    'snapshot_time',
    '9007199254740994 ms',
    'is not between 1970-01-01 and 2100-01-01',
  ],
  [
    'E9 expiry a date of this era',
    'instruments',
    (_u, i) => set(i, 'expiry', 2, Date.UTC(2500, 0, 1)),
    2,
    'expiry',
    '2500-01-01T00:00:00.000Z',
    'is not between 1970-01-01 and 2100-01-01',
  ],
  [
    'E9 rate within ±1 a year (-1e300 made every margin +∞)',
    'underlyings',
    (u) => set(u, 'rate', 1, -1e300),
    1,
    'rate',
    '-1e+300',
    'is not in [-1, 1]',
  ],
  [
    'E9 forward within a factor 10 of the index (5e-324 made margins NaN)',
    'instruments',
    (_u, i) => set(i, 'forward', 0, 5e-324),
    0,
    'forward',
    '5e-324',
    'is not within a factor 10 of the index price of BTC (78000',
  ],
  [
    'E9 strike within a factor 1000 of the forward (5e-324 made margins NaN)',
    'instruments',
    (_u, i) => set(i, 'strike', 1, 5e-324),
    1,
    'strike',
    '5e-324',
    'is not within a factor 1000 of the forward (78500)',
  ],
];

describe('market rules (docs/data.md, Validation)', () => {
  test.each(cases)('%s', async (_rule, table, edit, row, column, value, words) => {
    const dir = writeMarket(edit);
    const file = join(dir, `${table}.arrow`);
    const e = await loadMarket(dir).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.violations[0]).toMatchObject({ file, row, column, value });
    expect(err.violations[0]!.rule).toContain(words);
    expect(err.message).toContain(`${file} row ${row}, column ${column}: ${value} `);
  });

  test('an option that expired before the snapshot names the instrument and both times', async () => {
    const expired = Date.UTC(2026, 0, 30, 8, 0, 0);
    const dir = writeMarket((_u, i) => set(i, 'expiry', 1, expired));
    const e = (await loadMarket(dir).then(
      () => null,
      (x: unknown) => x,
    )) as InputError;
    expect(e).toBeInstanceOf(InputError);
    const line = formatViolation(e.violations[0]!);
    expect(line).toContain(`${join(dir, 'instruments.arrow')} row 1, column expiry: 2026-01-30T08:00:00.000Z`);
    expect(line).toContain('"BTC-27MAR26-80000-P"');
    expect(line).toContain('2026-02-01T09:23:23.000Z');
  });

  test('a future expiring exactly at the snapshot is not after it', async () => {
    const dir = writeMarket((_u, i) => set(i, 'expiry', 2, SNAPSHOT_MS));
    const e = (await loadMarket(dir).then(
      () => null,
      (x: unknown) => x,
    )) as InputError;
    expect(e.violations.map((v) => [v.row, v.column])).toEqual([[2, 'expiry']]);
  });

  test('every violation is listed, not only the first', async () => {
    const dir = writeMarket((u, i) => {
      set(i, 'strike', 0, -1);
      set(i, 'kind', 3, 'swap');
      set(u, 'index_price', 0, 0);
    });
    const e = (await loadMarket(dir).then(
      () => null,
      (x: unknown) => x,
    )) as InputError;
    expect(e.violations.map((v) => `${v.row}:${v.column}`).sort()).toEqual(['0:index_price', '0:strike', '3:kind']);
    expect(e.message.split('\n')[0]).toBe('3 input violations');
  });

  test('perpetuals and futures need no option columns; a perpetual needs no expiry', async () => {
    const { market } = await loadMarket(writeMarket());
    expect(Number.isNaN(market.instruments.strike[2])).toBe(true);
    expect(Number.isNaN(market.instruments.markIv[3])).toBe(true);
    expect(market.instruments.tYears[2]).toBeCloseTo((EXPIRY_MS - SNAPSHOT_MS) / (365 * 86_400_000), 15);
  });
});

describe('--on-invalid skip', () => {
  test('rows that break a rule are left out and recorded; an instrument of a rejected underlying goes too', async () => {
    const dir = writeMarket((u, i) => {
      set(u, 'index_price', 1, -1);
      set(i, 'strike', 0, -1);
    });
    const { market, rejected } = await loadMarket(dir, { onInvalid: 'skip' });
    expect(market.underlyings).toEqual(['BTC']);
    expect(market.instruments.name).toEqual([
      'BTC-27MAR26-80000-P',
      'BTC-27MAR26',
      'BTC-PERPETUAL',
      'BTC_USDC-27MAR26-70000-P',
    ]);
    expect(rejected.map((r) => [r.file.endsWith('underlyings.arrow') ? 'u' : 'i', r.row, r.column])).toEqual([
      ['u', 1, 'index_price'],
      ['i', 0, 'strike'],
      ['i', 4, 'underlying'],
      ['i', 5, 'underlying'],
    ]);
  });
});
