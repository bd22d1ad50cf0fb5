/**
 * The implied-volatility surface of a market snapshot (docs/methodology.md §11): one raw SVI slice per
 * underlying and expiry, fitted once per snapshot on the CPU in float64, checked and repaired for butterfly
 * and calendar arbitrage, with per-slice quality numbers. The revaluation reads the slices' parameters
 * per instrument ({@link instrumentSlices}); `margin-engine surface` writes them out.
 */
import { black76DeltaNorm, black76VegaNorm } from '../../kernels/black76.js';
import { KIND_OPTION, OPTION_CALL, type Market } from '../model/market.js';
import {
  butterflyFree,
  calendarGap,
  calendarRefit,
  CALENDAR_TOLERANCE,
  copySvi,
  fitSvi,
  gMinimum,
  rawToJw,
  repairButterfly,
  sviW,
  type SlicePoint,
  type SviJw,
  type SviParams,
} from './svi.js';

/** A slice with fewer usable quotes than this is not fitted (docs/methodology.md §11, "Bad input"). */
export const MIN_QUOTES = 5;
/** The liquid band of the second RMSE: strikes whose Black-76 call delta at the mark is in [0.05, 0.95]. */
export const LIQUID_DELTA_LOW = 0.05;
export const LIQUID_DELTA_HIGH = 0.95;

/** Flags of a slice, in the order they are listed. */
export const FLAG_TOO_FEW_QUOTES = 'too_few_quotes';
export const FLAG_BUTTERFLY_REPAIRED = 'butterfly_repaired';
export const FLAG_BUTTERFLY_UNREPAIRED = 'butterfly_unrepaired';
export const FLAG_CALENDAR_RAISED = 'calendar_raised';
export const FLAG_FIT_FAILED = 'fit_failed';

export interface SurfaceSlice {
  underlying: number;
  underlyingName: string;
  /** ms since epoch, UTC */
  expiryMs: number;
  /** years of 365 days */
  t: number;
  /** USD forward F_T (the slice's options' forward; the median when they differ) */
  forward: number;
  /** usable quotes (one per strike: the out-of-the-money option, or the only one quoted) */
  quotes: number;
  /** quotes in the liquid band */
  liquidQuotes: number;
  /** the slice is fitted and usable (false: too few quotes or a failed fit) */
  fitted: boolean;
  /** the parameters the engine uses (after any repair), null when not fitted */
  params: SviParams | null;
  /** the parameters as fitted, before any repair */
  fittedParams: SviParams | null;
  jw: SviJw | null;
  /** RMSE of the used parameters against the quotes' mark_iv, vol points (1 = 0.01 of vol) */
  rmseAll: number;
  rmseLiquid: number;
  /** min g over |x| ≤ 3 of the fitted (pre-repair) and the used parameters */
  gMinFitted: number;
  gMin: number;
  /** calendar gap to the previous slice of the underlying before the repair (≤ 0: none) */
  calendarGap: number;
  flags: string[];
  /** instrument ids of the slice's options (every option of the underlying and expiry) */
  instruments: number[];
}

export interface VolSurface {
  slices: SurfaceSlice[];
  /** per instrument: index into `slices`, −1 for futures and perpetuals */
  sliceOf: Int32Array;
}

