/**
 * Parquet export of any table or view of a report: DuckDB's COPY … TO … (FORMAT parquet) into a
 * temporary name next to the output, renamed into place once complete.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError, InputError } from '../errors.js';
import { closeReport, openReport } from './openReport.js';
import { sqlIdent, sqlString } from './sql.js';

/** Tables and views of the main schema of an open database, sorted by name. */
export async function listRelations(connection: DuckDBConnection): Promise<{ tables: string[]; views: string[] }> {
  const q = async (sql: string) => (await connection.runAndReadAll(sql)).getRows().map((r) => String(r[0]));
  const where = "database_name = current_database() AND schema_name = 'main' AND NOT temporary";
  return {
    tables: await q(`SELECT table_name FROM duckdb_tables() WHERE ${where} ORDER BY 1`),
    views: await q(`SELECT view_name FROM duckdb_views() WHERE ${where} AND NOT internal ORDER BY 1`),
  };
}

/**
 * Writes table or view `table` of the report `dbFile` to the Parquet file `outFile` (replaced when it
 * exists) and returns the number of rows written. The report is opened read-only.
 * @throws InputError when the report is missing or not a DuckDB database, or `table` is not one of its
 * tables or views (the message lists them)
 */
export async function exportParquet(dbFile: string, table: string, outFile: string): Promise<{ rows: number }> {
  const h = await openReport(dbFile, true);
  const tmp = `${outFile}.partial-${process.pid}`;
  try {
    const { tables, views } = await listRelations(h.connection);
    if (!tables.includes(table) && !views.includes(table)) {
      throw new InputError(
        {
          file: dbFile,
          row: null,
          column: '--table',
          value: JSON.stringify(table),
          rule: 'is not a table or view of this report',
        },
        `${dbFile}: no table or view ${JSON.stringify(table)}; available tables: ${tables.join(', ') || '(none)'}; views: ${views.join(', ') || '(none)'}`,
      );
    }
    const r = await h.connection.runAndReadAll(
      `COPY (SELECT * FROM ${sqlIdent(table)}) TO ${sqlString(tmp)} (FORMAT parquet)`,
    );
    const rows = Number(r.getRows()[0]?.[0] ?? 0);
    renameSync(tmp, outFile);
    return { rows };
  } catch (e) {
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    if (e instanceof InputError) throw e;
    const msg = (e as Error).message;
    if (/cannot open file|No such file or directory|Permission denied/i.test(msg))
      throw fileError(outFile, `cannot be written (${msg})`);
    throw e;
  } finally {
    closeReport(h);
  }
}
