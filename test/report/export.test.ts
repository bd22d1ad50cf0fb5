/**
 * `margin-engine export` (issue 6 item 2): any table or view to Parquet, read back with DuckDB; an
 * unknown table exits 2 listing the available ones; a missing report exits 2 naming it.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cli } from '../../src/cli/main.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let db: string;

beforeAll(async () => {
  dir = tmpDir();
  db = join(dir, 'report.duckdb');
  await writeRun(db, sampleRun());
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
    const code = await cli(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function parquetCount(file: string, where = 'true'): Promise<number> {
  const rows = await query(':memory:', `SELECT count(*)::INTEGER AS n FROM '${file}' WHERE ${where}`);
  return rows[0]!.n as number;
}

describe('export', () => {
  test.each([
    // [table or view, rows expected for the sample run (fixtures/sampleRun.ts)]
    ['account_margin', 7],
    ['scenarios', 10],
    ['runs', 1],
    ['margin_calls', 4],
    ['worst_scenarios_by_frequency', 3],
  ])('%s to Parquet and back: %i rows', async (table, rows) => {
    const out = join(dir, `${table}.parquet`);
    const r = await run(['export', '--db', db, '--table', table, '--out', out]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain(`${rows} row`);
    expect(await parquetCount(out)).toBe(rows);
  });

  test('NULLs and infinities survive the Parquet round trip', async () => {
    const out = join(dir, 'account_margin.parquet');
    await run(['export', '--db', db, '--table', 'account_margin', '--out', out]);
    expect(await parquetCount(out, 'worst_scenario IS NULL')).toBe(1);
    expect(await parquetCount(out, "margin_ratio = 'inf'::DOUBLE")).toBe(2);
    expect(await parquetCount(out, 'scan_risk IS NULL')).toBe(5);
  });

  test('an unknown table exits 2 and lists the tables and views, writing nothing', async () => {
    const out = join(dir, 'nope.parquet');
    const r = await run(['export', '--db', db, '--table', 'acount_margin', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('"acount_margin"');
    for (const name of ['account_margin', 'runs', 'rejected_rows', 'margin_calls', 'top_margin_consumers'])
      expect(r.err).toContain(name);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  test.each([
    [['export', '--db', 'missing.duckdb', '--table', 'runs', '--out', 'x.parquet'], /missing\.duckdb: does not exist/],
    [['export', '--table', 'runs', '--out', 'x.parquet'], /--db is required/],
    [
      ['export', '--db', '<dir>/notes.txt', '--table', 'runs', '--out', 'x.parquet'],
      /notes\.txt: is not a DuckDB database/,
    ],
    [
      ['export', '--db', '<db>', '--table', 'runs', '--out', '<dir>/no/such/dir/runs.parquet'],
      /runs\.parquet: cannot be written/,
    ],
  ])('bad input %j exits 2', async (argv, message) => {
    writeFileSync(join(dir, 'notes.txt'), 'not a database\n');
    const r = await run(argv.map((a) => a.replace('<dir>', dir).replace('<db>', db)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  test('--help shows usage and examples', async () => {
    const r = await run(['export', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--db FILE.duckdb --table NAME --out FILE.parquet');
    expect(r.out).toContain('Examples:');
  });
});
