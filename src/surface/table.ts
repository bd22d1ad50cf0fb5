/**
 * The surface as tables (docs/methodology.md §11; `margin-engine surface`, the report's `vol_surface`):
 * one row per slice, and a grid of implied vols per fitted slice for plotting. Columns are plain arrays
 * so the CSV, Arrow, Parquet and DuckDB writers share one definition.
 */
import { writeFileSync } from 'node:fs';
import { Float64, makeVector, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { fileError } from '../errors.js';
import { sviW } from './svi.js';
import type { VolSurface } from './surface.js';

export interface SurfaceColumn {
  name: string;
  kind: 'text' | 'float' | 'int';
  /** null: absent (empty in CSV, NULL elsewhere) */
  values: (string | number | null)[];
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * One row per slice, in (underlying, expiry) order: underlying, expiry (ISO 8601 UTC), t_years, forward,
 * quotes, liquid_quotes, fitted (1/0), the used raw parameters a, b, rho, m, sigma, their SVI-JW form
 * (jw_v, jw_psi, jw_p, jw_c, jw_v_tilde), rmse_vol_pts (all quotes), rmse_liquid_vol_pts (|Δ| in
 * [0.05, 0.95]), g_min (min g on |x| ≤ 3 of the used slice), g_min_fitted (before any repair),
 * calendar_gap (max of w_prev − w before the calendar repair; null for the first slice) and flags
 * (`;`-separated: too_few_quotes, fit_failed, butterfly_repaired, butterfly_unrepaired, calendar_raised).
 */
export function sliceColumns(surface: VolSurface): SurfaceColumn[] {
  const s = surface.slices;
  const p = (f: (x: NonNullable<(typeof s)[number]['params']>) => number) =>
    s.map((x) => (x.params ? num(f(x.params)) : null));
  const j = (f: (x: NonNullable<(typeof s)[number]['jw']>) => number) => s.map((x) => (x.jw ? num(f(x.jw)) : null));
  return [
    { name: 'underlying', kind: 'text', values: s.map((x) => x.underlyingName) },
    { name: 'expiry', kind: 'text', values: s.map((x) => new Date(x.expiryMs).toISOString()) },
    { name: 't_years', kind: 'float', values: s.map((x) => x.t) },
    { name: 'forward', kind: 'float', values: s.map((x) => x.forward) },
    { name: 'quotes', kind: 'int', values: s.map((x) => x.quotes) },
    { name: 'liquid_quotes', kind: 'int', values: s.map((x) => x.liquidQuotes) },
    { name: 'fitted', kind: 'int', values: s.map((x) => (x.fitted ? 1 : 0)) },
    { name: 'a', kind: 'float', values: p((x) => x.a) },
    { name: 'b', kind: 'float', values: p((x) => x.b) },
    { name: 'rho', kind: 'float', values: p((x) => x.rho) },
    { name: 'm', kind: 'float', values: p((x) => x.m) },
    { name: 'sigma', kind: 'float', values: p((x) => x.sigma) },
    { name: 'jw_v', kind: 'float', values: j((x) => x.v) },
    { name: 'jw_psi', kind: 'float', values: j((x) => x.psi) },
    { name: 'jw_p', kind: 'float', values: j((x) => x.p) },
    { name: 'jw_c', kind: 'float', values: j((x) => x.c) },
    { name: 'jw_v_tilde', kind: 'float', values: j((x) => x.vTilde) },
    { name: 'rmse_vol_pts', kind: 'float', values: s.map((x) => num(x.rmseAll)) },
    { name: 'rmse_liquid_vol_pts', kind: 'float', values: s.map((x) => num(x.rmseLiquid)) },
    { name: 'g_min', kind: 'float', values: s.map((x) => num(x.gMin)) },
    { name: 'g_min_fitted', kind: 'float', values: s.map((x) => num(x.gMinFitted)) },
    { name: 'calendar_gap', kind: 'float', values: s.map((x) => num(x.calendarGap)) },
    { name: 'flags', kind: 'text', values: s.map((x) => x.flags.join(';')) },
  ];
}

/** Log-moneyness of the plotting grid: −1 … 1 in steps of 0.05 (41 points). */
export const GRID_X: readonly number[] = Array.from({ length: 41 }, (_, i) => Math.round((-1 + i * 0.05) * 100) / 100);

/**
 * The plotting grid: per fitted slice and x in {@link GRID_X}: underlying, expiry, t_years, x = ln(K/F),
 * strike = F·eˣ, total_variance w(x), implied_vol √(w/T).
 */
export function gridColumns(surface: VolSurface): SurfaceColumn[] {
  const cols: SurfaceColumn[] = [
    { name: 'underlying', kind: 'text', values: [] },
    { name: 'expiry', kind: 'text', values: [] },
    { name: 't_years', kind: 'float', values: [] },
    { name: 'x', kind: 'float', values: [] },
    { name: 'strike', kind: 'float', values: [] },
    { name: 'total_variance', kind: 'float', values: [] },
    { name: 'implied_vol', kind: 'float', values: [] },
  ];
  for (const s of surface.slices) {
    if (!s.fitted) continue;
    for (const x of GRID_X) {
      const w = sviW(s.params!, x);
      const row = [
        s.underlyingName,
        new Date(s.expiryMs).toISOString(),
        s.t,
        x,
        s.forward * Math.exp(x),
        w,
        Math.sqrt(Math.max(w, 0) / s.t),
      ];
      row.forEach((v, c) => cols[c]!.values.push(v));
    }
  }
  return cols;
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function columnsToCsv(cols: readonly SurfaceColumn[]): string {
  const n = cols[0]?.values.length ?? 0;
  const lines = [cols.map((c) => csvField(c.name)).join(',')];
  for (let r = 0; r < n; r++) lines.push(cols.map((c) => csvField(c.values[r]!)).join(','));
  return lines.join('\n') + '\n';
}

export function columnsToArrow(cols: readonly SurfaceColumn[]): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const c of cols) {
    if (c.kind === 'int') vectors[c.name] = makeVector(Int32Array.from(c.values as number[]));
    else if (c.kind === 'text') vectors[c.name] = vectorFromArray(c.values as string[], new Utf8());
    else vectors[c.name] = vectorFromArray(c.values as (number | null)[], new Float64());
  }
  return tableToIPC(new Table(vectors), 'file');
}

/** The grid file's name next to the slice file: `surface.csv` → `surface_grid.csv`. */
export function gridFileName(file: string): string {
  return file.replace(/(\.[^./\\]+)$/, '_grid$1');
}

/** Writes columns as CSV or Arrow IPC by the file's extension (Parquet: src/cli/surface.ts). */
export function writeColumns(cols: readonly SurfaceColumn[], file: string): void {
  if (/\.csv$/i.test(file)) writeFileSync(file, columnsToCsv(cols));
  else if (/\.arrow$/i.test(file)) writeFileSync(file, columnsToArrow(cols));
  else throw fileError(file, 'must end in .csv, .arrow or .parquet');
}
