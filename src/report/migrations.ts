/**
 * Schema migrations of the report: from each older version to the next, as SQL run inside the writing
 * transaction (so a migration is committed together with the run that needed it, or not at all).
 * A version with no migration to the next is refused with a message naming the file and both versions.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError } from '../errors.js';
import { SCHEMA_VERSION, createViews } from './schema.js';

/** version v -> statements that turn a version-v report into version v+1. None yet: version 1 is the first. */
export type Migrations = Record<number, string[]>;

/** The migrations this engine knows (empty: version 1 is the first layout). */
export const MIGRATIONS: Migrations = {};

/**
 * Brings a report at version `found` to `expected` (default SCHEMA_VERSION), recreating the views and
 * recording the new version in schema_meta.
 * @throws InputError naming the file and the versions when `found` is newer, or older with no migration path
 */
export async function migrateSchema(
  connection: DuckDBConnection, file: string, found: number, engineVersion: string,
  migrations: Migrations = MIGRATIONS, expected: number = SCHEMA_VERSION,
): Promise<void> {
  if (found === expected) return;
  if (found > expected) {
    throw fileError(file, `report schema version ${found} is newer than this engine's version ${expected}: use a newer margin-engine or write to a new file`, 'schema_meta.version', String(found));
  }
  for (let v = found; v < expected; v++) {
    if (!migrations[v]) {
      throw fileError(file, `report schema version ${found} is older than this engine's version ${expected} and cannot be migrated (no migration from version ${v}): write to a new file, or export the old runs with \`margin-engine export\` first`, 'schema_meta.version', String(found));
    }
  }
  for (let v = found; v < expected; v++) for (const sql of migrations[v]!) await connection.run(sql);
  await createViews(connection);
  await connection.run('DELETE FROM schema_meta');
  await connection.run('INSERT INTO schema_meta VALUES ($1, $2, epoch_ms($3::BIGINT))', [expected, engineVersion, Date.now()]);
}
