/**
 * `margin-engine sql` (issue 15): read-only SQL on a report with what `npm install` brought, as a table,
 * CSV or JSON; a file that is not a report, a missing file and bad SQL exit 2 with one clear message; a
 * query can neither change the report nor touch other files.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { cli } from '../../src/cli/main.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { reportState, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let db: string;
let before: Record<string, number>;

beforeAll(async () => {
  dir = tmpDir();
  db = join(dir, 'report.duckdb');
  await writeRun(db, sampleRun());
  before = await reportState(db);
});
afterAll(() => rmTmp(dir));

/** Runs the CLI, capturing stdout and stderr. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await cli(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('margin-engine sql', () => {
  test('a table: the columns, aligned rows and the row count', async () => {
    const r = await run(['sql', '--db', db, "SELECT run_id, 1.5::DOUBLE AS x, NULL AS n, 'ok' AS s FROM runs"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run_id +x +n +s$/);
    expect(lines[2]).toMatch(/^ +1 +1\.5 +NULL +ok$/);
    expect(lines[lines.length - 1]).toBe('(1 row)');
  });

  test('--csv: a header and RFC 4180 quoting; NULL is empty', async () => {
    const r = await run(['sql', '--db', db, '--csv', "SELECT 'a,b' AS s, NULL AS n, 2 AS k"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('s,n,k\n"a,b",,2\n');
  });

  test('--json: an array of objects, integers as numbers, lists kept', async () => {
    const r = await run(['sql', '--db', db, '--json', 'SELECT run_id, [1, 2] AS l, 2::HUGEINT AS h FROM runs']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ run_id: 1, l: [1, 2], h: 2 }]);
  });

  test('bad SQL: exit 2, one line naming the report and DuckDB’s reason', async () => {
    const r = await run(['sql', '--db', db, 'SELEC 1']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `margin-engine sql: ${db}: the query fails: Parser Error: syntax error at or near "SELEC" (LINE 1: SELEC 1)\n`,
    );
  });

  test('a write, a COPY to a file and reading another file are refused (exit 2); the report is unchanged', async () => {
    const size = statSync(db).size;
    for (const q of [
      'DELETE FROM runs',
      `COPY runs TO '${join(dir, 'x.csv')}'`,
      "SELECT * FROM read_csv('/etc/hostname')",
    ]) {
      const r = await run(['sql', '--db', db, q]);
      expect(r.code, q).toBe(2);
      expect(r.err).toMatch(/the query fails: (Invalid Input|Permission) Error/);
    }
    expect(statSync(db).size).toBe(size);
    expect(await reportState(db)).toEqual(before);
  });

  test('not a report: a DuckDB database without schema_meta, a text file, a missing file: exit 2 naming it', async () => {
    const other = join(dir, 'other.duckdb');
    const inst = await DuckDBInstance.create(other);
    const c = await inst.connect();
    await c.run('CREATE TABLE trades (id INTEGER)');
    c.closeSync();
    inst.closeSync();
    const text = join(dir, 'notes.duckdb');
    writeFileSync(text, 'hello\n');
    for (const [f, why] of [
      [other, 'is a DuckDB database but not a margin-engine report'],
      [text, 'is not a DuckDB database'],
      [join(dir, 'none.duckdb'), 'does not exist'],
    ] as const) {
      const r = await run(['sql', '--db', f, 'SELECT 1']);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`margin-engine sql: ${f}: ${why}`);
    }
    expect(readFileSync(text, 'utf8')).toBe('hello\n');
  });

  test('usage: no query, two arguments, --csv with --json: exit 2', async () => {
    for (const argv of [
      ['sql', '--db', db],
      ['sql', '--db', db, 'SELECT', '1'],
      ['sql', '--db', db, '--csv', '--json', 'SELECT 1'],
      ['sql', 'SELECT 1'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^margin-engine sql: /);
    }
  });
});
