/**
 * Schema 9 (issue 15): runs.warnings holds what a run warned about; a version-8 report (no such column)
 * is migrated by the next run (RUN_WARNINGS_MIGRATION), its runs reading back with NULL warnings. And a
 * run never commits a margin that is ±∞ (checkFinite, run by ReportSession.finish): an internal error,
 * the report left as it was.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { MIGRATIONS, RUN_WARNINGS_MIGRATION } from '../../src/report/migrations.js';
import { writeRun } from '../../src/report/writer.js';
import { checkFinite } from '../../src/report/rowChecks.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, reportState, restoreSpanAccountColumns, rmTmp, runSampleBook, tmpDir } from './helpers.js';

let dir: string;
let base: string;
beforeAll(async () => {
  dir = tmpDir();
  base = join(dir, 'base.duckdb');
  await writeRun(base, { ...sampleRun(), warnings: ['positions.arrow: something to say'] });
});
afterAll(() => rmTmp(dir));

describe('schema 10: runs.warnings', () => {
  test('a run records its warnings; a run without any records an empty list', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(10);
    await writeRun(base, sampleRun());
    expect(await query(base, 'SELECT run_id, warnings FROM runs ORDER BY run_id')).toEqual([
      { run_id: 1, warnings: ['positions.arrow: something to say'] },
      { run_id: 2, warnings: [] },
    ]);
  });

  test('a version-9 report migrates on the next run: its runs read back with NULL warnings', async () => {
    expect(Object.values(MIGRATIONS)).toContain(RUN_WARNINGS_MIGRATION);
    const f = join(dir, 'v9.duckdb');
    copyFileSync(base, f);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    try {
      await restoreSpanAccountColumns(c); // schema 11's change
      await c.run('ALTER TABLE runs DROP COLUMN warnings');
      await c.run('UPDATE schema_meta SET version = 9');
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    const margin = await query(f, 'SELECT * FROM account_margin ORDER BY run_id, model, account, unit');
    expect((await writeRun(f, { ...sampleRun(), warnings: ['w'] })).runId).toBe(3);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    expect(await query(f, 'SELECT run_id, warnings FROM runs ORDER BY run_id')).toEqual([
      { run_id: 1, warnings: null },
      { run_id: 2, warnings: null },
      { run_id: 3, warnings: ['w'] },
    ]);
    expect(
      await query(f, 'SELECT * FROM account_margin WHERE run_id < 3 ORDER BY run_id, model, account, unit'),
    ).toEqual(margin);
  });
});

describe('no run commits a non-finite margin', () => {
  test('checkFinite refuses ±∞ in any amount but margin_ratio, naming model, row, account and column', () => {
    const run = sampleRun();
    const rows = run.margin[0]!;
    expect(() => checkFinite(rows)).not.toThrow();
    const im = rows.im[1]!;
    rows.im[1] = Infinity;
    expect(() => checkFinite(rows)).toThrow(
      `internal check: MarginRows(${rows.model}) row 1 (account id ${rows.account[1]}): im is Infinity, not a finite number`,
    );
    rows.im[1] = im;
    rows.liquidityAddon[0] = -Infinity;
    expect(() => checkFinite(rows)).toThrow(/row 0 .*: liquidityAddon is -Infinity/);
    rows.liquidityAddon[0] = 0;
    rows.marginRatio[0] = Infinity; // equity ≤ 0: +∞ by definition
    rows.standardIm.fill(NaN); // does not apply: NULL
    expect(() => checkFinite(rows)).not.toThrow();
  });

  test('a real run whose margins are all finite commits (the check runs on every block)', async () => {
    const f = join(dir, 'run.duckdb');
    const o = await runSampleBook(f);
    expect(o.runId).toBe(1);
    for (const m of o.margin) for (const v of m.im) expect(Number.isFinite(v) || Number.isNaN(v)).toBe(true);
    expect((await reportState(f)).max_run_id).toBe(1);
  }, 120_000);
});
