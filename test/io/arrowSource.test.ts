/**
 * Opening Arrow inputs: file and stream formats are detected by their first bytes; missing, empty,
 * truncated and non-Arrow files are refused with an InputError that names the file and what was
 * expected (docs/data.md, "Errors that are not about one row"), never Arrow's own "Unrecognized input".
 */
import { describe, expect, test } from 'vitest';
import * as A from 'apache-arrow';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArrow } from '../../src/io/arrowSource.js';
import { InputError } from '../../src/errors.js';
import { balanceCols, tempDir, writeArrow } from '../fixtures/io/arrowTables.js';

/** 0: every file streamed batch by batch; undefined: the default (small files read whole) */
type ReadMode = 0 | undefined;
const MODES: Array<[string, ReadMode]> = [
  ['read whole', undefined],
  ['streamed', 0],
];

async function readAllRows(
  file: string,
  wholeReadMax?: ReadMode,
): Promise<{ format: string; rows: number; fields: string[]; values: unknown[] }> {
  const src = await openArrow(file, wholeReadMax);
  let rows = 0;
  const values: unknown[] = [];
  for await (const b of src.batches()) {
    rows += b.numRows;
    values.push(...b.toArray().map((r) => r.toJSON()));
  }
  return { format: src.format, rows, fields: src.schema.fields.map((f) => f.name), values };
}

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('openArrow', () => {
  test.each(['file', 'stream'] as const)('reads the %s format, read whole or streamed alike', async (format) => {
    const f = writeArrow(join(tempDir(), 'balances.arrow'), balanceCols(), format);
    const whole = await readAllRows(f);
    expect(whole).toMatchObject({ format, rows: 4, fields: ['account', 'currency', 'amount'] });
    expect(whole.values).toHaveLength(4);
    expect(await readAllRows(f, 0)).toEqual(whole);
  });

  test('says whether it read the file whole: then every batch is a view of one buffer (loadBook reads in place)', async () => {
    const f = writeArrow(join(tempDir(), 'balances.arrow'), balanceCols(), 'file');
    for (const [max, whole] of [
      [undefined, true],
      [0, false],
    ] as const) {
      const src = await openArrow(f, max);
      expect(src.readWhole).toBe(whole);
      const buffers = new Set<ArrayBufferLike>();
      for await (const b of src.batches()) buffers.add((b.getChild('amount')!.data[0]!.values as Float64Array).buffer);
      if (whole) expect(buffers.size).toBe(1);
    }
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

  test.each(
    (
      [
        ['truncated.arrow', /truncated/],
        ['truncated-stream.arrow', /corrupt or truncated/],
        ['header-only.arrow', /truncated/],
        ['text.arrow', /is not Arrow \(it starts with the text "account,"\)/],
        ['empty.arrow', /is empty/],
        ['missing.arrow', /not found/],
        ['folder.arrow', /is a directory/],
      ] as Array<[string, RegExp]>
    ).flatMap(([name, why]) => MODES.map(([mode, max]) => [name, mode, max, why] as const)),
  )('%s (%s) is refused naming the file and what was expected', async (name, _mode, max, why) => {
    const file = join(dir, name);
    const e = await inputError(readAllRows(file, max));
    expect(e.message).toContain(file);
    expect(e.message).toMatch(why);
    expect(e.message).toContain('expected an Arrow IPC file');
    expect(e.message).not.toMatch(/unrecognized input/i);
    expect(e.violations[0]).toMatchObject({ file, row: null });
  });
});

describe('a string column whose offsets are damaged', () => {
  // apache-arrow writes the offsets as given: columns whose row 1 ends before it starts, in both offset
  // widths (Utf8: Int32, LargeUtf8: BigInt64), and one whose last string ends past its bytes
  const bytes = new TextEncoder().encode('abcde');
  const cases: Array<[string, () => A.Data, RegExp]> = [
    [
      'Utf8, falling',
      () => A.makeData({ type: new A.Utf8(), length: 3, valueOffsets: Int32Array.of(0, 3, 2, 5), data: bytes }),
      /column name: the offsets fall at row 1;/,
    ],
    [
      'LargeUtf8, falling',
      () =>
        A.makeData({ type: new A.LargeUtf8(), length: 3, valueOffsets: BigInt64Array.of(0n, 3n, 2n, 5n), data: bytes }),
      /column name: the offsets fall at row 1;/,
    ],
    [
      'Utf8, past the bytes',
      () => A.makeData({ type: new A.Utf8(), length: 3, valueOffsets: Int32Array.of(0, 1, 2, 9), data: bytes }),
      /column name: the strings end at byte 9 of a \d+-byte buffer;/,
    ],
  ];
  // a dictionary-encoded column: its dictionary's offsets, shared by every batch, checked in the first
  const dictionaryColumn = (offsets: Int32Array) => {
    const type = new A.Dictionary(new A.Utf8(), new A.Int32());
    const dictionary = A.makeVector(A.makeData({ type: new A.Utf8(), length: 3, valueOffsets: offsets, data: bytes }));
    return [0, 1].map((k) => A.makeData({ type, length: 3, data: Int32Array.of(k, 2, 1), dictionary }));
  };
  test('Dictionary<Int32, Utf8> whose dictionary falls: refused at its first batch', async () => {
    const file = join(tempDir(), 'damaged-dictionary.arrow');
    writeFileSync(
      file,
      A.tableToIPC(new A.Table({ name: A.makeVector(dictionaryColumn(Int32Array.of(0, 3, 2, 5))) }), 'file'),
    );
    const e = await inputError(readAllRows(file));
    expect(e.message).toContain(`${file}: is corrupt: record batch 0, column name: the offsets fall at row 1;`);
  });
  test('Dictionary<Int32, Utf8> over two batches, intact: every row read', async () => {
    const file = join(tempDir(), 'dictionary.arrow');
    writeFileSync(
      file,
      A.tableToIPC(new A.Table({ name: A.makeVector(dictionaryColumn(Int32Array.of(0, 1, 3, 5))) }), 'file'),
    );
    const all = await readAllRows(file);
    expect(all.rows).toBe(6);
    expect(all.values).toEqual(['a', 'de', 'bc', 'bc', 'de', 'bc'].map((name) => ({ name })));
  });

  test.each(cases)('%s: refused naming the batch, the column and the row', async (_name, make, why) => {
    const file = join(tempDir(), 'damaged.arrow');
    writeFileSync(file, A.tableToIPC(new A.Table({ name: A.makeVector(make()) }), 'file'));
    const e = await inputError(readAllRows(file));
    expect(e.message).toContain(`${file}: is corrupt: record batch 0, `);
    expect(e.message).toMatch(why);
  });
});
