/** Types of scripts/build-wasm.mjs for the tests that compile the kernels' text sources. */
export declare const WAT_KERNELS: string[];
export declare function compileWat(source: string, filename?: string): Promise<Uint8Array>;
