/**
 * Installs the built WebAssembly form of the SVI fit's inner problem (dist/kernels/svi.wasm, beside the bundle
 * too: kernels/sviWasm.ts) as this thread's (svi.ts useSviWasm), once per thread, before a fit: the Node callers
 * of fitSurface (the report's vol_surface, a run's surface for its vol dynamics, `margin-engine surface`). Kept
 * out of svi.ts, which the browser's bundle of the kernels imports and which reads no files. Where the module is
 * not built (from source, as in the tests) or MARGIN_ENGINE_SVI=js asks for it, the JavaScript solves: the same
 * bits.
 */
import { readFileSync } from 'node:fs';
import { compileSviWasm, SVI_WASM_URL } from '../../kernels/sviWasm.js';
import { sviInnerKind, useSviWasm } from './svi.js';

let tried = false;

/** The inner problem's form on this thread after the first call installed the module where it can. */
export function loadSviWasm(): 'wasm' | 'js' {
  if (!tried) {
    tried = true;
    if (process.env.MARGIN_ENGINE_SVI !== 'js') {
      try {
        useSviWasm(compileSviWasm(readFileSync(SVI_WASM_URL)));
      } catch {
        useSviWasm(null); // not built: the JavaScript solves
      }
    }
  }
  return sviInnerKind();
}
