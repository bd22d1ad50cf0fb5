/**
 * Read-only SQL on a report (`margin-engine sql`): the file is opened read-only, must be a margin-engine
 * report, and the connection may neither read nor write other files (enable_external_access off), so a
 * query can only read the report.
 */
import { fileError } from '../errors.js';
import { closeReport, openReport, tableNames } from './openReport.js';

/** A query's result: column names and DuckDB types, rows of JavaScript values (bigint, Date, …). */
export interface QueryResult {
  columns: string[];
  types: string[];
  rows: unknown[][];
}

/**
 * Runs `sql` on the report `dbFile`, read-only.
 * @throws InputError (exit 2) when the file is missing, not a DuckDB database, not a report, in use by a
 *   writer, or the SQL fails (DuckDB's message: a syntax error, an unknown table, a write refused)
 */
export async function queryReport(dbFile: string, sql: string): Promise<QueryResult> {
  const h = await openReport(dbFile, true);
  try {
    await h.connection.run('SET enable_external_access = false');
    const tables = await tableNames(h.connection);
    if (!tables.includes('schema_meta'))
      throw fileError(
        dbFile,
        `is a DuckDB database but not a margin-engine report (no schema_meta table; tables: ${tables.join(', ') || 'none'})`,
      );
    let reader;
    try {
      reader = await h.connection.runAndReadAll(sql);
    } catch (e) {
      // DuckDB's message on one line: "Parser Error: syntax error at or near "SELEC" (LINE 1: SELEC 1)"
      const [head = '', ...rest] = (e as Error).message.trim().split('\n');
      const where = rest.map((l) => l.trim()).filter((l) => l !== '' && l !== '^');
      throw fileError(dbFile, `the query fails: ${head.trim()}${where.length ? ` (${where.join('; ')})` : ''}`);
    }
    return {
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRowsJS() as unknown[][],
    };
  } finally {
    closeReport(h);
  }
}
