/**
 * @duckdb/node-api, loaded with `require` on first use. It is a CommonJS package: an ESM `import` of it
 * makes Node lex its sources for their named exports first, which costs ~50 ms per thread (measured:
 * 113–121 ms to import against 60–69 ms to require, on the 2-core machine). The report's worker thread
 * loads it while the run loads its inputs, on the same two cores. Loaded lazily (`duckdb()`), so that a
 * thread that only imports the report's schema constants (the main thread of a run: planRun.ts,
 * rowChecks.ts) does not load the 68 MB native library (measured: ~65 ms of the main thread's start-up).
 * In the bundle the report worker's CommonJS file holds the package's JavaScript (scripts/bundle.mjs turns this
 * createRequire call into a `require` it follows): keep the call as it is written.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

let loaded: typeof DuckDB | null = null;

/** The @duckdb/node-api module, required on the first call. */
export function duckdb(): typeof DuckDB {
  return (loaded ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB);
}

/** The part of @duckdb/node-bindings (node-api's native layer) the report uses directly (appendColumns.ts). */
export interface DuckDBBindings {
  /** copies bytes into a vector's data, as node-api's numeric vectors do when they are flushed */
  copy_data_to_vector(
    vector: unknown,
    targetByteOffset: number,
    source: ArrayBufferLike,
    sourceByteOffset: number,
    byteCount: number,
  ): void;
}

let bindings: DuckDBBindings | null = null;

/** @duckdb/node-bindings, required on the first call (it is @duckdb/node-api's, loaded with it). */
export function duckdbBindings(): DuckDBBindings {
  return (bindings ??= createRequire(import.meta.url)('@duckdb/node-bindings') as DuckDBBindings);
}
