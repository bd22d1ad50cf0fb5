#!/usr/bin/env node
/**
 * Bundles the `margin-engine` command and the worker threads it starts, as tsc built them, → dist/bundle/
 * (one flat folder), with esbuild. Run by `npm run build` after tsc and build-wasm. package.json's `bin` and
 * `npm run demo` run dist/bundle/main.js.
 *
 * - The command's code: dist/src/cli/main.js and every module it imports, one CommonJS file (cli.cjs), with
 *   a V8 code cache written here (cli.cjs.cache, src/util/codeCache.ts); main.js (src/cli/launch.ts) runs it.
 *   The report worker's likewise (reportWorker.cjs, run by reportWorker.js: src/report/reportWorkerLaunch.ts).
 * - The other workers and the two launchers (BUNDLE_ENTRIES): ES modules, shared code split into chunks.
 *
 * Why: started from dist/src, a run loads ~330 modules (~160 of them apache-arrow's), and Node 20's ES
 * module loader resolves, reads and links each one: ~175 ms of the main thread before the first line of
 * the run, measured on the 2-core machine (intraday, spawn to the start of the load: 250–360 ms from
 * dist/src, 120–150 ms bundled). As ~40 ES module chunks the run's modules still took ~60 ms to load; one
 * CommonJS file takes ~35 ms, ~25 ms with the code cache (spawn to the run's first line 103 → 65 ms; intraday
 * as a process, 20 rounds A/B: wall B/A 0.965, CPU 0.944). Node 20 has no compile cache for ES modules
 * (module.enableCompileCache is Node 22) and none for `require`; a node:vm Script takes one.
 *
 * What is bundled: the engine's own modules and apache-arrow (plain JavaScript, many small modules). The
 * other packages stay imports of node_modules: DuckDB and gl are native, gpu.js and webgpu are loaded
 * only when a device backend starts, Piscina starts its own worker file, fastify and vega only for the
 * commands that use them. In cli.cjs an import of a package is a `require` (a node:vm script cannot
 * `import()` without an experimental option: every such package is CommonJS). In the workers' chunks, lazy
 * `import()`s of the engine's modules become chunks loaded when asked for.
 *
 * The layout the bundled code relies on (the same as dist/src's):
 * - a worker is found beside the module that starts it (src/util/workerPath.ts resolveWorker): every
 *   entry and chunk is in one folder, and cli.cjs's import.meta.url is its own file's URL;
 * - the aggregation kernel's WebAssembly module is read beside the module that loads it
 *   (kernels/aggregateWasm.ts AGGREGATE_WASM_URL): it is copied into the folder.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import process from 'node:process';
import { WAT_KERNELS } from './build-wasm.mjs';

/**
 * The command's entry (main: the launcher of cli.cjs) and every worker a command starts (each is resolved by
 * resolveWorker from its name): ES modules, sharing chunks.
 */
