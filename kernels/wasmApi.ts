/**
 * The part of the WebAssembly API the kernels' drivers use (kernels/aggregateWasm.ts, kernels/revalueWasm.ts;
 * the project's TypeScript libraries do not declare it), and the compile and instantiate steps they share.
 * kernels/ imports nothing outside kernels/: the callers read the .wasm's bytes and hand them over.
 */

/** A module's exported memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** The global WebAssembly object, or null where the runtime has none. */
function wasmApi(): WasmApi | null {
  return ((globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null) as WasmApi | null;
}

/**
 * Compiles a module from its bytes.
 * @throws Error naming `what` when the runtime has no WebAssembly or rejects the module (no SIMD).
 */
export function compileWasm(bytes: Uint8Array, what: string): object {
  const api = wasmApi();
  if (!api) throw new Error(`${what}: this runtime has no WebAssembly`);
  return new api.Module(bytes);
}

/** An instance of a compiled module (no imports): its exports. */
export function instantiateWasm(module: object, what: string): Record<string, unknown> {
  const api = wasmApi();
  if (!api) throw new Error(`${what}: this runtime has no WebAssembly`);
  return new api.Instance(module, {}).exports;
}

/** Rounds a byte count up to a multiple of 16 (v128 alignment). */
export const align16 = (x: number): number => (x + 15) & ~15;

/** Grows `memory` to at least `bytes`. */
export function growTo(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
