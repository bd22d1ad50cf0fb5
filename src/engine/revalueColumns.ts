/**
 * The flat inputs of scenario revaluation, built once per (market, scenarios, params) on the host in
 * float64: per instrument the normalised Black-76 inputs and the base value v0 = V/F, per scenario ×
 * underlying the move, vol rule and parameter (the RevalueColumns of kernels/revalue.ts). Shared by every
 * backend (the cpu pool reads them from SharedArrayBuffers, the gpu.js kernels from float32 copies).
 */
import { KIND_OPTION, OPTION_CALL, type Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { forUnderlying, type Params } from '../params/params.js';
import { optionBaseValue, SURFACE_ROW, type RevalueColumns } from '../../kernels/revalue.js';
import { sviVol } from '../../kernels/svi.js';
import { shockSlice } from '../surface/shock.js';

export type { RevalueColumns };

/** Allocates a typed array on a SharedArrayBuffer (so the cpu pool's workers see it without a copy). */
export function sharedArray<T extends Float64Array | Float32Array | Int32Array | Uint8Array>(
  ctor: { new (b: SharedArrayBuffer, o?: number, n?: number): T; BYTES_PER_ELEMENT: number },
  n: number,
): T {
  return new ctor(new SharedArrayBuffer(Math.max(1, n) * ctor.BYTES_PER_ELEMENT), 0, n);
}

/**
 * Flattens a market, a scenario set and the vol parameters into {@link RevalueColumns}, every array on
 * shared memory; `out` is allocated for the whole matrix (2I + U rows × S scenarios, float64) when `withOutput`.
 * @throws Error when the scenario set was built for other underlyings than the market's.
 */
export function revalueColumns(
  market: Market,
  scenarios: ScenarioSet,
  params: Params,
  withOutput: boolean,
): RevalueColumns {
  const ins = market.instruments;
  const I = ins.count;
  const S = scenarios.count;
  const U = market.underlyings.length;
  if (scenarios.underlyings.length !== U || scenarios.underlyings.some((u, j) => u !== market.underlyings[j])) {
    throw new Error(
      `scenario set underlyings [${scenarios.underlyings.join(', ')}] do not match the market's [${market.underlyings.join(', ')}]`,
    );
  }
  const kind = sharedArray(Uint8Array, I);
  const isCall = sharedArray(Uint8Array, I);
  const underlying = sharedArray(Int32Array, I);
  const k = sharedArray(Float64Array, I);
  const tYears = sharedArray(Float64Array, I);
  const sigma = sharedArray(Float64Array, I);
  const rate = sharedArray(Float64Array, I);
  const forward = sharedArray(Float64Array, I);
  const v0 = sharedArray(Float64Array, I);
  const volRangeUp = sharedArray(Float64Array, I);
  const dp = params.deribitPm;
  const vruPerUnderlying = market.underlyings.map((u) => forUnderlying(dp.volRangeUp, u));
  for (let i = 0; i < I; i++) {
    const u = ins.underlying[i]!;
    const opt = ins.kind[i] === KIND_OPTION;
    kind[i] = ins.kind[i]!;
    isCall[i] = opt && ins.optionType[i] === OPTION_CALL ? 1 : 0;
    underlying[i] = u;
    const F = ins.forward[i]!;
    forward[i] = F;
    tYears[i] = Math.max(ins.tYears[i]! || 0, 0);
    rate[i] = market.rate[u] ?? 0;
    volRangeUp[i] = vruPerUnderlying[u]!;
    if (opt) {
      k[i] = ins.strike[i]! / F;
      sigma[i] = ins.markIv[i]!;
      v0[i] = optionBaseValue(isCall[i]!, k[i]!, tYears[i]!, sigma[i]!, rate[i]!);
    }
  }
  const move = sharedArray(Float64Array, S * U);
  move.set(scenarios.move);
  const deltaOneMove = sharedArray(Float64Array, S * U);
  deltaOneMove.set(scenarios.deltaOneMove);
  const volRule = sharedArray(Uint8Array, S * U);
  volRule.set(scenarios.volRule);
  const volParam = sharedArray(Float64Array, S * U);
  volParam.set(scenarios.volParam);
  const dtYears = sharedArray(Float64Array, S);
  for (let s = 0; s < S; s++) dtYears[s] = scenarios.dtDays[s]! / 365;
  // the surface (docs/methodology.md §11c): [a, b, ρ, m, σ, x0, vol0] per instrument, when the run revalues
  // under sticky moneyness or the set shocks the surface; the shocked slices per (scenario, instrument)
  const vs = market.volSurface;
  const shock = scenarios.surfaceShock;
  if (shock && !vs) throw new Error('a scenario set shocks the surface but the market carries no fitted surface');
  let surface: Float64Array | undefined;
  let shockedSurface: Float64Array | undefined;
  if (vs && (vs.stickyMoneyness || shock)) {
    const slices = vs.params;
    if (slices.length !== I * 5) throw new Error(`market.volSurface has ${slices.length} values for ${I} instruments`);
    surface = sharedArray(Float64Array, I * SURFACE_ROW);
    for (let i = 0; i < I; i++) {
      if (kind[i] !== KIND_OPTION) continue;
      const b = i * SURFACE_ROW;
      for (let j = 0; j < 5; j++) surface[b + j] = slices[i * 5 + j]!;
      const x0 = Math.log(k[i]!);
      surface[b + 5] = x0;
      surface[b + 6] = sviVol(
        slices[i * 5]!,
        slices[i * 5 + 1]!,
        slices[i * 5 + 2]!,
        slices[i * 5 + 3]!,
        slices[i * 5 + 4]!,
        x0,
        tYears[i]!,
      );
    }
    if (shock) shockedSurface = shockedSlices(market, scenarios, kind, tYears, slices);
  }
  return {
    instruments: I,
    scenarios: S,
    underlyings: U,
    kind,
    isCall,
    underlying,
    k,
    tYears,
    sigma,
    rate,
    forward,
    v0,
    volRangeUp,
    move,
    deltaOneMove,
    volRule,
    volParam,
    dtYears,
    volRangeDown: dp.volRangeDown,
    minVolForShockUp: dp.minVolForShockUp,
    shortTermVegaPower: dp.shortTermVegaPower,
    longTermVegaPower: dp.longTermVegaPower,
    out: withOutput ? sharedArray(Float64Array, (2 * I + U) * S) : new Float64Array(0),
    ...(surface ? { surface, stickyMoneyness: vs!.stickyMoneyness } : {}),
    ...(shockedSurface ? { shockedSurface } : {}),
  };
}

/**
 * The shocked slices of a set with surface shocks (docs/methodology.md §11c; src/surface/shock.ts), per
 * (scenario, instrument), [(s·I + i)·5 + j]: each distinct (scenario, underlying, slice) is shocked and
 * checked once; a fitted slice (b > 0 or a ≠ 0) under no shock is itself; an unfitted one stays flat.
 */
function shockedSlices(
  market: Market,
  scenarios: ScenarioSet,
  kind: Uint8Array,
  tYears: Float64Array,
  slices: Float64Array,
): Float64Array {
  const I = market.instruments.count;
  const S = scenarios.count;
  const U = market.underlyings.length;
  const sh = scenarios.surfaceShock!;
  const out = sharedArray(Float64Array, S * I * 5);
  const cache = new Map<string, number[]>();
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < I; i++) {
      if (kind[i] !== KIND_OPTION) continue;
      const p = Array.from(slices.subarray(i * 5, i * 5 + 5));
      const u = market.instruments.underlying[i]!;
      const j = s * U + u;
      const level = sh.level[j]!;
      const skew = sh.skew[j]!;
      const term = sh.term[j]!;
      const flat = p[1] === 0 && p[0] === 0;
      let q = p;
      if (!flat && (level !== 0 || skew !== 0 || term !== 0)) {
        const key = `${level},${skew},${term},${tYears[i]},${p.join(',')}`;
        let c = cache.get(key);
        if (!c) {
          const r = shockSlice({ a: p[0]!, b: p[1]!, rho: p[2]!, m: p[3]!, sigma: p[4]! }, tYears[i]!, {
            level,
            skew,
            term,
          }).params;
          c = [r.a, r.b, r.rho, r.m, r.sigma];
          cache.set(key, c);
        }
        q = c;
      }
      out.set(q, (s * I + i) * 5);
    }
  }
  return out;
}
