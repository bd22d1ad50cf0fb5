/**
 * The readers accept every type variant docs/data.md allows and round-trip its values: file and stream
 * format; timestamps in s, ms, us, ns with time zone null or UTC; strings plain, LargeUtf8 or
 * dictionary-encoded; integer columns for Float64 ones; Utf8 or Int64 accounts. Types that do not
 * convert without loss are refused naming file, column, found and expected type.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadBook } from '../../src/io/loadBook.js';
import { InputError } from '../../src/errors.js';
import { MS_PER_YEAR } from '../../src/model/market.js';
import { writeFileSync } from 'node:fs';
import {
  EXPIRY_MS,
  SNAPSHOT_MS,
  dict,
  positionCols,
  tempDir,
  writeBook,
  writeMarket,
  type Cols,
} from '../fixtures/io/arrowTables.js';

async function refused(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('formats', () => {
  test.each(['file', 'stream'] as const)('market and book in the %s format load the same values', async (format) => {
    const dir = writeMarket(undefined, format);
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, undefined, format);
    const { book, balances } = await loadBook(market, f.positions, f.balances);
    expect(market.instruments.count).toBe(7);
    expect(market.snapshotTimeMs).toBe(SNAPSHOT_MS);
    expect(Array.from(market.indexPrice)).toEqual([78000, 2400]);
    expect(Array.from(market.rate)).toEqual([0, 0.01]);
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']);
    expect(Array.from(book.quantity)).toEqual([3, 10, -2, 0.5, 3]);
    expect(Array.from(balances.amount.subarray(0, 5))).toEqual([1.5, 0, 0, 10000, 0]);
  });
});

describe('timestamps', () => {
  const units = [
    ['s', (tz: string | null) => new A.TimestampSecond(tz)],
    ['ms', (tz: string | null) => new A.TimestampMillisecond(tz)],
    ['us', (tz: string | null) => new A.TimestampMicrosecond(tz)],
    ['ns', (tz: string | null) => new A.TimestampNanosecond(tz)],
  ] as const;
  const cases = units.flatMap(([unit, make]) => [null, 'UTC'].map((tz) => [unit, tz, make] as const));
  test.each(cases)('unit %s, time zone %s: snapshot and expiry exact to the ms', async (_unit, tz, make) => {
    const dir = writeMarket((u, i) => {
      u.snapshot_time!.type = make(tz);
      i.expiry!.type = make(tz);
    });
    const { market } = await loadMarket(dir);
    expect(market.snapshotTimeMs).toBe(SNAPSHOT_MS);
    expect(market.instruments.expiryMs[0]).toBe(EXPIRY_MS);
    expect(market.instruments.tYears[0]).toBe((EXPIRY_MS - SNAPSHOT_MS) / MS_PER_YEAR);
    expect(Number.isNaN(market.instruments.expiryMs[3])).toBe(true); // the perpetual
    expect(market.instruments.tYears[3]).toBe(0);
  });

  test.each(['America/New_York', '+01:00'])('time zone %s is refused naming file, column and zone', async (tz) => {
    const dir = writeMarket((_u, i) => {
      i.expiry!.type = new A.TimestampMillisecond(tz);
    });
    const e = await refused(loadMarket(dir));
    expect(e.message).toContain('instruments.arrow');
    expect(e.message).toContain('column expiry');
    expect(e.message).toContain(JSON.stringify(tz));
  });

  test('a Float64 snapshot_time is refused naming found and expected types', async () => {
    const dir = writeMarket((u) => {
      u.snapshot_time = { values: [1, 1], type: new A.Float64() };
    });
    const e = await refused(loadMarket(dir));
    expect(e.message).toMatch(/underlyings\.arrow: column snapshot_time has type Float64, expected Timestamp/);
  });
});

describe('strings', () => {
  test.each([
    ['Utf8', () => new A.Utf8()],
    ['LargeUtf8', () => new A.LargeUtf8()],
    ['Dictionary<Int32, Utf8>', () => dict()],
    ['Dictionary<Int8, Utf8>', () => new A.Dictionary(new A.Utf8(), new A.Int8())],
  ])('%s string columns in every table', async (_name, make) => {
    const strings = (c: Cols) => {
      for (const k of Object.keys(c)) if (c[k]!.type instanceof A.Utf8) c[k]!.type = make();
    };
    const dir = writeMarket((u, i) => {
      strings(u);
      strings(i);
    });
    const { market } = await loadMarket(dir);
    expect(market.instruments.name[4]).toBe('ETH-27MAR26-2500-C');
    expect(Array.from(market.instruments.kind)).toEqual([0, 0, 1, 2, 0, 2, 0]);
    expect(Array.from(market.instruments.optionType)).toEqual([1, 2, 0, 0, 1, 0, 2]);
    expect(Array.from(market.instruments.settlement)).toEqual([0, 0, 0, 0, 0, 1, 1]);
    const f = writeBook(dir, (p, b) => {
      strings(p);
      strings(b);
    });
    const { book, balances } = await loadBook(market, f.positions, f.balances);
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']);
    expect(Array.from(book.instrumentId)).toEqual([0, 4, 5, 2, 3]);
    expect(balances.amount[1 * 5 + 4]).toBe(500);
  });

  test('a dictionary account column and a plain one in the other file agree on ids', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, (p) => {
      p.account!.type = dict();
    });
    const { book, balances } = await loadBook(market, f.positions, f.balances);
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']);
    expect(balances.amount[2 * 5 + 0]).toBe(-0.25);
  });
});

/**
 * Writes `file` as positionCols' positions with the account column through a dictionary: `dictionary`'s entries,
 * row r naming entry `indices[r]` (7 rows).
 */
