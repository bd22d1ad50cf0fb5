/**
 * writeRun on hand-built inputs (fixtures/sampleRun.ts), read back with SQL: every table, NULL handling
 * (NaN and −1 become NULL, +Infinity stays), the views, and runs accumulating with distinct ids.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeRun } from '../../src/report/writer.js';
import { REPORT_TABLES, REPORT_VIEWS, SCHEMA_VERSION } from '../../src/report/schema.js';
import { SNAPSHOT_MS, largeRun, sampleRun, sampleRunWithStandard, standardFromPm } from './fixtures/sampleRun.js';
import { summarizeRows } from '../../src/margin/summary.js';
import { fillDerived, fillStatus } from '../../src/margin/derived.js';
import { STATUS_NAMES, type MarginRows, type ModelName } from '../../src/margin/types.js';
import type { RunRecord } from '../../src/report/types.js';
import { query, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let db: string;
let firstId: number;
let secondId: number;

beforeAll(async () => {
  dir = tmpDir();
  db = join(dir, 'report.duckdb');
  firstId = (await writeRun(db, sampleRun())).runId;
  const second = {
    ...sampleRun(),
    startedAtMs: SNAPSHOT_MS + 3_600_000,
    finishedAtMs: SNAPSHOT_MS + 3_601_000,
    rejected: [],
  };
  secondId = (await writeRun(db, second)).runId;
});
afterAll(() => rmTmp(dir));

describe('runs accumulate', () => {
  test('ids are 1 then 2, both runs are there with their own rows', async () => {
    expect([firstId, secondId]).toEqual([1, 2]);
    const rows = await query(
      db,
      `SELECT run_id, (SELECT count(*)::INTEGER FROM account_margin m WHERE m.run_id = r.run_id) AS n,
      (SELECT count(*)::INTEGER FROM rejected_rows x WHERE x.run_id = r.run_id) AS rejected, status FROM runs r ORDER BY run_id`,
    );
    expect(rows).toEqual([
      { run_id: 1, n: 7, rejected: 2, status: 'ok_with_rejected_rows' },
      { run_id: 2, n: 7, rejected: 0, status: 'ok' },
    ]);
  });
  test('a new file is built under a temporary name and renamed: nothing else is left in the directory', () => {
    expect(readdirSync(dir).filter((f) => f !== 'report.duckdb' && f !== 'keys.duckdb')).toEqual([]);
    expect(existsSync(db)).toBe(true);
  });
  test('schema_meta holds the schema version', async () => {
    expect(await query(db, 'SELECT version, engine_version FROM schema_meta')).toEqual([
      { version: SCHEMA_VERSION, engine_version: '0.1.0-test' },
    ]);
  });
  test('strings are stored without dictionary or FSST compression (their analysis cost more than the append)', async () => {
    // 150,000 keys: enough for DuckDB to choose FSST for them were it allowed to (measured: it does)
    const big = join(dir, 'keys.duckdb');
    await writeRun(big, largeRun(300_000));
    const rows = await query(
      big,
      `SELECT DISTINCT compression FROM pragma_storage_info('accounts') WHERE column_name = 'account' AND segment_type = 'VARCHAR'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(['Uncompressed', 'Constant']).toContain(r.compression);
  });
  test('every table and view exists', async () => {
    const rows = await query(
      db,
      `SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main'
      UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([...REPORT_TABLES, ...REPORT_VIEWS].sort());
  });
});

describe('runs row', () => {
  test('times, models, params, inputs, backends and timings round-trip', async () => {
    const [r] = await query(
      db,
      `SELECT epoch_ms(started_at) AS started, epoch_ms(finished_at) AS finished, epoch_ms(snapshot_time) AS snap,
      models, params::VARCHAR AS params, params_hash, inputs::VARCHAR AS inputs, backends::VARCHAR AS backends,
      timings_ms::VARCHAR AS timings, scenario_sets->>'$.span.meta.psr.ETH' AS eth_psr, engine_version,
      written_at >= finished_at AS written_after FROM runs WHERE run_id = 1`,
    );
    const run = sampleRun();
    expect(r).toMatchObject({
      started: BigInt(run.startedAtMs),
      finished: BigInt(run.finishedAtMs!),
      snap: BigInt(SNAPSHOT_MS),
      models: ['deribit-pm', 'span'],
      params_hash: 'abc123',
      eth_psr: '0.15',
      engine_version: '0.1.0-test',
      written_after: true,
    });
    expect(JSON.parse(r!.params as string)).toEqual(run.params);
    expect(JSON.parse(r!.inputs as string)).toEqual(run.inputs);
    expect(JSON.parse(r!.backends as string)).toEqual(run.backends);
    expect(JSON.parse(r!.timings as string)).toEqual(run.timingsMs);
  });
});

describe('scenarios: long format, one row per (scenario, underlying)', () => {
  test.each([
    // [set, scenario, underlying, label, dt_days, weight, move, vol_rule, vol_param] from fixtures/sampleRun.ts
    // pmScenarios / spanScenarios
    ['deribit-pm', 0, 'BTC', '-16% vol up', 0, 1, -0.16, 'up', 1],
    ['deribit-pm', 0, 'ETH', '-16% vol up', 0, 1, -0.18, 'up', 1],
    ['deribit-pm', 2, 'BTC', "+16% vol down (o'clock)", 1, 0.5, 0.16, 'down', 1],
    ['deribit-pm', 2, 'ETH', "+16% vol down (o'clock)", 1, 0.25, 0.18, 'mult', 1.3],
    ['span', 1, 'ETH', 'down 1/3', 0, 1, -0.05, 'none', 1],
  ])('%s scenario %i %s', async (set, id, u, label, dt, w, move, rule, param) => {
    const rows = await query(
      db,
      `SELECT label, dt_days, weight, move, delta_one_move, vol_rule, vol_param FROM scenarios
      WHERE run_id = 1 AND scenario_set = '${set}' AND scenario = ${id} AND underlying = '${u}'`,
    );
    expect(rows).toEqual([
      { label, dt_days: dt, weight: w, move, delta_one_move: move, vol_rule: rule, vol_param: param },
    ]);
  });
  test('row count is count × underlyings per set', async () => {
    expect(
      await query(
        db,
        'SELECT scenario_set, count(*)::INTEGER AS n FROM scenarios WHERE run_id = 1 GROUP BY 1 ORDER BY 1',
      ),
    ).toEqual([
      { scenario_set: 'deribit-pm', n: 6 },
      { scenario_set: 'span', n: 4 },
    ]);
  });
});

describe('instruments', () => {
  test.each([
    // [instrument, kind, option_type, settlement, strike, model_value, model_minus_mark, index_price]
    ['BTC-27MAR26-100000-C', 'option', 'call', 'inverse', 100_000, 0.0452, 0.0452 - 0.045, 95_000],
    ['BTC-27MAR26-80000-P', 'option', 'put', 'inverse', 80_000, 0.0118, 0.0118 - 0.012, 95_000],
    ['BTC-PERPETUAL', 'perpetual', null, 'inverse', null, null, null, 95_000],
    ['ETH-27MAR26', 'future', null, 'linear', null, 3_320, 0, 3_300],
  ])('%s', async (name, kind, opt, settle, strike, value, diff, index) => {
    const [r] = await query(
      db,
      `SELECT kind, option_type, settlement, strike, model_value, model_minus_mark, index_price,
      expiry IS NULL AS no_expiry, bid_price FROM instruments WHERE run_id = 1 AND instrument = '${name}'`,
    );
    expect(r).toMatchObject({
      kind,
      option_type: opt,
      settlement: settle,
      strike,
      model_value: value,
      index_price: index,
      no_expiry: kind === 'perpetual',
    });
    if (diff === null) expect(r!.model_minus_mark).toBeNull();
    else expect(Math.abs((r!.model_minus_mark as number) - diff)).toBeLessThan(1e-15);
  });
  test('missing quotes are NULL, expiry is the UTC timestamp', async () => {
    const [r] = await query(
      db,
      `SELECT bid_price, ask_price, strftime(expiry, '%Y-%m-%d %H:%M') AS expiry FROM instruments
      WHERE run_id = 1 AND instrument = 'BTC-27MAR26-80000-P'`,
    );
    expect(r).toEqual({ bid_price: null, ask_price: 0.013, expiry: '2026-03-27 08:00' });
  });
});

describe('account_margin', () => {
  test.each([
    // [model, account, unit, currency, status, worst_scenario, margin_ratio, saving] from fixtures pmRows / spanRows
    ['deribit-pm', 'alice', 'BTC', 'BTC', 'ok', 0, 0.2, 0.9 - 0.5],
    ['deribit-pm', 'alice', 'USDC', 'USDC', 'margin_call', 2, 0.9, 3_000],
    ['deribit-pm', 'bob', 'BTC', 'BTC', 'liquidation', 0, Infinity, null],
    ['deribit-pm', 'carol', 'ETH', 'ETH', 'ok', null, 0, 0],
    ['deribit-pm', "o'neil", 'BTC', 'BTC', 'margin_call', 2, 0.8, 0.35 - 0.3],
    ['span', 'alice', 'BTC', 'USD', 'ok', 1, 0.225, null],
    ['span', 'bob', 'BTC', 'USD', 'liquidation', 1, Infinity, null],
  ])('%s %s %s', async (model, account, unit, currency, status, worst, ratio, saving) => {
    const rows = await query(
      db,
      `SELECT currency, status, worst_scenario, margin_ratio, saving, scenario_set FROM account_margin
      WHERE run_id = 1 AND model = '${model}' AND account = '${String(account).replace(/'/g, "''")}' AND unit = '${unit}'`,
    );
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r).toMatchObject({ currency, status, worst_scenario: worst, margin_ratio: ratio, scenario_set: model });
    if (saving === null) expect(r.saving).toBeNull();
    else expect(Math.abs((r.saving as number) - saving)).toBeLessThan(1e-12);
  });
  test('components that do not apply are NULL (NaN in), the others are kept', async () => {
    const rows = await query(
      db,
      `SELECT model, count(worst_case)::INTEGER AS wc, count(roll_shock)::INTEGER AS rs,
      count(scan_risk)::INTEGER AS sr, count(som)::INTEGER AS som, count(var)::INTEGER AS var, count(es)::INTEGER AS es,
      count(standard_im)::INTEGER AS std, count(*)::INTEGER AS n FROM account_margin WHERE run_id = 1 GROUP BY model ORDER BY model`,
    );
    expect(rows).toEqual([
      { model: 'deribit-pm', wc: 5, rs: 5, sr: 0, som: 0, var: 0, es: 0, std: 4, n: 5 },
      { model: 'span', wc: 2, rs: 0, sr: 2, som: 2, var: 0, es: 0, std: 0, n: 2 },
    ]);
  });
  test('amounts round-trip exactly', async () => {
    const [r] = await query(
      db,
      `SELECT im, mm, equity, available, worst_case, roll_shock, delta_shock, risk_matrix_margin, liquidity_addon, standard_im, standard_mm
      FROM account_margin WHERE run_id = 1 AND model = 'deribit-pm' AND account = 'alice' AND unit = 'USDC'`,
    );
    expect(r).toEqual({
      im: 12_000,
      mm: 9_000,
      equity: 10_000,
      available: -2_000,
      worst_case: 11_000,
      roll_shock: 250,
      delta_shock: 0,
      risk_matrix_margin: 11_250,
      liquidity_addon: 750,
      standard_im: 15_000,
      standard_mm: 10_000,
    });
  });
});

describe("account_summary: derived from the margin rows (schema 5), the engine's numbers to the last bit", () => {
  let f: string;
  beforeAll(async () => {
    f = join(dir, 'with-standard.duckdb');
    await writeRun(f, sampleRunWithStandard());
  });
  test('no summary rows are stored; one summary row per account and model of the run', async () => {
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM summary_rows')).toEqual([{ n: 0 }]);
    expect(
      await query(
        f,
        'SELECT model, count(*)::INTEGER AS n, count(DISTINCT account)::INTEGER AS a FROM account_summary GROUP BY model ORDER BY model',
      ),
    ).toEqual([
      { model: 'deribit-pm', n: 4, a: 4 },
      { model: 'span', n: 4, a: 4 },
      { model: 'standard', n: 4, a: 4 },
    ]);
  });
  test('deribit-pm: units converted at the index price (BTC 95,000, ETH 3,300, USDC 1), the worst unit status, saving against standard', async () => {
    const rows = await query(
      f,
      `SELECT account, currency, equity, im, mm, status, margin_ratio, available, standard_im, saving
      FROM account_summary WHERE model = 'deribit-pm' ORDER BY account`,
    );
    const aliceIm = 0.5 * 95_000 + 12_000;
    const aliceStd = 0.9 * 95_000 + 15_000;
    expect(rows).toEqual([
      {
        account: 'alice',
        currency: 'USD',
        equity: 2 * 95_000 + 10_000,
        im: aliceIm,
        mm: 0.4 * 95_000 + 9_000,
        status: 'margin_call',
        margin_ratio: (0.4 * 95_000 + 9_000) / (2 * 95_000 + 10_000),
        available: 2 * 95_000 + 10_000 - aliceIm,
        standard_im: aliceStd,
        saving: aliceStd - aliceIm,
      },
      {
        account: 'bob',
        currency: 'USD',
        equity: -0.1 * 95_000,
        im: 1.2 * 95_000,
        mm: 1 * 95_000,
        status: 'liquidation',
        margin_ratio: Infinity,
        available: -0.1 * 95_000 - 1.2 * 95_000,
        standard_im: null,
        saving: null,
      },
      {
        account: 'carol',
        currency: 'USD',
        equity: 5 * 3_300,
        im: 0,
        mm: 0,
        status: 'ok',
        margin_ratio: 0,
        available: 5 * 3_300,
        standard_im: 0,
        saving: 0,
      },
      {
        account: "o'neil",
        currency: 'USD',
        equity: 0.25 * 95_000,
        im: 0.3 * 95_000,
        mm: 0.2 * 95_000,
        status: 'margin_call',
        margin_ratio: (0.2 * 95_000) / (0.25 * 95_000),
        available: 0.25 * 95_000 - 0.3 * 95_000,
        standard_im: 0.35 * 95_000,
        saving: 0.35 * 95_000 - 0.3 * 95_000,
      },
    ]);
  });
  test("span: the account's USD equity against the sums of its rows; an account without rows has zero margin", async () => {
    const rows = await query(
      f,
      `SELECT account, equity, im, mm, status FROM account_summary WHERE model = 'span' ORDER BY account`,
    );
    expect(rows).toEqual([
      { account: 'alice', equity: 200_000, im: 50_000, mm: 45_000, status: 'ok' },
      { account: 'bob', equity: -9_500, im: 120_000, mm: 100_000, status: 'liquidation' },
      { account: 'carol', equity: 16_500, im: 0, mm: 0, status: 'ok' },
      { account: "o'neil", equity: 23_750, im: 0, mm: 0, status: 'ok' },
    ]);
  });
  test.each(['deribit-pm', 'span', 'standard'] as const)(
    "%s: every value is summarizeRows()' (src/margin/summary.ts)",
    async (model) => {
      const run = sampleRunWithStandard();
      await expectSummaryOf(f, 1, run, model);
    },
  );
  test('rows in any order, NaN, ±Infinity, −0, tiny and huge amounts: the view adds them as the engine does', async () => {
    const run = edgeRun(20260125);
    const g = join(dir, 'edge-summary.duckdb');
    await writeRun(g, run);
    for (const model of ['deribit-pm', 'span', 'standard'] as const) await expectSummaryOf(g, 1, run, model);
  });

  test("span's margin ratio, available and status: the view derives them from the account's rows in any order, bit for bit", async () => {
    const run = edgeRun(20260125);
    const span = run.margin.find((m) => m.model === 'span')!;
    // accounts of several rows, not next to one another
    const rowsOf = new Map<number, number[]>();
    for (let r = 0; r < span.count; r++) rowsOf.set(span.account[r]!, [...(rowsOf.get(span.account[r]!) ?? []), r]);
    expect([...rowsOf.values()].some((rs) => rs.length >= 3 && rs[rs.length - 1]! - rs[0]! > rs.length)).toBe(true);
    const g = join(dir, 'edge-span.duckdb');
    await writeRun(g, run);
    const got = await query(
      g,
      `SELECT margin_ratio, available, status::VARCHAR AS status FROM account_margin_ids WHERE run_id = 1 AND model = 'span' ORDER BY row_order`,
    );
    expect(got).toHaveLength(span.count);
    const v = (x: number) => (Number.isNaN(x) ? null : x);
    for (let r = 0; r < span.count; r++) {
      const want = {
        margin_ratio: v(span.marginRatio[r]!),
        available: v(span.available[r]!),
        status: STATUS_NAMES[span.status[r]!],
      };
      for (const [k, x] of Object.entries(want))
        if (!Object.is(got[r]![k], x))
          throw new Error(`span row ${r}: ${k} is ${String(got[r]![k])}, the engine's ${String(x)}`);
    }
  });
});

/**
 * Checks account_summary of `model` in run `runId` of `file` against summarizeRows over `run`'s rows: every column, bit
 * for bit (NULL = NaN).
 */
