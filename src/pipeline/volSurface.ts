/**
 * How a run uses the implied-volatility surface (docs/methodology.md §11c): `--vol-dynamics` and
 * `--fill-iv`. The surface is fitted once per snapshot on the CPU in float64 (src/surface/surface.ts);
 * under sticky moneyness each instrument's slice parameters go to the revaluation kernel through
 * Market.volSurface (kernels/revalue.ts RevalueColumns.surface); under `--fill-iv surface` options
 * without a mark_iv get the surface's vol at their strike.
 */
import { join } from 'node:path';
import { InputError, type Violation } from '../errors.js';
import { KIND_OPTION, type Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { fitSurface, instrumentSlices, surfaceVol, type VolSurface } from '../surface/surface.js';
import { loadSviWasm } from '../surface/sviWasmLoad.js';

export const VOL_DYNAMICS = ['sticky-strike', 'sticky-moneyness'] as const;
export type VolDynamics = (typeof VOL_DYNAMICS)[number];
export const FILL_IV = ['none', 'surface'] as const;
export type FillIv = (typeof FILL_IV)[number];

export interface SurfaceUse {
  surface: VolSurface;
  /** options valued from the surface (`--fill-iv surface`): name → the vol given, in instrument order */
  filled: Map<string, number>;
  /** per slice of `surface`: how many of its options were filled */
  filledPerSlice: Int32Array;
}

/**
 * Fits the surface when the run uses it (sticky moneyness, `--fill-iv surface`, or a scenario set that
 * shocks the surface; null otherwise, and the market is left untouched) and applies it to `market`: fills
 * the mark_iv of every option without one from its own slice, and sets Market.volSurface for the
 * revaluation under sticky moneyness or surface shocks.
 * @throws InputError under `--fill-iv surface` when an option without a mark_iv has no fitted slice (its
 *   expiry has fewer than 5 usable quotes, or the fit failed): each such instrument is named
 */
export function useSurface(
  market: Market,
  marketDir: string,
  volDynamics: VolDynamics,
  fillIv: FillIv,
  surfaceShocks = false,
): SurfaceUse | null {
  if (volDynamics === 'sticky-strike' && fillIv === 'none' && !surfaceShocks) return null;
  loadSviWasm();
  const surface = fitSurface(market);
  const ins = market.instruments;
  const filled = new Map<string, number>();
  const filledPerSlice = new Int32Array(surface.slices.length);
  if (fillIv === 'surface') {
    const refused: Violation[] = [];
    for (let i = 0; i < ins.count; i++) {
      if (ins.kind[i] !== KIND_OPTION || Number.isFinite(ins.markIv[i]!)) continue;
      const vol = surfaceVol(surface, market, i);
      const j = surface.sliceOf[i]!;
      if (!(vol > 0)) {
        const s = surface.slices[j]!;
        refused.push({
          file: join(marketDir, 'instruments.arrow'),
          row: null,
          column: 'mark_iv',
          value: `null (instrument ${JSON.stringify(ins.name[i])})`,
          rule:
            `has no mark_iv and --fill-iv surface cannot value it: its slice (${s.underlyingName} ` +
            `${new Date(s.expiryMs).toISOString()}) is not fitted (${s.flags.join(', ') || 'no usable quotes'}; ` +
            `a slice needs at least 5 usable quotes)`,
        });
        continue;
      }
      ins.markIv[i] = vol;
      filled.set(ins.name[i]!, vol);
      filledPerSlice[j]!++;
    }
    if (refused.length > 0)
      throw new InputError(refused, `${refused.length} option(s) without a mark_iv cannot be valued from the surface`);
  }
  if (volDynamics === 'sticky-moneyness' || surfaceShocks)
    market.volSurface = {
      params: instrumentSlices(surface, market).params,
      stickyMoneyness: volDynamics === 'sticky-moneyness',
    };
  return { surface, filled, filledPerSlice };
}

/**
 * Records the run's vol dynamics and fill policy with every scenario set (meta, which runs.scenario_sets
 * stores): volDynamics, fillIv, and under `--fill-iv surface` filledIv (instrument → vol).
 */
export function recordSurfaceUse(
  sets: Iterable<ScenarioSet>,
  volDynamics: VolDynamics,
  fillIv: FillIv,
  use: SurfaceUse | null,
): void {
  for (const set of sets) {
    set.meta.volDynamics = volDynamics;
    set.meta.fillIv = fillIv;
    if (use && fillIv === 'surface') set.meta.filledIv = Object.fromEntries(use.filled);
  }
}
