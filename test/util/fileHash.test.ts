/** sha256File (src/util/fileHash.ts) against node:crypto over the whole file read at once. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { sha256File } from '../../src/util/fileHash.js';

const dir = mkdtempSync(join(tmpdir(), 'me-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sha256File', () => {
  test.each([0, 1, (256 << 10) - 1, 256 << 10, (256 << 10) + 1, 4 << 20, (4 << 20) + 1, 9_437_185])(
    'a file of %i bytes: the SHA-256 of all its bytes',
    (size) => {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
      const f = join(dir, `f-${size}.bin`);
      writeFileSync(f, bytes);
      expect(sha256File(f)).toBe(createHash('sha256').update(readFileSync(f)).digest('hex'));
    },
  );
  test('the known digest of "abc"', () => {
    const f = join(dir, 'abc.txt');
    writeFileSync(f, 'abc');
    expect(sha256File(f)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  test('a missing file throws', () => {
    expect(() => sha256File(join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});
