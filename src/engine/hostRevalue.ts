/**
 * The cpu backend's revaluation on the calling thread: kernels/revalue.ts revalueTile with its option cells
 * (without a vol surface) in WebAssembly SIMD (kernels/revalueWasm.ts, built beside the compiled kernels as
 * dist/kernels/revalue.wasm), or revalueTile's own JavaScript loop where the module cannot load, where its
 * exp, log or normCdf disagree with this runtime's (WasmOptionCells.agrees), or when MARGIN_ENGINE_REVALUE=js
 * asks for it. Both give the same bits (test/kernels/revalueWasm.test.ts), so a
 * matrix revalued here equals the pool's, cell for cell. For the pool's workers (poolWorker.ts) and the
 * matrices computed on a thread of their own (hostPnl.ts).
 */
import { readFileSync } from 'node:fs';
import { revalueTile, type OptionCells, type RevalueColumns } from '../../kernels/revalue.js';
import { compileRevalueWasm, REVALUE_WASM_URL, WasmOptionCells } from '../../kernels/revalueWasm.js';

/** This thread's option cells (module comment) and their name: 'wasm' (the SIMD module) or 'js' (revalueTile's). */
function choose(): { cells: OptionCells | undefined; name: 'wasm' | 'js' } {
  if (process.env.MARGIN_ENGINE_REVALUE === 'js') return { cells: undefined, name: 'js' };
  try {
    const cells = new WasmOptionCells(compileRevalueWasm(readFileSync(REVALUE_WASM_URL)));
    // a runtime whose Math.exp or Math.log is not the module's fdlibm would give other bits: the loop then
    return cells.agrees() ? { cells, name: 'wasm' } : { cells: undefined, name: 'js' };
  } catch {
    return { cells: undefined, name: 'js' };
  }
}

/**
 * Chosen at the first use, not at import: the command's main thread imports this module (through hostPnl.ts)
 * but revalues only under --attribution, so a run does not pay for reading, compiling and checking the module
 * there (~4 ms); the pool's workers choose as they start (poolWorker.ts warmUp).
 */
let chosen: ReturnType<typeof choose> | undefined;

/** Which option cells {@link revalueTileHere} uses (the pool's trace names it: MARGIN_ENGINE_TRACE=1). */
export function revalueKernelName(): 'wasm' | 'js' {
  return (chosen ??= choose()).name;
}

/** revalueTile(c, i0, i1, s0, s1) with this thread's option cells: the same bits either way. */
export function revalueTileHere(c: RevalueColumns, i0: number, i1: number, s0: number, s1: number): void {
  revalueTile(c, i0, i1, s0, s1, (chosen ??= choose()).cells);
}
