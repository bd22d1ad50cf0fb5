/**
 * `margin-engine run --attribution` end to end (the built CLI, the sample's Arrow files, a DuckDB file):
 * margin_attribution adds up to account_margin's IM and MM per (model, account, unit) to 1e-12 relative
 * (docs/methodology.md §9), for every model; top_margin_drivers answers per account and per instrument;
 * a report of schema 6 migrates to 7 (the table is created, the old run kept).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MIGRATIONS, migrateSchema } from '../../src/report/migrations.js';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { COMMAND as CLI } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const args = (db: string, extra: string[]) => [
  CLI,
  'run',
  '--market',
  join(ROOT, 'data/sample/market'),
  '--positions',
  join(ROOT, 'data/sample/book/positions.arrow'),
  '--balances',
  join(ROOT, 'data/sample/book/balances.arrow'),
  '--history',
  join(ROOT, 'data/history'),
  '--models',
  'all',
  '--backend',
  'cpu',
  '--workers',
  '1',
  '--quiet',
  '--db',
  db,
  ...extra,
];

async function query(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

let dir: string;
let db: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'me-attribution-'));
  db = join(dir, 'report.duckdb');
  execFileSync(process.execPath, args(db, ['--attribution']), { stdio: 'pipe' });
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run --attribution', () => {
  test('Σ shares = IM and MM per (model, account, unit), every model, to 1e-12 relative', async () => {
    const rows = await query(
      db,
      `WITH s AS (
         SELECT model, account_id, unit_id, sum(im) AS im, sum(mm) AS mm, count(*) AS n
         FROM margin_attribution GROUP BY ALL)
       SELECT m.model::VARCHAR AS model, count(*)::INTEGER AS units,
              max(abs(coalesce(s.im, 0) - m.im) / greatest(abs(m.im), 1e-300))::DOUBLE AS im_err,
              max(abs(coalesce(s.mm, 0) - m.mm) / greatest(abs(m.mm), 1e-300))::DOUBLE AS mm_err,
              sum(coalesce(s.n, 0))::INTEGER AS shares
       FROM account_margin_ids m
       LEFT JOIN s ON s.model = m.model AND s.account_id = m.account_id AND s.unit_id = m.unit_id
       WHERE m.im > 0 OR m.mm > 0
       GROUP BY ALL ORDER BY model`,
    );
    expect(rows.map((r) => r.model).sort()).toEqual(['deribit-pm', 'span', 'standard', 'var-hs', 'var-mc']);
    for (const r of rows) {
      expect(r.im_err as number, `${r.model as string} IM`).toBeLessThanOrEqual(1e-12);
      expect(r.mm_err as number, `${r.model as string} MM`).toBeLessThanOrEqual(1e-12);
      expect(r.shares as number).toBeGreaterThan(1000);
    }
  });

  test('top_margin_drivers: at most ten per account, and book-wide per instrument shares adding to 1', async () => {
    const acc = await query(
      db,
      `SELECT model::VARCHAR AS model, max(rank)::INTEGER AS r, count(DISTINCT account)::INTEGER AS accounts
       FROM top_margin_drivers WHERE scope = 'account' GROUP BY ALL`,
    );
    expect(acc.length).toBe(5);
    for (const r of acc) expect(r.r as number).toBeLessThanOrEqual(10);
    const ins = await query(
      db,
      `SELECT model::VARCHAR AS model, sum(im_share)::DOUBLE AS share, count(*)::INTEGER AS n,
              max(im_usd) FILTER (WHERE rank = 1)::DOUBLE AS top, max(im_usd)::DOUBLE AS mx
       FROM top_margin_drivers WHERE scope = 'instrument' GROUP BY ALL`,
    );
    for (const r of ins) {
      expect(Math.abs((r.share as number) - 1)).toBeLessThan(1e-9);
      expect(r.top).toBe(r.mx);
      expect(r.n as number).toBeGreaterThan(10);
    }
  });

  test('the shares are per instrument with names, and coin collateral appears in span and var', async () => {
    const rows = await query(
      db,
      `SELECT model::VARCHAR AS model, count(*) FILTER (WHERE collateral IS NOT NULL)::INTEGER AS coll,
              count(*) FILTER (WHERE instrument_id IS NULL AND collateral IS NULL)::INTEGER AS neither
       FROM margin_attribution GROUP BY ALL`,
    );
    for (const r of rows) {
      expect(r.neither).toBe(0);
      if (['span', 'var-hs', 'var-mc'].includes(r.model as string)) expect(r.coll as number).toBeGreaterThan(0);
      else expect(r.coll).toBe(0);
    }
  });
});

describe('schema 7', () => {
  test('a version-6 report (no margin_attribution) migrates to 7: the table, empty, and the view', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(7);
    const f = join(dir, 'v6.duckdb');
    copyFileSync(db, f);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    try {
      await c.run('DROP VIEW top_margin_drivers');
      await c.run('DROP TABLE margin_attribution');
      await c.run('UPDATE schema_meta SET version = 6');
      // the step 6 -> 7 itself (8 adds the liquidation tables, tested with them)
      await migrateSchema(c, f, 6, 'test', { 6: MIGRATIONS[6]! }, 7);
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 7 }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM margin_attribution')).toEqual([{ n: 0 }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM top_margin_drivers')).toEqual([{ n: 0 }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM runs')).toEqual([{ n: 1 }]);
  });
});
