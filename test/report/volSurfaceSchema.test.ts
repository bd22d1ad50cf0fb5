/**
 * Schema 9 (src/report/volSurface.ts): every run writes its implied-volatility surface to vol_surface (fitted
 * on the report's side from the run's market when the run hands none over), and a version-8 report (no
 * vol_surface) is migrated by the next run, its earlier runs unchanged.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { MIGRATIONS } from '../../src/report/migrations.js';
import { VOL_SURFACE_MIGRATION } from '../../src/report/volSurface.js';
import { writeRun } from '../../src/report/writer.js';
import { fitSurface } from '../../src/surface/surface.js';
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

describe('schema 9: vol_surface', () => {
  test('the 8 → 9 migration is the vol_surface table alone', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(9);
    expect(MIGRATIONS[8]).toBe(VOL_SURFACE_MIGRATION);
    expect(VOL_SURFACE_MIGRATION).toHaveLength(1);
    expect(VOL_SURFACE_MIGRATION[0]).toMatch(/^CREATE TABLE vol_surface \(/);
  });

  test('a run writes the surface of its market, slice by slice, as fitSurface gives it', async () => {
    const run = sampleRun();
    const expected = fitSurface(run.market);
    const rows = await query(base, 'SELECT * FROM vol_surface WHERE run_id = 1 ORDER BY underlying, expiry');
    expect(rows).toHaveLength(expected.slices.length);
    rows.forEach((r, j) => {
      const s = expected.slices[j]!;
      expect(r.underlying).toBe(s.underlyingName);
      expect(r.quotes).toBe(s.quotes);
      expect(r.fitted).toBe(s.fitted ? 1 : 0);
      expect(r.flags).toBe(s.flags.join(';'));
      expect(r.filled).toBe(0);
      if (s.fitted) {
        expect(r.a).toBe(s.params!.a);
        expect(r.sigma).toBe(s.params!.sigma);
        expect(r.rmse_liquid_vol_pts).toBe(s.rmseLiquid);
      } else expect(r.a).toBeNull();
    });
  });

  test('a version-8 report migrates to 9 on the next run; its runs read back as before', async () => {
    const f = join(dir, 'v8.duckdb');
    copyFileSync(base, f);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    try {
      await restoreSpanAccountColumns(c); // schema 11's change
      await c.run('DROP TABLE vol_surface');
      await c.run('UPDATE schema_meta SET version = 8');
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    const margin = await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit');
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    expect(await query(f, 'SELECT DISTINCT run_id FROM vol_surface')).toEqual([{ run_id: 2 }]);
    expect(await query(f, 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY model, account, unit')).toEqual(
      margin,
    );
  });
});
