#!/usr/bin/env node
/**
 * Bundles the `margin-engine` command: dist/src/cli/main.js and the worker threads it starts, as tsc built
 * them, → dist/bundle/ (ES modules, one flat folder, shared code split into chunks), with esbuild. Run by
 * `npm run build` after tsc and build-wasm. package.json's `bin` and `npm run demo` run dist/bundle/main.js.
 *
 * Why: started from dist/src, a run loads ~330 modules (~160 of them apache-arrow's), and Node 20's ES
 * module loader resolves, reads and links each one: ~175 ms of the main thread before the first line of
 * the run, measured on the 2-core machine (intraday, spawn to the start of the load: 250–360 ms from
 * dist/src, 120–150 ms bundled). Node 20 has no compile cache for ES modules (module.enableCompileCache
 * is Node 22).
 *
 * What is bundled: the engine's own modules and apache-arrow (plain JavaScript, many small modules). The
 * other packages stay imports of node_modules: DuckDB and gl are native, gpu.js and webgpu are loaded
 * only when a device backend starts, Piscina starts its own worker file, fastify and vega only for the
 * commands that use them. Lazy `import()`s of the engine's modules become chunks loaded when asked for,
 * so a command still loads only its own code.
 *
 * The layout the bundled code relies on (the same as dist/src's):
 * - a worker is found beside the module that starts it (src/util/workerPath.ts resolveWorker): every
 *   entry and chunk is in one folder;
 * - the aggregation kernel's WebAssembly module is read beside the module that loads it
 *   (kernels/aggregateWasm.ts AGGREGATE_WASM_URL): it is copied into the folder.
 */
import { build } from 'esbuild';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { WAT_KERNELS } from './build-wasm.mjs';

/** The command and every worker a command starts (each is resolved by resolveWorker from its name). */
export const BUNDLE_ENTRIES = {
  main: 'src/cli/main.js',
  poolWorker: 'src/engine/poolWorker.js',
  reportWorker: 'src/report/reportWorker.js',
  distanceWorker: 'src/margin/distanceWorker.js',
  cascadeWorker: 'src/margin/cascadeWorker.js',
};

/** Packages bundled into the command; every other dependency stays an import of node_modules. */
const BUNDLED_PACKAGES = ['apache-arrow', 'flatbuffers', 'tslib'];

/** The folder of the bundle, under dist/. */
export const BUNDLE_DIR = 'bundle';

async function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const dist = join(root, 'dist');
  const out = join(dist, BUNDLE_DIR);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {})
    .filter((p) => !BUNDLED_PACKAGES.includes(p))
    .flatMap((p) => [p, `${p}/*`]);
  // optional packages the engine imports only when present (webgpu, gl): never bundled
  external.push('webgpu', 'gl');
  rmSync(out, { recursive: true, force: true });
  const mainJs = readFileSync(join(dist, BUNDLE_ENTRIES.main), 'utf8').split('\n');
  // the command's first two lines (#!/bin/sh and the shell line that execs node, src/cli/main.ts): esbuild
  // keeps the first, the second is put back below
  if (mainJs[0] !== '#!/bin/sh' || !mainJs[1]?.startsWith('//usr/bin/env true;'))
    throw new Error(`${BUNDLE_ENTRIES.main} does not start with the command's two lines`);
  await build({
    entryPoints: Object.fromEntries(Object.entries(BUNDLE_ENTRIES).map(([name, file]) => [name, join(dist, file)])),
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    sourcemap: 'linked',
    // whitespace only (names and syntax as written: stack traces keep their names, and the device kernels
    // reach gpu.js as source text): intraday as a process B/A wall 0.984 and 0.987, 20 rounds each, RSS −20 MiB
    minifyWhitespace: true,
    logLevel: 'warning',
  });
  const command = join(out, 'main.js');
  const [shebang, ...rest] = readFileSync(command, 'utf8').split('\n');
  if (shebang !== mainJs[0]) throw new Error(`the bundled command starts with ${JSON.stringify(shebang)}`);
  writeFileSync(command, [shebang, mainJs[1], ...rest].join('\n'));
  for (const name of WAT_KERNELS) copyFileSync(join(dist, 'kernels', `${name}.wasm`), join(out, `${name}.wasm`));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
