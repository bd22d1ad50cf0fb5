/**
 * Reports written by another schema version (issue 6 item 2): an older version with no migration and
 * a newer version are refused with a message naming the file and both versions, leaving the file as it
 * was; an older version with a migration path is migrated inside the run's transaction.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../src/errors.js';
import { migrateSchema } from '../../src/report/migrations.js';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { V1_REPORT_SQL } from './fixtures/v1Report.js';
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
  try {
    await c.run(text);
  } finally {
    c.closeSync();
    inst.closeSync();
  }
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
    [
      0,
      new RegExp(
        `report schema version 0 is older than this engine's version ${SCHEMA_VERSION} and cannot be migrated \\(no migration from version 0\\)`,
      ),
    ],
    [
      SCHEMA_VERSION + 1,
      new RegExp(`report schema version ${SCHEMA_VERSION + 1} is newer than this engine's version ${SCHEMA_VERSION}`),
    ],
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
    // a "previous version" report: the current layout without symbols.usd_rate
    const previous = SCHEMA_VERSION - 1;
    const f = await reportAtVersion('previous-migratable.duckdb', previous);
    await sql(f, 'DROP VIEW top_margin_consumers; DROP VIEW account_summary; ALTER TABLE symbols DROP COLUMN usd_rate');
    const migrations = { [previous]: ['ALTER TABLE symbols ADD COLUMN usd_rate DOUBLE'] };
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await c.run('BEGIN TRANSACTION');
    await migrateSchema(c, f, previous, 'test', migrations, SCHEMA_VERSION);
    await c.run('COMMIT');
    c.closeSync();
    inst.closeSync();
    expect(await query(f, 'SELECT version, engine_version FROM schema_meta')).toEqual([
      { version: SCHEMA_VERSION, engine_version: 'test' },
    ]);
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT run_id, count(usd_rate)::INTEGER AS n FROM symbols GROUP BY 1 ORDER BY 1')).toEqual([
      { run_id: 1, n: 0 },
      { run_id: 2, n: 3 },
    ]);
    // run 2's accounts under each of its models (deribit-pm, span)
    expect((await query(f, 'SELECT count(*)::INTEGER AS n FROM top_margin_consumers'))[0]!.n).toBe(8);
  });

  test('a version-1 report (account strings in account_margin / account_summary tables) is migrated by the next run', async () => {
    const f = join(dir, 'v1.duckdb');
    await sql(f, V1_REPORT_SQL.join(';\n'));
    const marginSql = 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY model, account, unit';
    const summarySql = 'SELECT * FROM account_summary WHERE run_id = 1 ORDER BY model, account';
    const margin = await query(f, marginSql);
    const summary = await query(f, summarySql);
    expect(margin).toHaveLength(5);
    expect(summary).toHaveLength(3);
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    // run 1 reads back exactly as before, columns in the same order; the migrated ids are dense per run
    expect(await query(f, marginSql)).toEqual(margin);
    expect(await query(f, summarySql)).toEqual(summary);
    expect(Object.keys((await query(f, marginSql))[0]!)).toEqual(Object.keys(margin[0]!));
    expect(await query(f, `SELECT account_id, account FROM accounts WHERE run_id = 1 ORDER BY account_id`)).toEqual([
      { account_id: 0, account: 'alice' },
      { account_id: 1, account: 'bob' },
      { account_id: 2, account: "o'neil" },
    ]);
    expect(await query(f, `SELECT list(symbol ORDER BY symbol_id) AS s FROM symbols WHERE run_id = 1`)).toEqual([
      { s: ['BTC', 'ETH', 'USD', 'USDC'] },
    ]);
    // the old tables are gone, the views answer for the new run
    expect(
      await query(
        f,
        `SELECT table_name FROM duckdb_tables() WHERE table_name IN ('account_margin', 'account_summary')`,
      ),
    ).toEqual([]);
    expect(await query(f, 'SELECT DISTINCT run_id FROM margin_calls')).toEqual([{ run_id: 2 }]);
    // run 2's four accounts under each of its models (deribit-pm, span): its summaries are derived (schema 5)
    expect((await query(f, 'SELECT count(*)::INTEGER AS n FROM top_margin_consumers'))[0]!.n).toBe(8);
  });

  test('a version-2 report as the engine wrote it (all five models) is migrated and reads back identically', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'v2report');
    const f = join(dir, 'v2-engine.duckdb');
    const tables = [
      'schema_meta',
      'runs',
      'accounts',
      'symbols',
      'margin_rows',
      'summary_rows',
      'scenarios',
      'instruments',
      'rejected_rows',
    ];
    await sql(
      f,
      [
        readFileSync(join(fixture, 'schema.sql'), 'utf8'),
        ...tables.map((t) => `COPY ${t} FROM '${join(fixture, `${t}.csv`)}' (FORMAT csv, header 1)`),
      ].join(';\n'),
    );
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 2 }]);
    const marginSql = 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY model, account, unit';
    const summarySql = 'SELECT * FROM account_summary WHERE run_id = 1 ORDER BY model, account';
    const margin = await query(f, marginSql);
    const summary = await query(f, summarySql);
    expect(new Set(margin.map((r) => r.model))).toEqual(
      new Set(['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard']),
    );
    expect(margin.length).toBeGreaterThan(50);
    expect((await writeRun(f, sampleRun())).runId).toBe(2);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: SCHEMA_VERSION }]);
    expect(await query(f, marginSql)).toEqual(margin);
    expect(await query(f, summarySql)).toEqual(summary);
    expect(await query(f, `SELECT table_name FROM duckdb_tables() WHERE table_name = 'margin_rows'`)).toEqual([]);
  });

  test('a report holding deribit-pm values version 5 would give back differently is refused, unchanged; consistent ones migrate', async () => {
    for (const im of ['1.0', '1.3']) {
      const f = join(dir, `v1-pm-im-${im}.duckdb`);
      // o'neil's deribit-pm row: IM 1.0 is (0.75 + 0.05) + 0.2; 1.3 is not what version 5 derives
      // (available and saving follow IM, as version 3 requires of saving)
      const v1 = V1_REPORT_SQL.join(';\n');
      const row = v1.slice(v1.indexOf("(1, 'deribit-pm', 'o''neil'"), v1.indexOf("(1, 'span', 'alice'"));
      await sql(
        f,
        v1.replace(
          row,
          row
            .replace(
              "'BTC', 'BTC', 1, 0.8, 0.9, 0.8::DOUBLE / 0.9::DOUBLE, 0.9::DOUBLE - 1.0::DOUBLE,",
              `'BTC', 'BTC', ${im}, 0.8, 0.9, 0.8::DOUBLE / 0.9::DOUBLE, 0.9::DOUBLE - ${im}::DOUBLE,`,
            )
            .replace('1.5, 1.0, 0.5)', `1.5, 1.0, 1.5::DOUBLE - ${im}::DOUBLE)`),
        ),
      );
      const before = await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit');
      const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
      if (im === '1.0') {
        expect(err).toEqual({ runId: 2 });
        expect(await query(f, 'SELECT * FROM account_margin WHERE run_id = 1 ORDER BY model, account, unit')).toEqual(
          before,
        );
        continue;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `v1-pm-im-1\\.3\\.duckdb: report schema version 1 cannot be migrated to version ${SCHEMA_VERSION}: 1 margin_deribit_pm rows \\(first: run 1\\) hold an im other than \\(worst_case \\+ roll_shock\\) \\+ liquidity_addon`,
        ),
      );
      expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 1 }]);
      expect(await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit')).toEqual(before);
    }
  });

  test('after the migration, a version-1 run keeps exactly its stored summaries, and one without summary rows gets none invented', async () => {
    for (const withSummaries of [true, false]) {
      const f = join(dir, `v1-summaries-${withSummaries}.duckdb`);
      const v1 = V1_REPORT_SQL.join(';\n');
      await sql(f, withSummaries ? v1 : v1.slice(0, v1.indexOf('INSERT INTO account_summary')));
      const before = await query(f, 'SELECT * FROM account_summary WHERE run_id = 1 ORDER BY model, account');
      expect(before).toHaveLength(withSummaries ? 3 : 0);
      expect((await writeRun(f, sampleRun())).runId).toBe(2);
      expect(await query(f, 'SELECT * FROM account_summary WHERE run_id = 1 ORDER BY model, account')).toEqual(before);
      expect(await query(f, 'SELECT run_id, schema_version FROM runs ORDER BY run_id')).toEqual([
        { run_id: 1, schema_version: null },
        { run_id: 2, schema_version: SCHEMA_VERSION },
      ]);
      // the new run's summaries are derived: every account of it under each of its models
      expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM account_summary WHERE run_id = 2')).toEqual([{ n: 8 }]);
    }
  });

  test.each([
    [
      'a span worst_case other than its scan_risk',
      "'ok', 'span', 0, 4000, NULL, NULL, NULL, 4000, 100,",
      "'ok', 'span', 0, 3999, NULL, NULL, NULL, 4000, 100,",
      /margin_span rows \(first: run 1\) hold a worst_case other than their scan_risk/,
    ],
    [
      'a deribit-pm status that does not follow from equity, IM and MM',
      "'BTC', 'BTC', 2.5, 2.0, 10, 0.2, 7.5, 'ok',",
      "'BTC', 'BTC', 2.5, 2.0, 10, 0.2, 7.5, 'margin_call',",
      /margin_deribit_pm rows \(first: run 1\) hold an im other than .* or a margin_ratio, available or status that does not follow/,
    ],
    [
      'a deribit-pm margin ratio other than mm / equity',
      "'BTC', 'BTC', 2.5, 2.0, 10, 0.2, 7.5,",
      "'BTC', 'BTC', 2.5, 2.0, 10, 0.25, 7.5,",
      /margin_deribit_pm rows \(first: run 1\)/,
    ],
  ])('%s is refused by the 4 → 5 migration, the file unchanged', async (_what, from, to, message) => {
    const f = join(dir, `v1-refuse-${Math.random().toString(36).slice(2)}.duckdb`);
    const v1 = V1_REPORT_SQL.join(';\n');
    expect(v1).toContain(from);
    await sql(f, v1.replace(from, to));
    const before = await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit');
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      new RegExp(`report schema version 1 cannot be migrated to version ${SCHEMA_VERSION}: 1 `),
    );
    expect((err as Error).message).toMatch(message);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 1 }]);
    expect(await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit')).toEqual(before);
  });

  test('a report holding values version 3 would give back differently is refused (InputError naming the file), unchanged', async () => {
    const f = join(dir, 'v1-inconsistent.duckdb');
    // a span row with a standard margin (the engine never wrote one: version 3 does not store it)
    await sql(
      f,
      V1_REPORT_SQL.join(';\n').replace(
        "'ok', 'span', 0, 4000, NULL, NULL, NULL, 4000, 100, NULL, NULL, 1000, NULL, NULL, NULL)",
        "'ok', 'span', 0, 4000, NULL, NULL, NULL, 4000, 100, NULL, NULL, 1000, 6000, 4500, 1000)",
      ),
    );
    const before = await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit');
    expect(before.some((r) => r.model === 'span' && r.standard_im === 6000)).toBe(true);
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `v1-inconsistent\\.duckdb: report schema version 1 cannot be migrated to version ${SCHEMA_VERSION}: 1 margin_rows rows \\(first: run 1, model span\\)`,
      ),
    );
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 1 }]);
    expect(await query(f, 'SELECT * FROM account_margin ORDER BY model, account, unit')).toEqual(before);
  });

  test('a file whose layout is not the version it claims (an early version 1 without delta_shock) is refused as bad input, unchanged', async () => {
    const f = join(dir, 'v1-early.duckdb');
    await sql(f, [...V1_REPORT_SQL, 'ALTER TABLE account_margin DROP COLUMN delta_shock'].join(';\n'));
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `v1-early\\.duckdb: report schema version 1 cannot be migrated to version ${SCHEMA_VERSION}: migrating version 1 to 2 failed \\(.*delta_shock`,
      ),
    );
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 1 }]);
  });

  test('a refused migration of a version-1 report leaves it at version 1', async () => {
    const f = join(dir, 'v1-refused.duckdb');
    await sql(f, V1_REPORT_SQL.join(';\n'));
    const before = await query(f, 'SELECT count(*)::INTEGER AS n FROM account_margin');
    const boom = new Error('stop after the migration');
    await expect(
      writeRun(f, sampleRun(), {
        onTableWritten: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 1 }]);
    expect(
      await query(f, `SELECT table_type FROM information_schema.tables WHERE table_name = 'account_margin'`),
    ).toEqual([{ table_type: 'BASE TABLE' }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM account_margin')).toEqual(before);
  });

  test('a gap in the migration path is refused before any statement runs', async () => {
    const f = await reportAtVersion('v-gap.duckdb', 0);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await expect(migrateSchema(c, f, 0, 'test', { 1: ['SELECT 1'] }, 2)).rejects.toThrow(/no migration from version 0/);
    c.closeSync();
    inst.closeSync();
  });
});
