/**
 * The bundled command (scripts/bundle.mjs, dist/bundle/) holds every worker a command starts: each name
 * src/ passes to resolveWorker is an entry of the bundle, built beside the command, and each entry is a
 * module tsc built. A worker added without an entry would leave the bundled command unable to start it.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, vi } from 'vitest';
import { BUNDLE_DIR, BUNDLE_ENTRIES, COMMONJS_BUNDLES, writeCodeCache } from '../../scripts/bundle.mjs';
import { ENGINE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';
import { CODE_CACHE_TRAINING_ENV } from '../../src/util/codeCache.js';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

test('every worker src/ starts is an entry of the bundle, and the build wrote it beside the command', () => {
  const named = new Set<string>();
  for (const file of sources(join(ROOT, 'src')))
    for (const m of readFileSync(file, 'utf8').matchAll(/resolveWorker\('(\w+)'/g)) named.add(m[1]!);
  expect(named.size).toBeGreaterThanOrEqual(4);
  for (const name of named) {
    expect(BUNDLE_ENTRIES, name).toHaveProperty(name);
    expect(existsSync(join(ROOT, 'dist', BUNDLE_DIR, `${name}.js`)), name).toBe(true);
  }
  for (const file of Object.values(BUNDLE_ENTRIES)) expect(existsSync(join(ROOT, 'dist', file)), file).toBe(true);
  expect(existsSync(join(ROOT, 'dist', BUNDLE_DIR, 'main.js'))).toBe(true);
});

/**
 * What loadCommonJs (src/util/codeCache.ts) says of the bundle's CommonJS file `name`.cjs and `cache`, run as the
 * bundle runs it: in a worker thread (where the report worker's code starts; a prestarted one, waiting for its
 * run), of a node under `flags`.
 */
function cacheState(name: string, cache: string, flags: readonly string[]): { cache: string; exports: string[] } {
  const loader = pathToFileURL(join(ROOT, 'dist/src/util/codeCache.js')).href;
  const code = join(ROOT, 'dist', BUNDLE_DIR, `${name}.cjs`);
  const inWorker =
    `import(${JSON.stringify(loader)}).then(async ({ loadCommonJs }) => {` +
    `const r = loadCommonJs(${JSON.stringify(code)}, ${JSON.stringify(cache)});` +
    "const { parentPort } = await import('node:worker_threads');" +
    'parentPort.postMessage({ cache: r.cache, exports: Object.keys(r.exports).sort() }); });';
  const script =
    "import { Worker } from 'node:worker_threads';" +
    `const w = new Worker(${JSON.stringify(inWorker)}, { eval: true, workerData: null });` +
    "w.on('message', (m) => { process.stdout.write(JSON.stringify(m)); void w.terminate(); });";
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as { cache: string; exports: string[] };
}

