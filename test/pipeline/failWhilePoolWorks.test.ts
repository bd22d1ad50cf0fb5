/**
 * A run that fails while the cpu pool still has work of it queued or in flight (every family is revalued
 * and every model's aggregation handed over ahead of the main thread): runMargin rejects with that
 * failure, nothing is written, and the pool's late answers do not surface as an uncaught error.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MARGIN_MODELS } from '../../src/margin/models.js';
import { runMargin } from '../../src/pipeline/runMargin.js';
import { main as generate } from '../../src/cli/generate.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'me-poolfail-'));
const book = join(dir, 'book');
// 30,000 accounts on the full chain: big enough that span's aggregation is still on its way back when
// span's prepare throws (the sample book is not; before the fix this crashed the process every time)
beforeAll(async () => {
  expect(
    await generate([
      '--market',
      join(ROOT, 'data/full/market'),
      '--accounts',
      '30000',
      '--seed',
      '3',
      '--out',
      book,
      '--quiet',
    ]),
  ).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a failure while the pool works ahead', () => {
  test.each([1, 2])(
    'span prepare throws, %i worker(s): the run rejects with it, no file, no uncaught error',
    async (workers) => {
      const uncaught: unknown[] = [];
      const onUncaught = (e: unknown) => {
        uncaught.push(e);
      };
      process.on('uncaughtException', onUncaught);
      const span = MARGIN_MODELS.span;
      const prepare = span.prepare;
      span.prepare = () => {
        throw new Error('injected failure in span prepare');
      };
      const db = join(dir, `fail-${workers}.duckdb`);
      try {
        await expect(
          runMargin({
            marketDir: join(ROOT, 'data/full/market'),
            positions: join(book, 'positions.arrow'),
            balances: join(book, 'balances.arrow'),
            models: ['deribit-pm', 'span'],
            backend: 'cpu',
            onInvalid: 'fail',
            db,
            workers,
          }),
        ).rejects.toThrow('injected failure in span prepare');
        await new Promise((r) => setTimeout(r, 300)); // the pool's late answers arrive
        expect(uncaught).toEqual([]);
        expect(existsSync(db)).toBe(false);
        expect(readdirSync(dir).filter((f) => f.startsWith(`fail-${workers}.duckdb`))).toEqual([]);
      } finally {
        span.prepare = prepare;
        process.off('uncaughtException', onUncaught);
      }
    },
    60_000,
  );
});