async function expectSummaryOf(file: string, runId: number, run: RunRecord, model: ModelName): Promise<void> {
  const std = run.margin.find((m) => m.model === 'standard')!;
  const s = summarizeRows(
    run.margin.find((m) => m.model === model)!,
    std,
    run.accountEquityUsd,
    run.market,
  );
  const rows = await query(
    file,
    `SELECT a.account_id AS id, s.equity, s.im, s.mm, s.margin_ratio, s.available, s.status::VARCHAR AS status, s.standard_im, s.standard_mm, s.saving
    FROM account_summary s JOIN accounts a ON a.run_id = s.run_id AND a.account = s.account WHERE s.run_id = ${runId} AND s.model = '${model}' ORDER BY id`,
  );
  const expected = Array.from({ length: s.count }, (_, a) => {
    const v = (x: number) => (Number.isNaN(x) ? null : x);
    return {
      id: a,
      equity: v(s.equityUsd[a]!),
      im: v(s.imUsd[a]!),
      mm: v(s.mmUsd[a]!),
      margin_ratio: v(s.marginRatio[a]!),
      available: v(s.equityUsd[a]! - s.imUsd[a]!),
      status: STATUS_NAMES[s.status[a]!],
      standard_im: v(s.standardImUsd[a]!),
      standard_mm: v(s.standardMmUsd[a]!),
      saving: v(s.savingUsd[a]!),
    };
  });
  expect(rows.length).toBe(expected.length);
  for (let a = 0; a < expected.length; a++) {
    for (const [k, x] of Object.entries(expected[a]!)) {
      const got = rows[a]![k];
      if (!Object.is(got, x))
        throw new Error(
          `account_summary(${model}) account ${a}: ${k} is ${String(got)}, summarizeRows gives ${String(x)}`,
        );
    }
  }
}

