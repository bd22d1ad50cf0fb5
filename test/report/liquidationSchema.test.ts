/**
 * Schema 7 (src/report/liquidation.ts): a version-6 report (no liquidation tables) is migrated by the
 * next run and gains liquidation_distance, the cascade tables, the accounts_near_liquidation view and the
 * near_liquidation macro; its runs read back as before.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, restoreSpanAccountColumns, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let base: string;
beforeAll(async () => {
  dir = tmpDir();
  base = join(dir, 'base.duckdb');
  await writeRun(base, sampleRun());
});
afterAll(() => rmTmp(dir));

const NEW_TABLES = ['cascade_accounts', 'cascade_rounds', 'cascade_runs', 'liquidation_distance'];

describe('schema 8', () => {
  test('a version-7 report migrates to 8 on the next run and gains the liquidation tables, view and macro', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(8);
    const f = join(dir, 'v7.duckdb');
    copyFileSync(base, f);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    try {
      await c.run('DROP MACRO TABLE near_liquidation');
      await c.run('DROP VIEW accounts_near_liquidation');
      for (const t of NEW_TABLES) await c.run(`DROP TABLE ${t}`);
      await c.run('DROP TABLE vol_surface'); // schema 9's table: a version-7 report has none
      await restoreSpanAccountColumns(c); // schema 11's change
      await c.run('UPDATE schema_meta SET version = 7');
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    const tables = `SELECT table_name FROM duckdb_tables() WHERE table_name IN (${NEW_TABLES.map((t) => `'${t}'`).join(', ')}) ORDER BY 1`;
    expect(await query(f, tables)).toEqual([]);
    const margin = await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit');
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    expect((await query(f, tables)).map((r) => r.table_name)).toEqual(NEW_TABLES);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM accounts_near_liquidation')).toEqual([{ n: 0 }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM near_liquidation(0.5)')).toEqual([{ n: 0 }]);
    expect(await query(f, 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY model, account, unit')).toEqual(
      margin,
    );
  });
});
