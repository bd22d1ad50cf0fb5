/**
 * @duckdb/node-api, loaded with `require`. It is a CommonJS package: an ESM `import` of it makes Node lex
 * its sources for their named exports first, which costs ~50 ms per thread (measured: 113–121 ms to
 * import against 60–69 ms to require, on the 2-core machine). The report's worker thread loads it while
 * the run loads its inputs, on the same two cores.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

export const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;
