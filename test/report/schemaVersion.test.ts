/**
 * Reports written by another schema version (issue 6 item 2): an older version with no migration and
 * a newer version are refused with a message naming the file and both versions, leaving the file as it
 * was; an older version with a migration path is migrated inside the run's transaction.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../src/errors.js';
import { migrateSchema } from '../../src/report/migrations.js';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, reportState, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let base: string;

beforeAll(async () => {
  dir = tmpDir();
  base = join(dir, 'base.duckdb');
  await writeRun(base, sampleRun());
});
afterAll(() => rmTmp(dir));

async function sql(file: string, text: string): Promise<void> {
  const inst = await DuckDBInstance.create(file);
  const c = await inst.connect();
  try { await c.run(text); } finally { c.closeSync(); inst.closeSync(); }
}

/** A copy of the base report whose schema_meta says `version`. */
async function reportAtVersion(name: string, version: number): Promise<string> {
  const f = join(dir, name);
  copyFileSync(base, f);
  await sql(f, `UPDATE schema_meta SET version = ${version}`);
  return f;
}

describe('refused versions', () => {
  test.each([
    // [found version, what the message says]
    [SCHEMA_VERSION - 1, /report schema version 0 is older than this engine's version 1 and cannot be migrated/],
    [SCHEMA_VERSION + 1, /report schema version 2 is newer than this engine's version 1/],
  ])('version %i is refused and the file is unchanged', async (version, message) => {
    const f = await reportAtVersion(`v${version}.duckdb`, version);
    const before = await reportState(f);
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(f);
    expect((err as Error).message).toMatch(message);
    expect(await reportState(f)).toEqual(before);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version }]);
  });
});

describe('migration', () => {
  test('an older report with a migration path is migrated, then accepts runs', async () => {
    // a "version 0" report: the current layout without account_summary.saving
    const f = await reportAtVersion('v0-migratable.duckdb', 0);
    await sql(f, 'DROP VIEW top_margin_consumers; ALTER TABLE account_summary DROP COLUMN saving');
    const migrations = { 0: ['ALTER TABLE account_summary ADD COLUMN saving DOUBLE'] };
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await c.run('BEGIN TRANSACTION');
    await migrateSchema(c, f, 0, 'test', migrations, 1);
    await c.run('COMMIT');
    c.closeSync(); inst.closeSync();
    expect(await query(f, 'SELECT version, engine_version FROM schema_meta')).toEqual([{ version: 1, engine_version: 'test' }]);
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT run_id, count(saving)::INTEGER AS n FROM account_summary GROUP BY 1 ORDER BY 1'))
      .toEqual([{ run_id: 1, n: 0 }, { run_id: 2, n: 3 }]);
    expect((await query(f, 'SELECT count(*)::INTEGER AS n FROM top_margin_consumers'))[0]!.n).toBe(4);
  });

  test('a gap in the migration path is refused before any statement runs', async () => {
    const f = await reportAtVersion('v-gap.duckdb', 0);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await expect(migrateSchema(c, f, 0, 'test', { 1: ['SELECT 1'] }, 2)).rejects.toThrow(/no migration from version 0/);
    c.closeSync(); inst.closeSync();
  });
});
