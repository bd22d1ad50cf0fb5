/**
 * Opening Arrow inputs: file and stream formats are detected by their first bytes; missing, empty,
 * truncated and non-Arrow files are refused with an InputError that names the file and what was
 * expected (DATA.md, "Errors that are not about one row"), never Arrow's own "Unrecognized input".
 */
import { describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArrow } from '../../src/io/arrowSource.js';
import { InputError } from '../../src/errors.js';
import { balanceCols, tempDir, writeArrow } from '../fixtures/io/arrowTables.js';

async function readAllRows(file: string): Promise<{ format: string; rows: number; fields: string[] }> {
  const src = await openArrow(file);
  let rows = 0;
  for await (const b of src.batches()) rows += b.numRows;
  return { format: src.format, rows, fields: src.schema.fields.map((f) => f.name) };
}

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('openArrow', () => {
  test.each(['file', 'stream'] as const)('reads the %s format', async (format) => {
    const f = writeArrow(join(tempDir(), 'balances.arrow'), balanceCols(), format);
    expect(await readAllRows(f)).toEqual({ format, rows: 4, fields: ['account', 'currency', 'amount'] });
  });

  const dir = tempDir();
  const good = writeArrow(join(dir, 'good.arrow'), balanceCols(), 'file');
  const goodStream = writeArrow(join(dir, 'good-stream.arrow'), balanceCols(), 'stream');
  const bytes = readFileSync(good);
  const streamBytes = readFileSync(goodStream);
  writeFileSync(join(dir, 'truncated.arrow'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  writeFileSync(join(dir, 'truncated-stream.arrow'), streamBytes.subarray(0, streamBytes.length - 40));
  writeFileSync(join(dir, 'header-only.arrow'), bytes.subarray(0, 8));
  writeFileSync(join(dir, 'text.arrow'), 'account,currency,amount\nalice,BTC,1.5\n');
  writeFileSync(join(dir, 'empty.arrow'), '');
  mkdirSync(join(dir, 'folder.arrow'));

  test.each([
    ['truncated.arrow', /truncated/],
    ['truncated-stream.arrow', /corrupt or truncated/],
    ['header-only.arrow', /truncated/],
    ['text.arrow', /is not Arrow \(it starts with the text "account,"\)/],
    ['empty.arrow', /is empty/],
    ['missing.arrow', /not found/],
    ['folder.arrow', /is a directory/],
  ])('%s is refused naming the file and what was expected', async (name, why) => {
    const file = join(dir, name);
    const e = await inputError(readAllRows(file));
    expect(e.message).toContain(file);
    expect(e.message).toMatch(why);
    expect(e.message).toContain('expected an Arrow IPC file');
    expect(e.message).not.toMatch(/unrecognized input/i);
    expect(e.violations[0]).toMatchObject({ file, row: null });
  });
});
