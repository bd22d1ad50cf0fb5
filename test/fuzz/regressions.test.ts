/**
 * Cases the fuzz suite found, kept as fixed tests: each once hung or killed the process, and now is an
 * InputError naming the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openArrow } from '../../src/io/arrowSource.js';
import { paramsFromJson } from '../../src/params/loadParams.js';
import { InputError } from '../../src/errors.js';
import { writeCase, type TableCase, type TableName } from './arbitraries.js';

const dir = mkdtempSync(join(tmpdir(), 'me-fuzz-regr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the table of `c` and reads every batch. */
async function readAll(name: TableName, c: TableCase): Promise<unknown> {
  const f = join(dir, `${name}.arrow`);
  writeCase(f, name, c);
  try {
    const src = await openArrow(f);
    for await (const _ of src.batches());
    return null;
  } catch (e) {
    return e;
  }
}

describe('damaged Arrow files the fuzz suite found', () => {
  test('a flipped continuation marker of the first record batch: InputError, not an endless loop', async () => {
    // apache-arrow's file reader seeks to the block again and again when its message is not a record batch
    const e = await readAll('instruments', { edits: [], damage: { kind: 'flip', at: 0.004, xor: 32 } });
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/instruments\.arrow: is corrupt or truncated: record batch 0/);
  });

  test('a flipped byte in the length of the footer schema fields: InputError, not out of memory', async () => {
    // the schema decoder read 100,663,296 fields out of 272 bytes of footer
    const e = await readAll('balances', { edits: [{ op: 'empty' }], damage: { kind: 'flip', at: 0.713, xor: 3 } });
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/balances\.arrow: is corrupt or truncated: .*vector of 100663296 elements/);
  });

  test('a flipped byte in the offsets of a string column: InputError, not a RangeError in the loader', async () => {
    const e = await readAll('positions', {
      edits: [
        { op: 'duplicate', row: 0, times: 1 },
        { op: 'extra', name: 'note' },
      ],
      damage: { kind: 'flip', at: 0.307, xor: 1 },
    });
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/positions\.arrow: is corrupt: record batch 0, column \w+: /);
  });
});

describe('parameter files the fuzz suite found', () => {
  test.each([
    ['deribit_pm', 'buckets_count'], // a typed array of 6e9 scenarios: exit 1
    ['var', 'mc_degrees_of_freedom'], // 1e9 normals per scenario: ran for ever
  ])('%s.%s 1e9 is refused, naming the parameter (at most 1000)', (section, key) => {
    const e = (() => {
      try {
        paramsFromJson({ version: 1, [section]: { [key]: 1e9 } }, 'p.json');
        return null;
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toContain(`p.json parameter ${section}.${key}: 1000000000 is out of range`);
    expect((e as Error).message).toContain('≤ 1000');
    expect(() => paramsFromJson({ version: 1, [section]: { [key]: 1000 } }, 'p.json')).not.toThrow();
  });
});
