/**
 * Revaluation on a float32 gpu.js device (gl or webgpu): kernels/revalueGpu.ts `movedValueKernel` over
 * tiles of [scenarios × instruments] (each side ≤ 16,384, llvmpipe's texture limit), read back as float32
 * and turned into the rows of types.ts in float64 on the host:
 *   options   USD F·(w − v0), coin w/(1+m) − v0   (w from the device, v0 = V/F in float64)
 *   futures, perpetuals   USD F·m', coin 1 − 1/(1+m')   (host only)
 *   spot rows S_u·m (host only)
 * The matrix is stored as float32 on shared memory (so the cpu pool can aggregate it without a copy).
 */
import type { Market } from '../model/market.js';
import { KIND_OPTION } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { Params } from '../params/params.js';
import { pnlRowCount, type PnlMatrix } from './types.js';
import { revalueColumns, sharedArray, type RevalueColumns } from './revalueColumns.js';
import { writeSpotRows } from './spotRows.js';
import { checkKernelClass, flatten2D, type DeviceBackend, type GpuInstance, type GpuKernel } from './gpuDevice.js';
import { addKernelFunctions, kernelSource } from '../pricing/kernelSource.js';
import { normCdf32 } from '../../kernels/normal.js';
import { black76Norm32 } from '../../kernels/black76.js';
import { shockedVol } from '../../kernels/revalue.js';
import { movedValueKernel } from '../../kernels/revalueGpu.js';

/** Tile sides: scenarios × instruments per kernel run (≤ 16,384 each). */
export const REVALUE_TILE_SCENARIOS = 4096;
export const REVALUE_TILE_INSTRUMENTS = 2048;

type Fn = (...a: number[]) => number;

/** Revaluation on one gpu.js device. */
export class GpuRevaluer {
  private kernel: GpuKernel | null = null;
  private shape = '';
  /** the gpu.js kernel class that ran (set after the first run) */
  kernelClass = '';

  constructor(private readonly gpu: GpuInstance, readonly backend: DeviceBackend) {
    addKernelFunctions(gpu, [normCdf32 as Fn, black76Norm32 as Fn, shockedVol as Fn]);
  }

  private kernelFor(width: number, height: number): GpuKernel {
    const shape = `${width}x${height}`;
    if (this.kernel === null || this.shape !== shape) {
      this.kernel?.destroy?.();
      this.kernel = this.gpu.createKernel(kernelSource(movedValueKernel as unknown as Fn), {
        output: [width, height], precision: 'single', tactic: 'precision', optimizeFloatMemory: true, dynamicArguments: true,
      });
      this.shape = shape;
    }
    return this.kernel;
  }

  /** The full P&L matrix (rows 2I + U × S, float32 on shared memory); see the module comment. */
  async revalue(market: Market, scenarios: ScenarioSet, params: Params): Promise<PnlMatrix> {
    const c = revalueColumns(market, scenarios, params, false);
    const rows = pnlRowCount(c.instruments, c.underlyings);
    const out = sharedArray(Float32Array, rows * c.scenarios);
    await this.fill(c, out);
    writeSpotRows(market, scenarios, out);
    return { rows, scenarios: c.scenarios, data: out };
  }

  /** Writes rows [0, 2I) of `out` (USD and coin rows) from the device's moved values. */
  async fill(c: RevalueColumns, out: Float32Array | Float64Array): Promise<void> {
    const I = c.instruments;
    const S = c.scenarios;
    const U = c.underlyings;
    // delta-one rows on the host
    for (let i = 0; i < I; i++) {
      if (c.kind[i] === KIND_OPTION) continue;
      const F = c.forward[i]!;
      const u = c.underlying[i]!;
      for (let s = 0; s < S; s++) {
        const m1 = c.deltaOneMove[s * U + u]!;
        out[i * S + s] = F * m1;
        out[(I + i) * S + s] = 1 - 1 / (1 + m1);
      }
    }
    // options: compact list, revalued on the device
    const opts: number[] = [];
    for (let i = 0; i < I; i++) if (c.kind[i] === KIND_OPTION) opts.push(i);
    const n = opts.length;
    if (n === 0 || S === 0) return;
    const f32 = (a: ArrayLike<number>, idx?: number[]) => idx ? Float32Array.from(idx, (i) => a[i]!) : Float32Array.from(a);
    const args = [
      f32(c.isCall, opts), f32(c.k, opts), f32(c.tYears, opts), f32(c.sigma, opts), f32(c.rate, opts),
      f32(c.volRangeUp, opts), f32(c.underlying, opts),
      f32(c.move), f32(c.volRule), f32(c.volParam), f32(c.dtYears),
    ];
    // balanced tiles: the last one is not mostly padding
    const width = Math.ceil(S / Math.ceil(S / REVALUE_TILE_SCENARIOS));
    const height = Math.ceil(n / Math.ceil(n / REVALUE_TILE_INSTRUMENTS));
    const kernel = this.kernelFor(width, height);
    const tile = new Float32Array(width * height);
    for (let y0 = 0; y0 < n; y0 += height) {
      for (let s0 = 0; s0 < S; s0 += width) {
        const result = await kernel(...args, y0, s0, n, S, U, c.volRangeDown, c.minVolForShockUp, c.shortTermVegaPower, c.longTermVegaPower);
        if (this.kernelClass === '') this.kernelClass = checkKernelClass(this.backend, kernel);
        flatten2D(result, width, height, tile);
        const yn = Math.min(height, n - y0);
        const sn = Math.min(width, S - s0);
        for (let y = 0; y < yn; y++) {
          const i = opts[y0 + y]!;
          const F = c.forward[i]!;
          const v0 = c.v0[i]!;
          const u = c.underlying[i]!;
          const usd = i * S + s0;
          const coin = (I + i) * S + s0;
          const t = y * width;
          for (let x = 0; x < sn; x++) {
            const w = tile[t + x]!;
            out[usd + x] = F * (w - v0);
            out[coin + x] = w / (1 + c.move[(s0 + x) * U + u]!) - v0;
          }
        }
      }
    }
  }

  destroy(): void {
    this.kernel?.destroy?.();
    this.kernel = null;
  }
}
