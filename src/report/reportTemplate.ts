/**
 * The empty report the build writes (scripts/bundle.mjs), from which a new report starts as a copy instead of
 * running the schema's ~40 statements: a DuckDB database file that holds nothing yet and its write-ahead log,
 * which holds the schema (the types, tables, views, table macros and schema_meta's row) as one committed
 * transaction. Opening the copy replays the log; the run's COMMIT and close then write the file once, as for a
 * report made by the statements (the same size to the byte: a template written as a database, checkpointed,
 * left its blocks in every new file, +0.8 MB). Measured on the 2-core machine: the statements took ~40 ms of the
 * report thread at a run's start (DuckDB binds every view); the copy, its open and the check ~16 ms against ~51.
 *
 * A copy is used only when it is this engine's schema under this DuckDB: the files are named by the digest of
 * both. A report made from it holds exactly what the statements would have made
 * (test/report/reportTemplate.test.ts compares the catalogs), schema_meta's engine_version and updated_at set by
 * the run that creates the file (adoptTemplate).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { duckdb } from './duckdb.js';
import { closeReport, openReport, type ReportHandle } from './openReport.js';
import { createSchema, schemaStatements, SCHEMA_VERSION } from './schema.js';

/** The log beside a DuckDB database file. */
const walOf = (file: string) => `${file}.wal`;

/**
 * The template's database file name (its log is the name + `.wal`): the schema version, the SHA-256 of every
 * statement of the schema (schemaStatements) and DuckDB's version, so that a template of other statements or of
 * another DuckDB (a build before a change) is never this one. The build puts the pair beside this module
 * (dist/src/report/) and beside the bundle (dist/bundle/).
 */
export function reportTemplateFile(): string {
  const digest = createHash('sha256')
    .update(`${SCHEMA_VERSION}\n${duckdb().version()}\n${schemaStatements().join('\n;\n')}`)
    .digest('hex');
  return `report-template-${digest.slice(0, 16)}.duckdb`;
}

/** The built template of this schema beside this module, or null where there is none (from source, the tests). */
export function builtReportTemplate(): string | null {
  const file = fileURLToPath(new URL(reportTemplateFile(), import.meta.url));
  return existsSync(file) && existsSync(walOf(file)) ? file : null;
}

/**
 * Writes the template to `file` and its log (both absent): the schema created in one transaction and
 * committed, the database closed without a checkpoint (the log keeps it).
 */
export async function writeReportTemplate(file: string, engineVersion: string): Promise<void> {
  const h = await openReport(file);
  try {
    await h.connection.run("SET checkpoint_threshold = '1TB'");
    await h.connection.run('PRAGMA disable_checkpoint_on_shutdown');
    await h.connection.run('BEGIN TRANSACTION');
    await createSchema(h.connection, engineVersion);
    await h.connection.run('COMMIT');
  } finally {
    closeReport(h);
  }
  if (!existsSync(walOf(file))) throw new Error(`${file}: DuckDB left no log of the schema (checkpointed it)`);
}

/** Copies `template` and its log to `target` and its log (both absent). */
export function copyReportTemplate(template: string, target: string): void {
  copyFileSync(template, target);
  copyFileSync(walOf(template), walOf(target));
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
