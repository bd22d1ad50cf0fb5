/**
 * Black-76 price and forward Greeks of a batch on a gpu.js device backend (float32): `gl` (headlessgl) or
 * `webgpu` (Dawn via the `webgpu` package, where an adapter answers).
 *
 * The kernel calls the float32 twins from kernels/ in normalised units (k = K/F, sd = σ√T); the host
 * scales by F and the discount in float64. The kernel class that really ran is checked (gpu.js can fall
 * back silently to its own CPU mode), and a self-check compares the device prices with the float64 path
 * on up to {@link SELF_CHECK_ROWS} rows of the batch and refuses the backend beyond {@link GPU_PRICE_BOUND}.
 */
import { addKernelFunctions, DEVICE_BLACK76_FUNCTIONS, kernelSource } from '../../kernels/source.js';
import {
  black76DeltaNorm32,
  black76GammaNorm,
  black76Norm,
  black76Norm32,
  black76VegaNorm,
} from '../../kernels/black76.js';
import {
  openGpu,
  checkKernelClass,
  EXPECTED_KERNEL_CLASS,
  type GpuInstance,
  type GpuKernel,
} from '../engine/gpuDevice.js';
import { BackendUnavailableError } from '../engine/backend.js';
import type { NormalisedGreeks } from './priceCsv.js';

/**
 * Self-check bound on a normalised price (a fraction of the forward): docs/architecture.md "Precision", gl ≤ 5e-6 × F.
 */
export const GPU_PRICE_BOUND = 5e-6;
/** Rows of the batch the self-check compares (the first ones). */
export const SELF_CHECK_ROWS = 256;

/** Outcome of a device run: the normalised results and the kernel class, or why the backend was refused. */
export type GpuGreeksResult =
  { ok: true; greeks: NormalisedGreeks; kernelClass: string } | { ok: false; reason: string };

/**
 * The gpu.js kernel body: output cell 4i + q holds quantity q (0 price, 1 delta, 2 F·gamma, 3 vega per sd) of row i.
 * It calls the device functions by their imported bindings, not by global names: a bundler that puts this
 * module and kernels/black76.ts in one scope renames a function whose name a free global reference would
 * otherwise capture (esbuild did, for the webgpu page test), and the kernel's text then called a name gpu.js
 * was never given. Imported, the call and the definition are renamed together; gpu.js gets the kernel as
 * text through kernelSource (which strips a test runner's import prefixes).
 */
function greeksKernel(this: { thread: { x: number } }, isCall: number[], k: number[], sd: number[]): number {
  const i = Math.floor(this.thread.x / 4);
  const q = this.thread.x - i * 4;
  // eslint-disable-next-line no-useless-assignment -- gpu.js types r from its first assignment
  let r = 0.0;
  if (q == 0) {
    r = black76Norm32(isCall[i]!, k[i]!, sd[i]!);
  } else if (q == 1) {
    r = black76DeltaNorm32(isCall[i]!, k[i]!, sd[i]!);
  } else if (q == 2) {
    r = black76GammaNorm(k[i]!, sd[i]!);
  } else {
    r = black76VegaNorm(k[i]!, sd[i]!);
  }
  return r;
}

/**
 * Normalised price, delta, F·gamma and vega per unit of total std of each row on a device backend
 * (float32), or the reason the backend was refused (no context/adapter, silent fallback, self-check).
 * Rows with NaN sd (unrecoverable implied vols) give NaN.
 */
export async function normalisedGreeksGpu(
  name: 'gl' | 'webgpu',
  isCall: Float64Array,
  k: Float64Array,
  sd: Float64Array,
): Promise<GpuGreeksResult> {
  const n = k.length;
  const greeks: NormalisedGreeks = {
    price: new Float64Array(n),
    delta: new Float64Array(n),
    gamma: new Float64Array(n),
    vega: new Float64Array(n),
  };
  if (n === 0) return { ok: true, greeks, kernelClass: EXPECTED_KERNEL_CLASS[name] };
  let gpu: GpuInstance;
  try {
    gpu = await openGpu(name); // src/engine/gpuDevice.ts: the engine's device opening (DISPLAY, Dawn, adapter)
  } catch (e) {
    return { ok: false, reason: e instanceof BackendUnavailableError ? e.reason : (e as Error).message };
  }
  try {
    addKernelFunctions(gpu, DEVICE_BLACK76_FUNCTIONS);
    const kernel: GpuKernel = gpu.createKernel(kernelSource(greeksKernel as unknown as (...a: number[]) => number), {
      output: [4 * n],
      precision: 'single',
      tactic: 'precision',
    });
    const sd32 = Float32Array.from(sd, (s) => (Number.isNaN(s) ? 0 : s));
    const raw = (await kernel(Float32Array.from(isCall), Float32Array.from(k), sd32)) as Float32Array;
    const kernelClass = checkKernelClass(name, kernel); // throws on gpu.js's silent fallback
    for (let i = 0; i < n; i++) {
      const bad = Number.isNaN(sd[i]!);
      greeks.price[i] = bad ? NaN : raw[4 * i]!;
      greeks.delta[i] = bad ? NaN : raw[4 * i + 1]!;
      greeks.gamma[i] = bad ? NaN : raw[4 * i + 2]!;
      greeks.vega[i] = bad ? NaN : raw[4 * i + 3]!;
    }
    for (let i = 0; i < Math.min(n, SELF_CHECK_ROWS); i++) {
      if (Number.isNaN(sd[i]!)) continue;
      const ref = black76Norm(isCall[i]!, k[i]!, sd[i]!);
      const err = Math.abs(greeks.price[i]! - ref);
      if (!(err <= GPU_PRICE_BOUND)) {
        return {
          ok: false,
          reason: `self-check failed: row ${i} normalised price ${greeks.price[i]} vs float64 ${ref} (error ${err} > ${GPU_PRICE_BOUND} of the forward)`,
        };
      }
    }
    return { ok: true, greeks, kernelClass };
  } catch (e) {
    if (e instanceof BackendUnavailableError) return { ok: false, reason: e.reason };
    return { ok: false, reason: `${name} kernel failed: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    gpu.destroy();
  }
}
