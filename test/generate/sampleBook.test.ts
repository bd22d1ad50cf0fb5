// The bundled book (data/sample/book, data/README.md) is exactly what
// `generate --market data/sample/market --accounts 1000 --seed 1` makes today.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { main as generateMain } from '../../src/cli/generate.js';

const tmp = mkdtempSync(join(tmpdir(), 'me-samplebook-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('data/sample/book is reproduced byte for byte', async () => {
  expect(
    await generateMain([
      '--market',
      'data/sample/market',
      '--accounts',
      '1000',
      '--seed',
      '1',
      '--out',
      tmp,
      '--quiet',
    ]),
  ).toBe(0);
  for (const f of ['positions.arrow', 'balances.arrow']) {
    expect(readFileSync(join(tmp, f)).equals(readFileSync(join('data/sample/book', f)))).toBe(true);
  }
});
