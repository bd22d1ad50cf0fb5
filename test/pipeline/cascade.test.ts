/**
 * `margin-engine cascade` end to end (docs/methodology.md §8, issue 16): real Arrow files, the cpu
 * backend, the committed report's cascade tables checked with SQL (Σ deficits = fund drawdown + ADL per
 * cascade, the sweep's curve and critical shock), and bad input refused with exit 2, naming the option
 * and the value, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { cli } from '../../src/cli/main.js';
import { main as generate } from '../../src/cli/generate.js';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');

async function query(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

let dir: string;
let book: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cascade-'));
  expect(
    await generate(['--market', MARKET, '--accounts', '60', '--seed', '5', '--out', join(dir, 'book'), '--quiet']),
  ).toBe(0);
  book = [
    '--market',
    MARKET,
    '--positions',
    join(dir, 'book/positions.arrow'),
    '--balances',
    join(dir, 'book/balances.arrow'),
  ];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command line, capturing stdout and stderr. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await cli(['cascade', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('margin-engine cascade', () => {
  test('a sweep stores the curve, every round and account, and the critical shock; the books balance', async () => {
    const db = join(dir, 'sweep.duckdb');
    const r = await run([
      ...book,
      '--shock',
      'BTC:-0.1,ETH:-0.1',
      '--sweep',
      '--depth',
      'BTC:1000000,ETH:500000',
      '--backend',
      'cpu',
      '--db',
      db,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/critical shock: /);
    const runs = await query(db, 'SELECT * FROM cascade_runs ORDER BY cascade_id');
    expect(runs).toHaveLength(40);
    expect(new Set(runs.map((x) => x.sweep_id))).toEqual(new Set([1]));
    expect(runs.map((x) => x.x_initial)).toEqual([
      ...Array.from({ length: 20 }, (_, k) => -(k + 1) / 50),
      ...Array.from({ length: 20 }, (_, k) => (k + 1) / 50),
    ]);
    // Σ deficits = fund drawdown + ADL, per cascade, from the stored rows
    const bal = await query(
      db,
      `SELECT r.cascade_id, r.bad_debt_usd, r.insurance_fund_usd - r.min_fund_usd + r.adl_usd AS paid,
              coalesce(sum(a.deficit_usd), 0) AS deficits, count(a.account)::INTEGER AS n, r.liquidated_units
       FROM cascade_runs r LEFT JOIN cascade_accounts a USING (cascade_id) GROUP BY ALL ORDER BY 1`,
    );
    for (const b of bal) {
      expect(b.deficits as number).toBeCloseTo(b.bad_debt_usd as number, 6);
      expect(b.paid as number).toBeCloseTo(b.bad_debt_usd as number, 6);
      expect(b.n).toBe(b.liquidated_units);
    }
    // the critical shock of each side: the smallest |x₀| of that side with more than one round
    for (const sign of [-1, 1]) {
      const side = runs.filter((x) => Math.sign(x.x_initial as number) === sign);
      const multi = side.filter((x) => (x.rounds as number) > 1).map((x) => x.x_initial as number);
      const expected = multi.length === 0 ? null : multi.sort((a, b) => Math.abs(a) - Math.abs(b))[0];
      for (const x of side) expect(x.critical_shock).toBe(expected);
    }
    // rounds: one row per underlying, prices = index × (1 + move)
    const rounds = await query(db, 'SELECT count(*)::INTEGER AS n, sum(rounds)::INTEGER AS r FROM cascade_runs');
    expect((await query(db, 'SELECT count(*)::INTEGER AS n FROM cascade_rounds'))[0]!.n).toBe(
      2 * (rounds[0]!.r as number),
    );
  }, 180_000);

  test.each([
    [['--shock', 'DOGE:-0.1'], '--shock', 'DOGE:-0.1'],
    [['--shock', 'BTC:-1'], '--shock', 'BTC:-1'],
    [['--shock', 'BTC:-1.5'], '--shock', 'BTC:-1.5'],
    [['--shock', 'BTC:-0.1', '--depth', 'BTC:0'], '--depth', 'BTC:0'],
    [['--shock', 'BTC:-0.1', '--depth', 'ETH:-5'], '--depth', 'ETH:-5'],
    [['--shock', 'BTC:-0.1', '--depth', 'BTC:NaN'], '--depth', 'BTC:NaN'],
    [['--shock', 'BTC:-0.1', '--insurance-fund', '0'], '--insurance-fund', '0'],
    [['--shock', 'BTC:-0.1', '--insurance-fund', '-1'], '--insurance-fund', '-1'],
    [['--shock', 'BTC:-0.1', '--insurance-fund', 'NaN'], '--insurance-fund', 'NaN'],
    [['--sweep'], '--sweep', ''],
    [['--shock', 'BTC:-0.1', '--impact', 'cubic'], '--impact', 'cubic'],
    [['--shock', 'BTC:-0.1', '--impact', 'sqrt', '--history', 'data/history'], '--daily-volume', ''],
    [['--shock', 'BTC:-0.1', '--impact', 'sqrt', '--daily-volume', 'BTC:1e9,ETH:1e9'], '--history', ''],
    [
      ['--shock', 'BTC:-0.1', '--impact', 'sqrt', '--history', 'data/history', '--daily-volume', 'BTC:1e9'],
      '--daily-volume',
      'BTC:1e9',
    ],
    [
      ['--shock', 'BTC:-0.1', '--impact', 'sqrt', '--history', 'data/history', '--daily-volume', 'BTC:0,ETH:1'],
      '--daily-volume',
      'BTC:0',
    ],
  ])('%j: exit 2 naming %s and its value, nothing written', async (args, option, value) => {
    const db = join(dir, 'bad.duckdb');
    const r = await run([...book, ...args, '--backend', 'cpu', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(option);
    expect(r.err).toContain(JSON.stringify(value));
    expect(existsSync(db)).toBe(false);
  });

  test('--impact sqrt: σ_d from the history, recorded with V_d and Y', async () => {
    const db = join(dir, 'sqrt.duckdb');
    const args = ['--shock', 'BTC:-0.15', '--impact', 'sqrt', '--history', join(ROOT, 'data/history')];
    const r = await run([...book, ...args, '--daily-volume', 'BTC:2e8,ETH:1e8', '--backend', 'cpu', '--db', db]);
    expect(r.code).toBe(0);
    const [row] = await query(db, `SELECT impact, parameters::VARCHAR AS p FROM cascade_runs`);
    expect(row!.impact).toBe('sqrt');
    const p = JSON.parse(row!.p as string) as {
      dailyVol: Record<string, number>;
      dailyVolumeUsd: Record<string, number>;
      y: number;
    };
    expect(p.y).toBe(0.7);
    expect(p.dailyVolumeUsd).toEqual({ BTC: 2e8, ETH: 1e8 });
    // a crypto daily vol: between 0.5 % and 10 %
    for (const v of Object.values(p.dailyVol)) {
      expect(v).toBeGreaterThan(0.005);
      expect(v).toBeLessThan(0.1);
    }
  }, 60_000);

  test('bad input leaves an existing report byte for byte as it was', async () => {
    const db = join(dir, 'one.duckdb');
    expect((await run([...book, '--shock', 'BTC:-0.2', '--backend', 'cpu', '--db', db])).code).toBe(0);
    const before = readFileSync(db);
    expect((await run([...book, '--shock', 'BTC:-0.2', '--depth', 'BTC:0', '--backend', 'cpu', '--db', db])).code).toBe(
      2,
    );
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM cascade_runs')).toEqual([{ n: 1 }]);
  }, 60_000);
});
