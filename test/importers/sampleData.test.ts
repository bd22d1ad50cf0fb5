// The bundled markets (data/README.md) are exactly what the importer makes from the fixtures today:
// re-import and compare bytes, so the committed files cannot drift from the code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { main as importMain } from '../../src/cli/import.js';

const D = join(import.meta.dirname, '../fixtures/deribit');
const tmp = mkdtempSync(join(tmpdir(), 'me-sample-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = [
  'deribit',
  '--chain',
  join(D, 'deribit_options_snapshot_20260201T092323Z.csv'),
  '--futures',
  join(D, 'term_futures_marks_20260201T092323Z.csv'),
  '--perpetuals',
  join(D, 'perpetual_futures_prices_20260201T092323Z.csv'),
  '--quiet',
];

test.each([
  ['data/full/market', []],
  ['data/sample/market', ['--expiries', '6FEB26,27FEB26,27MAR26']],
])('%s is reproduced byte for byte', async (dir, extra) => {
  const out = join(tmp, dir.replaceAll('/', '_'));
  expect(await importMain([...base, ...extra, '--out', out])).toBe(0);
  for (const f of ['instruments.arrow', 'underlyings.arrow']) {
    expect(readFileSync(join(out, f)).equals(readFileSync(join(dir, f)))).toBe(true);
  }
});
