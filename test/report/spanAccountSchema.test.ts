/**
 * Schema 11: margin_span stores no margin_ratio, available or status; the account_margin view derives them from
 * the row's equity and its account's IM and MM (the sums of the account's span rows in stored order), the engine's
 * numbers to the last bit. A version-10 report (which stored them) is migrated by the next run
 * (SPAN_ACCOUNT_MIGRATION), its runs reading back as before; one whose stored values do not follow that relation
 * is refused, unchanged.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { MIGRATIONS, SPAN_ACCOUNT_MIGRATION } from '../../src/report/migrations.js';
import { writeRun } from '../../src/report/writer.js';
import type { RunOutcome } from '../../src/pipeline/runMargin.js';
import { InputError } from '../../src/errors.js';
import { STATUS_NAMES } from '../../src/margin/types.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, reportState, restoreSpanAccountColumns, rmTmp, runSampleBook, tmpDir } from './helpers.js';

let dir: string;
let base: string;
let outcome: RunOutcome;
beforeAll(async () => {
  dir = tmpDir();
  base = join(dir, 'base.duckdb');
  outcome = await runSampleBook(base);
}, 120_000);
afterAll(() => rmTmp(dir));

/** A copy of the base report as version 10 wrote it (span's three values stored), `edit` applied. */
async function versionTen(name: string, edit?: string): Promise<string> {
  const f = join(dir, name);
  copyFileSync(base, f);
  const inst = await DuckDBInstance.create(f);
  const c = await inst.connect();
  try {
    await restoreSpanAccountColumns(c);
    if (edit) await c.run(edit);
    await c.run('UPDATE schema_meta SET version = 10');
  } finally {
    c.closeSync();
    inst.closeSync();
  }
  return f;
}

describe('schema 11: span account values derived', () => {
  test("the view gives every span row its account's margin ratio, available and status, as the run computed them", async () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(11);
    const span = outcome.margin.find((m) => m.model === 'span')!;
    // accounts with a row per underlying: the sums are over more than one row
    expect(new Set(span.account).size).toBeLessThan(span.count);
    expect(
      await query(
        base,
        `SELECT column_name FROM duckdb_columns() WHERE table_name = 'margin_span' AND column_name IN ('margin_ratio', 'available', 'status')`,
      ),
    ).toEqual([]);
    const got = await query(
      base,
      `SELECT margin_ratio, available, status::VARCHAR AS status FROM account_margin_ids WHERE model = 'span' ORDER BY row_order`,
    );
    expect(got).toEqual(
      Array.from({ length: span.count }, (_, r) => ({
        margin_ratio: span.marginRatio[r],
        available: span.available[r],
        status: STATUS_NAMES[span.status[r]!],
      })),
    );
  });

  test('a version-10 report migrates on the next run; its runs read back as before', async () => {
    expect(MIGRATIONS[10]).toBe(SPAN_ACCOUNT_MIGRATION);
    const f = await versionTen('v10.duckdb');
    const margin = await query(f, 'SELECT * FROM account_margin ORDER BY run_id, model, account, unit');
    expect(margin.some((r) => r.model === 'span')).toBe(true);
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    expect(
      await query(f, 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY run_id, model, account, unit'),
    ).toEqual(margin);
    expect(
      await query(f, `SELECT count(*)::INTEGER AS n FROM duckdb_columns() WHERE table_name = 'margin_span'`),
    ).toEqual([{ n: 10 }]);
  });

  test.each([
    [
      'a margin ratio of the row rather than of its account',
      `UPDATE margin_span SET margin_ratio = mm / equity WHERE rowid = (SELECT min(rowid) FROM margin_span WHERE equity > 0 AND account_id IN (SELECT account_id FROM margin_span GROUP BY account_id HAVING count(*) > 1))`,
    ],
    ['an available of another IM', `UPDATE margin_span SET available = available - 1 WHERE rowid = 3`],
    [
      'a status that does not follow',
      `UPDATE margin_span SET status = CASE WHEN status = 'ok' THEN 'liquidation' ELSE 'ok' END WHERE rowid = 2`,
    ],
  ])('a version-10 report holding %s is refused, unchanged', async (_what, edit) => {
    const f = await versionTen(`v10-bad-${Math.random().toString(36).slice(2)}.duckdb`, edit);
    const before = await reportState(f);
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `report schema version 10 cannot be migrated to version ${SCHEMA_VERSION}: 1 margin_span rows \\(first: run 1\\) hold a margin_ratio, available or status that does not follow from their equity and their account's im and mm`,
      ),
    );
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 10 }]);
    expect(await reportState(f)).toEqual(before);
  });
});
