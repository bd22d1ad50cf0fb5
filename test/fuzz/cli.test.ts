/**
 * Fuzz (issue 15) through the command line: a handful of real `margin-engine run` processes on random
 * malformed and extreme inputs, each writing to a report that already holds a run (and a few to a new
 * report). Every case exits 0 or 2 (3: an environment error), never 1 and never by a signal; on 2 the
 * message names an input file and the report is exactly as it was (a new report is not created); on 0
 * the report holds one more run and every amount of it is finite. The cases come from the generators of
 * inputs.test.ts with a fixed seed (FUZZ_SEED; FUZZ_RUNS=500 runs more of them).
 * Needs dist/ (npm run build).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inputCaseArb, loadableInputCaseArb, paramsCaseArb, paramsText, writeInputCase } from './arbitraries.js';
import { FUZZ_SEED, fuzzRuns } from './helpers.js';
import { writeBook, writeMarket } from '../fixtures/io/arrowTables.js';
import { query, reportState } from '../report/helpers.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const root = mkdtempSync(join(tmpdir(), 'me-fuzz-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the command; resolves with its exit code, signal and stderr. */
export function cli(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const runArgs = (f: { market: string; positions: string; balances: string }, db: string, extra: string[] = []) => [
  'run',
  '--market',
  f.market,
  '--positions',
  f.positions,
  '--balances',
  f.balances,
  '--models',
  'deribit-pm,span',
  '--backend',
  'cpu',
  '--workers',
  '1',
  '--quiet',
  '--db',
  db,
  ...extra,
];

let base: string;
let before: Record<string, number>;
beforeAll(async () => {
  const dir = join(root, 'base');
  mkdirSync(dir);
  writeMarket(undefined, 'file', dir);
  const book = writeBook(dir);
  base = join(dir, 'base.duckdb');
  const r = await cli(runArgs({ market: dir, ...book }, base));
  expect(r.code, r.stderr).toBe(0);
  before = await reportState(base);
});

/** Count of non-finite amounts of the latest run. */
async function nonFinite(db: string): Promise<number> {
  const rows = await query(
    db,
    `SELECT count(*)::INTEGER AS n FROM account_margin WHERE run_id = (SELECT max(run_id) FROM runs)
       AND NOT (isfinite(im) AND isfinite(mm) AND isfinite(equity) AND isfinite(available))`,
  );
  return rows[0]!.n as number;
}

/** Exit 0 or 2 only; on 2 a message naming one of `files` and the report unchanged; on 0 one more finite run. */
async function expectCommittedOrUntouched(
  r: Awaited<ReturnType<typeof cli>>,
  db: string,
  files: string[],
  fresh: boolean,
): Promise<void> {
  expect(r.signal, r.stderr).toBeNull();
  expect([0, 2, 3], `exit ${r.code}: ${r.stderr}`).toContain(r.code);
  if (r.code === 0) {
    const after = await reportState(db);
    expect(after.runs).toBe(fresh ? 1 : before.runs! + 1);
    expect(await nonFinite(db)).toBe(0);
  } else {
    expect(r.stderr).toMatch(/^margin-engine run: /);
    if (r.code === 2)
      expect(
        files.some((f) => r.stderr.includes(f)),
        r.stderr,
      ).toBe(true);
    if (fresh) expect(existsSync(db)).toBe(false);
    else expect(await reportState(db)).toEqual(before);
  }
  // no temporary file left beside the report
  const dir = join(db, '..');
  expect(readdirSync(dir).filter((f) => /\.partial-|\.tmp$|\.wal$/.test(f))).toEqual([]);
}

describe('margin-engine run on random inputs', () => {
  const cases = fc.sample(fc.oneof(inputCaseArb, loadableInputCaseArb), { seed: FUZZ_SEED + 10, numRuns: fuzzRuns(4) });
  test.each(cases.map((c, i) => [i, c] as const))(
    'case %i: exit 0 with a finite run, or 2 and no trace',
    async (i, c) => {
      const dir = join(root, `in-${i}`);
      mkdirSync(dir);
      const f = writeInputCase(dir, c);
      // odd cases append to a report holding one run, even ones create a new report
      const fresh = i % 2 === 0;
      const db = join(dir, 'r.duckdb');
      if (!fresh) copyFileSync(base, db);
      const r = await cli(runArgs(f, db));
      await expectCommittedOrUntouched(r, db, [dir], fresh);
    },
  );

  const params = fc.sample(paramsCaseArb, { seed: FUZZ_SEED + 11, numRuns: fuzzRuns(1) });
  test.each(params.map((c, i) => [i, c] as const))('parameter file %i: exit 0 or 2, no trace', async (i, c) => {
    const dir = join(root, `params-${i}`);
    mkdirSync(dir);
    writeMarket(undefined, 'file', dir);
    const book = writeBook(dir);
    const p = join(dir, 'params.json');
    writeFileSync(p, paramsText(c));
    const db = join(dir, 'r.duckdb');
    copyFileSync(base, db);
    const r = await cli(runArgs({ market: dir, ...book }, db, ['--params', p]));
    await expectCommittedOrUntouched(r, db, [p], false);
  });

  // known case "messages printed twice / raw bytes echoed" (issue 15's table)
  test.each(['nul\u0000byte', 'ÄÖ😀\u202e', 'line\nbreak', '\u001b[31mred'])(
    'a bad instrument name %j: each line of the message once, no control characters',
    async (name) => {
      const dir = mkdtempSync(join(root, 'msg-'));
      writeMarket(undefined, 'file', dir);
      const book = writeBook(dir, (p) => (p.instrument!.values[1] = name));
      const r = await cli(runArgs({ market: dir, ...book }, join(dir, 'r.duckdb')));
      expect(r.code).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(new Set(lines).size, r.stderr).toBe(lines.length);
      expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    },
  );
});
