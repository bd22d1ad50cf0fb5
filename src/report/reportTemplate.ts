/**
 * The empty report the build writes (scripts/bundle.mjs): a DuckDB file holding the current schema (its types,
 * tables, views and table macros, and schema_meta's row), from which a new report starts as a copy instead of
 * running the schema's ~40 statements. Measured on the 2-core machine: the DDL took ~40 ms of the report thread
 * at a run's start (DuckDB binds every view), the copy and its open ~18 ms against ~51.
 *
 * A copy is used only when it is this engine's schema version; a report made from it holds exactly what the
 * statements would have made (test/report/reportTemplate.test.ts compares the catalogs), except schema_meta's
 * engine_version and updated_at, which the run that creates the file sets (adoptTemplate).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closeReport, openReport, type ReportHandle } from './openReport.js';
import { createSchema, schemaStatements, SCHEMA_VERSION } from './schema.js';

/**
 * The template's file name: the schema version and the SHA-256 of every statement of the schema
 * (schemaStatements), so that a template of other statements (a build before a change of the schema) is never
 * this one. The build puts it beside this module (dist/src/report/) and beside the bundle (dist/bundle/).
 */
export function reportTemplateFile(): string {
  const digest = createHash('sha256')
    .update(`${SCHEMA_VERSION}\n${schemaStatements().join('\n;\n')}`)
    .digest('hex');
  return `report-template-${digest.slice(0, 16)}.duckdb`;
}

/** The built template of this schema beside this module, or null where there is none (from source, the tests). */
export function builtReportTemplate(): string | null {
  const file = fileURLToPath(new URL(reportTemplateFile(), import.meta.url));
  return existsSync(file) ? file : null;
}

/** Writes the template to `file` (absent): the schema created in one transaction, committed and closed. */
export async function writeReportTemplate(file: string, engineVersion: string): Promise<void> {
  const h = await openReport(file);
  try {
    await h.connection.run('BEGIN TRANSACTION');
    await createSchema(h.connection, engineVersion);
    await h.connection.run('COMMIT');
  } finally {
    closeReport(h);
  }
}

/** Copies `template` to `target` (absent). */
export function copyReportTemplate(template: string, target: string): void {
  copyFileSync(template, target);
}

/**
 * Makes the report opened from a copy of the template the creating run's, inside its transaction: schema_meta
 * says this engine version and now, as createSchema's row would.
 * @throws Error when the copy is not an empty report of this schema version (its name says it is)
 */
export async function adoptTemplate(h: ReportHandle, engineVersion: string): Promise<void> {
  const r = await h.connection.runAndReadAll(
    'SELECT count(*), max(version), (SELECT count(*) FROM runs) FROM schema_meta',
  );
  const [count, version, runs] = (r.getRows()[0] ?? []).map(Number);
  if (count !== 1 || version !== SCHEMA_VERSION || runs !== 0)
    throw new Error(
      `${h.file}: the report template it was copied from is not an empty report of schema ${SCHEMA_VERSION}`,
    );
  await h.connection.run('UPDATE schema_meta SET engine_version = $1, updated_at = epoch_ms($2::BIGINT)', [
    engineVersion,
    Date.now(),
  ]);
}
