/**
 * The capital_efficiency view (src/report/capitalEfficiency.ts, schema 6) and the summary's capital
 * efficiency (src/pipeline/summary.ts) on a real run of the bundled book: every number checked against
 * sums computed here, in JS, from the run's own margin rows and account summaries (issue 18, item 3).
 * Also: a version-5 report migrates to 6 and gains the view.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { runMargin, type RunOutcome } from '../../src/pipeline/runMargin.js';
import { capitalEfficiency } from '../../src/pipeline/summary.js';
import { SCHEMA_VERSION } from '../../src/report/schema.js';
import { MIGRATIONS, migrateSchema } from '../../src/report/migrations.js';
import { query, rmTmp, tmpDir } from './helpers.js';

let dir: string;
let db: string;
let outcome: RunOutcome;

beforeAll(async () => {
  dir = tmpDir();
  db = join(dir, 'report.duckdb');
  outcome = await runMargin({
    marketDir: 'data/sample/market',
    positions: 'data/sample/book/positions.arrow',
    balances: 'data/sample/book/balances.arrow',
    historyDir: 'data/history',
    models: ['deribit-pm', 'span', 'var-hs', 'standard'],
    backend: 'cpu',
    onInvalid: 'fail',
    db,
    workers: 2,
  });
}, 240_000);
afterAll(() => rmTmp(dir));

interface Expected {
  units: number;
  im: number;
  mm: number;
  standard_im: number | null;
  standard_mm: number | null;
  liquidity_addon: number;
}

/** The expected rows, keyed `model|unit|currency`, summed here from the run's rows (NaN = not applicable). */
function expected(o: RunOutcome): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const usd = (currency: string) => {
    if (currency === 'USD' || currency === 'USDC') return 1;
    return o.market.indexPrice[o.market.underlyings.indexOf(currency)]!;
  };
  for (const rows of o.margin) {
    let addonUsd = 0;
    for (let r = 0; r < rows.count; r++) {
      const unit = rows.unitNames[rows.unit[r]!]!;
      const currency = rows.currencyNames[rows.currency[r]!]!;
      const key = `${rows.model}|${unit}|${currency}`;
      const e = out.get(key) ?? { units: 0, im: 0, mm: 0, standard_im: null, standard_mm: null, liquidity_addon: 0 };
      out.set(key, e);
      e.units += 1;
      if (!Number.isNaN(rows.im[r]!)) e.im += rows.im[r]!;
      if (!Number.isNaN(rows.mm[r]!)) e.mm += rows.mm[r]!;
      if (!Number.isNaN(rows.standardIm[r]!)) e.standard_im = (e.standard_im ?? 0) + rows.standardIm[r]!;
      if (!Number.isNaN(rows.standardMm[r]!)) e.standard_mm = (e.standard_mm ?? 0) + rows.standardMm[r]!;
      if (!Number.isNaN(rows.liquidityAddon[r]!)) {
        e.liquidity_addon += rows.liquidityAddon[r]!;
        addonUsd += rows.liquidityAddon[r]! * usd(currency);
      }
    }
    const s = o.summaries.find((x) => x.model === rows.model)!;
    const sum = (a: Float64Array) => a.reduce((t, x) => t + x, 0);
    out.set(`${rows.model}|TOTAL|USD`, {
      units: s.count,
      im: sum(s.imUsd),
      mm: sum(s.mmUsd),
      standard_im: sum(s.standardImUsd),
      standard_mm: sum(s.standardMmUsd),
      liquidity_addon: addonUsd,
    });
  }
  return out;
}

const close = (got: unknown, want: number | null, what: string) => {
  if (want === null) return expect(got, what).toBeNull();
  expect(typeof got, what).toBe('number');
  expect(Math.abs((got as number) - want), what).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
};

