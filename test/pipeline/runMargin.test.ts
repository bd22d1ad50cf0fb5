/**
 * End to end: Arrow files on disk → every model on the cpu backend → a DuckDB report answered by SQL.
 * The bundled sample (data/sample, data/history) is the input; the report goes to a temp directory.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ALL_MODELS, runMargin, type RunOutcome } from '../../src/pipeline/runMargin.js';
import { InputError } from '../../src/errors.js';
import { ENGINE_VERSION } from '../../src/pipeline/version.js';
import { completeSummary, summarize, summarizeRows, type RunSummary } from '../../src/pipeline/summary.js';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');
const POSITIONS = join(ROOT, 'data/sample/book/positions.arrow');
const BALANCES = join(ROOT, 'data/sample/book/balances.arrow');
const HISTORY = join(ROOT, 'data/history');

async function query(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

let dir: string;
let db: string;
let outcome: RunOutcome;
/** what RunOptions.whileCommitting saw: the summary built during the COMMIT, and the run id then */
let early: { summary: RunSummary; runId: number | null; summaries: number } | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-pipeline-'));
  db = join(dir, 'report.duckdb');
  outcome = await runMargin({
    marketDir: MARKET,
    positions: POSITIONS,
    balances: BALANCES,
    historyDir: HISTORY,
    models: [...ALL_MODELS],
    backend: 'cpu',
    onInvalid: 'fail',
    db,
    workers: 2,
    whileCommitting: (o) => {
      early = { summary: summarizeRows(o), runId: o.runId, summaries: o.summaries.length };
    },
  });
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a run of every model on the sample', () => {
  test('the engine version matches package.json', () => {
    expect(ENGINE_VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('whileCommitting sees the outcome before the COMMIT ends; its summary completes to the full one', () => {
    expect(early).not.toBeNull();
    expect(early!.runId).toBeNull();
    expect(early!.summaries).toBe(outcome.summaries.length);
    const full = summarize(outcome);
    expect(full.runId).toBe(1);
    expect(Object.keys(full.timingsMs)).toContain('report');
    expect(completeSummary(early!.summary, outcome)).toEqual(full);
  });

  test('writes one run with the inputs, parameters and backends recorded', async () => {
    expect(outcome.runId).toBe(1);
    const runs = await query(db, 'SELECT run_id, params_hash, status FROM runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.params_hash).toBe(outcome.paramsHash);
  });

  test('every account has a deribit-pm row per unit it holds, and the SQL totals equal the engine totals', async () => {
    const pm = outcome.margin.find((m) => m.model === 'deribit-pm')!;
    const rows = await query(
      db,
      `SELECT count(*)::INTEGER AS n, sum(im) AS im, sum(mm) AS mm FROM account_margin WHERE model = 'deribit-pm'`,
    );
    expect(rows[0]!.n).toBe(pm.count);
    let im = 0;
    let mm = 0;
    for (let r = 0; r < pm.count; r++) {
      im += pm.im[r]!;
      mm += pm.mm[r]!;
    }
    expect(Math.abs((rows[0]!.im as number) - im)).toBeLessThan(1e-9 * Math.max(1, im));
    expect(Math.abs((rows[0]!.mm as number) - mm)).toBeLessThan(1e-9 * Math.max(1, mm));
  });

  test.each(ALL_MODELS.map((m) => [m]))('model %s has rows and an account summary for every account', async (model) => {
    const rows = await query(
      db,
      `SELECT count(DISTINCT account)::INTEGER AS n FROM account_summary WHERE model = '${model}'`,
    );
    expect(rows[0]!.n).toBe(outcome.book.accountCount);
  });

  // deribit-pm and standard margin each settlement unit on its own; span and var decide status on the
  // account's USD totals (their rows carry the account's equity), so those are checked in account_summary.
  const STATUS_RULE = `(mm > im + 1e-12
         OR (status = 'liquidation' AND NOT equity < mm)
         OR (status = 'margin_call' AND NOT (equity >= mm AND equity < im))
         OR (status = 'ok' AND NOT equity >= im))`;

  test('per unit (deribit-pm, standard): MM ≤ IM and the status follows equity against MM and IM', async () => {
    const bad = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM account_margin WHERE model IN ('deribit-pm', 'standard') AND ${STATUS_RULE}`,
    );
    const all = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM account_margin WHERE model IN ('deribit-pm', 'standard')`,
    );
    expect(all[0]!.n).toBeGreaterThan(1000);
    expect(bad[0]!.n).toBe(0);
  });

  test('per account (span, var-hs, var-mc): MM ≤ IM and the status follows USD equity against MM and IM', async () => {
    const bad = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM account_summary WHERE model IN ('span', 'var-hs', 'var-mc') AND ${STATUS_RULE}`,
    );
    expect(bad[0]!.n).toBe(0);
  });

  test('the sample has some accounts in margin call or liquidation, and the view lists them', async () => {
    const rows = await query(db, `SELECT count(*)::INTEGER AS n FROM margin_calls`);
    expect(rows[0]!.n).toBeGreaterThan(0);
  });

  test('account_summary carries the standard IM and MM of every account, equal to the standard model rows', async () => {
    const rows = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM account_summary s JOIN account_summary t USING (run_id, account)
      WHERE s.model = 'deribit-pm' AND t.model = 'standard' AND (s.standard_mm IS NULL OR abs(s.standard_mm - t.mm) > 1e-9 * greatest(1, t.mm)
         OR abs(s.standard_im - t.im) > 1e-9 * greatest(1, t.im))`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  test.each(ALL_MODELS.map((m) => [m]))(
    "%s: account_summary (derived by the view, none stored) is the engine's summary to the last bit",
    async (model) => {
      expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM summary_rows')).toEqual([{ n: 0 }]);
      const k = outcome.margin.findIndex((m) => m.model === model);
      const s = outcome.summaries[k]!;
      expect(s.model).toBe(model);
      const rows = await query(
        db,
        `SELECT s.account, s.equity, s.im, s.mm, s.margin_ratio, s.available, s.status::VARCHAR AS status, s.standard_im, s.standard_mm, s.saving
      FROM account_summary s WHERE s.run_id = 1 AND s.model = '${model}'`,
      );
      expect(rows.length).toBe(s.count);
      const byAccount = new Map(rows.map((r) => [r.account as string, r]));
      const v = (x: number) => (Number.isNaN(x) ? null : x);
      const names = ['ok', 'margin_call', 'liquidation'];
      for (let a = 0; a < s.count; a++) {
        const got = byAccount.get(outcome.book.accountKey[s.account[a]!]!)!;
        const want: Record<string, unknown> = {
          equity: v(s.equityUsd[a]!),
          im: v(s.imUsd[a]!),
          mm: v(s.mmUsd[a]!),
          margin_ratio: v(s.marginRatio[a]!),
          available: v(s.equityUsd[a]! - s.imUsd[a]!),
          status: names[s.status[a]!],
          standard_im: v(s.standardImUsd[a]!),
          standard_mm: v(s.standardMmUsd[a]!),
          saving: v(s.savingUsd[a]!),
        };
        for (const [c, x] of Object.entries(want)) {
          if (!Object.is(got[c], x))
            throw new Error(
              `${model} account ${got.account}: ${c} is ${String(got[c])} in the report, ${String(x)} in the engine`,
            );
        }
      }
    },
  );

  test('portfolio margin saves against standard margin on the sample', async () => {
    const rows = await query(db, `SELECT sum(saving) AS saving FROM account_summary WHERE model = 'deribit-pm'`);
    expect(rows[0]!.saving as number).toBeGreaterThan(0);
  });

  test('the standard rows are derived from the deribit-pm rows (none stored) and equal the engine rows, column by column', async () => {
    expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM margin_standard WHERE run_id = 1')).toEqual([{ n: 0 }]);
    const std = outcome.margin.find((m) => m.model === 'standard')!;
    const rows = await query(
      db,
      `SELECT account, unit, im, mm, equity, margin_ratio, available, status::VARCHAR AS status, liquidity_addon, standard_im, standard_mm, saving
      FROM account_margin WHERE run_id = 1 AND model = 'standard' ORDER BY account, unit`,
    );
    expect(rows.length).toBe(std.count);
    const key = (a: string, u: string) => `${a}|${u}`;
    const byKey = new Map(rows.map((r) => [key(r.account as string, r.unit as string), r]));
    const num = (x: number) => (Number.isNaN(x) ? null : x);
    const mismatches: string[] = [];
    for (let r = 0; r < std.count; r++) {
      const row = byKey.get(key(outcome.book.accountKey[std.account[r]!]!, std.unitNames[std.unit[r]!]!));
      const want = {
        im: num(std.im[r]!),
        mm: num(std.mm[r]!),
        equity: num(std.equity[r]!),
        margin_ratio: num(std.marginRatio[r]!),
        available: num(std.available[r]!),
        status: ['ok', 'margin_call', 'liquidation'][std.status[r]!],
        liquidity_addon: num(std.liquidityAddon[r]!),
        standard_im: num(std.im[r]!),
        standard_mm: num(std.mm[r]!),
        saving: num(std.im[r]! - std.im[r]!),
      };
      const got = row && Object.fromEntries(Object.keys(want).map((k) => [k, row[k]]));
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`${r}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  test('the scenario sets of every family are stored', async () => {
    const rows = await query(
      db,
      `SELECT scenario_set, count(DISTINCT scenario)::INTEGER AS n FROM scenarios GROUP BY 1 ORDER BY 1`,
    );
    const byFamily = Object.fromEntries(rows.map((r) => [r.scenario_set, r.n]));
    expect(byFamily['deribit-pm']).toBe(35);
    expect(byFamily['span']).toBe(16);
    expect(byFamily['historical']).toBe(outcome.params.var.lookbackDays);
    expect(byFamily['monte-carlo']).toBe(outcome.params.var.mcScenarios);
  });
});

describe('runs are all or nothing', () => {
  test('bad input is refused with exit-2 error and leaves the report exactly as it was', async () => {
    const before = await query(
      db,
      `SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM account_margin) AS margin`,
    );
    const broken = join(dir, 'broken.arrow');
    writeFileSync(broken, 'this is not an Arrow file');
    await expect(
      runMargin({
        marketDir: MARKET,
        positions: broken,
        balances: BALANCES,
        models: ['deribit-pm'],
        backend: 'cpu',
        onInvalid: 'fail',
        db,
      }),
    ).rejects.toThrow(InputError);
    const after = await query(
      db,
      `SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM account_margin) AS margin`,
    );
    expect(after).toEqual(before);
  });

  test('bad input with a new report file: refused, and no file (nor a partial one) is left', async () => {
    const broken = join(dir, 'broken2.arrow');
    writeFileSync(broken, 'this is not an Arrow file either');
    const fresh = join(dir, 'fresh-never.duckdb');
    await expect(
      runMargin({
        marketDir: MARKET,
        positions: broken,
        balances: BALANCES,
        models: ['deribit-pm'],
        backend: 'cpu',
        onInvalid: 'fail',
        db: fresh,
      }),
    ).rejects.toThrow(InputError);
    expect(readdirSync(dir).filter((f) => f.startsWith('fresh-never'))).toEqual([]);
  });

  test('bad input under auto with a device to measure: refused, the backends released (auto measures after the load)', async () => {
    // var-mc's 10,000 scenarios: auto starts the devices and waits for the book's load to measure them;
    // a load that fails must still let that measurement run and the backends close (no hang, no leak)
    const broken = join(dir, 'broken3.arrow');
    writeFileSync(broken, 'not an Arrow file, again');
    const t0 = performance.now();
    await expect(
      runMargin({
        marketDir: MARKET,
        positions: broken,
        balances: BALANCES,
        models: ['var-mc'],
        historyDir: HISTORY,
        backend: 'auto',
        onInvalid: 'fail',
      }),
    ).rejects.toThrow(InputError);
    expect(performance.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  test('a --db that is not a DuckDB report is bad input (exit 2), its bytes unchanged', async () => {
    const notDb = join(dir, 'notes.duckdb');
    writeFileSync(notDb, 'not a database\n');
    const err = await runMargin({
      marketDir: MARKET,
      positions: POSITIONS,
      balances: BALANCES,
      models: ['deribit-pm'],
      backend: 'cpu',
      onInvalid: 'fail',
      db: notDb,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/notes\.duckdb: is not a DuckDB database/);
    expect(readFileSync(notDb, 'utf8')).toBe('not a database\n');
  });

  test('a second run gets its own id and the first is untouched', async () => {
    const first = await query(db, `SELECT count(*)::INTEGER AS n FROM account_margin WHERE run_id = 1`);
    const second = await runMargin({
      marketDir: MARKET,
      positions: POSITIONS,
      balances: BALANCES,
      models: ['deribit-pm'],
      backend: 'cpu',
      onInvalid: 'fail',
      db,
      workers: 1,
    });
    expect(second.runId).toBe(2);
    const rows = await query(db, `SELECT run_id, count(*)::INTEGER AS n FROM account_margin GROUP BY 1 ORDER BY 1`);
    expect(rows[0]).toEqual({ run_id: 1, n: first[0]!.n });
    expect(rows[1]!.run_id).toBe(2);
    // the second run used 1 worker, the first 2: deribit-pm margins must be bit-identical
    const diff = await query(
      db,
      `SELECT count(*)::INTEGER AS n FROM account_margin a JOIN account_margin b USING (model, account, unit)
      WHERE a.run_id = 1 AND b.run_id = 2 AND a.model = 'deribit-pm' AND (a.im IS DISTINCT FROM b.im OR a.mm IS DISTINCT FROM b.mm OR a.worst_scenario IS DISTINCT FROM b.worst_scenario)`,
    );
    expect(diff[0]!.n).toBe(0);
  }, 120_000);

  test('a run without deribit-pm stores its standard rows', async () => {
    const f = join(dir, 'span-only.duckdb');
    const o = await runMargin({
      marketDir: MARKET,
      positions: POSITIONS,
      balances: BALANCES,
      models: ['span'],
      backend: 'cpu',
      onInvalid: 'fail',
      db: f,
      workers: 1,
    });
    const std = o.margin.find((m) => m.model === 'standard')!;
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM margin_standard')).toEqual([{ n: std.count }]);
    expect(await query(f, `SELECT count(*)::INTEGER AS n FROM account_margin WHERE model = 'standard'`)).toEqual([
      { n: std.count },
    ]);
  }, 120_000);

  test('var-hs without --history is bad input', async () => {
    await expect(
      runMargin({
        marketDir: MARKET,
        positions: POSITIONS,
        balances: BALANCES,
        models: ['var-hs'],
        backend: 'cpu',
        onInvalid: 'fail',
      }),
    ).rejects.toThrow(/--history/);
  });
});

describe('rows left out under --on-invalid=skip reach the report from its thread', () => {
  test('a bad position row is recorded in rejected_rows and the run is ok_with_rejected_rows', async () => {
    const { writeMarket, writeBook } = await import('../fixtures/io/arrowTables.js');
    const marketDir = writeMarket();
    const f = writeBook(marketDir, (p) => {
      p.quantity!.values[3] = Number.NaN;
    });
    const out = join(dir, 'skip.duckdb');
    const o = await runMargin({
      marketDir,
      positions: f.positions,
      balances: f.balances,
      models: ['deribit-pm'],
      backend: 'cpu',
      onInvalid: 'skip',
      db: out,
      workers: 1,
    });
    expect(o.rejected.length).toBe(1);
    expect(await query(out, `SELECT "row"::INTEGER AS "row", "column", value, rule FROM rejected_rows`)).toEqual([
      { row: 3, column: 'quantity', value: 'NaN', rule: o.rejected[0]!.rule },
    ]);
    expect(await query(out, 'SELECT status FROM runs')).toEqual([{ status: 'ok_with_rejected_rows' }]);
    const n = await query(out, `SELECT count(*)::INTEGER AS n FROM account_margin WHERE model = 'deribit-pm'`);
    expect(n[0]!.n).toBe(o.margin.find((m) => m.model === 'deribit-pm')!.count);
  }, 60_000);
});