/**
 * sampleRun's market with 60 accounts and deribit-pm and span rows in shuffled order (an account's rows
 * apart, two rows of one unit), amounts drawn from ordinary doubles and edge values; standard rows derived
 * from the deribit-pm rows; a few accounts without rows, some NaN account equities.
 */
function edgeRun(seed: number): RunRecord {
  let x = seed >>> 0;
  const rnd = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4_294_967_296;
  };
  const EDGE = [0, -0, NaN, Infinity, -Infinity, 1e300, -1e300, 5e-324, 1e-300, 0.1, 0.2, 0.3];
  const amount = () =>
    rnd() < 0.15 ? EDGE[Math.floor(rnd() * EDGE.length)]! : (rnd() - 0.3) * 10 ** Math.floor(rnd() * 12 - 4);
  const A = 60;
  const base = sampleRun();
  const rowsOf = (model: 'deribit-pm' | 'span', n: number, units: string[]): MarginRows => {
    const f = () => Float64Array.from({ length: n }, amount);
    const account = Int32Array.from({ length: n }, () => Math.floor(rnd() * (A - 5)));
    const unit = Int32Array.from({ length: n }, () => Math.floor(rnd() * units.length));
    const worstCase = f();
    const rollShock = f();
    return {
      model,
      count: n,
      account,
      unit,
      unitNames: units,
      currency: model === 'span' ? new Int32Array(n) : Int32Array.from(unit),
      currencyNames: model === 'span' ? ['USD'] : units,
      im: f(),
      mm: f(),
      equity: f(),
      marginRatio: f(),
      available: f(),
      status: Uint8Array.from({ length: n }, () => Math.floor(rnd() * 3)),
      worstScenario: Int32Array.from({ length: n }, () => Math.floor(rnd() * 4) - 1),
      worstCase,
      rollShock,
      deltaShock: new Float64Array(n).fill(model === 'deribit-pm' ? 0 : NaN),
      riskMatrixMargin:
        model === 'deribit-pm'
          ? Float64Array.from({ length: n }, (_, r) => worstCase[r]! + rollShock[r]!)
          : new Float64Array(n).fill(NaN),
      scanRisk: model === 'span' ? f() : new Float64Array(n).fill(NaN),
      som: model === 'span' ? f() : new Float64Array(n).fill(NaN),
      var: new Float64Array(n).fill(NaN),
      es: new Float64Array(n).fill(NaN),
      liquidityAddon: f(),
      standardIm: model === 'deribit-pm' ? f() : new Float64Array(n).fill(NaN),
      standardMm: model === 'deribit-pm' ? f() : new Float64Array(n).fill(NaN),
    };
  };
  const pm = rowsOf('deribit-pm', 150, ['BTC', 'ETH', 'USDC']);
  // what the report derives for deribit-pm: IM = (worst_case + roll_shock) + add-on, then ratio, available, status
  for (let r = 0; r < pm.count; r++) pm.im[r] = pm.worstCase[r]! + pm.rollShock[r]! + pm.liquidityAddon[r]!;
  fillStatus(pm);
  const span = rowsOf('span', 90, ['BTC', 'ETH']);
  // what the report derives for span: worst_case = scan_risk, the account's margin ratio, available and status (from
  // the sums of its rows, here in any order), the columns span does not apply NaN
  fillDerived(span);
  return {
    ...base,
    models: ['deribit-pm', 'span', 'standard'],
    rejected: [],
    accountKey: Array.from({ length: A }, (_, a) => `acct-${String(a).padStart(3, '0')}`),
    accountEquityUsd: Float64Array.from({ length: A }, () => (rnd() < 0.05 ? NaN : amount())),
    margin: [pm, span, standardFromPm(pm)],
  };
}

