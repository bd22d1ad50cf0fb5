/**
 * Files read ahead by the command (src/io/prefetch.ts): openArrow takes the bytes read ahead when they are the
 * opened file's (same device, inode, size and times), reads the file itself when it was replaced or changed
 * meanwhile, and a file that cannot be read ahead is left to openArrow's own errors.
 */
import { describe, expect, test } from 'vitest';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArrow } from '../../src/io/arrowSource.js';
import { prefetchFile, takePrefetched } from '../../src/io/prefetch.js';
import { InputError } from '../../src/errors.js';
import { balanceCols, tempDir, writeArrow } from '../fixtures/io/arrowTables.js';

async function rows(file: string): Promise<unknown[]> {
  const src = await openArrow(file);
  const out: unknown[] = [];
  for await (const b of src.batches()) out.push(...b.toArray().map((r) => r.toJSON()));
  return out;
}

describe('prefetchFile', () => {
  test('reads the file whole, once: the bytes are the file, a second take is null', async () => {
    const f = writeArrow(join(tempDir(), 'balances.arrow'), balanceCols(), 'file');
    prefetchFile(f, 1 << 20);
    const bytes = await takePrefetched(f);
    expect(bytes).not.toBeNull();
    expect(Buffer.compare(bytes!.bytes, readFileSync(f))).toBe(0);
    expect(takePrefetched(f)).toBeNull();
  });

  test('a file larger than the limit, missing, or a directory is not read ahead', () => {
    const d = tempDir();
    const f = writeArrow(join(d, 'balances.arrow'), balanceCols(), 'file');
    prefetchFile(f, 16);
    expect(takePrefetched(f)).toBeNull();
    prefetchFile(join(d, 'missing.arrow'), 1 << 20);
    expect(takePrefetched(join(d, 'missing.arrow'))).toBeNull();
    prefetchFile(d, 1 << 20);
    expect(takePrefetched(d)).toBeNull();
  });

  test('openArrow reads the bytes read ahead: the same rows as without them', async () => {
    const f = writeArrow(join(tempDir(), 'balances.arrow'), balanceCols(), 'file');
    const plain = await rows(f);
    prefetchFile(f, 1 << 20);
    expect(await rows(f)).toEqual(plain);
    expect(takePrefetched(f)).toBeNull(); // openArrow took them
  });

  test('a file replaced by another of the same size after the read ahead: the new file is read', async () => {
    const d = tempDir();
    const f = writeArrow(join(d, 'balances.arrow'), balanceCols(), 'file');
    prefetchFile(f, 1 << 20);
    await new Promise((r) => setTimeout(r, 50));
    const cols = balanceCols();
    cols.amount!.values = [2.5, 20000, 700, -0.75];
    const other = writeArrow(join(d, 'other.arrow'), cols, 'file');
    expect(readFileSync(other).length).toBe(readFileSync(f).length);
    renameSync(other, f);
    const got = (await rows(f)) as { amount: number }[];
    expect(got.map((r) => r.amount)).toEqual([2.5, 20000, 700, -0.75]);
  });

  test('a file that changed size after the read ahead is read again (here: now truncated, refused)', async () => {
    const d = tempDir();
    const f = writeArrow(join(d, 'balances.arrow'), balanceCols(), 'file');
    prefetchFile(f, 1 << 20);
    await new Promise((r) => setTimeout(r, 50));
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, bytes.length - 10));
    appendFileSync(f, Buffer.alloc(3));
    const e = await openArrow(f).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(/does not end with ARROW1/);
  });
});
