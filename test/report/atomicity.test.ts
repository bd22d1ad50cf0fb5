/**
 * A run is all or nothing (docs/architecture.md "Output: the DuckDB report", issue 6 item 2): a run that
 * throws after some appends, a process killed with SIGKILL mid-write, and a refused file all leave the
 * database exactly as it was (same row counts, same largest run id), and the next run still commits.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../src/errors.js';
import { writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { reportState, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let base: string;
let before: Record<string, number>;

beforeAll(async () => {
  dir = tmpDir();
  base = join(dir, 'base.duckdb');
  await writeRun(base, sampleRun());
  before = await reportState(base);
});
afterAll(() => rmTmp(dir));

/** A copy of the one-run base report, so each case starts from the same database. */
function copyOfBase(name: string): string {
  const f = join(dir, name);
  copyFileSync(base, f);
  return f;
}

describe('a run that throws mid-write is rolled back', () => {
  test.each(['scenarios', 'instruments', 'rejected_rows', 'accounts', 'symbols', 'account_margin', 'runs'])(
    'failure after appending %s leaves the database unchanged',
    async (table) => {
      const db = copyOfBase(`throw-${table}.duckdb`);
      const boom = new Error(`injected failure after ${table}`);
      await expect(
        writeRun(db, sampleRun(), {
          onTableWritten: (t) => {
            if (t === table) throw boom;
          },
        }),
      ).rejects.toBe(boom);
      expect(await reportState(db)).toEqual(before);
      expect((await writeRun(db, sampleRun())).runId).toBe(2);
    },
  );

  test('inconsistent columns are refused before anything is written', async () => {
    const db = copyOfBase('shape.duckdb');
    const run = sampleRun();
    run.margin[0]!.account[1] = 99;
    await expect(writeRun(db, run)).rejects.toThrow(/account id 99 is not in accountKey/);
    expect(await reportState(db)).toEqual(before);
  });

  test('a failed first write to a new file leaves no file behind', async () => {
    const db = join(dir, 'never.duckdb');
    await expect(
      writeRun(db, sampleRun(), {
        onTableWritten: (t) => {
          if (t === 'account_margin') throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    expect(readdirSync(dir).filter((f) => f.startsWith('never'))).toEqual([]);
  });
});

describe('refused files are left untouched', () => {
  test('a report in a directory that does not exist: InputError naming the file, nothing created', async () => {
    const f = join(dir, 'no-such-dir', 'r.duckdb');
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(`${f}: cannot be created: directory`);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  test('a file that is not a DuckDB database: InputError naming the file, bytes unchanged', async () => {
    const f = join(dir, 'notes.duckdb');
    writeFileSync(f, 'account,quantity\nalice,1\n');
    const err = await writeRun(f, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(f);
    expect((err as Error).message).toMatch(/not a DuckDB database/);
    expect(readFileSync(f, 'utf8')).toBe('account,quantity\nalice,1\n');
  });

  test('a DuckDB database that is not a report: InputError listing its tables, unchanged', async () => {
    const f = join(dir, 'other.duckdb');
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await c.run('CREATE TABLE trades (id INTEGER); INSERT INTO trades VALUES (1), (2)');
    c.closeSync();
    inst.closeSync();
    await expect(writeRun(f, sampleRun())).rejects.toThrow(new RegExp(`${f}.*not a margin-engine report.*trades`));
    const inst2 = await DuckDBInstance.create(f, { access_mode: 'READ_ONLY' });
    const c2 = await inst2.connect();
    const tables = (await c2.runAndReadAll('SELECT table_name FROM duckdb_tables()')).getRows();
    c2.closeSync();
    inst2.closeSync();
    expect(tables).toEqual([['trades']]);
  });
});

/**
 * Spawns the killedWriter fixture and SIGKILLs it: at once when it reports appending ('appending'), or
 * once the database file has grown past `grownFrom` bytes ('file-grows': DuckDB is writing the run's
 * row groups into the file, before COMMIT). Resolves with how it ended.
 */
function killMidWrite(
  db: string,
  rows: number,
  trigger: 'appending' | 'file-grows',
  grownFrom = 0,
): Promise<{ signal: NodeJS.Signals | null; out: string; sizeAtKill: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'killedWriter.ts'), db, String(rows)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let sizeAtKill = -1;
    let poll: NodeJS.Timeout | undefined;
    const kill = () => {
      if (!child.killed) {
        sizeAtKill = existsSync(db) ? statSync(db).size : -1;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('APPENDING') || poll || child.killed) return;
      if (trigger === 'appending') kill();
      else
        poll = setInterval(() => {
          if (statSync(db).size > grownFrom) kill();
        }, 5);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === null && code !== 0) reject(new Error(`writer exited ${code}: ${err}`));
      else resolve({ signal, out, sizeAtKill });
    });
  });
}

describe('a writer killed with SIGKILL mid-write leaves no trace', () => {
  // 600,000 / 400,000 account_margin rows take about a second to write: the kill lands inside the transaction
  test('killed as it starts appending: same row counts, no partial run, next run commits', async () => {
    const db = copyOfBase('killed-appending.duckdb');
    const { signal, out } = await killMidWrite(db, 600_000, 'appending');
    expect(signal).toBe('SIGKILL');
    expect(out).not.toContain('COMMITTED');
    expect(await reportState(db)).toEqual(before);
    expect((await writeRun(db, sampleRun())).runId).toBe(2);
  });

  test('killed while its row groups are being written into the file: same row counts, next run commits', async () => {
    const db = copyOfBase('killed-writing.duckdb');
    const size = statSync(db).size;
    const { signal, out, sizeAtKill } = await killMidWrite(db, 400_000, 'file-grows', size);
    expect(signal).toBe('SIGKILL');
    expect(out).not.toContain('COMMITTED');
    expect(sizeAtKill).toBeGreaterThan(size);
    expect(await reportState(db)).toEqual(before);
    expect((await writeRun(db, sampleRun())).runId).toBe(2);
  });

  test('killed during the first write to a new file: the file does not exist', async () => {
    const db = join(dir, 'fresh-killed.duckdb');
    const { signal } = await killMidWrite(db, 600_000, 'appending');
    expect(signal).toBe('SIGKILL');
    expect(existsSync(db)).toBe(false);
  });
});
