/**
 * Opening a report database: refuses files that are not DuckDB databases (naming the file), and checks
 * (or creates, or migrates) the report schema inside the caller's transaction.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdb } from './duckdb.js';
import { fileError } from '../errors.js';
import { migrateSchema } from './migrations.js';
import { createSchema } from './schema.js';
import { sqlString } from './sql.js';
import { REPORT_ROW_GROUP_SIZE } from '../engine/tuning.js';

/** DuckDB's words for a full disk: left to the caller (an environment problem, exit 3), never "corrupt". */
const DISK_FULL = /No space left on device|Disk quota exceeded/i;

/** An open report: close it with `closeReport`. */
export interface ReportHandle {
  file: string;
  instance: DuckDBInstance;
  connection: DuckDBConnection;
}

/** DuckDB's storage files carry the magic bytes "DUCK" at offset 8. */
function looksLikeDuckDb(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(12);
    const n = readSync(fd, buf, 0, 12, 0);
    return n === 12 && buf.toString('latin1', 8, 12) === 'DUCK';
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens (creating when absent, unless read-only) the DuckDB file `file`. For writing, the file is
 * attached to an in-memory database with ROW_GROUP_SIZE = REPORT_ROW_GROUP_SIZE and made the default
 * catalog (USE), so that everything the connection runs, appenders included, goes to it.
 * @throws InputError naming the file when it is not a DuckDB database, is truncated or corrupt, is in use
 * by another process, or is missing in read-only mode
 */
export async function openReport(file: string, readOnly = false): Promise<ReportHandle> {
  if (existsSync(file)) {
    if (!statSync(file).isFile()) throw fileError(file, 'is not a file');
    if (statSync(file).size > 0 && !looksLikeDuckDb(file))
      throw fileError(file, 'is not a DuckDB database (no DuckDB header)');
  } else if (readOnly) {
    throw fileError(file, 'does not exist');
  } else if (!existsSync(dirname(file))) {
    throw fileError(file, `cannot be created: directory ${dirname(file)} does not exist`);
  }
  let instance: DuckDBInstance | null = null;
  try {
    if (readOnly) {
      instance = await duckdb().DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
      return { file, instance, connection: await instance.connect() };
    }
    // (the spill directory where DuckDB would put it for the file itself, not in the working directory)
    instance = await duckdb().DuckDBInstance.create(':memory:', { temp_directory: `${file}.tmp` });
    const connection = await instance.connect();
    try {
      await connection.run(`ATTACH ${sqlString(file)} AS report (ROW_GROUP_SIZE ${REPORT_ROW_GROUP_SIZE})`);
      await connection.run('USE report');
    } catch (e) {
      connection.closeSync();
      throw e;
    }
    return { file, instance, connection };
  } catch (e) {
    instance?.closeSync();
    const msg = (e as Error).message;
    if (/not a valid DuckDB database|database file.*(invalid|corrupt)/i.test(msg))
      throw fileError(file, `is not a DuckDB database (${msg})`);
    // a DuckDB header over too few bytes (a truncated or cut copy), or blocks that do not check out
    if (!DISK_FULL.test(msg) && /Could not read enough bytes|checksum|Corrupt|truncated|unexpected end/i.test(msg))
      throw fileError(file, `is not a readable report: it is truncated or corrupt (${msg.split('\n')[0]})`);
    if (/conflicting lock|could not set lock/i.test(msg))
      throw fileError(
        file,
        `is in use by another process (DuckDB lets one process write a file; ${msg.split('\n')[0]})`,
      );
    throw new Error(`${file}: cannot open the DuckDB database: ${msg}`, { cause: e });
  }
}

/** Closes the connection and the database (DuckDB checkpoints its WAL on close). */
export function closeReport(h: ReportHandle): void {
  h.connection.closeSync();
  h.instance.closeSync();
}

/** Names of the tables in the main schema of the open database. */
export async function tableNames(connection: DuckDBConnection): Promise<string[]> {
  const r = await connection.runAndReadAll(
    "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary ORDER BY table_name",
  );
  return r.getRows().map((row) => String(row[0]));
}

/**
 * Makes the open database a report at SCHEMA_VERSION, inside the caller's transaction: creates the
 * schema in an empty database, migrates an older one.
 * @throws InputError naming the file when it holds other tables and no schema_meta, or a version that
 * cannot be migrated
 */
export async function ensureSchema(h: ReportHandle, engineVersion: string): Promise<void> {
  const tables = await tableNames(h.connection);
  if (tables.length === 0) {
    await createSchema(h.connection, engineVersion);
    return;
  }
  if (!tables.includes('schema_meta')) {
    throw fileError(
      h.file,
      `is a DuckDB database but not a margin-engine report (no schema_meta table; tables: ${tables.join(', ')})`,
    );
  }
  const r = await h.connection.runAndReadAll('SELECT max(version) FROM schema_meta');
  const found = r.getRows()[0]?.[0];
  if (found === null || found === undefined)
    throw fileError(
      h.file,
      'is a margin-engine report with an empty schema_meta table (no schema version)',
      'schema_meta.version',
      'null',
    );
  await migrateSchema(h.connection, h.file, Number(found), engineVersion);
}
