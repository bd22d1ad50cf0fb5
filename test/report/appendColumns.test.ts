/**
 * appendColumns writes NULLs into the validity mask 64 rows at a time: the NULL positions read back must
 * be exactly the NaN (DOUBLE) and negative (INTEGER) positions, across word (64-row) and chunk
 * (2,048-row) boundaries; values elsewhere round-trip exactly. Full chunks reuse one data chunk, so a
 * chunk's NULLs must not leak into the next (patterns with NULLs in one chunk only).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { appendColumns, CHUNK_ROWS } from '../../src/report/appendColumns.js';

const N = 3 * CHUNK_ROWS + 904; // four chunks, the last one partial
let inst: DuckDBInstance;
let c: DuckDBConnection;

beforeAll(async () => {
  inst = await DuckDBInstance.create(':memory:');
  c = await inst.connect();
});
afterAll(() => {
  c.closeSync();
  inst.closeSync();
});

const patterns: [string, (i: number) => boolean][] = [
  ['no nulls', () => false],
  ['word and chunk edges', (i) => [0, 31, 32, 63, 64, 127, 2047, 2048, 2049, 4095, 4096, N - 1].includes(i)],
  ['every 7th row', (i) => i % 7 === 3],
  ['all null', () => true],
  ['only the last row', (i) => i === N - 1],
  ['second chunk only', (i) => i >= CHUNK_ROWS && i < 2 * CHUNK_ROWS],
  ['first chunk only', (i) => i < CHUNK_ROWS],
  [
    'first chunk all, then every 3rd row of the third',
    (i) => i < CHUNK_ROWS || (i >= 2 * CHUNK_ROWS && i < 3 * CHUNK_ROWS && i % 3 === 0),
  ],
];

describe('appendColumns NULLs', () => {
  test.each(patterns)('%s', async (name, isNull) => {
    const table = `t_${name.replace(/\W/g, '_')}`;
    await c.run(`CREATE TABLE ${table} (i INTEGER, d DOUBLE, k INTEGER, s VARCHAR)`);
    const idx = new Int32Array(N);
    const d = new Float64Array(N);
    const k = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      idx[i] = i;
      d[i] = isNull(i) ? NaN : i * 0.25 - 7;
      k[i] = isNull(i) ? -1 : i % 35;
    }
    await appendColumns(
      c,
      table,
      [
        { type: 'INTEGER', values: idx },
        { type: 'DOUBLE', values: d, nanIsNull: true },
        { type: 'INTEGER', values: k, negativeIsNull: true },
        { type: 'VARCHAR', value: (i) => (isNull(i) ? null : `r${i}`) },
      ],
      N,
    );
    const r = await c.runAndReadAll(`SELECT i, d, k, s FROM ${table} ORDER BY i`);
    const rows = r.getRows();
    expect(rows).toHaveLength(N);
    const wrong: number[] = [];
    for (const [i, dv, kv, sv] of rows as [number, number | null, number | null, string | null][]) {
      const want = isNull(i) ? [null, null, null] : [i * 0.25 - 7, i % 35, `r${i}`];
      if (dv !== want[0] || kv !== want[1] || sv !== want[2]) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });

  // VARCHAR: strings (with NULLs); VARCHAR_BYTES: the same strings as UTF-8 bytes and offsets (a loaded book's
  // account keys), which have no NULLs: their NULL rows are the row number instead
  test.each(['VARCHAR', 'VARCHAR_BYTES'] as const)(
    'strings round-trip exactly (%s): inlined (≤ 12 UTF-8 bytes) and not, ASCII or not, empty, NUL, surrogate pairs, across reused chunks',
    async (form) => {
      const samples = [
        '',
        'a',
        'acct-0000123',
        'acct-00001234',
        'x'.repeat(40),
        'é'.repeat(6),
        'é'.repeat(7),
        '日本語',
        '日本語日本語',
        '😀',
        '😀😀😀',
        'a\u0000b',
        "o'neil",
        'ÿ',
        '\u007f\u0080',
      ];
      // the same row of consecutive chunks alternates long and short values (a reused chunk must not keep the last
      // one's bytes)
      const value = (i: number): string | null =>
        i % 11 === 10
          ? form === 'VARCHAR'
            ? null
            : `${i}`
          : samples[(i + Math.floor(i / CHUNK_ROWS)) % samples.length]! + (i % 3 === 0 ? '' : String(i % 5));
      const strs = `strs_${form}`;
      const expected = `expected_${form}`;
      await c.run(`CREATE TABLE ${strs} (i INTEGER, s VARCHAR)`);
      const idx = Int32Array.from({ length: N }, (_, i) => i);
      const utf8 = Array.from({ length: N }, (_, i) => Buffer.from(value(i) ?? '', 'utf8'));
      // the bytes a view at an offset into a larger buffer, the first string after 4 other bytes (as a book's keys
      // may be a part of what it read)
      const all = Buffer.concat([Buffer.from('xxxxxxx'), ...utf8]);
      const bytes = new Uint8Array(all.buffer, all.byteOffset + 3, all.length - 3);
      const offsets = new Int32Array(N + 1);
      offsets[0] = 4;
      for (let i = 0; i < N; i++) offsets[i + 1] = offsets[i]! + utf8[i]!.length;
      await appendColumns(
        c,
        strs,
        [
          { type: 'INTEGER', values: idx },
          form === 'VARCHAR' ? { type: 'VARCHAR', value } : { type: 'VARCHAR_BYTES', bytes, offsets },
        ],
        N,
      );
      const rows = (
        await c.runAndReadAll(`SELECT i, s, octet_length(encode(s))::INTEGER AS b FROM ${strs} ORDER BY i`)
      ).getRows() as [number, string | null, number | null][];
      expect(rows).toHaveLength(N);
      const wrong = rows.filter(([i, sv, b]) => sv !== value(i) || (sv !== null && b !== Buffer.byteLength(sv)));
      expect(wrong.slice(0, 5)).toEqual([]);
      // equal strings are equal to DuckDB too (inlined ones zero padded): one group per distinct value
      const distinct = (await c.runAndReadAll(`SELECT count(DISTINCT s)::INTEGER FROM ${strs}`)).getRows()[0]![0];
      expect(distinct).toBe(new Set(Array.from({ length: N }, (_, i) => value(i)).filter((x) => x !== null)).size);
      // and equal to the same strings made by DuckDB itself (zero padded): a join on every value finds every row
      const want = new Map<string, number>();
      for (let i = 0; i < N; i++) {
        const v = value(i);
        if (v !== null) want.set(v, (want.get(v) ?? 0) + 1);
      }
      await c.run(`CREATE TABLE ${expected} (v VARCHAR, n INTEGER)`);
      await c.run(
        `INSERT INTO ${expected} VALUES ${[...want].map(([v, n]) => `('${v.replace(/'/g, "''").replace(/\u0000/g, "' || chr(0) || '")}' , ${n})`).join(', ')}`,
      );
      const joined = (
        await c.runAndReadAll(`SELECT count(*)::INTEGER FROM ${strs} JOIN ${expected} ON s = v`)
      ).getRows()[0]![0];
      const matched = (
        await c.runAndReadAll(
          `SELECT count(*)::INTEGER FROM ${expected} e WHERE n = (SELECT count(*) FROM ${strs} WHERE s = e.v)`,
        )
      ).getRows()[0]![0];
      expect(joined).toBe(N - rows.filter(([, sv]) => sv === null).length);
      expect(matched).toBe(want.size);
    },
  );

  test('a column count different from the table is refused', async () => {
    await c.run('CREATE TABLE two (a INTEGER, b INTEGER)');
    await expect(appendColumns(c, 'two', [{ type: 'INTEGER', values: new Int32Array(1) }], 1)).rejects.toThrow(
      /has 2 columns, 1 given/,
    );
  });
});
