/**
 * The surface in a run (docs/methodology.md §11c; src/pipeline/volSurface.ts) on the bundled sample
 * (data/sample: 3 BTC and 3 ETH expiries of the real chain, 1,000 generated accounts), cpu backend:
 * - sticky strike, named or by default, fits nothing on the main thread and gives the same margins, bit
 *   for bit, with the dynamics recorded;
 * - sticky moneyness moves the scenario P&L (the margins change) and is recorded;
 * - `--fill-iv surface` values options whose mark_iv is null from their slice (counted per instrument, in
 *   vol_surface.filled and the sets' meta) and refuses, naming it, one whose slice is not fitted; without
 *   it a null mark_iv is refused as before.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { runMargin, type RunOptions, type RunOutcome } from '../../src/pipeline/runMargin.js';
import { InputError } from '../../src/errors.js';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');
const POSITIONS = join(ROOT, 'data/sample/book/positions.arrow');
const BALANCES = join(ROOT, 'data/sample/book/balances.arrow');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'me-surface-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (extra: Partial<RunOptions>): Promise<RunOutcome> =>
  runMargin({
    marketDir: MARKET,
    positions: POSITIONS,
    balances: BALANCES,
    models: ['deribit-pm', 'span'],
    backend: 'cpu',
    onInvalid: 'fail',
    workers: 2,
    ...extra,
  });

/** A copy of the sample market whose rows `nullRows` have a null mark_iv (or `value` when given). */
function marketWithNullIv(
  name: string,
  nullRows: (row: Record<string, unknown>) => boolean,
  value: number | null = null,
): string {
  const out = join(dir, name);
  mkdirSync(out);
  copyFileSync(join(MARKET, 'underlyings.arrow'), join(out, 'underlyings.arrow'));
  const t = tableFromIPC(readFileSync(join(MARKET, 'instruments.arrow')));
  const rows = t.toArray().map((r) => r.toJSON() as Record<string, unknown>);
  const cols: Record<string, Vector> = {};
  for (const f of t.schema.fields) {
    cols[f.name] =
      f.name === 'mark_iv'
        ? vectorFromArray(
            rows.map((r) => (nullRows(r) ? value : (r.mark_iv as number | null))),
            new Float64(),
          )
        : t.getChild(f.name)!;
  }
  writeFileSync(join(out, 'instruments.arrow'), tableToIPC(new Table(cols), 'file'));
  return out;
}

function rowsEqual(a: RunOutcome, b: RunOutcome): boolean {
  return a.margin.every((m, k) => {
    const n = b.margin[k]!;
    return ['im', 'mm', 'worstCase'].every((c) => {
      const x = (m as unknown as Record<string, Float64Array | undefined>)[c];
      const y = (n as unknown as Record<string, Float64Array | undefined>)[c];
      return (
        x === undefined ||
        Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y!.buffer, y!.byteOffset, y!.byteLength))
      );
    });
  });
}

describe('vol dynamics', () => {
  let byDefault: RunOutcome;
  let strike: RunOutcome;
  let moneyness: RunOutcome;
  beforeAll(async () => {
    byDefault = await run({});
    strike = await run({ volDynamics: 'sticky-strike' });
    moneyness = await run({ volDynamics: 'sticky-moneyness' });
  }, 240_000);

  test('sticky strike (named or by default) fits nothing on the run and gives the same margins, bit for bit', () => {
    expect(byDefault.surface).toBeNull();
    expect(strike.surface).toBeNull();
    expect(byDefault.market.volSurface).toBeUndefined();
    expect(rowsEqual(byDefault, strike)).toBe(true);
    for (const set of strike.scenarioSets)
      expect([set.meta.volDynamics, set.meta.fillIv]).toEqual(['sticky-strike', 'none']);
  });

  test('sticky moneyness reads the surface: recorded, and the margins move', () => {
    expect(moneyness.surface!.surface.slices.filter((s) => s.fitted)).toHaveLength(6);
    expect(moneyness.market.volSurface!.params).toHaveLength(moneyness.market.instruments.count * 5);
    expect(moneyness.market.volSurface!.stickyMoneyness).toBe(true);
    for (const set of moneyness.scenarioSets) expect(set.meta.volDynamics).toBe('sticky-moneyness');
    expect(rowsEqual(byDefault, moneyness)).toBe(false);
    // the same book and equity: only the scenario P&L moved
    const pm = (o: RunOutcome) => o.margin.find((m) => m.model === 'deribit-pm')!;
    expect(Array.from(pm(moneyness).equity)).toEqual(Array.from(pm(byDefault).equity));
    let changed = 0;
    const a = pm(byDefault).mm;
    const b = pm(moneyness).mm;
    for (let r = 0; r < a.length; r++) if (a[r] !== b[r]) changed++;
    expect(changed).toBeGreaterThan(a.length / 10);
  });
});

describe('--fill-iv surface', () => {
  test('null mark_iv: valued from the slice, counted per instrument, close to the quoted vol', async () => {
    const original = tableFromIPC(readFileSync(join(MARKET, 'instruments.arrow')));
    const iv = new Map(original.toArray().map((r) => [r.instrument as string, r.mark_iv as number]));
    const chosen = new Set(['BTC-27MAR26-80000-C', 'BTC-27MAR26-90000-P', 'ETH-27FEB26-2400-C']);
    for (const c of chosen) expect(iv.has(c)).toBe(true);
    const market = marketWithNullIv('fill', (r) => chosen.has(r.instrument as string));
    await expect(run({ marketDir: market })).rejects.toThrow(/mark_iv/);
    const db = join(dir, 'fill.duckdb');
    const o = await run({ marketDir: market, fillIv: 'surface', db });
    expect([...o.surface!.filled.keys()].sort()).toEqual([...chosen].sort());
    for (const [name, vol] of o.surface!.filled) expect(Math.abs(vol - iv.get(name)!)).toBeLessThan(0.01);
    for (const set of o.scenarioSets)
      expect(Object.keys(set.meta.filledIv as object).sort()).toEqual([...chosen].sort());
    const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
    const c = await inst.connect();
    const r = (
      await c.runAndReadAll('SELECT sum(filled)::INTEGER AS n, count(*)::INTEGER AS slices FROM vol_surface')
    ).getRowObjectsJS();
    c.closeSync();
    inst.closeSync();
    expect(r).toEqual([{ n: 3, slices: 6 }]);
  }, 120_000);

  test('a present but bad mark_iv (non-positive, non-finite) is still refused by validation, file/row/column', async () => {
    for (const [name, v] of [
      ['negative', -0.5],
      ['nan', NaN],
    ] as const) {
      const market = marketWithNullIv(name, (r) => r.instrument === 'BTC-27MAR26-80000-C', v);
      const e = await run({ marketDir: market, fillIv: 'surface' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      const viol = (e as InputError).violations[0]!;
      expect([viol.file, viol.column]).toEqual([join(market, 'instruments.arrow'), 'mark_iv']);
      expect(viol.row).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);

  test('an option whose slice has fewer than 5 usable quotes is refused, named', async () => {
    // BTC 6FEB26 keeps 4 quoted strikes: its slice is not fitted
    const keep = new Set([70000, 75000, 80000, 85000]);
    const market = marketWithNullIv(
      'thin',
      (r) => (r.instrument as string).startsWith('BTC-6FEB26-') && !keep.has(r.strike as number),
    );
    const e = await run({ marketDir: market, fillIv: 'surface' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/BTC-6FEB26-\d+-[CP]/);
    expect((e as Error).message).toMatch(/too_few_quotes/);
  }, 120_000);
});
