/**
 * `run --distance` end to end (docs/methodology.md §7, issue 16): a generated book from real Arrow files,
 * the run's backend, the rows in the committed report's liquidation_distance table, the
 * accounts_near_liquidation view and near_liquidation(t) macro, and the summary's counts, each checked
 * against an independent SQL count over the stored rows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { main as generate } from '../../src/cli/generate.js';
import { runMargin, type RunOptions, type RunOutcome } from '../../src/pipeline/runMargin.js';
import { summarize } from '../../src/pipeline/summary.js';
import { JOINT, DIRECTION_NAMES } from '../../src/margin/distance.js';

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
let db: string;
let outcome: RunOutcome;
/** The run --distance of the generated book (deribit-pm and span, cpu), without a report. */
const distanceRun = (): RunOptions => ({
  marketDir: MARKET,
  positions: join(dir, 'book/positions.arrow'),
  balances: join(dir, 'book/balances.arrow'),
  models: ['deribit-pm', 'span'],
  backend: 'cpu',
  onInvalid: 'fail',
  distance: true,
});
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'distance-'));
  expect(
    await generate(['--market', MARKET, '--accounts', '40', '--seed', '3', '--out', join(dir, 'book'), '--quiet']),
  ).toBe(0);
  db = join(dir, 'r.duckdb');
  outcome = await runMargin({ ...distanceRun(), db });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run --distance', () => {
  test('every computed row is in liquidation_distance, as computed', async () => {
    const ds = outcome.distances!;
    expect(ds.map((d) => d.model)).toEqual(['deribit-pm', 'span']);
    const stored = await query(
      db,
      `SELECT model, account, unit, underlying, direction, move, price, equity, mm FROM liquidation_distance
       WHERE run_id = ${outcome.runId} ORDER BY rowid`,
    );
    const expected = ds.flatMap((d) =>
      Array.from({ length: d.count }, (_, r) => ({
        model: d.model,
        account: outcome.book.accountKey[d.account[r]!],
        unit: d.unitNames[d.unit[r]!],
        underlying: d.underlying[r] === JOINT ? 'ALL' : outcome.market.underlyings[d.underlying[r]!],
        direction: DIRECTION_NAMES[d.direction[r]!],
        move: Number.isNaN(d.move[r]) ? null : d.move[r],
        price: Number.isNaN(d.price[r]) ? null : d.price[r],
        equity: Number.isNaN(d.equity[r]) ? null : d.equity[r],
        mm: Number.isNaN(d.mm[r]) ? null : d.mm[r],
      })),
    );
    expect(stored).toEqual(expected);
    // some accounts liquidate within the range, some do not, some already are
    expect(stored.some((r) => r.move === null)).toBe(true);
    expect(stored.some((r) => typeof r.move === 'number' && r.move !== 0)).toBe(true);
    // the moved price of a single-underlying row is S·(1 + x)
    const idx = new Map(outcome.market.underlyings.map((u, k) => [u, outcome.market.indexPrice[k]!]));
    for (const r of stored)
      if (r.underlying !== 'ALL' && r.move !== null)
        expect(r.price as number).toBeCloseTo(idx.get(r.underlying as string)! * (1 + (r.move as number)), 6);
  });

  test('accounts_near_liquidation: joint moves within 5 %, sorted by distance; near_liquidation(t) any threshold', async () => {
    const view = await query(
      db,
      'SELECT model, account, unit, direction, move, distance FROM accounts_near_liquidation',
    );
    const direct = await query(
      db,
      `SELECT model, account, unit, direction, move, abs(move) AS distance FROM liquidation_distance
       WHERE underlying = 'ALL' AND abs(move) <= 0.05 ORDER BY abs(move), model, account, unit, direction`,
    );
    expect(view).toEqual(direct);
    expect(view.length).toBeGreaterThan(0);
    const d = view.map((r) => r.distance as number);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    const at10 = await query(db, 'SELECT count(*)::INTEGER AS n FROM near_liquidation(0.10)');
    const direct10 = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM liquidation_distance WHERE underlying = 'ALL' AND abs(move) <= 0.10`,
    );
    expect(at10).toEqual(direct10);
  });

  test('the summary counts the accounts within 1, 2, 5, 10 % as the report does', async () => {
    const s = summarize(outcome);
    for (const m of s.distance!) {
      for (const [k, t] of [
        ['1%', 0.01],
        ['2%', 0.02],
        ['5%', 0.05],
        ['10%', 0.1],
      ] as const) {
        const [r] = await query(
          db,
          `SELECT count(DISTINCT account)::INTEGER AS n FROM liquidation_distance
           WHERE model = '${m.model}' AND underlying = 'ALL' AND abs(move) <= ${t} + 1e-12`,
        );
        expect(m.within[k], `${m.model} ${k}`).toBe(r!.n);
      }
    }
  });

  test('a run without --distance writes no distance rows', async () => {
    const o = await runMargin({
      marketDir: MARKET,
      positions: join(dir, 'book/positions.arrow'),
      balances: join(dir, 'book/balances.arrow'),
      models: ['span'],
      backend: 'cpu',
      onInvalid: 'fail',
      db,
    });
    expect(o.distances).toBeNull();
    expect(
      await query(db, `SELECT count(*)::INTEGER AS n FROM liquidation_distance WHERE run_id = ${o.runId}`),
    ).toEqual([{ n: 0 }]);
  }, 60_000);
});

describe('run --distance under the fitted surface', () => {
  test('--vol-dynamics sticky-moneyness: every model searched (the sub-portfolios carry their slices)', async () => {
    // it stopped with "internal error: market.volSurface has 2530 values for 444 instruments" before
    const out = await runMargin({ ...distanceRun(), volDynamics: 'sticky-moneyness' });
    expect(out.distances!.map((d) => d.model)).toEqual(['deribit-pm', 'span']);
    for (const d of out.distances!) {
      expect(d.count).toBeGreaterThan(0);
      expect(Array.from(d.move).some((x) => Number.isFinite(x) && x !== 0)).toBe(true);
    }
  }, 120_000);
});
