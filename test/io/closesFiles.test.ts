/**
 * The loaders close every file they open, on bad input too: a bad balances file must not leave the
 * positions file open until garbage collection (found by the fuzz suite, test/fuzz/).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadBook } from '../../src/io/loadBook.js';
import { InputError } from '../../src/errors.js';
import { writeBook, writeMarket } from '../fixtures/io/arrowTables.js';

const openFiles = () => readdirSync('/proc/self/fd').length;

describe.skipIf(!existsSync('/proc/self/fd'))('files opened by the loaders are closed', () => {
  test.each([
    ['balances.arrow is not Arrow', 'balances.arrow', 'alice,BTC,1\n'],
    ['balances.arrow is empty', 'balances.arrow', ''],
    ['positions.arrow is not Arrow', 'positions.arrow', 'alice,BTC-PERPETUAL,1\n'],
  ])('%s: InputError, and as many open files as before', async (_, file, text) => {
    const dir = writeMarket();
    const book = writeBook(dir);
    writeFileSync(join(dir, file), text);
    const { market } = await loadMarket(dir);
    const before = openFiles();
    for (let i = 0; i < 5; i++)
      await expect(loadBook(market, book.positions, book.balances)).rejects.toBeInstanceOf(InputError);
    expect(openFiles()).toBe(before);
  });
});
