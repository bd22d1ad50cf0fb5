/**
 * A new report made from the build's template (src/report/reportTemplate.ts) holds exactly what the schema's
 * statements make: the same types, tables, columns, constraints, views and macros (their SQL as DuckDB keeps
 * it), and schema_meta's one row of this schema version, this engine version and the time of the run that
 * created it. The template is named by the schema's digest (a changed statement names another file); a copy that
 * is not an empty report of this version is refused; a run writes into a report made from it as into any other.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeReport, openReport } from '../../src/report/openReport.js';
import {
  adoptTemplate,
  builtReportTemplate,
  copyReportTemplate,
  reportTemplateFile,
  writeReportTemplate,
} from '../../src/report/reportTemplate.js';
import { createSchema, SCHEMA_VERSION } from '../../src/report/schema.js';
import { RunWriter } from '../../src/report/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'me-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CATALOG = [
  "SELECT schema_name, type_name, logical_type, labels::VARCHAR FROM duckdb_types() WHERE NOT internal AND database_name = 'report' ORDER BY ALL",
  "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = 'report' ORDER BY ALL",
  "SELECT table_name, column_index, column_name, data_type, column_default, is_nullable FROM duckdb_columns() WHERE database_name = 'report' ORDER BY ALL",
  "SELECT table_name, constraint_index, constraint_type, constraint_text FROM duckdb_constraints() WHERE database_name = 'report' ORDER BY ALL",
  "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND database_name = 'report' ORDER BY ALL",
  "SELECT function_name, function_type, macro_definition, parameters::VARCHAR FROM duckdb_functions() WHERE database_name = 'report' AND NOT internal ORDER BY ALL",
  "SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = 'report' ORDER BY ALL",
  "SELECT sequence_name FROM duckdb_sequences() WHERE database_name = 'report' ORDER BY ALL",
];

async function catalog(file: string): Promise<unknown[][][]> {
  const h = await openReport(file);
  try {
    const out: unknown[][][] = [];
    for (const q of CATALOG) out.push((await h.connection.runAndReadAll(q)).getRows());
    return out;
  } finally {
    closeReport(h);
  }
}

async function schemaMeta(file: string): Promise<unknown[][]> {
  const h = await openReport(file);
  try {
    const r = await h.connection.runAndReadAll('SELECT version, engine_version, epoch_ms(updated_at) FROM schema_meta');
    return r.getRows();
  } finally {
    closeReport(h);
  }
}

describe('the report template', () => {
  test('a report made from it is the report the statements make', async () => {
    const byStatements = join(dir, 'statements.duckdb');
    const h = await openReport(byStatements);
    await h.connection.run('BEGIN TRANSACTION');
    await createSchema(h.connection, '9.9.9');
    await h.connection.run('COMMIT');
    closeReport(h);

    const template = join(dir, reportTemplateFile());
    await writeReportTemplate(template, '0.0.1');
    const fromTemplate = join(dir, 'copy.duckdb');
    copyReportTemplate(template, fromTemplate);
    const t0 = Date.now();
    const c = await openReport(fromTemplate);
    await c.connection.run('BEGIN TRANSACTION');
    await adoptTemplate(c, '9.9.9');
    await c.connection.run('COMMIT');
    closeReport(c);

    const a = await catalog(byStatements);
    const b = await catalog(fromTemplate);
    expect(a.map((rows) => rows.length)).toEqual(b.map((rows) => rows.length));
    expect(a[1]!.length).toBeGreaterThan(10); // tables
    expect(a[4]!.length).toBeGreaterThan(5); // views
    expect(b).toEqual(a);
    const meta = await schemaMeta(fromTemplate);
    expect(meta.length).toBe(1);
    expect(meta[0]![0]).toBe(SCHEMA_VERSION);
    expect(meta[0]![1]).toBe('9.9.9');
    expect(Number(meta[0]![2])).toBeGreaterThanOrEqual(t0);
  });

  test('its name is the schema’s digest; the built one, where built, is this schema’s', () => {
    expect(reportTemplateFile()).toMatch(/^report-template-[0-9a-f]{16}\.duckdb$/);
    // from source there is none beside the module; the build's is beside dist/src/report/reportTemplate.js
    expect(builtReportTemplate()).toBeNull();
    const built = join(import.meta.dirname, '../../dist/src/report', reportTemplateFile());
    const bundled = join(import.meta.dirname, '../../dist/bundle', reportTemplateFile());
    if (existsSync(join(import.meta.dirname, '../../dist/bundle/main.js'))) {
      expect(existsSync(built)).toBe(true);
      expect(existsSync(bundled)).toBe(true);
    }
  });

  test('a copy that is not an empty report of this version is refused, and the new file is not left', async () => {
    const stale = join(dir, 'stale.duckdb');
    await writeReportTemplate(stale, '0.0.1');
    // a template whose schema_meta says another version (its log gets the change, as the build writes it)
    const h = await openReport(stale);
    await h.connection.run("SET checkpoint_threshold = '1TB'");
    await h.connection.run('PRAGMA disable_checkpoint_on_shutdown');
    await h.connection.run('UPDATE schema_meta SET version = version - 1');
    closeReport(h);
    const target = join(dir, 'refused.duckdb');
    await expect(RunWriter.open(target, '9.9.9', 'writer', stale)).rejects.toThrow(/not an empty report of schema/);
    expect(existsSync(target)).toBe(false);
  });

  test('the template is an empty database and the log of its schema; a report made from it is the same size', async () => {
    const template = join(dir, 'sizes.duckdb');
    await writeReportTemplate(template, '0.0.1');
    expect(statSync(template).size).toBeLessThan(64 * 1024);
    expect(statSync(`${template}.wal`).size).toBeGreaterThan(10_000);
    const fill = async (file: string, fromTemplate: boolean) => {
      const h = await openReport(file);
      await h.connection.run('BEGIN TRANSACTION');
      if (fromTemplate) await adoptTemplate(h, '9.9.9');
      else await createSchema(h.connection, '9.9.9');
      await h.connection.run('INSERT INTO symbols SELECT 1, range::INTEGER, range::VARCHAR, 1.5 FROM range(50000)');
      await h.connection.run('COMMIT');
      closeReport(h);
    };
    const a = join(dir, 'size-statements.duckdb');
    await fill(a, false);
    const b = join(dir, 'size-template.duckdb');
    copyReportTemplate(template, b);
    await fill(b, true);
    expect(statSync(b).size).toBe(statSync(a).size);
    expect(existsSync(`${b}.wal`)).toBe(false);
  });

  test('a run is written into a report made from it, and reads back through the views', async () => {
    const template = join(dir, 'for-run.duckdb');
    await writeReportTemplate(template, '0.0.1');
    const file = join(dir, 'run.duckdb');
    const w = await RunWriter.open(file, '9.9.9', 'writer', template);
    const { market } = await import('../../src/io/loadMarket.js').then((m) => m.loadMarket('data/sample/market'));
    await w.instruments(market, new Float64Array(market.instruments.count));
    await w.accounts(['A1', 'A2'], Float64Array.of(100, -5));
    const id = await w.commit();
    expect(id).toBe(1);
    const h = await openReport(file, true);
    try {
      const r = await h.connection.runAndReadAll(
        'SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM instruments), (SELECT count(*) FROM account_margin), (SELECT count(*) FROM account_summary)',
      );
      // (no margin rows and no run row in this transaction: the views read the tables, and give none)
      expect(r.getRows()[0]!.map(Number)).toEqual([2, market.instruments.count, 0, 0]);
    } finally {
      closeReport(h);
    }
  });
});
