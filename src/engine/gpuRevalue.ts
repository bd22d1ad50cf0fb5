/**
 * Revaluation on a float32 gpu.js device (gl or webgpu): kernels/revalue.ts (device form) `movedValueKernel` over
 * tiles of [scenarios × instruments] (each side ≤ 16,384, llvmpipe's texture limit), read back as float32
 * and turned into the rows of types.ts in float64 on the host:
 *   options   USD F·(w − v0), coin w/(1+m) − v0   (w from the device, v0 = V/F in float64)
 *   futures, perpetuals   USD F·m', coin 1 − 1/(1+m')   (host only)
 *   spot rows S_u·m (host only)
 * The matrix is stored as float32 on shared memory (so the cpu pool can aggregate it without a copy).
 *
 * Where the time goes (full chain 1,590 options × 10,000 scenarios, llvmpipe on 2 cores, `timings`):
 * the device run with its readback dominates, then the host assembly of the USD and coin rows (≈ 100 ms,
 * about half of it first-touch page faults of the fresh 128 MB output); packing the inputs, the delta-one
 * and spot rows take a few ms. On the device, texture reads (gpu.js's index arithmetic per read) cost
 * more than the Black-76 arithmetic, so the inputs are packed in float64 on the host into one
 * instrument table and one scenario table (σ'_up/down precomputed with shockedVol), and each thread
 * computes four scenarios of one instrument (Array(4) output, read back raw: one flat Float32Array per
 * tile, no JS-side 2D arrays). See kernels/revalue.ts (device form).
 */
import type { Market } from '../model/market.js';
import { KIND_OPTION } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { Params } from '../params/params.js';
import { pnlRowCount, type PnlMatrix } from './types.js';
import { revalueColumns, sharedArray, type RevalueColumns } from './revalueColumns.js';
import { writeSpotRows } from './spotRows.js';
import {
  checkKernelClass,
  readWebGpuFloats,
  type DeviceBackend,
  type GpuInstance,
  type GpuKernel,
} from './gpuDevice.js';
import {
  addKernelFunctions,
  DEVICE_REVALUE_FUNCTIONS,
  DEVICE_REVALUE_SURFACE_FUNCTIONS,
  kernelSource,
} from '../../kernels/source.js';
import {
  assembleMovedRow,
  deltaOneRows,
  movedValueKernel,
  movedValueSurfaceKernel,
  packInstrumentTable,
  packSurfaceTable,
  revalueTile,
  SURFACE_TABLE_ROW,
  packScenarioTable,
  INSTRUMENT_ROW,
  SCENARIO_ROW,
} from '../../kernels/revalue.js';
import { DEVICE_REVALUE_TILE_INSTRUMENTS, DEVICE_REVALUE_TILE_SCENARIOS } from './tuning.js';

/** Rows of one float32 table as views (gpu.js uploads an array of rows as a 2D texture). */
function rowsOf(data: Float32Array, rows: number, width: number): Float32Array[] {
  const r = new Array<Float32Array>(rows);
  for (let y = 0; y < rows; y++) r[y] = data.subarray(y * width, (y + 1) * width);
  return r;
}

/** The packed instrument table of kernels/revalue.ts (packInstrumentTable) as rows, for the options `opts`. */
export function packInstruments(c: RevalueColumns, opts: Int32Array): Float32Array[] {
  return rowsOf(packInstrumentTable(c, opts), opts.length, INSTRUMENT_ROW);
}

/** The packed scenario table of kernels/revalue.ts (packScenarioTable) as rows: [1+m, Δt, σ' column, g]. */
export function packScenarios(c: RevalueColumns): Float32Array[] {
  return rowsOf(packScenarioTable(c), c.scenarios * c.underlyings, SCENARIO_ROW);
}

type KernelFn = (...a: number[]) => number;

/** A kernel function, its gpu.js kernel once built, and the tile shape its output has now. */
interface KernelSlot {
  fn: KernelFn;
  kernel: GpuKernel | null;
  shape: string;
}

