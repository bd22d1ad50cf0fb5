/**
 * docs/report.md stays true to the schema: every column of every table is documented, every view is
 * described, and every example query runs on a report (two runs of fixtures/sampleRun.ts) and answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPORT_TABLES, REPORT_VIEWS } from '../../src/report/schema.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { query, rmTmp, tmpDir } from './helpers.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'report.md'), 'utf8');
let dir: string;
let db: string;

beforeAll(async () => {
  dir = tmpDir();
  db = join(dir, 'docs.duckdb');
  await writeRun(db, sampleRun());
  await writeRun(db, sampleRun());
});
afterAll(() => rmTmp(dir));

/** The documented column names of a table: first cells of the table under "### `name`". */
function documentedColumns(table: string): string[] {
  const start = doc.indexOf(`### \`${table}\``);
  if (start < 0) return [];
  const end = doc.indexOf('\n#', start + 4);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| ((?:`[a-z_]+`(?:, )?)+) \|/.exec(line);
    if (m) for (const n of m[1]!.matchAll(/`([a-z_]+)`/g)) names.push(n[1]!);
  }
  return names;
}

describe('docs/report.md', () => {
  test.each(REPORT_TABLES)('every column of %s is documented', async (table) => {
    const cols = await query(
      db,
      `SELECT column_name FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`,
    );
    expect(documentedColumns(table).sort()).toEqual(cols.map((c) => c.column_name as string).sort());
  });

  // the two views that give the stored rows their names back are documented column by column too
  test.each(['account_margin', 'account_summary'])('every column of view %s is documented', async (view) => {
    const cols = await query(
      db,
      `SELECT column_name FROM duckdb_columns() WHERE table_name = '${view}' ORDER BY column_index`,
    );
    expect(cols.length).toBeGreaterThan(10);
    expect(documentedColumns(view).sort()).toEqual(cols.map((c) => c.column_name as string).sort());
  });

  test.each(REPORT_VIEWS)('view %s is described', (view) => {
    expect(doc).toContain(`### \`${view}\``);
  });

  const sqlBlock = /```sql\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const queries = sqlBlock
    .split(/;\s*\n/)
    .map((q) => q.trim())
    .filter((q) => q.replace(/--.*$/gm, '').trim() !== '');
  test('has example queries', () => expect(queries.length).toBeGreaterThanOrEqual(8));
  test.each(queries.map((q) => [q.split('\n')[0]!, q]))('example %s runs and answers', async (_title, q) => {
    const rows = await query(db, q);
    expect(rows.length).toBeGreaterThan(0);
  });
});