describe('rejected_rows', () => {
  test('rejected rows keep file, row, column, value and rule (NULL value kept NULL)', async () => {
    expect(
      await query(
        db,
        'SELECT file, "row"::INTEGER AS row, "column", value, rule FROM rejected_rows WHERE run_id = 1 ORDER BY file',
      ),
    ).toEqual([
      { file: 'balances.arrow', row: 3, column: 'currency', value: null, rule: 'is required' },
      { file: 'positions.arrow', row: 7, column: 'quantity', value: 'NaN', rule: 'is not a finite number' },
    ]);
  });
});

describe('views answer for the latest run', () => {
  test('margin_calls: liquidations first, then margin calls by shortfall; latest run only', async () => {
    const rows = await query(db, 'SELECT run_id, model, account, unit, status, im_shortfall FROM margin_calls');
    expect(rows.map((r) => [r.run_id, r.model, r.account, r.unit, r.status])).toEqual([
      [2, 'deribit-pm', 'bob', 'BTC', 'liquidation'],
      [2, 'span', 'bob', 'BTC', 'liquidation'],
      [2, 'deribit-pm', "o'neil", 'BTC', 'margin_call'],
      [2, 'deribit-pm', 'alice', 'USDC', 'margin_call'],
    ]);
    expect(rows[3]!.im_shortfall).toBe(2_000);
  });
  test('top_margin_consumers ranks accounts by USD IM', async () => {
    const rows = await query(
      db,
      `SELECT im_rank::INTEGER AS r, account, im, im_share FROM top_margin_consumers WHERE model = 'deribit-pm'`,
    );
    expect(rows.map((r) => [r.r, r.account])).toEqual([
      [1, 'bob'],
      [2, 'alice'],
      [3, "o'neil"],
      [4, 'carol'],
    ]);
    expect(Math.abs((rows[0]!.im_share as number) - 114_000 / 202_000)).toBeLessThan(1e-12);
  });
  test('pm_saving_by_underlying sums IM and standard IM where both exist', async () => {
    const rows = await query(
      db,
      'SELECT model, unit, units::INTEGER AS units, im, standard_im, saving, saving_share FROM pm_saving_by_underlying',
    );
    expect(rows.map((r) => [r.model, r.unit, r.units])).toEqual([
      ['deribit-pm', 'BTC', 2],
      ['deribit-pm', 'ETH', 1],
      ['deribit-pm', 'USDC', 1],
    ]);
    const btc = rows[0]!;
    expect(Math.abs((btc.im as number) - 0.8)).toBeLessThan(1e-12);
    expect(Math.abs((btc.standard_im as number) - 1.25)).toBeLessThan(1e-12);
    expect(Math.abs((btc.saving_share as number) - 0.45 / 1.25)).toBeLessThan(1e-12);
  });
  test('worst_scenarios_by_frequency counts units per worst scenario with its label', async () => {
    const rows = await query(
      db,
      'SELECT model, scenario, label, units::INTEGER AS units, share FROM worst_scenarios_by_frequency',
    );
    expect(rows).toEqual([
      { model: 'deribit-pm', scenario: 0, label: '-16% vol up', units: 2, share: 0.5 },
      { model: 'deribit-pm', scenario: 2, label: "+16% vol down (o'clock)", units: 2, share: 0.5 },
      { model: 'span', scenario: 1, label: 'down 1/3', units: 2, share: 1 },
    ]);
  });
});