/** Revaluation on one gpu.js device. */
export class GpuRevaluer {
  /** movedValueKernel (sticky strike), and movedValueSurfaceKernel (sticky moneyness), each built on first use */
  private readonly plain: KernelSlot = { fn: movedValueKernel as unknown as KernelFn, kernel: null, shape: '' };
  private readonly surface: KernelSlot = {
    fn: movedValueSurfaceKernel as unknown as KernelFn,
    kernel: null,
    shape: '',
  };
  /** the gpu.js kernel class that ran (set after the first run) */
  kernelClass = '';
  /**
   * Milliseconds of the last revalue call by part (performance.now(), for profiling): columns (host
   * inputs), alloc, deltaOne (host rows of futures and perpetuals), pack (device tables), kernel (device
   * run + readback, every tile), assembly (host USD and coin rows of options), spot.
   */
  timings: Record<string, number> = {};

  constructor(
    private readonly gpu: GpuInstance,
    readonly backend: DeviceBackend,
  ) {
    addKernelFunctions(gpu, DEVICE_REVALUE_FUNCTIONS);
    addKernelFunctions(gpu, DEVICE_REVALUE_SURFACE_FUNCTIONS);
  }

  /**
   * The slot's kernel for tiles of `width` scenarios (a multiple of 4: four per thread) × `height` instruments.
   * One kernel serves every shape (dynamicOutput: a new shape resizes the output, it does not compile
   * another shader — in a run with several scenario families each family has its own width).
   */
  private kernelFor(slot: KernelSlot, width: number, height: number): GpuKernel {
    const shape = `${width}x${height}`;
    if (slot.kernel === null) {
      // pipeline: the run leaves its output in a texture; readTile reads it as one flat Float32Array
      // (gpu.js would otherwise build [height][width/4] arrays of 4-element arrays on the JS side)
      slot.kernel = this.gpu.createKernel(kernelSource(slot.fn), {
        output: [width / 4, height],
        precision: 'single',
        tactic: 'precision',
        dynamicArguments: true,
        dynamicOutput: true,
        pipeline: true,
        returnType: 'Array(4)',
      });
    } else if (slot.shape !== shape) {
      (slot.kernel as unknown as { setOutput(o: number[]): void }).setOutput([width / 4, height]);
    }
    slot.shape = shape;
    return slot.kernel;
  }

