/**
 * Fault suite (issue 15): `margin-engine run` processes killed with SIGKILL or SIGTERM at random points
 * of a run (the first run of a new report, and later runs), two writers at once, and a full disk. After
 * each, the report is a committed state: absent (a first run killed before its commit) or a report
 * whose runs table holds the old count or one more, never a partial run (every table's rows belong to a
 * committed run, and each run has the same row count per table as the first, since every run here has
 * the same inputs); and the next run succeeds. The kill times come from a fixed seed (FAULT_SEED; more
 * cases with FAULT_RUNS=N: N more kills). Needs dist/ (npm run build).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mulberry32 } from '../helpers/mulberry32.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { query } from '../report/helpers.js';
import { REPORT_TABLES } from '../../src/report/schema.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SEED = Number(process.env.FAULT_SEED ?? 20261202);
const EXTRA = Number(process.env.FAULT_RUNS ?? 0) || 0;
const dir = mkdtempSync(join(tmpdir(), 'me-fault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The sample book's deribit-pm and span on the cpu pool: a run of a few seconds, every phase. */
const SAMPLE = {
  market: join(ROOT, 'data', 'sample', 'market'),
  positions: join(ROOT, 'data', 'sample', 'book', 'positions.arrow'),
  balances: join(ROOT, 'data', 'sample', 'book', 'balances.arrow'),
};
function runArgs(db: string, inputs = SAMPLE): string[] {
  return [
    ...['run', '--market', inputs.market, '--positions', inputs.positions, '--balances', inputs.balances],
    ...['--models', 'deribit-pm,span', '--backend', 'cpu', '--workers', '1', '--quiet', '--db', db],
  ];
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/** Runs the command; with `kill`, sends `kill.signal` after `kill.afterMs`. Rejects if it outlives 60 s. */
function cli(args: string[], kill?: { afterMs: number; signal: NodeJS.Signals }): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = kill ? setTimeout(() => child.kill(kill.signal), kill.afterMs) : undefined;
    const hang = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 60 s (${kill?.signal ?? 'no signal'}): ${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hang);
      resolve({ code, signal, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Tables of the report with a run_id column. */
let runTables: string[] = [];
/** Rows per run of each of those tables, from the base report's one run. */
let perRun: Record<string, number> = {};
let base: string;
/** How long an undisturbed run takes here, ms: the kills fall within it. */
let runMs = 3000;

beforeAll(async () => {
  base = join(dir, 'base.duckdb');
  const r = await cli(runArgs(base));
  expect(r.code, r.stderr).toBe(0);
  runMs = r.ms;
  const cols = await query(
    base,
    `SELECT table_name FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
       WHERE column_name = 'run_id' AND c.database_name = current_database()`,
  );
  runTables = cols.map((c) => c.table_name as string).filter((t) => REPORT_TABLES.includes(t));
  perRun = (await withDb(base, rowsPerRun)).get(1)!;
});

/** Runs `fn` with a read-only connection to `db`: each query's rows as objects. */
async function withDb<T>(
  db: string,
  fn: (q: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
): Promise<T> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  try {
    return await fn(async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

/** Rows of each run of each table with a run_id: run id -> table -> count. */
async function rowsPerRun(
  q: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<Map<number, Record<string, number>>> {
  const sql = runTables
    .map((t) => `SELECT '${t}' AS t, run_id, count(*)::INTEGER AS n FROM ${t} GROUP BY run_id`)
    .join(' UNION ALL ');
  const out = new Map<number, Record<string, number>>();
  for (const r of await q(sql)) {
    const id = Number(r.run_id);
    const m = out.get(id) ?? Object.fromEntries(runTables.map((t) => [t, 0]));
    m[r.t as string] = r.n as number;
    out.set(id, m);
  }
  return out;
}

/**
 * The report at `db` is a committed state with `oneOf` runs: every row of every table belongs to a run
 * of the runs table, and each run has the rows of a whole run. Returns its run count (0: no file).
 */
async function expectCommitted(db: string, oneOf: number[]): Promise<number> {
  if (!existsSync(db)) {
    expect(oneOf, 'the report is missing').toContain(0);
    return 0;
  }
  return withDb(db, async (q) => {
    const runs = (await q('SELECT run_id FROM runs ORDER BY run_id')).map((r) => Number(r.run_id));
    expect(oneOf).toContain(runs.length);
    const rows = await rowsPerRun(q);
    // rows of a run that is not in runs would be a partial run
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual(runs);
    for (const id of runs) expect(rows.get(id), `run ${id}`).toEqual(perRun);
    return runs.length;
  });
}

/** The next run on `db` commits one more run. */
async function expectNextRunCommits(db: string, had: number): Promise<void> {
  const r = await cli(runArgs(db));
  expect(r.code, r.stderr).toBe(0);
  await expectCommitted(db, [had + 1]);
}

const rand = mulberry32(SEED);
/** Kill times: spread over the whole run, from start-up to the commit and a little past it. */
const killAt = () => Math.round((0.05 + 1.05 * rand()) * runMs);

describe('killed at a random point of a run', () => {
  const cases: [string, NodeJS.Signals, 'first' | 'later'][] = [
    ['SIGKILL, first run of a new report', 'SIGKILL', 'first'],
    ['SIGKILL, a later run', 'SIGKILL', 'later'],
    ['SIGKILL, a later run', 'SIGKILL', 'later'],
    ['SIGTERM, first run of a new report', 'SIGTERM', 'first'],
    ['SIGTERM, a later run', 'SIGTERM', 'later'],
  ];
  const five = cases.slice();
  for (let k = 0; k < EXTRA; k++) cases.push(five[k % five.length]!);
  test.each(cases.map((c, i) => [i, ...c] as const))(
    'case %i: %s: the report is a committed state, the next run commits',
    async (i, _what, signal, when) => {
      const d = join(dir, `kill-${i}`);
      mkdirSync(d);
      const db = join(d, 'r.duckdb');
      if (when === 'later') copyFileSync(base, db);
      const had = when === 'later' ? 1 : 0;
      const at = killAt();
      const r = await cli(runArgs(db), { afterMs: at, signal });
      // killed, or it had finished (a kill after the end): either way a committed state
      expect(r.signal === signal || r.code === 0, `killed at ${at} ms: ${r.code} ${r.signal} ${r.stderr}`).toBe(true);
      const n = await expectCommitted(db, [had, had + 1]);
      // (a SIGKILL leaves FILE.partial-* of a first run behind; their cleanup belongs to another change)
      await expectNextRunCommits(db, n);
    },
  );
});

describe('known cases of another change (enable after the merge)', () => {
  // known case "SIGINT/SIGTERM leaving FILE.partial-* files": a first run stopped by SIGTERM (or SIGINT)
  // removes its temporary FILE.partial-* before it exits
  test.each(['SIGTERM', 'SIGINT'] as const)('%s during a first run leaves no FILE.partial-*', async (signal) => {
    // at several points of the run: the temporary file exists from the report thread's start to the rename
    for (const f of [0.3, 0.5, 0.7, 0.85, 0.95]) {
      const d = join(dir, `partial-${signal}-${f}`);
      mkdirSync(d);
      const db = join(d, 'r.duckdb');
      await cli(runArgs(db), { afterMs: Math.round(f * runMs), signal });
      expect(
        readdirSync(d).filter((x) => x.includes('.partial-')),
        `${signal} at ${f} of the run`,
      ).toEqual([]);
      await expectCommitted(db, [0, 1]);
    }
  });

  // known case "truncated report → exit 1": a report cut short is bad input (exit 2) naming the file, untouched
  test('a truncated report: exit 2 naming the file, its bytes unchanged', async () => {
    const db = join(dir, 'truncated.duckdb');
    const bytes = readFileSync(base);
    writeFileSync(db, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await cli(runArgs(db));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(db);
    expect(readFileSync(db).equals(bytes.subarray(0, Math.floor(bytes.length / 2)))).toBe(true);
  });
});

describe('two writers', () => {
  test('two runs at once on one report: each commits or is refused (exit 2, in use); no partial run', async () => {
    const db = join(dir, 'two.duckdb');
    copyFileSync(base, db);
    const [a, b] = await Promise.all([cli(runArgs(db)), cli(runArgs(db))]);
    const committed = [a, b].filter((r) => r.code === 0).length;
    for (const r of [a, b]) {
      expect(r.signal).toBeNull();
      if (r.code !== 0) {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/is in use by another process/);
      }
    }
    expect(committed).toBeGreaterThan(0);
    await expectCommitted(db, [1 + committed]);
    await expectNextRunCommits(db, 1 + committed);
  });

  // known case "two concurrent creators of a new report" (fixed by another change): enable after the merge
  test('two runs at once creating one new report: one run or two, never a broken file', async () => {
    const db = join(dir, 'two-new.duckdb');
    const [a, b] = await Promise.all([cli(runArgs(db)), cli(runArgs(db))]);
    const committed = [a, b].filter((r) => r.code === 0).length;
    for (const r of [a, b]) expect(r.code === 0 || r.code === 2, r.stderr).toBe(true);
    await expectCommitted(db, [committed]);
    await expectNextRunCommits(db, committed);
  });
});

/** How to mount a tmpfs here: as root (no prefix) or with `sudo -n`; else why it cannot be done. */
function mountCommand(): string[] | string {
  if (process.platform !== 'linux') return 'not Linux (tmpfs)';
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true']);
  if (sudo.status === 0) return ['sudo', '-n'];
  return 'not root and `sudo -n` is not available: no small tmpfs can be mounted';
}

describe('disk full', () => {
  const how = mountCommand();
  const mnt = join(dir, 'small-disk');
  let mounted = false;
  beforeAll(() => {
    if (typeof how === 'string') return;
    mkdirSync(mnt);
    const cmd = [...how, 'mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt];
    mounted = spawnSync(cmd[0]!, cmd.slice(1)).status === 0;
  });
  afterAll(() => {
    if (!mounted || typeof how === 'string') return;
    const cmd = [...how, 'umount', mnt];
    spawnSync(cmd[0]!, cmd.slice(1));
  });

  /** A copy of the base report on the small disk, and the disk filled to 256 KiB short of full. */
  const fullDisk = (): { db: string; filler: string } => {
    const db = join(mnt, 'r.duckdb');
    copyFileSync(base, db);
    // leave the run about 256 KiB: far less than its rows and DuckDB's blocks need
    const filler = join(mnt, 'filler');
    const s = spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' });
    const free = Number(s.stdout.trim().split('\n').pop());
    writeFileSync(filler, Buffer.alloc(Math.max(0, free - 256 * 1024)));
    return { db, filler };
  };
  const skipped = typeof how === 'string' ? ` (skipped: ${how})` : '';

  test.skipIf(typeof how === 'string')(
    `a run that fills the disk leaves the report as it was; the next run, with room, commits${skipped}`,
    async () => {
      if (!mounted) return expect.fail('could not mount a 16 MiB tmpfs');
      const { db, filler } = fullDisk();
      const r = await cli(runArgs(db));
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, 'the run cannot have committed on a full disk').not.toBe(0);
      // the exit code and its message ("disk full", 2 or 3) belong to another change: see the skipped test below
      await expectCommitted(db, [1]);
      // (DuckDB's write-ahead log may stay: it holds committed transactions only)
      expect(readdirSync(mnt).filter((f) => !['r.duckdb', 'r.duckdb.wal', 'filler'].includes(f))).toEqual([]);
      rmSync(filler);
      expect(statSync(db).size).toBeGreaterThan(0);
      await expectNextRunCommits(db, 1);
    },
  );

  // issue 15's table: a full disk is an environment error
  test.skipIf(typeof how === 'string')(
    `a full disk is an environment error: exit 3 (or 2) naming the report, saying the disk is full${skipped}`,
    async () => {
      if (!mounted) return expect.fail('could not mount a 16 MiB tmpfs');
      const { db, filler } = fullDisk();
      const r = await cli(runArgs(db));
      expect([2, 3], r.stderr).toContain(r.code);
      expect(r.stderr).toContain(db);
      expect(r.stderr).toMatch(/no space left|disk is full/i);
      expect(r.stderr).not.toMatch(/internal error/);
      rmSync(filler);
    },
  );
});