function writeDictionaryAccounts(file: string, dictionary: string[], indices: Int32Array): void {
  const account = A.makeVector(
    A.makeData({
      type: new A.Dictionary(new A.Utf8(), new A.Int32()),
      length: 7,
      nullCount: 0,
      data: indices,
      dictionary: A.vectorFromArray(dictionary, new A.Utf8()),
    }),
  );
  const t = new A.Table({
    account,
    ...Object.fromEntries(
      Object.entries(positionCols())
        .filter(([k]) => k !== 'account')
        .map(([k, c]) => [k, A.vectorFromArray(c.values as never[], c.type as never)]),
    ),
  });
  writeFileSync(file, A.tableToIPC(t, 'file'));
}

describe('account keys kept as bytes', () => {
  test('keys that come in order (a sorted dictionary, ASCII): the book keeps their bytes and decodes the same keys when read; keys out of order are strings', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir);
    // positionCols' accounts ['carol', 'alice', 'bob', 'alice', 'alice', 'carol', 'bob'] through a sorted dictionary
    const keys = ['alice', 'bob', 'carol'];
    const p = positionCols();
    writeDictionaryAccounts(
      f.positions,
      keys,
      Int32Array.from((p.account!.values as string[]).map((k) => keys.indexOf(k))),
    );
    const sorted = await loadBook(market, f.positions, f.balances);
    const plain = await loadBook(market, writeBook(tempDir()).positions, f.balances);
    expect(plain.book.accountKeyBytes).toBeUndefined();
    const bytes = sorted.book.accountKeyBytes!;
    expect(Buffer.from(bytes.bytes).toString('latin1')).toBe('alicebobcarol');
    expect(Array.from(bytes.offsets)).toEqual([0, 5, 8, 13]);
    expect(sorted.book.accountKey).toEqual(['alice', 'bob', 'carol']);
    expect(sorted.book.accountKey).toBe(sorted.book.accountKey); // decoded once
    expect(Array.from(sorted.book.accountStart)).toEqual(Array.from(plain.book.accountStart));
    expect(Array.from(sorted.book.quantity)).toEqual(Array.from(plain.book.quantity));
    expect(Array.from(sorted.balances.amount)).toEqual(Array.from(plain.balances.amount));
  });
});

describe('dictionaries adopted whole', () => {
  test('a dictionary that repeats an account key gives one account for both entries (positions merged)', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir);
    // positionCols' accounts ['carol', 'alice', 'bob', 'alice', 'alice', 'carol', 'bob'] through a
    // dictionary holding 'alice' twice (entries 1 and 3), rows 1 and 3 using either entry
    writeDictionaryAccounts(f.positions, ['carol', 'alice', 'bob', 'alice'], Int32Array.from([0, 1, 2, 3, 3, 0, 2]));
    const { book, stats } = await loadBook(market, f.positions, f.balances);
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']);
    // alice: ETH_USDC-PERPETUAL (row 1, entry 1) and BTC-27MAR26-80000-C + ETH-27MAR26-2500-C (rows 3, 4, entry 3)
    const plain = await loadBook(market, writeBook(tempDir()).positions, f.balances);
    expect(Array.from(book.accountStart)).toEqual(Array.from(plain.book.accountStart));
    expect(Array.from(book.instrumentId)).toEqual(Array.from(plain.book.instrumentId));
    expect(Array.from(book.quantity)).toEqual(Array.from(plain.book.quantity));
    expect(stats.mergedPositionRows).toBe(plain.stats.mergedPositionRows);
  });
});