  /**
   * The last run's moved values as one flat array, [y * width + x] (x the scenario within the tile): the
   * raw RGBA float texels of the output texture, which hold four consecutive scenarios each.
   */
  private async readTile(kernel: GpuKernel, result: unknown, width: number, height: number): Promise<Float32Array> {
    const fromBuffer = await readWebGpuFloats(result, width * height);
    if (fromBuffer !== null) return fromBuffer;
    const raw = (kernel.kernel as { renderRawOutput?: () => Float32Array | Promise<Float32Array> } | undefined)
      ?.renderRawOutput;
    if (typeof raw === 'function') {
      const flat = await raw.call(kernel.kernel);
      if (flat instanceof Float32Array && flat.length >= width * height) return flat;
    }
    // fallback (a device without raw readback): the texture's nested arrays
    const nested = (await (result as { toArray(): unknown }).toArray()) as ArrayLike<ArrayLike<ArrayLike<number>>>;
    const flat = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const r = nested[y]!;
      for (let x = 0; x < width / 4; x++) {
        const v = r[x]!;
        for (let q = 0; q < 4; q++) flat[y * width + 4 * x + q] = v[q]!;
      }
    }
    return flat;
  }

  /** The full P&L matrix (rows 2I + U × S, float32 on shared memory); see the module comment. */
  async revalue(market: Market, scenarios: ScenarioSet, params: Params): Promise<PnlMatrix> {
    this.timings = {};
    const t0 = performance.now();
    const c = revalueColumns(market, scenarios, params, false);
    this.timings.columns = performance.now() - t0;
    const rows = pnlRowCount(c.instruments, c.underlyings);
    const out = sharedArray(Float32Array, rows * c.scenarios);
    const t1 = performance.now();
    await this.fill(c, out);
    const t2 = performance.now();
    writeSpotRows(market, scenarios, out);
    this.timings.spot = performance.now() - t2;
    this.timings.alloc = t1 - t0 - this.timings.columns;
    return { rows, scenarios: c.scenarios, data: out };
  }

  /** Writes rows [0, 2I) of `out` (USD and coin rows) from the device's moved values. */
  async fill(c: RevalueColumns, out: Float32Array): Promise<void> {
    const I = c.instruments;
    const S = c.scenarios;
    const U = c.underlyings;
    const tf = performance.now();
    // delta-one rows on the host
    for (let i = 0; i < I; i++) {
      if (c.kind[i] === KIND_OPTION) continue;
      deltaOneRows(c.deltaOneMove, c.underlying[i]!, U, c.forward[i]!, 0, S, out, i * S, (I + i) * S);
    }
    const td = performance.now();
    this.timings.deltaOne = td - tf;
    // options: compact list, revalued on the device
    let n = 0;
    for (let i = 0; i < I; i++) if (c.kind[i] === KIND_OPTION) n++;
    if (n === 0 || S === 0) return;
    if (c.shockedSurface) {
      // surface stress (a stress set of tens of scenarios): the float64 form on the host, rounded to the
      // float32 matrix (kernels/revalue.ts RevalueColumns.shockedSurface)
      const host: RevalueColumns = { ...c, out: new Float64Array(2 * I * S) };
      revalueTile(host, 0, I, 0, S);
      for (let i = 0; i < I; i++) {
        if (c.kind[i] !== KIND_OPTION) continue;
        for (let s = 0; s < S; s++) {
          out[i * S + s] = host.out[i * S + s]!;
          out[(I + i) * S + s] = host.out[(I + i) * S + s]!;
        }
      }
      this.timings.host = performance.now() - td;
      return;
    }
    const opts = new Int32Array(n);
    for (let i = 0, o = 0; i < I; i++) if (c.kind[i] === KIND_OPTION) opts[o++] = i;
    const inst = packInstruments(c, opts);
    const scen = packScenarios(c);
    const surf = c.surface ? rowsOf(packSurfaceTable(c, opts), n, SURFACE_TABLE_ROW) : null;
    // 1 + m per underlying, contiguous in s (the coin rows divide by it)
    const growth = new Float64Array(U * S);
    for (let s = 0; s < S; s++) for (let u = 0; u < U; u++) growth[u * S + s] = 1 + c.move[s * U + u]!;
    const tp = performance.now();
    this.timings.pack = tp - td;
    // balanced tiles (the last one is not mostly padding), width a multiple of 4
    const width = 4 * Math.ceil(Math.ceil(S / Math.ceil(S / DEVICE_REVALUE_TILE_SCENARIOS)) / 4);
    const height = Math.ceil(n / Math.ceil(n / DEVICE_REVALUE_TILE_INSTRUMENTS));
    const kernel = this.kernelFor(surf ? this.surface : this.plain, width, height);
    let kernelMs = 0;
    let assemblyMs = 0;
    const assemble = (tile: Float32Array, y0: number, s0: number): void => {
      const t = performance.now();
      const yn = Math.min(height, n - y0);
      const sn = Math.min(width, S - s0);
      for (let y = 0; y < yn; y++) {
        const i = opts[y0 + y]!;
        assembleMovedRow(
          tile,
          y * width,
          sn,
          c.forward[i]!,
          c.v0[i]!,
          growth,
          c.underlying[i]! * S + s0,
          out,
          i * S + s0,
          (I + i) * S + s0,
        );
      }
      assemblyMs += performance.now() - t;
    };
    // (overlapping the assembly of tile t with the device's rendering of tile t+1 was tried: no gain on
    // 2 cores, llvmpipe's render threads already use both)
    for (let y0 = 0; y0 < n; y0 += height) {
      for (let s0 = 0; s0 < S; s0 += width) {
        const ta = performance.now();
        const result = surf
          ? await kernel(inst, surf, scen, y0, s0, n, S, U, c.minVolForShockUp)
          : await kernel(inst, scen, y0, s0, n, S, U);
        if (this.kernelClass === '') this.kernelClass = checkKernelClass(this.backend, kernel);
        const tile = await this.readTile(kernel, result, width, height);
        kernelMs += performance.now() - ta;
        assemble(tile, y0, s0);
      }
    }
    this.timings.kernel = kernelMs;
    this.timings.assembly = assemblyMs;
  }

  destroy(): void {
    for (const slot of [this.plain, this.surface]) {
      slot.kernel?.destroy?.();
      slot.kernel = null;
    }
  }
}
