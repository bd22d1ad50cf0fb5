#!/bin/sh
//usr/bin/env true; unset NODE_EXTRA_CA_CERTS; exec node --no-concurrent-recompilation "$0" "$@"
/**
 * The bundled command's entry, dist/bundle/main.js (package.json's `bin`; its first two lines are those of
 * src/cli/main.ts, see there): it runs the command's code, dist/bundle/cli.cjs (src/cli/main.ts and every
 * module the commands import, one CommonJS file: scripts/bundle.mjs), with the V8 code cache the build wrote
 * beside it (src/util/codeCache.ts). That module starts the command as main.ts does whenever it is the
 * process's script (process.argv[1] is this file, main.js).
 *
 * Why (measured on the 2-core machine, intraday as a process): the command's modules as ~40 ES module chunks
 * took ~60 ms of the main thread to resolve, read, compile and link before the run's first line; one CommonJS
 * file takes ~35 ms, ~25 ms with the code cache (spawn to the run's first line 103 → 65 ms). 20 rounds A/B: wall
 * 0.882 → 0.851 s (B/A 0.965), CPU 1.61 → 1.52 s.
 */
import { fileURLToPath } from 'node:url';
import { loadCommonJs, trainCodeCache } from '../util/codeCache.js';

const cli = fileURLToPath(new URL('./cli.cjs', import.meta.url));
trainCodeCache(loadCommonJs(cli, `${cli}.cache`), cli);
