/**
 * The `vol_surface` table (schema 9): the run's implied-volatility surface (docs/methodology.md §11;
 * src/surface/surface.ts), one row per (run, underlying, expiry) slice. Every run writes it: a run that
 * fitted the surface itself (`--vol-dynamics sticky-moneyness`, `--fill-iv surface`) hands it over, any
 * other run's report thread fits it from the run's market while the main thread revalues.
 *
 * Columns as `margin-engine surface` writes them (src/surface/table.ts sliceColumns): the used raw SVI
 * parameters, their SVI-JW form, RMSE in vol points over every quote and over the liquid band, min g of
 * the used and of the fitted slice, the calendar gap before the repair, flags; plus `filled`, the number
 * of the slice's options valued from the surface under `--fill-iv surface` (0 otherwise).
 * Kept apart from schema.ts, which adds the table to its DDL; the 8 → 9 migration is
 * {@link VOL_SURFACE_MIGRATION} (self-contained, so it can be renumbered).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { VolSurface } from '../surface/surface.js';
import { appendColumns, type AppendColumn } from './appendColumns.js';

export const VOL_SURFACE_TABLE = 'vol_surface';

/** The table's DDL, frozen as the 8 → 9 migration too. */
export const VOL_SURFACE_DDL = `CREATE TABLE ${VOL_SURFACE_TABLE} (
    run_id INTEGER NOT NULL,
    underlying VARCHAR NOT NULL,
    expiry TIMESTAMP NOT NULL,
    t_years DOUBLE NOT NULL,
    forward DOUBLE NOT NULL,
    quotes INTEGER NOT NULL,
    liquid_quotes INTEGER NOT NULL,
    fitted INTEGER NOT NULL,
    a DOUBLE,
    b DOUBLE,
    rho DOUBLE,
    m DOUBLE,
    sigma DOUBLE,
    jw_v DOUBLE,
    jw_psi DOUBLE,
    jw_p DOUBLE,
    jw_c DOUBLE,
    jw_v_tilde DOUBLE,
    rmse_vol_pts DOUBLE,
    rmse_liquid_vol_pts DOUBLE,
    g_min DOUBLE,
    g_min_fitted DOUBLE,
    calendar_gap DOUBLE,
    flags VARCHAR NOT NULL,
    filled INTEGER NOT NULL
  )`;

/** Schema 8 → 9: the vol_surface table (older runs have no rows in it). */
export const VOL_SURFACE_MIGRATION: string[] = [VOL_SURFACE_DDL];

/**
 * Appends the surface's slices as run `runId`'s rows; `filled[j]` = options of slice j valued from the
 * surface (absent: 0). Returns the rows written.
 */
export async function writeVolSurface(
  c: DuckDBConnection,
  runId: number,
  surface: VolSurface,
  filled?: Int32Array,
): Promise<number> {
  const s = surface.slices;
  const n = s.length;
  if (n === 0) return 0;
  const f = (fn: (j: number) => number): AppendColumn => ({
    type: 'DOUBLE',
    values: Float64Array.from(s, (_, j) => fn(j)),
    nanIsNull: true,
  });
  const p = (k: 'a' | 'b' | 'rho' | 'm' | 'sigma') => f((j) => s[j]!.params?.[k] ?? NaN);
  const jw = (k: 'v' | 'psi' | 'p' | 'c' | 'vTilde') => f((j) => s[j]!.jw?.[k] ?? NaN);
  await appendColumns(
    c,
    VOL_SURFACE_TABLE,
    [
      { type: 'INTEGER', values: new Int32Array(n).fill(runId) },
      { type: 'VARCHAR', value: (j) => s[j]!.underlyingName },
      { type: 'TIMESTAMP_MS', values: Float64Array.from(s, (x) => x.expiryMs) },
      f((j) => s[j]!.t),
      f((j) => s[j]!.forward),
      { type: 'INTEGER', values: Int32Array.from(s, (x) => x.quotes) },
      { type: 'INTEGER', values: Int32Array.from(s, (x) => x.liquidQuotes) },
      { type: 'INTEGER', values: Int32Array.from(s, (x) => (x.fitted ? 1 : 0)) },
      p('a'),
      p('b'),
      p('rho'),
      p('m'),
      p('sigma'),
      jw('v'),
      jw('psi'),
      jw('p'),
      jw('c'),
      jw('vTilde'),
      f((j) => s[j]!.rmseAll),
      f((j) => s[j]!.rmseLiquid),
      f((j) => s[j]!.gMin),
      f((j) => s[j]!.gMinFitted),
      f((j) => s[j]!.calendarGap),
      { type: 'VARCHAR', value: (j) => s[j]!.flags.join(';') },
      { type: 'INTEGER', values: Int32Array.from(s, (_, j) => filled?.[j] ?? 0) },
    ],
    n,
  );
  return n;
}