export const BUNDLE_ENTRIES = {
  main: 'src/cli/launch.js',
  poolWorker: 'src/engine/poolWorker.js',
  reportWorker: 'src/report/reportWorkerLaunch.js',
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

  // the command's code and the report worker's: each one CommonJS file that its launcher runs with a V8 code
  // cache (src/util/codeCache.ts). import.meta.url is the file's own URL (workers and the wasm kernels are
  // found beside it, as beside the chunks); imports of packages become `require` (a node:vm script cannot
  // import); strict, as the ES modules it is built from
  for (const [name, { source, bundles }] of Object.entries(COMMONJS_BUNDLES)) {
    const code = join(out, `${name}.cjs`);
    await build({
      entryPoints: [join(dist, source)],
      outfile: code,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      supported: { 'dynamic-import': false },
      external: bundles ? [...external.filter((p) => !p.startsWith(bundles)), '@duckdb/node-bindings'] : external,
      plugins: bundles ? [requireDuckDb] : [],
      define: { 'import.meta.url': '__importMetaUrl' },
      banner: { js: '"use strict";const __importMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
      sourcemap: 'linked',
      minifyWhitespace: true,
      logLevel: 'warning',
    });
    // main.js's #! line, which esbuild keeps first, is not JavaScript inside the module's wrapper: a blank line
    const cjs = readFileSync(code, 'utf8');
    if (cjs.startsWith('#!')) writeFileSync(code, cjs.replace(/^#![^\n]*/, ''));
    await writeCodeCache(dist, code, `${code}.cache`);
  }
  await writeReportTemplates(dist, out, pkg.version);
  await trainCodeCaches(root, dist, out);
}

/**
 * The training run: the bundled command runs the README's intraday command (`run --models deribit-pm,span`) on the
 * bundled sample (data/sample) once, with src/util/codeCache.ts CODE_CACHE_TRAINING_ENV set, and each of the two
 * CommonJS files' caches becomes the one its thread wrote after the run (every function the run compiled) instead
 * of writeCodeCache's (the top level only). A run then neither parses nor compiles to bytecode the functions it
 * calls: measured on the 2-core machine (perf, intraday at 100,000 accounts), the main thread's parsing and
 * bytecode generation ~180 → ~70 samples at 4 kHz, the report thread's ~50 → ~20; the process's CPU B/A 0.967 and
 * 0.977, wall 0.987 and 0.990 (30 rounds each, two sittings). Caches are only a start-up aid: where the run fails
 * (e.g. no DuckDB native library), the top-level caches stay, with a warning, and the build goes on.
 */
export async function trainCodeCaches(root, dist, out) {
  const { CODE_CACHE_TRAINING_ENV } = await import(pathToFileURL(join(dist, 'src/util/codeCache.js')).href);
  const dir = mkdtempSync(join(tmpdir(), 'margin-engine-train-'));
  try {
    const sample = join(root, 'data', 'sample');
    const args = ['run', '--market', join(sample, 'market'), '--positions', join(sample, 'book', 'positions.arrow')];
    args.push('--balances', join(sample, 'book', 'balances.arrow'), '--models', 'deribit-pm,span');
    args.push('--db', join(dir, 'train.duckdb'), '--quiet');
    const r = spawnSync('sh', [join(out, 'main.js'), ...args], {
      env: { ...process.env, [CODE_CACHE_TRAINING_ENV]: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const trained = Object.keys(COMMONJS_BUNDLES).map((name) => [
      join(dir, `${name}.cjs.cache`),
      join(out, `${name}.cjs.cache`),
    ]);
    if (r.status !== 0 || trained.some(([file]) => !existsSync(file))) {
      const why = (r.stderr || r.error?.message || 'no cache written').trim().split('\n')[0];
      process.stderr.write(
        `bundle: warning: the code caches' training run failed (${why}); the top-level caches stay\n`,
      );
      return;
    }
    for (const [from, to] of trained) copyFileSync(from, to);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the empty report a new report starts from (src/report/reportTemplate.ts) beside the report modules
 * (dist/src/report/) and beside the bundle, named by the schema's digest; earlier ones there are removed. Without
 * it (e.g. no DuckDB native library) a report is created statement by statement: a warning, the build goes on.
 */
export async function writeReportTemplates(dist, out, engineVersion) {
  const reportDir = join(dist, 'src', 'report');
  const removeTemplates = () => {
    for (const dir of [reportDir, out])
      for (const f of readdirSync(dir)) if (f.startsWith('report-template-')) rmSync(join(dir, f), { force: true });
  };
  removeTemplates();
  try {
    const { reportTemplateFile, writeReportTemplate } = await import(
      pathToFileURL(join(reportDir, 'reportTemplate.js')).href
    );
    const name = reportTemplateFile();
    await writeReportTemplate(join(reportDir, name), engineVersion);
    // the database file and its log, which holds the schema
    for (const f of [name, `${name}.wal`]) copyFileSync(join(reportDir, f), join(out, f));
  } catch (e) {
    removeTemplates();
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    process.stderr.write(
      `bundle: warning: no report template (${why}); new reports are created statement by statement\n`,
    );
  }
}

/**
 * The CommonJS files of the bundle (name → tsc's module it is built from), each run by its launcher
 * (src/cli/launch.ts: cli.cjs; src/report/reportWorkerLaunch.ts: reportWorker.cjs). `bundles`: a package
 * bundled into it that the ES modules load from node_modules (@duckdb/node-api's JavaScript, ~150 files, in the
 * report worker; its native library, @duckdb/node-bindings, stays a package).
 */
export const COMMONJS_BUNDLES = {
  cli: { source: 'src/cli/main.js' },
  reportWorker: { source: 'src/report/reportWorker.js', bundles: '@duckdb/node-api' },
};

/**
 * src/report/duckdb.ts loads @duckdb/node-api through createRequire (lazily, and without ESM's export lexing,
 * see there), which esbuild cannot follow: in the report worker's CommonJS file the call is a plain `require`,
 * which it bundles (still run at the first duckdb() call).
 */
const requireDuckDb = {
  name: 'require-duckdb',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]report[\\/]duckdb\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const call = "createRequire(import.meta.url)('@duckdb/node-api')";
      if (!text.includes(call)) throw new Error(`${args.path} no longer loads @duckdb/node-api with ${call}`);
      return { contents: text.replace(call, "require('@duckdb/node-api')"), loader: 'js' };
    });
  },
};

/**
 * Runs `code` once, in a worker thread of a node under the command's V8 flags (src/cli/nodeFlags.ts: V8 takes a
 * cache only under the flags it was written under; a worker, where the report worker's code starts as it does in
 * a run), and writes the code V8 compiled to `cacheFile`. Running it runs its top level only: main.ts starts a
 * command when it is the process's script, which `node -e` has none of; the report worker waits for its run.
 */
export async function writeCodeCache(dist, code, cacheFile) {
  rmSync(cacheFile, { force: true });
  const { ENGINE_NODE_FLAGS } = await import(pathToFileURL(join(dist, 'src/cli/nodeFlags.js')).href);
  const loader = pathToFileURL(join(dist, 'src/util/codeCache.js')).href;
  const inWorker = [
    `import(${JSON.stringify(loader)}).then(({ loadCommonJs, writeCodeCache }) => {`,
    `  writeCodeCache(loadCommonJs(${JSON.stringify(code)}, null), ${JSON.stringify(cacheFile)});`,
    "  return import('node:worker_threads').then(({ parentPort }) => parentPort.postMessage('written'));",
    '});',
  ].join('\n');
  const script = [
    "import { Worker } from 'node:worker_threads';",
    `const w = new Worker(${JSON.stringify(inWorker)}, { eval: true, workerData: null });`,
    "w.on('message', () => w.terminate());",
    "w.on('error', (e) => { console.error(e); process.exitCode = 1; });",
  ].join('\n');
  const r = spawnSync(process.execPath, [...ENGINE_NODE_FLAGS, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  // without its cache the code runs compiled from its source (a slower start, nothing else): the build goes on
  // (e.g. where DuckDB's native library, which the report worker loads at its start, is missing)
  if (r.status !== 0 || !existsSync(cacheFile)) {
    rmSync(cacheFile, { force: true });
    const why = (r.stderr || r.error?.message || 'no file written').trim().split('\n')[0];
    process.stderr.write(`bundle: warning: no code cache for ${code} (${why}); it runs compiled from its source\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
