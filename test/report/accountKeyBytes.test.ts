/**
 * A loaded book whose account keys came in order keeps them as bytes (PositionBook.accountKeyBytes); a run sends
 * the report those bytes, which its thread appends as they are (appendColumns VARCHAR_BYTES): the accounts table
 * holds the same keys as the book, in the same ids, as a run whose keys were strings.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunOutcome } from '../../src/pipeline/runMargin.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, rmTmp, runSampleBook, tmpDir } from './helpers.js';

let dir: string;
let outcome: RunOutcome;
beforeAll(async () => {
  dir = tmpDir();
  outcome = await runSampleBook(join(dir, 'bytes.duckdb'));
}, 120_000);
afterAll(() => rmTmp(dir));

describe('account keys as bytes', () => {
  test("the sample book's keys came in order: the run sent their bytes, and the report holds the book's keys", async () => {
    const book = outcome.book;
    expect(book.accountKeyBytes).toBeDefined();
    const rows = await query(
      join(dir, 'bytes.duckdb'),
      'SELECT account_id, account FROM accounts WHERE run_id = 1 ORDER BY account_id',
    );
    expect(rows.map((r) => r.account)).toEqual(book.accountKey);
    expect(rows.map((r) => r.account_id)).toEqual(book.accountKey.map((_, a) => a));
  });

  test('keys given as strings are written as they are (writeRun)', async () => {
    const run = sampleRun();
    const f = join(dir, 'strings.duckdb');
    await writeRun(f, run);
    const rows = await query(f, 'SELECT account FROM accounts WHERE run_id = 1 ORDER BY account_id');
    expect(rows.map((r) => r.account)).toEqual(run.accountKey);
  });
});