describe('numbers', () => {
  test.each([
    ['Int8', () => new A.Int8()],
    ['Int16', () => new A.Int16()],
    ['Int32', () => new A.Int32()],
    ['Int64', () => new A.Int64()],
    ['Uint8', () => new A.Uint8()],
    ['Uint32', () => new A.Uint32()],
    ['Uint64', () => new A.Uint64()],
    ['Float32', () => new A.Float32()],
  ])('an integer or Float32 quantity column (%s) reads as float64', async (name, make) => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, (p) => {
      const q = name.startsWith('Ui') ? [1, 2, 0, 3, 10, 2, 5] : [1, -2, 0, 3, 10, 2, 5];
      p.quantity = { values: name.endsWith('64') ? q.map(BigInt) : q, type: make() };
    });
    const { book } = await loadBook(market, f.positions, f.balances);
    expect(Array.from(book.quantity)).toEqual(name.startsWith('Ui') ? [3, 10, 2, 5, 3] : [3, 10, -2, 5, 3]);
  });

  test('an Int32 strike column reads as float64', async () => {
    const dir = writeMarket((_u, i) => {
      i.strike!.type = new A.Int32();
    });
    const { market } = await loadMarket(dir);
    expect(market.instruments.strike[4]).toBe(2500);
  });

  test('a Utf8 quantity column is refused naming file, column, found and expected type', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, (p) => {
      p.quantity = { values: ['1', '-2', '0', '3', '10', '2', '5'], type: new A.Utf8() };
    });
    const e = await refused(loadBook(market, f.positions, f.balances));
    expect(e.message).toContain(`${f.positions}: column quantity has type Utf8, expected Float64`);
    expect(e.violations[0]).toMatchObject({ file: f.positions, row: null, column: 'quantity' });
  });
});

describe('accounts', () => {
  test('Int64 accounts are numbered numerically (negative and beyond 2^53 included) and keyed as decimals', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const big = 9007199254740993n; // 2^53 + 1: not a float64
    const f = writeBook(dir, (p, b) => {
      p.account = { values: [big, 10n, -5n, 10n, 10n, big, -5n], type: new A.Int64() };
      b.account = { values: [10n, 10n, -5n, 2n], type: new A.Int64() };
    });
    const { book, balances } = await loadBook(market, f.positions, f.balances);
    expect(book.accountKeyType).toBe('int64');
    expect(book.accountKey).toEqual(['-5', '2', '10', big.toString()]);
    expect(Array.from(book.accountStart)).toEqual([0, 1, 1, 4, 5]);
    expect(balances.amount[1 * 5 + 0]).toBe(-0.25); // account 2 holds the BTC loan
  });

  test('Utf8 accounts are numbered by code unit order', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, (p, b) => {
      p.account!.values = ['b', 'B', 'a', 'B', 'B', 'b', 'a'];
      b.account!.values = ['B', 'B', 'a', 'é'];
    });
    const { book } = await loadBook(market, f.positions, f.balances);
    expect(book.accountKey).toEqual(['B', 'a', 'b', 'é']);
  });

  test('Utf8 positions with Int64 balances are refused naming the balances file', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir, (_p, b) => {
      b.account = { values: [1n, 1n, 2n, 3n], type: new A.Int64() };
    });
    const e = await refused(loadBook(market, f.positions, f.balances));
    expect(e.message).toContain(`${f.balances}: column account has type Int64, expected Utf8`);
  });
});

describe('columns', () => {
  test('unknown extra columns are ignored and listed once as a warning', async () => {
    const dir = writeMarket((_u, i) => {
      i.delta = { values: [0.5, -0.5, 1, 1, 0.4, 1, -0.2], type: new A.Float64() };
      i.comment = { values: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], type: new A.Utf8() };
    });
    const { warnings } = await loadMarket(dir);
    expect(warnings).toEqual([`${join(dir, 'instruments.arrow')}: unknown columns ignored: delta, comment`]);
  });

  test('a missing required column is refused naming file and column', async () => {
    const dir = writeMarket((_u, i) => {
      delete i.forward;
    });
    const e = await refused(loadMarket(dir));
    expect(e.message).toContain(`${join(dir, 'instruments.arrow')}: required column forward is missing`);
  });

  test('a missing optional column reads as absent (NaN)', async () => {
    const dir = writeMarket((u, i) => {
      delete i.bid_price;
      delete u.rate;
    });
    const { market } = await loadMarket(dir);
    expect(Array.from(market.instruments.bidPrice).every(Number.isNaN)).toBe(true);
    expect(Array.from(market.rate)).toEqual([0, 0]);
  });
});
