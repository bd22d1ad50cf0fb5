/** Test helpers for the report: temp directories and read-only SQL on a report file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { REPORT_TABLES } from '../../src/report/schema.js';
import { runMargin, type RunOptions, type RunOutcome } from '../../src/pipeline/runMargin.js';

/** A fresh temp directory; remove it with `rmTmp`. */
export function tmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'me-report-'));
}
export function rmTmp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Rows of `sql` on `file` (opened read-only unless ':memory:', closed afterwards), values as JSON (numbers stay
 * numbers).
 */
export async function query(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(file, file === ':memory:' ? {} : { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  try {
    const r = await c.runAndReadAll(sql);
    return r.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

/** Row count of every report table, and the largest run id: what "unchanged" means for a report. */
export async function reportState(file: string): Promise<Record<string, number>> {
  const sql =
    REPORT_TABLES.map((t) => `SELECT '${t}' AS t, count(*)::INTEGER AS n FROM ${t}`).join(' UNION ALL ') +
    ` UNION ALL SELECT 'max_run_id', coalesce(max(run_id), 0)::INTEGER FROM runs ORDER BY t`;
  const rows = await query(file, sql);
  return Object.fromEntries(rows.map((r) => [r.t as string, r.n as number]));
}

/**
 * Turns a report of this engine's layout back into what version 10 stored for span (run on a connection to it, as
 * the tests that make an older report from a current one do): margin_span's margin_ratio, available and status,
 * which version 11 derives instead, as columns again holding what the view gives.
 */
export async function restoreSpanAccountColumns(c: DuckDBConnection): Promise<void> {
  for (const [col, type] of [
    ['margin_ratio', 'DOUBLE'],
    ['available', 'DOUBLE'],
    ['status', 'margin_status'],
  ])
    await c.run(`ALTER TABLE margin_span ADD COLUMN ${col} ${type}`);
  await c.run(`UPDATE margin_span s SET margin_ratio = v.margin_ratio, available = v.available, status = v.status
    FROM (SELECT row_order, margin_ratio, available, status FROM account_margin_ids WHERE model = 'span') v
    WHERE s.rowid = v.row_order`);
}

/**
 * A real run of deribit-pm and span (standard with them) on the repository's sample book (data/sample), on cpu,
 * into the report `db`; `more` adds or overrides options.
 */
export function runSampleBook(db: string, more: Partial<RunOptions> = {}): Promise<RunOutcome> {
  const root = join(import.meta.dirname, '../..');
  return runMargin({
    marketDir: join(root, 'data/sample/market'),
    positions: join(root, 'data/sample/book/positions.arrow'),
    balances: join(root, 'data/sample/book/balances.arrow'),
    models: ['deribit-pm', 'span'],
    backend: 'cpu',
    onInvalid: 'fail',
    db,
    ...more,
  });
}
