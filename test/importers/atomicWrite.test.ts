// Output files are written through temp files renamed into place only when every file of the set is
// written (issue 2: "never a half-written file").
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { writeFilesAtomic } from '../../src/importers/atomicWrite.js';

const tmp = mkdtempSync(join(tmpdir(), 'me-atomic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('writes every file, creating the directory, and leaves no temp file', () => {
  const dir = join(tmp, 'ok', 'nested');
  writeFilesAtomic([
    { path: join(dir, 'a.arrow'), bytes: Uint8Array.of(1, 2) },
    { path: join(dir, 'b.arrow'), bytes: Uint8Array.of(3) },
  ]);
  expect(readdirSync(dir).sort()).toEqual(['a.arrow', 'b.arrow']);
  expect([...readFileSync(join(dir, 'a.arrow'))]).toEqual([1, 2]);
});

test('when a later file cannot be written, nothing is renamed, the old file stays, and temps are removed', () => {
  const dir = join(tmp, 'fail');
  writeFilesAtomic([{ path: join(dir, 'a.arrow'), bytes: Uint8Array.of(9) }]);
  const notADir = join(tmp, 'plain-file');
  writeFileSync(notADir, 'x');
  expect(() =>
    writeFilesAtomic([
      { path: join(dir, 'a.arrow'), bytes: Uint8Array.of(1, 2, 3) },
      { path: join(notADir, 'b.arrow'), bytes: Uint8Array.of(4) }, // parent is a file: ENOTDIR / EEXIST
    ]),
  ).toThrow();
  expect(readdirSync(dir)).toEqual(['a.arrow']);
  expect([...readFileSync(join(dir, 'a.arrow'))]).toEqual([9]);
});