describe('what a model table leaves out is checked against what the view gives back', () => {
  const refused = async (edit: (run: ReturnType<typeof sampleRun>) => void, message: RegExp) => {
    const run = sampleRun();
    edit(run);
    const f = join(dir, `derived-${Math.random().toString(36).slice(2)}.duckdb`);
    await expect(writeRun(f, run)).rejects.toThrow(message);
    expect(existsSync(f)).toBe(false);
  };

  test('deribit-pm: risk_matrix_margin other than worst_case + roll_shock', () =>
    refused((run) => {
      run.margin[0]!.riskMatrixMargin[3] = 99;
    }, /MarginRows\(deribit-pm\) row 3: risk_matrix_margin is 99, .* gives risk_matrix_margin as worst_case \+ roll_shock/));
  test('deribit-pm: an IM other than (worst_case + roll_shock) + liquidity_addon', () =>
    refused((run) => {
      run.margin[0]!.im[1] = 12_001;
    }, /MarginRows\(deribit-pm\) row 1: im is 12001, .* gives im as \(worst_case \+ roll_shock\) \+ liquidity_addon \(12000\)/));
  test('deribit-pm: a margin ratio, available or status that does not follow from equity, IM and MM', async () => {
    await refused((run) => {
      run.margin[0]!.marginRatio[0] = 0.3;
    }, /MarginRows\(deribit-pm\) row 0: margin_ratio is 0.3, .* as mm \/ equity \(\+inf when equity ≤ 0\) \(0.2\)/);
    await refused((run) => {
      run.margin[0]!.available[4] = 0;
    }, /MarginRows\(deribit-pm\) row 4: available is 0, .* as equity − im/);
    await refused((run) => {
      run.margin[0]!.status[1] = 0;
    }, /MarginRows\(deribit-pm\) row 1: status is 0, .* as the status of equity against mm and im \(margin_call\)/);
  });
  test('deribit-pm: a delta_shock other than 0', () =>
    refused((run) => {
      run.margin[0]!.deltaShock[1] = 0.5;
    }, /MarginRows\(deribit-pm\) row 1: delta_shock is 0.5/));
  test('span: a value in a column span does not store (standard_im)', () =>
    refused((run) => {
      run.margin[1]!.standardIm[0] = 1;
    }, /MarginRows\(span\) row 0: standard_im is 1, .* as NULL/));
  test('span: a worst_case other than its scan_risk', () =>
    refused((run) => {
      run.margin[1]!.worstCase[0] = 1;
    }, /MarginRows\(span\) row 0: worst_case is 1, .* gives worst_case as scan_risk/));
  test("span: a margin ratio, available or status other than its account's (the sums of its rows)", async () => {
    // the sample run's two span rows made one account's (its equity on both), as the engine derives them
    const oneAccount = (run: ReturnType<typeof sampleRun>) => {
      const s = run.margin[1]!;
      s.account[1] = s.account[0]!;
      s.equity[1] = s.equity[0]!;
      fillDerived(s);
      expect(s.marginRatio[1]).toBe(s.marginRatio[0]);
      expect(s.marginRatio[1]).not.toBe(s.mm[1]! / s.equity[1]!);
      return s;
    };
    const run = sampleRun();
    oneAccount(run);
    expect((await writeRun(join(dir, 'derived-span-account.duckdb'), run)).runId).toBe(1);
    await refused((run) => {
      const s = oneAccount(run);
      s.marginRatio[1] = s.mm[1]! / s.equity[1]!; // the row's own
    }, /MarginRows\(span\) row 1: margin_ratio is .* gives margin_ratio as the account's mm \/ equity/);
    await refused((run) => {
      oneAccount(run).available[0] = 0;
    }, /MarginRows\(span\) row 0: available is 0, .* as the account's equity − im/);
    await refused((run) => {
      const s = oneAccount(run);
      s.status[1] = (s.status[1]! + 1) % 3;
    }, /MarginRows\(span\) row 1: status is .* as the account's status/);
  });
  test('span: a currency other than USD', () =>
    refused((run) => {
      run.margin[1]!.currencyNames = ['USDC', 'USDC'];
    }, /MarginRows\(span\) row 0: currency is USDC/));
  test('deribit-pm: a currency other than the unit', () =>
    refused((run) => {
      run.margin[0]!.currency[2] = 2;
    }, /MarginRows\(deribit-pm\) row 2: currency is USDC, .* as the unit/));
});

describe('standard rows derived from the deribit-pm rows (schema 4)', () => {
  test('with deribit-pm in the run none is stored and the view gives them back exactly', async () => {
    const run = sampleRun();
    run.models = ['deribit-pm', 'span', 'standard'];
    const std = standardFromPm(run.margin[0]!);
    run.margin.push(std);
    const f = join(dir, 'derived-standard.duckdb');
    await writeRun(f, run);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM margin_standard')).toEqual([{ n: 0 }]);
    const rows = await query(
      f,
      `SELECT account, unit, currency, im, mm, equity, margin_ratio, available, status, liquidity_addon, standard_im, standard_mm, saving, worst_case
      FROM account_margin WHERE model = 'standard' ORDER BY account, unit`,
    );
    expect(rows).toEqual([
      {
        account: 'alice',
        unit: 'BTC',
        currency: 'BTC',
        im: 0.9,
        mm: 0.6,
        equity: 2,
        margin_ratio: 0.3,
        available: 1.1,
        status: 'ok',
        liquidity_addon: 0,
        standard_im: 0.9,
        standard_mm: 0.6,
        saving: 0,
        worst_case: null,
      },
      {
        account: 'alice',
        unit: 'USDC',
        currency: 'USDC',
        im: 15_000,
        mm: 10_000,
        equity: 10_000,
        margin_ratio: 1,
        available: -5_000,
        status: 'margin_call',
        liquidity_addon: 750,
        standard_im: 15_000,
        standard_mm: 10_000,
        saving: 0,
        worst_case: null,
      },
      {
        account: 'bob',
        unit: 'BTC',
        currency: 'BTC',
        im: null,
        mm: null,
        equity: -0.1,
        margin_ratio: Infinity,
        available: null,
        status: 'liquidation',
        liquidity_addon: 0.05,
        standard_im: null,
        standard_mm: null,
        saving: null,
        worst_case: null,
      },
      {
        account: 'carol',
        unit: 'ETH',
        currency: 'ETH',
        im: 0,
        mm: 0,
        equity: 5,
        margin_ratio: 0,
        available: 5,
        status: 'ok',
        liquidity_addon: 0,
        standard_im: 0,
        standard_mm: 0,
        saving: 0,
        worst_case: null,
      },
      {
        account: "o'neil",
        unit: 'BTC',
        currency: 'BTC',
        im: 0.35,
        mm: 0.3,
        equity: 0.25,
        margin_ratio: 1.2,
        available: -0.09999999999999998,
        status: 'liquidation',
        liquidity_addon: 0,
        standard_im: 0.35,
        standard_mm: 0.3,
        saving: 0,
        worst_case: null,
      },
    ]);
  });

  test('standard rows that are not what the deribit-pm rows give are refused, before or after them', async () => {
    for (const first of [false, true]) {
      const run = sampleRun();
      run.models = ['deribit-pm', 'span', 'standard'];
      const std = standardFromPm(run.margin[0]!);
      std.equity[2] = 7;
      if (first) run.margin.unshift(std);
      else run.margin.push(std);
      const f = join(dir, `bad-standard-${first}.duckdb`);
      await expect(writeRun(f, run)).rejects.toThrow(
        /MarginRows\(standard\) row 2: equity is 7, but the report derives it from the run's deribit-pm rows as -0.1/,
      );
      expect(existsSync(f)).toBe(false);
    }
  });
});

describe('the standard rows a run lists are the ones it wrote', () => {
  test('a run listing standard, with deribit-pm rows but no standard rows, is refused (the view would invent them)', async () => {
    const run = sampleRun();
    run.models = ['deribit-pm', 'span', 'standard'];
    const f = join(dir, 'no-standard.duckdb');
    await expect(writeRun(f, run)).rejects.toThrow(
      /lists standard among its models and has deribit-pm rows, but wrote no standard rows/,
    );
    expect(existsSync(f)).toBe(false);
  });

  test('a derived amount that comes out NaN (infinite operands) reads as NULL, as stored amounts do', async () => {
    const run = sampleRun();
    const pm = run.margin[0]!;
    pm.worstCase[0] = Infinity; // IM = (worst_case + roll_shock) + add-on = +inf, standard IM +inf: saving = inf − inf
    pm.riskMatrixMargin[0] = Infinity;
    pm.im[0] = Infinity;
    pm.standardIm[0] = Infinity;
    fillStatus(pm);
    const f = join(dir, 'inf.duckdb');
    await writeRun(f, run);
    expect(
      await query(
        f,
        `SELECT saving FROM account_margin WHERE model = 'deribit-pm' AND account = 'alice' AND unit = 'BTC'`,
      ),
    ).toEqual([{ saving: null }]);
  });
});
