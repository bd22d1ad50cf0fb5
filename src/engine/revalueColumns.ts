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
  // sticky moneyness (docs/methodology.md §11c): [a, b, ρ, m, σ, x0, vol0] per instrument
  let surface: Float64Array | undefined;
  const slices = market.stickyMoneyness;
  if (slices) {
    if (slices.length !== I * 5)
      throw new Error(`market.stickyMoneyness has ${slices.length} values for ${I} instruments`);
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
    ...(surface ? { surface } : {}),
  };
}
