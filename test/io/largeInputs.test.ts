/**
 * Many record batches and every account encoding give the same book: a seeded synthetic book
 * (test/fixtures/io/syntheticBook.ts, 6,000 rows in batches of 1,000) written with Utf8, dictionary
 * and Int64 accounts. Also: an empty positions table is an empty
 * book, not an error.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as A from 'apache-arrow';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadBook } from '../../src/io/loadBook.js';
import { tempDir, writeArrow, writeBook, writeMarket } from '../fixtures/io/arrowTables.js';
import { writeSynthetic } from '../fixtures/io/syntheticBook.js';

async function load(accountType: 'utf8' | 'dictionary' | 'int64') {
  const dir = join(tempDir(), accountType);
  mkdirSync(dir);
  writeSynthetic(dir, { instruments: 300, accounts: 500, positions: 6000, seed: 3, accountType, batchRows: 1000 });
  const { market } = await loadMarket(dir);
  return loadBook(market, join(dir, 'positions.arrow'), join(dir, 'balances.arrow'));
}

describe('multi-batch inputs', () => {
  test('Utf8, dictionary and Int64 accounts give the same book', async () => {
    const [u, d, i] = [await load('utf8'), await load('dictionary'), await load('int64')];
    expect(u.stats.positionRows).toBe(6000);
    expect(u.book.accountCount).toBe(500);
    for (const other of [d, i]) {
      expect(Array.from(other.book.accountStart)).toEqual(Array.from(u.book.accountStart));
      expect(Array.from(other.book.instrumentId)).toEqual(Array.from(u.book.instrumentId));
      expect(Array.from(other.book.quantity)).toEqual(Array.from(u.book.quantity));
      expect(Array.from(other.book.unitStart)).toEqual(Array.from(u.book.unitStart));
      expect(Array.from(other.balances.amount)).toEqual(Array.from(u.balances.amount));
      expect(other.stats.mergedPositionRows).toBe(u.stats.mergedPositionRows);
    }
    expect(u.book.accountKey[0]).toBe('acct-0000000');
    expect(i.book.accountKey[1]).toBe('1000000020');
  });
});

describe('empty tables', () => {
  test('a positions table with a schema and no rows is an empty book', async () => {
    const dir = writeMarket();
    const { market } = await loadMarket(dir);
    const f = writeBook(dir);
    writeArrow(
      f.positions,
      {
        account: { values: [], type: new A.Utf8() },
        instrument: { values: [], type: new A.Utf8() },
        quantity: { values: [], type: new A.Float64() },
      },
      'stream',
    );
    const { book, stats } = await loadBook(market, f.positions, f.balances);
    expect(stats.positionRows).toBe(0);
    expect(book.instrumentId.length).toBe(0);
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']); // from the balances
    expect(Array.from(book.accountStart)).toEqual([0, 0, 0, 0]);
  });

  test('an instruments table with no rows is refused', async () => {
    const dir = writeMarket((_u, i) => {
      for (const c of Object.values(i)) c.values = [];
    });
    await expect(loadMarket(dir)).rejects.toThrow(
      /instruments\.arrow: has no usable rows; expected at least one instrument/,
    );
  });
});
