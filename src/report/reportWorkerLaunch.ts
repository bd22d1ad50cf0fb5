/**
 * The report worker's entry in the bundle (dist/bundle/reportWorker.js, scripts/bundle.mjs): runs
 * reportWorker.cjs, src/report/reportWorker.ts and every module it imports, @duckdb/node-api's JavaScript with
 * them (its native library stays a package), with the V8 code cache the build wrote beside it
 * (src/util/codeCache.ts). The report's thread then starts without resolving, reading and compiling ~25 ES
 * module chunks and @duckdb/node-api's ~150 CommonJS files (~30 ms of its ~50 ms to require, measured on the
 * 2-core machine): that thread's work is the run's tail (docs/report.md). Unbundled (dist/src), the session
 * starts src/report/reportWorker.ts itself.
 */
import { fileURLToPath } from 'node:url';
import { loadCommonJs, trainCodeCache } from '../util/codeCache.js';

const code = fileURLToPath(new URL('./reportWorker.cjs', import.meta.url));
trainCodeCache(loadCommonJs(code, `${code}.cache`), code);
