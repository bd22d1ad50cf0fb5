/**
 * `margin-engine surface` (src/cli/surface.ts) on the bundled sample market (data/sample/market: 3 BTC and 3
 * ETH expiries of the real 2026-02-01 chain): the three output formats carry the same slice table, the
 * grid file comes along, and every slice with 8 or more strikes fits the liquid band within 1 vol point.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { duckdb } from '../../src/report/duckdb.js';
import { COMMAND as CLI } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'surface', ...args], { encoding: 'utf8' });

describe('margin-engine surface', () => {
  const dir = mkdtempSync(join(tmpdir(), 'surface-cli-'));

  test('csv, arrow and parquet carry the same slices; --json prints them', async () => {
    const csv = run(['--market', MARKET, '--out', join(dir, 's.csv'), '--json']);
    expect(csv.stderr).toMatch(/6 slices \(6 fitted/);
    expect(csv.status).toBe(0);
    const json = JSON.parse(csv.stdout) as { slices: Record<string, unknown>[]; files: string[] };
    expect(json.slices).toHaveLength(6);
    expect(json.files).toEqual([join(dir, 's.csv'), join(dir, 's_grid.csv')]);
    for (const s of json.slices) {
      expect(s.fitted).toBe(1);
      if ((s.quotes as number) >= 8) expect(s.rmse_liquid_vol_pts as number).toBeLessThanOrEqual(1);
    }
    const lines = readFileSync(join(dir, 's.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'underlying,expiry,t_years,forward,quotes,liquid_quotes,fitted,a,b,rho,m,sigma,jw_v,jw_psi,jw_p,jw_c,jw_v_tilde,' +
        'rmse_vol_pts,rmse_liquid_vol_pts,g_min,g_min_fitted,calendar_gap,flags',
    );
    expect(lines).toHaveLength(7);
    const grid = readFileSync(join(dir, 's_grid.csv'), 'utf8').trim().split('\n');
    expect(grid[0]).toBe('underlying,expiry,t_years,x,strike,total_variance,implied_vol');
    expect(grid).toHaveLength(1 + 6 * 41);

    expect(run(['--market', MARKET, '--out', join(dir, 's.arrow')]).status).toBe(0);
    const arrow = tableFromIPC(readFileSync(join(dir, 's.arrow')));
    expect(arrow.numRows).toBe(6);
    expect(arrow.getChild('a')!.toArray()[0]).toBe(json.slices[0]!.a);

    expect(run(['--market', MARKET, '--out', join(dir, 's.parquet')]).status).toBe(0);
    const db = await duckdb().DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const r = await c.runAndReadAll(`SELECT underlying, a, rmse_liquid_vol_pts FROM '${join(dir, 's.parquet')}'`);
    const rows = r.getRows();
    expect(rows).toHaveLength(6);
    expect(rows[0]![1]).toBe(json.slices[0]!.a);
    const g = await c.runAndReadAll(`SELECT count(*) FROM '${join(dir, 's_grid.parquet')}'`);
    expect(Number(g.getRows()[0]![0])).toBe(6 * 41);
    c.closeSync();
    db.closeSync();
  });

  test('bad input: an unknown extension and a missing market are exit 2 with a message', () => {
    const ext = run(['--market', MARKET, '--out', join(dir, 's.txt')]);
    expect(ext.status).toBe(2);
    expect(ext.stderr).toMatch(/--out must end in \.csv, \.arrow or \.parquet/);
    const missing = run(['--market', join(dir, 'nope'), '--out', join(dir, 's.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/underlyings\.arrow/);
  });
});
