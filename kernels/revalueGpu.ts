/**
 * The device entry of scenario revaluation: one thread per (scenario, instrument) of a tile. In the
 * subset gpu.js transpiles; src/engine/glRevalue.ts builds it into a gpu.js kernel with output
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
 * Arguments: per-instrument arrays (isCall, k = K/F, tYears, sigma, rate, volRangeUp, underlying), per
 * scenario × underlying arrays [s·U + u] (move, volRule, volParam), per scenario dtYears, then the tile
 * origin (i0, s0), the sizes (I, S, U) and the global vol parameters. Threads past the last instrument or
 * scenario compute a clamped duplicate, which the host ignores.
 */
import { black76Norm32 } from './black76.js';
import { shockedVol } from './revalue.js';

export function movedValueKernel(
  this: { thread: { x: number; y: number } },
  isCall: number[], k: number[], tYears: number[], sigma: number[], rate: number[],
  volRangeUp: number[], underlying: number[],
  move: number[], volRule: number[], volParam: number[], dtYears: number[],
  i0: number, s0: number, instrumentCount: number, scenarioCount: number, underlyingCount: number,
  volRangeDown: number, minVolForShockUp: number, shortTermVegaPower: number, longTermVegaPower: number,
): number {
  const i = Math.min(i0 + this.thread.y, instrumentCount - 1.0);
  const s = Math.min(s0 + this.thread.x, scenarioCount - 1.0);
  const j = s * underlyingCount + underlying[i];
  const t = tYears[i];
  const shocked = shockedVol(sigma[i], t, volRule[j], volParam[j], volRangeUp[i], volRangeDown, minVolForShockUp,
    shortTermVegaPower, longTermVegaPower);
  const t1 = Math.max(t - dtYears[s], 0.0);
  const growth = 1.0 + move[j];
  return growth * Math.exp(-rate[i] * t1) * black76Norm32(isCall[i], k[i] / growth, shocked * Math.sqrt(t1));
}