test("the command's code and the report worker's are CommonJS files; node takes the build's code caches under the command's flags", () => {
  expect(Object.keys(COMMONJS_BUNDLES).sort()).toEqual(['cli', 'reportWorker']);
  for (const name of Object.keys(COMMONJS_BUNDLES)) {
    const code = readFileSync(join(ROOT, 'dist', BUNDLE_DIR, `${name}.cjs`), 'utf8');
    // a node:vm script cannot import(): the packages a command loads late are required
    expect(code, name).not.toMatch(/\bimport\("/);
    expect(cacheState(name, join(ROOT, 'dist', BUNDLE_DIR, `${name}.cjs.cache`), ENGINE_NODE_FLAGS).cache, name).toBe(
      'accepted',
    );
  }
  expect(readFileSync(join(ROOT, 'dist', BUNDLE_DIR, 'cli.cjs'), 'utf8')).toContain('require("gpu.js")');
  // the report worker's holds @duckdb/node-api's JavaScript (its native library stays a package)
  const report = readFileSync(join(ROOT, 'dist', BUNDLE_DIR, 'reportWorker.cjs'), 'utf8');
  expect(report).not.toContain('require("@duckdb/node-api")');
  expect(report).toContain('require("@duckdb/node-bindings")');
});

test('a damaged code cache, or one of other code, is refused before V8 reads it, and the code runs from its source', () => {
  const built = join(ROOT, 'dist', BUNDLE_DIR, 'cli.cjs.cache');
  const taken = cacheState('cli', built, ENGINE_NODE_FLAGS);
  expect(taken.cache).toBe('accepted');
  expect(taken.exports).toContain('cli');
  // V8 does not check a cache's bytes: given this one it would stop the process
  const dir = mkdtempSync(join(tmpdir(), 'me-cache-'));
  try {
    const bytes = readFileSync(built);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    writeFileSync(join(dir, 'damaged.cache'), bytes);
    const refused = cacheState('cli', join(dir, 'damaged.cache'), ENGINE_NODE_FLAGS);
    expect(refused.cache).toBe('rejected');
    expect(refused.exports).toEqual(taken.exports);
    const other = readFileSync(built);
    other[0] = other[0]! ^ 0x01; // the digest of another source
    writeFileSync(join(dir, 'other.cache'), other);
    expect(cacheState('cli', join(dir, 'other.cache'), ENGINE_NODE_FLAGS).cache).toBe('rejected');
    expect(cacheState('cli', join(dir, 'none.cache'), ENGINE_NODE_FLAGS).cache).toBe('none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file whose cache cannot be written (its top level fails) gets none, with a warning, and the build goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-cache-'));
  const warned: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (warned.push(String(s)), true));
  try {
    const code = join(dir, 'fails.cjs');
    writeFileSync(code, "throw new Error('no native library here');\n");
    await writeCodeCache(join(ROOT, 'dist'), code, `${code}.cache`);
    expect(existsSync(`${code}.cache`)).toBe(false);
    expect(warned.join('')).toMatch(/^bundle: warning: no code cache for .*fails\.cjs \(.*no native library here/);
  } finally {
    spy.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the build's caches are those of its training run: larger than the top level's, and still taken", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-cache-'));
  try {
    for (const name of Object.keys(COMMONJS_BUNDLES)) {
      const code = join(ROOT, 'dist', BUNDLE_DIR, `${name}.cjs`);
      // what the build wrote before its training run: the code that loading the file compiles
      await writeCodeCache(join(ROOT, 'dist'), code, join(dir, `${name}.cache`));
      const topLevel = statSync(join(dir, `${name}.cache`)).size;
      const built = statSync(`${code}.cache`).size;
      // the run's functions (the models, the load, the report's writes) hold far more code than the top level
      expect(built, name).toBeGreaterThan(1.15 * topLevel);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a training run writes the cache of every function it ran; without the variable nothing is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-train-'));
  try {
    const code = join(dir, 'lazy.cjs');
    // a function compiled only when called, after the file's top level ran
    const body = Array.from({ length: 200 }, (_, i) => `s += Math.sqrt(i + ${i});`).join(' ');
    writeFileSync(
      code,
      `exports.later = function later(n) { let s = 0; for (let i = 0; i < n; i++) { ${body} } return s; };\n`,
    );
    const loader = pathToFileURL(join(ROOT, 'dist/src/util/codeCache.js')).href;
    const script = (call: boolean) =>
      `import(${JSON.stringify(loader)}).then(({ loadCommonJs, trainCodeCache }) => {` +
      `const l = loadCommonJs(${JSON.stringify(code)}, null); trainCodeCache(l, ${JSON.stringify(code)});` +
      `${call ? 'l.exports.later(10);' : ''} });`;
    // run in `dir`: a cache written for a relative or missing folder would land there
    const run = (call: boolean, env: NodeJS.ProcessEnv) =>
      execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, '--input-type=module', '-e', script(call)], {
        env: { ...process.env, ...env },
        cwd: dir,
        encoding: 'utf8',
      });
    const unset = { ...process.env };
    delete unset[CODE_CACHE_TRAINING_ENV];
    execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, '--input-type=module', '-e', script(true)], {
      env: unset,
      cwd: dir,
    });
    run(true, { [CODE_CACHE_TRAINING_ENV]: '' });
    run(true, { [CODE_CACHE_TRAINING_ENV]: '.' });
    run(true, { [CODE_CACHE_TRAINING_ENV]: join(dir, 'missing') });
    expect(readdirSync(dir)).toEqual(['lazy.cjs']);
    mkdirSync(join(dir, 'top'));
    mkdirSync(join(dir, 'trained'));
    run(false, { [CODE_CACHE_TRAINING_ENV]: join(dir, 'top') });
    run(true, { [CODE_CACHE_TRAINING_ENV]: join(dir, 'trained') });
    const trained = join(dir, 'trained', 'lazy.cjs.cache');
    expect(statSync(trained).size).toBeGreaterThan(statSync(join(dir, 'top', 'lazy.cjs.cache')).size + 200);
    // and node takes it for the file, under the command's flags
    const taken = execFileSync(
      process.execPath,
      [
        ...ENGINE_NODE_FLAGS,
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(loader)}).then(({ loadCommonJs }) => process.stdout.write(loadCommonJs(${JSON.stringify(code)}, ${JSON.stringify(trained)}).cache));`,
      ],
      { encoding: 'utf8' },
    );
    expect(taken).toBe('accepted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