describe('capital_efficiency', () => {
  test('one row per model and unit, then TOTAL per model; every number equals the sums of the run’s rows', async () => {
    const want = expected(outcome);
    const rows = await query(db, 'SELECT * FROM capital_efficiency');
    expect(rows.map((r) => `${r.model}|${r.unit}|${r.currency}`).sort(), JSON.stringify([...want.keys()])).toEqual(
      [...want.keys()].sort(),
    );
    for (const r of rows) {
      const key = `${r.model}|${r.unit}|${r.currency}`;
      const e = want.get(key)!;
      expect(Number(r.units), key).toBe(e.units);
      close(r.im, e.im, `${key} im`);
      close(r.mm, e.mm, `${key} mm`);
      close(r.standard_im, e.standard_im, `${key} standard_im`);
      close(r.standard_mm, e.standard_mm, `${key} standard_mm`);
      close(r.liquidity_addon, e.liquidity_addon, `${key} liquidity_addon`);
      const saving = e.standard_im === null ? null : e.standard_im - e.im;
      close(r.saving, saving, `${key} saving`);
      close(r.saving_share, saving === null || e.standard_im === 0 ? null : saving / e.standard_im!, `${key} share`);
      close(r.addon_share, e.im === 0 ? null : e.liquidity_addon / e.im, `${key} addon_share`);
    }
  });
  test('deribit-pm and standard units carry the standard margin of the same positions; span and var units do not', async () => {
    const rows = await query(db, `SELECT model, unit, standard_im FROM capital_efficiency WHERE unit <> 'TOTAL'`);
    for (const r of rows) {
      if (r.model === 'deribit-pm' || r.model === 'standard') expect(r.standard_im).not.toBeNull();
      else expect(r.standard_im).toBeNull();
    }
    // the TOTAL rows of every model compare against one and the same standard IM (summed in another order)
    const all = await query(db, `SELECT standard_im FROM capital_efficiency WHERE unit = 'TOTAL'`);
    expect(all.length).toBeGreaterThan(1);
    for (const r of all) close(r.standard_im, all[0]!.standard_im as number, 'TOTAL standard_im');
  });
  test('the summary gives the same numbers (summarize → capitalEfficiency)', () => {
    const want = expected(outcome);
    const got = capitalEfficiency(outcome);
    expect(got.map((c) => `${c.model}|${c.unit}|${c.currency}`).sort()).toEqual([...want.keys()].sort());
    for (const c of got) {
      const key = `${c.model}|${c.unit}|${c.currency}`;
      const e = want.get(key)!;
      expect(c.units, key).toBe(e.units);
      close(c.im, e.im, key);
      close(c.mm, e.mm, key);
      close(c.standardIm, e.standard_im, key);
      close(c.liquidityAddon, e.liquidity_addon, key);
      close(
        c.savingPct,
        e.standard_im === null || e.standard_im === 0 ? null : (100 * (e.standard_im - e.im)) / e.standard_im,
        key,
      );
      close(c.addonPct, e.im === 0 ? null : (100 * e.liquidity_addon) / e.im, key);
    }
  });
});

describe('schema 6', () => {
  test('a version-5 report (no capital_efficiency) migrates to 6 and gains the view', async () => {
    // the step 5 -> 6 itself (later versions add their own migrations, tested with them)
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(6);
    const f = join(dir, 'v5.duckdb');
    copyFileSync(db, f);
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    try {
      await c.run('DROP VIEW capital_efficiency');
      await c.run('UPDATE schema_meta SET version = 5');
      await migrateSchema(c, f, 5, 'test', { 5: MIGRATIONS[5]! }, 6); // exactly 5 → 6 (7 adds a table)
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    expect(await query(f, 'SELECT version FROM schema_meta')).toEqual([{ version: 6 }]);
    expect(await query(f, 'SELECT count(*)::INTEGER AS n FROM capital_efficiency')).toEqual(
      await query(db, 'SELECT count(*)::INTEGER AS n FROM capital_efficiency'),
    );
  });
});
