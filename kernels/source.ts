/**
 * Hands the scalar functions of kernels/ to gpu.js as source text.
 *
 * gpu.js transpiles a function from `fn.toString()`. Module loaders rewrite calls to imported functions
 * (vite / vitest: `(0,__vite_ssr_import_0__.normCdf)(x)`; CommonJS transpilers: `(0, normal_1.normCdf)(x)`),
 * which gpu.js cannot parse. {@link kernelSource} undoes that rewrite so the same kernels/ functions
 * transpile whether they were loaded by node from dist/, by tsx or by vitest.
 *
 * gpu.js orders the emitted GLSL functions by a call trace that moves a callee reached on a second path
 * to the end without its own callees (gpu.js issue #207), so a shader whose kernel calls two functions
 * sharing a non-leaf callee fails to compile. The device functions are therefore arranged so that every
 * function reachable on two paths is a leaf (black76Norm32 inlines its normal CDF): a kernel may call
 * any combination of them.
 */
import { normCdf32, normPdf } from './normal.js';
import { black76Norm32, black76DeltaNorm32, black76GammaNorm, black76VegaNorm } from './black76.js';
import { movedValue32, movedValueSurface32 } from './revalue.js';

/** Minimal view of gpu.js's `GPU#addFunction` (keeps this module free of a gpu.js import). */
export interface FunctionSink {
  addFunction(source: string, settings?: { argumentTypes?: string[]; returnType?: string }): unknown;
}

/** The source text of a kernels/ function with module-loader indirections on calls removed. */
export function kernelSource(fn: (...args: number[]) => number): string {
  return fn
    .toString()
    .replace(/\(\s*0\s*,\s*[A-Za-z_$][\w$]*\s*\.\s*([A-Za-z_$][\w$]*)\s*\)/g, '$1')
    .replace(/\b__vite_ssr_import_\d+__\.([A-Za-z_$][\w$]*)/g, '$1')
    .replace(/\b__vi_import_\d+__\.([A-Za-z_$][\w$]*)/g, '$1');
}

/**
 * The float32 device functions for Black-76 pricing and forward Greeks, callees first (the order gpu.js
 * needs): normPdf, normCdf32, black76Norm32, black76DeltaNorm32, black76GammaNorm, black76VegaNorm.
 */
export const DEVICE_BLACK76_FUNCTIONS: ReadonlyArray<(...args: number[]) => number> = [
  normPdf as (...a: number[]) => number,
  normCdf32 as (...a: number[]) => number,
  black76Norm32 as (...a: number[]) => number,
  black76DeltaNorm32 as (...a: number[]) => number,
  black76GammaNorm as (...a: number[]) => number,
  black76VegaNorm as (...a: number[]) => number,
];

/**
 * The float32 device functions of scenario revaluation's device form (kernels/revalue.ts), callees first:
 * normCdf32, black76Norm32 (a leaf), movedValue32; the kernel itself is movedValueKernel.
 */
export const DEVICE_REVALUE_FUNCTIONS: ReadonlyArray<(...args: number[]) => number> = [
  normCdf32 as (...a: number[]) => number,
  black76Norm32 as (...a: number[]) => number,
  movedValue32 as unknown as (...a: number[]) => number,
];

/**
 * The device function of revaluation under sticky moneyness (kernels/revalue.ts movedValueSurface32; its
 * kernel is movedValueSurfaceKernel), added after {@link DEVICE_REVALUE_FUNCTIONS}, whose black76Norm32 it
 * calls.
 */
export const DEVICE_REVALUE_SURFACE_FUNCTIONS: ReadonlyArray<(...args: number[]) => number> = [
  movedValueSurface32 as unknown as (...a: number[]) => number,
];

/**
 * Adds kernels/ functions to a gpu.js `GPU` (or kernel) as source, every argument and the result typed
 * 'Number' (float), so integer-looking literals at call sites never make gpu.js infer an int argument.
 */
export function addKernelFunctions(gpu: FunctionSink, fns: ReadonlyArray<(...args: number[]) => number>): void {
  for (const fn of fns) {
    gpu.addFunction(kernelSource(fn), {
      argumentTypes: new Array<string>(fn.length).fill('Number'),
      returnType: 'Number',
    });
  }
}