interface Quote {
  x: number;
  strike: number;
  iv: number;
  otm: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Vol points RMSE of `params` against quotes (σ_model = √(max(w, 0)/T)). */
function rmse(params: SviParams, t: number, quotes: readonly Quote[]): number {
  if (quotes.length === 0) return NaN;
  let s = 0;
  for (const q of quotes) {
    const v = Math.sqrt(Math.max(sviW(params, q.x), 0) / t);
    s += (v - q.iv) * (v - q.iv);
  }
  return 100 * Math.sqrt(s / quotes.length);
}

/**
 * Fits the surface of `market` (docs/methodology.md §11a–b). Per underlying and expiry:
 * - quotes: options with a finite mark_iv > 0 and T > 0; per strike the out-of-the-money one (call for
 *   K ≥ F, put below), else the one quoted (engine convention); x = ln(K/F_T), w = mark_iv²·T;
 * - weights: Black-76 vega per unit of vol at the mark, φ(d1)·√T, normalised to mean 1 (engine
 *   convention for "vega-weighted");
 * - fewer than {@link MIN_QUOTES} quotes: not fitted, flagged `too_few_quotes`;
 * - butterfly: g < 0 somewhere on |x| ≤ 3 → the SVI-JW repair, flagged `butterfly_repaired` (or
 *   `butterfly_unrepaired` when the repaired slice still fails, or no repair exists; it is used as fitted);
 * - calendar, per underlying in increasing T: a slice below the previous one somewhere on the grid is
 *   raised by the gap (flagged `calendar_raised`).
 */
export function fitSurface(market: Market): VolSurface {
  const ins = market.instruments;
  const groups = new Map<string, number[]>();
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) continue;
    const key = `${ins.underlying[i]}|${ins.expiryMs[i]}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const slices: SurfaceSlice[] = [];
  const quotesOf = new Map<SurfaceSlice, { all: Quote[]; liquid: Quote[]; points: SlicePoint[] }>();
  for (const ids of groups.values()) {
    const i0 = ids[0]!;
    const u = ins.underlying[i0]!;
    const t = ins.tYears[i0]!;
    const forward = median(ids.map((i) => ins.forward[i]!));
    const byStrike = new Map<number, Quote>();
    for (const i of ids) {
      const iv = ins.markIv[i]!;
      const K = ins.strike[i]!;
      if (!(Number.isFinite(iv) && iv > 0 && t > 0 && K > 0)) continue;
      const call = ins.optionType[i] === OPTION_CALL;
      const otm = call ? K >= forward : K < forward;
      const q: Quote = { x: Math.log(K / forward), strike: K, iv, otm };
      const prev = byStrike.get(K);
      if (!prev || (!prev.otm && otm)) byStrike.set(K, q);
    }
    const quotes = [...byStrike.values()].sort((p, q) => p.x - q.x);
    const liquid = quotes.filter((q) => {
      const d = black76DeltaNorm(1, Math.exp(q.x), q.iv * Math.sqrt(t));
      return d >= LIQUID_DELTA_LOW && d <= LIQUID_DELTA_HIGH;
    });
    const slice: SurfaceSlice = {
      underlying: u,
      underlyingName: market.underlyings[u]!,
      expiryMs: ins.expiryMs[i0]!,
      t,
      forward,
      quotes: quotes.length,
      liquidQuotes: liquid.length,
      fitted: false,
      params: null,
      fittedParams: null,
      jw: null,
      rmseAll: NaN,
      rmseLiquid: NaN,
      gMinFitted: NaN,
      gMin: NaN,
      calendarGap: NaN,
      flags: [],
      instruments: [...ids].sort((a, b) => a - b),
    };
    slices.push(slice);
    if (quotes.length < MIN_QUOTES) {
      slice.flags.push(FLAG_TOO_FEW_QUOTES);
      continue;
    }
    const vegas = quotes.map((q) => black76VegaNorm(Math.exp(q.x), q.iv * Math.sqrt(t)) * Math.sqrt(t));
    const mean = vegas.reduce((a, b) => a + b, 0) / vegas.length;
    const points: SlicePoint[] = quotes.map((q, j) => ({
      x: q.x,
      w: q.iv * q.iv * t,
      weight: mean > 0 ? vegas[j]! / mean : 1,
    }));
    let params: SviParams;
    try {
      params = fitSvi(points).params;
    } catch {
      slice.flags.push(FLAG_FIT_FAILED);
      continue;
    }
    slice.fitted = true;
    slice.fittedParams = copySvi(params);
    slice.gMinFitted = gMinimum(params).g;
    if (!butterflyFree(params)) {
      const r = repairButterfly(params, t);
      if (r && butterflyFree(r.params)) {
        params = r.params;
        slice.flags.push(FLAG_BUTTERFLY_REPAIRED);
      } else slice.flags.push(FLAG_BUTTERFLY_UNREPAIRED);
    }
    slice.params = params;
    quotesOf.set(slice, { all: quotes, liquid, points });
  }
  slices.sort((p, q) => p.underlying - q.underlying || p.expiryMs - q.expiryMs);
  // calendar, per underlying in increasing T, over the fitted slices
  let prev: SurfaceSlice | null = null;
  for (const s of slices) {
    if (prev && prev.underlying !== s.underlying) prev = null;
    if (!s.fitted) continue;
    if (prev) {
      const gap = calendarGap(prev.params!, s.params!);
      s.calendarGap = gap;
      if (gap > CALENDAR_TOLERANCE) {
        s.params = calendarRefit(quotesOf.get(s)!.points, prev.params!, s.params!).params;
        s.flags.push(FLAG_CALENDAR_RAISED);
        if (!butterflyFree(s.params) && !s.flags.includes(FLAG_BUTTERFLY_UNREPAIRED))
          s.flags.push(FLAG_BUTTERFLY_UNREPAIRED);
      }
    }
    prev = s;
  }
  for (const s of slices) {
    const q = quotesOf.get(s);
    if (s.fitted && q) {
      s.gMin = gMinimum(s.params!).g;
      s.jw = rawToJw(s.params!, s.t);
      s.rmseAll = rmse(s.params!, s.t, q.all);
      s.rmseLiquid = rmse(s.params!, s.t, q.liquid);
    }
  }
  const sliceOf = new Int32Array(ins.count).fill(-1);
  slices.forEach((s, j) => {
    for (const i of s.instruments) sliceOf[i] = j;
  });
  return { slices, sliceOf };
}

/** The surface's implied vol (decimal per year) of option i from its own slice, NaN when not fitted. */
export function surfaceVol(surface: VolSurface, market: Market, i: number): number {
  const j = surface.sliceOf[i]!;
  const s = j >= 0 ? surface.slices[j]! : null;
  if (!s || !s.fitted || !(s.t > 0)) return NaN;
  const ins = market.instruments;
  const x = Math.log(ins.strike[i]! / s.forward);
  return Math.sqrt(Math.max(sviW(s.params!, x), 0) / s.t);
}

/** Raw SVI parameters per instrument, [i·5 + (a, b, ρ, m, σ)], that the revaluation kernel reads. */
export const SLICE_ROW = 5;

/**
 * The slice parameters of every instrument for the revaluation kernel (docs/methodology.md §11c):
 * [a, b, ρ, m, σ] of the option's own fitted slice. An option whose slice is not fitted, and every future
 * and perpetual, gets a flat slice (a = 0, b = 0: w ≡ 0), under which sticky moneyness leaves the vol
 * unchanged (kernels/svi.ts stickyMoneynessVol): such options keep sticky strike.
 * Also returns x0 = ln(K/F) of each option against its own forward (the instrument's, as §1 uses).
 */
export function instrumentSlices(surface: VolSurface, market: Market): { params: Float64Array; fitted: Uint8Array } {
  const ins = market.instruments;
  const params = new Float64Array(ins.count * SLICE_ROW);
  const fitted = new Uint8Array(ins.count);
  for (let i = 0; i < ins.count; i++) {
    const j = surface.sliceOf[i]!;
    const s = j >= 0 ? surface.slices[j]! : null;
    if (!s || !s.fitted) continue;
    const p = s.params!;
    params.set([p.a, p.b, p.rho, p.m, p.sigma], i * SLICE_ROW);
    fitted[i] = 1;
  }
  return { params, fitted };
}
