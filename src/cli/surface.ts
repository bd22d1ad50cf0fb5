/**
 * `margin-engine surface`: fit the implied-volatility surface of a market snapshot (docs/methodology.md
 * §11) and write its slices and a plotting grid as CSV, Arrow or Parquet. Fit in src/surface/surface.ts;
 * tables in src/surface/table.ts.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileError } from '../errors.js';
import { loadMarket } from '../io/loadMarket.js';
import { duckdb } from '../report/duckdb.js';
import { sqlString } from '../report/sql.js';
import { fitSurface, MIN_QUOTES } from '../surface/surface.js';
import { loadSviWasm } from '../surface/sviWasmLoad.js';
import {
  columnsToCsv,
  gridColumns,
  gridFileName,
  sliceColumns,
  writeColumns,
  type SurfaceColumn,
} from '../surface/table.js';
import { parseArgs, required, usageError } from './args.js';

export const help = `margin-engine surface — fit the implied-volatility surface of a market snapshot

Usage: margin-engine surface --market DIR --out FILE.(csv|arrow|parquet) [--json]

Per underlying and expiry, a raw SVI slice in total variance is fitted to the options' mark_iv
(vega-weighted, constrained, quasi-explicit; docs/methodology.md §11a), checked for butterfly arbitrage
(g ≥ 0 on |ln(K/F)| ≤ 3, repaired by Gatheral & Jacquier's SVI-JW repair) and calendar arbitrage
(w non-decreasing in T, removed by raising the later slice) and flagged (§11b). A slice with fewer than
${MIN_QUOTES} usable quotes is not fitted (flag too_few_quotes).

  --market DIR   market snapshot (underlyings.arrow, instruments.arrow)
  --out FILE     .csv, .arrow or .parquet: one row per slice (underlying, expiry, t_years, forward, quotes,
                 liquid_quotes, fitted, a, b, rho, m, sigma, jw_v, jw_psi, jw_p, jw_c, jw_v_tilde,
                 rmse_vol_pts, rmse_liquid_vol_pts, g_min, g_min_fitted, calendar_gap, flags).
                 A grid of implied vols for plotting goes next to it as FILE_grid.EXT (underlying,
                 expiry, t_years, x = ln(K/F) from -1 to 1 by 0.05, strike, total_variance, implied_vol)
  --json         print the slice table as JSON on stdout

RMSE is in vol points (1 = 0.01 of vol): over every quote, and over the liquid band (Black-76 call
delta at the mark in [0.05, 0.95]).

Example:
  margin-engine surface --market data/full/market --out out/surface.csv
Exit codes: 0 ok, 2 bad input, 1 internal error.
`;

/** Writes columns as Parquet through an in-memory DuckDB (CSV in a temporary file, then COPY). */
async function writeParquet(cols: readonly SurfaceColumn[], file: string): Promise<void> {
  const tmpCsv = `${file}.partial-${process.pid}.csv`;
  const tmp = `${file}.partial-${process.pid}`;
  writeFileSync(tmpCsv, columnsToCsv(cols));
  const instance = await duckdb().DuckDBInstance.create(':memory:');
  try {
    const c = await instance.connect();
    const types = cols
      .map(
        (col) =>
          `${sqlString(col.name)}: '${col.kind === 'text' ? 'VARCHAR' : col.kind === 'int' ? 'INTEGER' : 'DOUBLE'}'`,
      )
      .join(', ');
    await c.run(
      `COPY (SELECT * FROM read_csv(${sqlString(tmpCsv)}, header = true, columns = {${types}})) TO ${sqlString(tmp)} (FORMAT parquet)`,
    );
    c.closeSync();
    renameSync(tmp, file);
  } catch (e) {
    const msg = (e as Error).message;
    if (/cannot open file|No such file or directory|Permission denied/i.test(msg))
      throw fileError(file, `cannot be written (${msg})`);
    throw e;
  } finally {
    instance.closeSync();
    rmSync(tmpCsv, { force: true });
    if (existsSync(tmp)) rmSync(tmp, { force: true });
  }
}

async function write(cols: readonly SurfaceColumn[], file: string): Promise<void> {
  if (/\.parquet$/i.test(file)) await writeParquet(cols, file);
  else writeColumns(cols, file);
}

export async function main(argv: string[]): Promise<number> {
  const cmd = 'surface';
  const p = parseArgs(argv, { market: {}, out: {}, json: { flag: true } }, cmd);
  if (p.positional.length > 0) throw usageError(cmd, `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const marketDir = required(p, 'market', cmd);
  const out = required(p, 'out', cmd);
  if (!/\.(csv|arrow|parquet)$/i.test(out))
    throw usageError(cmd, `--out must end in .csv, .arrow or .parquet, got ${JSON.stringify(out)}`);
  const { market, warnings } = await loadMarket(marketDir);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const t0 = performance.now();
  loadSviWasm();
  const surface = fitSurface(market);
  const ms = performance.now() - t0;
  const slices = sliceColumns(surface);
  const grid = gridFileName(out);
  await write(slices, out);
  await write(gridColumns(surface), grid);
  const fitted = surface.slices.filter((s) => s.fitted).length;
  const flagged = surface.slices.filter((s) => s.flags.length > 0).length;
  process.stderr.write(
    `surface: ${surface.slices.length} slices (${fitted} fitted, ${flagged} flagged) in ${(ms / 1000).toFixed(2)} s; ` +
      `written to ${out} and ${grid}\n`,
  );
  if (p.options.json) {
    const rows = surface.slices.map((_, r) => Object.fromEntries(slices.map((c) => [c.name, c.values[r]])));
    process.stdout.write(JSON.stringify({ slices: rows, files: [out, grid] }, null, 2) + '\n');
  } else {
    const lines = surface.slices.map(
      (s) =>
        `${s.underlyingName.padEnd(5)} ${new Date(s.expiryMs).toISOString().slice(0, 10)}  quotes ${String(s.quotes).padStart(3)}  ` +
        `rmse ${s.fitted ? s.rmseAll.toFixed(3).padStart(7) : '      -'}  liquid ${s.fitted ? s.rmseLiquid.toFixed(3).padStart(6) : '     -'}  ${s.flags.join(',')}`,
    );
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
