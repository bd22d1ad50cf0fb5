/**
 * The inner problem of the SVI fit through WebAssembly (kernels/svi.wat, built to dist/kernels/svi.wasm): for
 * fixed (m, σ) the weighted moments, the constraint rows, the primal active-set method and the error of its
 * solution, the same bits as src/surface/svi.ts's JavaScript (innerError through activeSetQp), which is the
 * reference it is tested against (test/kernels/sviWasm.test.ts). The fit calls it ~74,000 times a chain; in
 * JavaScript that was ~1.6 µs a call on the 2-core machine, the report thread's largest item of a run.
 *
 * Per slice the caller loads the quotes and floors once (`load`), then solves at each (m, σ) of its search
 * (`solve`). Where the method does not converge the module enumerates the active sets (svi.ts enumerateQp), as
 * the JavaScript does. One instance per thread (the fit is not re-entrant); its memory grows to the largest
 * slice and is kept.
 *
 * kernels/ imports nothing outside kernels/: the caller reads the .wasm's bytes and compiles them.
 */
import { compileWasm, growTo, instantiateWasm, type WasmMemory } from './wasmApi.js';

/** The file the build writes beside the compiled kernels (dist/kernels/, and dist/bundle/ beside the bundle). */
export const SVI_WASM_FILE = 'svi.wasm';

/** Where the compiled module is read: beside this module once built; from source (vitest) there is none. */
export const SVI_WASM_URL = new URL(SVI_WASM_FILE, import.meta.url);

/** Byte addresses of svi.wat's memory (its header comment). */
const CONST = 0;
const MAX_STATIC_ROWS = 16;
const OUT = 1224;
const PTS = 1352;

/** A quote of a slice, as the fit holds it (src/surface/svi.ts SlicePoint). */
export interface SviQuote {
  x: number;
  w: number;
  weight: number;
}

/** A floor w(x) ≥ w of the calendar repair (src/surface/svi.ts Floor). */
export interface SviFloor {
  x: number;
  w: number;
}

/**
 * svi.wat's `inner`: 1 (the active-set method) or 2 (the active sets enumerated) with the solution and its error in
 * OUT, 0 when there is none.
 */
type Inner = (
  np: number,
  nf: number,
  nc0: number,
  m: number,
  sigma: number,
  aStart: number,
  enumerate: number,
) => number;

/**
 * Compiles the module from its bytes.
 * @throws Error when the runtime has no WebAssembly or rejects the module.
 */
export function compileSviWasm(bytes: Uint8Array): object {
  return compileWasm(bytes, 'svi wasm');
}

/** How `solve` solved the problem: 1 the active-set method, 2 the active sets enumerated, 0 no solution. */
export type SolvedBy = 0 | 1 | 2;

export class WasmSviInner {
  private readonly memory: WasmMemory;
  private readonly inner: Inner;
  private f64: Float64Array;
  private np = 0;
  private nf = 0;
  private readonly nc0: number;

  /**
   * `rows`: the static constraint rows, four numbers a row (ca, cd, cc, k) where the row's right-hand side is
   * k·σ (svi.ts gives k = −sigmaCoefficient·2, the factor its constraintRows applies to σ).
   */
  constructor(module: object, rows: Float64Array) {
    const exports = instantiateWasm(module, 'svi wasm');
    this.memory = exports.memory as WasmMemory;
    this.inner = exports.inner as Inner;
    if (rows.length % 4 !== 0 || rows.length / 4 > MAX_STATIC_ROWS)
      throw new Error(`svi wasm: ${rows.length} numbers are not at most ${MAX_STATIC_ROWS} rows of four`);
    this.nc0 = rows.length / 4;
    this.f64 = new Float64Array(this.memory.buffer);
    this.f64.set(rows, CONST / 8);
  }

  /** Loads a slice's quotes and floors: the problem every `solve` until the next `load` is about. */
  load(points: readonly SviQuote[], floors: readonly SviFloor[]): void {
    const np = points.length;
    const nf = floors.length;
    // quotes, floors, then y and z of each quote, then the rows (static and floors)
    const end = PTS + np * 24 + nf * 16 + np * 16 + (this.nc0 + nf) * 32;
    if (end > this.memory.buffer.byteLength) {
      growTo(this.memory, end);
      this.f64 = new Float64Array(this.memory.buffer);
    }
    const f = this.f64;
    let o = PTS / 8;
    for (const p of points) {
      f[o++] = p.x;
      f[o++] = p.w;
      f[o++] = p.weight;
    }
    for (const fl of floors) {
      f[o++] = fl.x;
      f[o++] = fl.w;
    }
    this.np = np;
    this.nf = nf;
  }

  /**
   * The inner problem of the loaded slice at (m, σ): the active-set method from a = aStart, or where it does not
   * converge (or `enumerate`) every active set. 1 or 2 (which of the two solved it) with its solution in `a`, `d`,
   * `c` and its weighted squared error in `sse`; 0 when there is no solution.
   */
  solve(m: number, sigma: number, aStart: number, enumerate = false): SolvedBy {
    return this.inner(this.np, this.nf, this.nc0, m, sigma, aStart, enumerate ? 1 : 0) as SolvedBy;
  }

  /** The last solution's a, d and c. */
  get a(): number {
    return this.f64[OUT / 8]!;
  }
  get d(): number {
    return this.f64[OUT / 8 + 1]!;
  }
  get c(): number {
    return this.f64[OUT / 8 + 2]!;
  }
  /** The last solution's weighted squared error in total variance, from its residuals. */
  get sse(): number {
    return this.f64[OUT / 8 + 3]!;
  }
}
