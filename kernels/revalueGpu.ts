/**
 * The device entry of scenario revaluation: one thread per (scenario, instrument) of a tile. In the
 * subset gpu.js transpiles; src/engine/gpuRevalue.ts builds it into a gpu.js kernel with output
 * [x = scenarios of the tile, y = instruments of the tile].
 *
 * It returns the moved option value only, in units of the BASE forward F:
 *   w = (1+m) · e^{−r·T'} · black76Norm32(k/(1+m), σ'·√T'),  T' = max(T − Δt, 0),  σ' = shockedVol(…)
 * i.e. exactly the first term of kernels/revalue.ts revalueNormalised32 (= w − v0). The base value v0 is the
 * same for every scenario, so the host computes it once in float64 and forms, in float64,
 *   USD row  F·(w − v0)     coin row  w/(1+m) − v0
 * which halves the device work (one Black-76 per cell instead of two) and keeps v0 exact. Futures and
 * perpetuals need no device work: the host writes F·m' and 1 − 1/(1+m') (the kernel's value for them is
 * ignored).
 *
 * Texture reads dominate the cost on llvmpipe (each read, with gpu.js's index arithmetic, costs about a
 * quarter of the whole Black-76 arithmetic), so the inputs are packed into two row tables the host prepares in float64
 * (src/engine/gpuRevalue.ts `packInstruments`, `packScenarios`), and the vol shock's instrument-only
 * parts are precomputed there with kernels/revalue.ts `shockedVol` itself:
 *   inst[i] = [±k (+ call, − put), T, r, σ'_up, σ, σ'_down, σ, u]   σ'_up/down = shockedVol(σ, T, VOL_UP/DOWN, …)
 *   scen[s·U + u] = [1+m, Δt, col, g]
 * and σ' = inst[i][col] for col 3 (VOL_UP) and 5 (VOL_DOWN, σ'_down already floored), σ·g for col 4
 * (VOL_NONE and unknown rules g = 1, VOL_MULT g = volParam), max(σ·g, 0.01) for col 6 (VOL_REL_UP/DOWN,
 * g = 1 ± volParam) — shockedVol's σ' for every rule, selected with weights instead of branches (a
 * divergent branch costs more than a texture read on llvmpipe).
 *
 * Each thread computes FOUR scenarios of one instrument (Array(4) output), so the instrument's seven
 * reads serve four cells: ≈ 5.75 reads per cell instead of 9–11. Threads past the last instrument or
 * scenario compute a clamped duplicate, which the host ignores. Measured on llvmpipe (2 cores, one
 * process, same tables, run and readback of 15.9 M cells): one value per thread with 9 reads 526 ms, this
 * kernel 315 ms, bit-identical results.
 */
import { black76Norm32 } from './black76.js';

/** Column of the packed instrument row the scenario row's σ' selects (see the module comment). */
export const SHOCK_UP = 3;
export const SHOCK_SCALED = 4;
export const SHOCK_DOWN = 5;
export const SHOCK_SCALED_FLOORED = 6;
/** Columns of a packed instrument row and of a packed scenario row. */
export const INSTRUMENT_ROW = 8;
export const SCENARIO_ROW = 4;

/**
 * Moved value w of one option under one scenario (units of the base forward), float32 device helper:
 * kc = ±k (+ call, − put), t = T, rate = r, sigUp/sigma/sigDown the instrument's σ'_up, σ, σ'_down, and the
 * scenario row (growth = 1+m, dt = Δt, col, g) of the module comment. σ' is selected without branches:
 * exactly one of the weights is 1 and the others 0, so σ' is exactly the selected value.
 */
export function movedValue32(
  kc: number,
  t: number,
  rate: number,
  sigUp: number,
  sigma: number,
  sigDown: number,
  growth: number,
  dt: number,
  col: number,
  g: number,
): number {
  const t1 = Math.max(t - dt, 0.0);
  const wUp = Math.max(1.0 - Math.abs(col - 3.0), 0.0);
  const wDown = Math.max(1.0 - Math.abs(col - 5.0), 0.0);
  const scaled = Math.max(sigma * g, 0.01 * Math.max(col - 5.0, 0.0));
  const shocked = wUp * sigUp + wDown * sigDown + (1.0 - wUp - wDown) * scaled;
  let isCall = 0.0;
  if (kc > 0.0) {
    isCall = 1.0;
  }
  return growth * Math.exp(-rate * t1) * black76Norm32(isCall, Math.abs(kc) / growth, shocked * Math.sqrt(t1));
}

/**
 * Moved values w of instrument i0 + thread.y under the four scenarios s0 + 4·thread.x + (0, 1, 2, 3)
 * (an Array(4) output: the instrument's row is read once for four cells). `inst` and `scen` are the
 * packed tables of the module comment; i0, s0 the tile origin. Scenarios past the last are clamped.
 */
export function movedValueKernel(
  this: { thread: { x: number; y: number } },
  inst: number[][],
  scen: number[][],
  i0: number,
  s0: number,
  instrumentCount: number,
  scenarioCount: number,
  underlyingCount: number,
): number[] {
  const i = Math.min(i0 + this.thread.y, instrumentCount - 1.0);
  const kc = inst[i][0];
  const t = inst[i][1];
  const rate = inst[i][2];
  const sigUp = inst[i][3];
  const sigma = inst[i][4];
  const sigDown = inst[i][5];
  const u = inst[i][7];
  const sa = s0 + 4.0 * this.thread.x;
  const last = scenarioCount - 1.0;
  const j0 = Math.min(sa, last) * underlyingCount + u;
  const j1 = Math.min(sa + 1.0, last) * underlyingCount + u;
  const j2 = Math.min(sa + 2.0, last) * underlyingCount + u;
  const j3 = Math.min(sa + 3.0, last) * underlyingCount + u;
  return [
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j0][0], scen[j0][1], scen[j0][2], scen[j0][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j1][0], scen[j1][1], scen[j1][2], scen[j1][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j2][0], scen[j2][1], scen[j2][2], scen[j2][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j3][0], scen[j3][1], scen[j3][2], scen[j3][3]),
  ];
}
