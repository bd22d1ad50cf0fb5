/**
 * The bundled command (scripts/bundle.mjs, dist/bundle/) holds every worker a command starts: each name
 * src/ passes to resolveWorker is an entry of the bundle, built beside the command, and each entry is a
 * module tsc built. A worker added without an entry would leave the bundled command unable to start it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { BUNDLE_DIR, BUNDLE_ENTRIES, COMMAND_CODE, COMMAND_CODE_CACHE } from '../../scripts/bundle.mjs';
import { ENGINE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';

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

/** What loadCommonJs (src/cli/codeCache.ts) says of the command's code and `cache`, in a node under `flags`. */
function cacheState(cache: string, flags: readonly string[]): { cache: string; exports: string[] } {
  const loader = pathToFileURL(join(ROOT, 'dist/src/cli/codeCache.js')).href;
  const code = join(ROOT, 'dist', BUNDLE_DIR, COMMAND_CODE);
  const script =
    `const { loadCommonJs } = await import(${JSON.stringify(loader)});` +
    `const r = loadCommonJs(${JSON.stringify(code)}, ${JSON.stringify(cache)});` +
    'process.stdout.write(JSON.stringify({ cache: r.cache, exports: Object.keys(r.exports).sort() }));';
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as { cache: string; exports: string[] };
}

test("the command's code is one CommonJS file, and node takes the build's code cache of it under the command's flags", () => {
  const code = readFileSync(join(ROOT, 'dist', BUNDLE_DIR, COMMAND_CODE), 'utf8');
  // a node:vm script cannot import(): the packages a command loads late are required
  expect(code).not.toMatch(/\bimport\("/);
  expect(code).toContain('require("gpu.js")');
  const built = join(ROOT, 'dist', BUNDLE_DIR, COMMAND_CODE_CACHE);
  const taken = cacheState(built, ENGINE_NODE_FLAGS);
  expect(taken.cache).toBe('accepted');
  expect(taken.exports).toContain('cli');
  // a damaged cache is refused before V8 reads it (V8 would stop the process), and the code runs compiled
  // from its source; so is a cache of other code, whatever its length
  const dir = mkdtempSync(join(tmpdir(), 'me-cache-'));
  try {
    const bytes = readFileSync(built);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
    writeFileSync(join(dir, 'damaged.cache'), bytes);
    const refused = cacheState(join(dir, 'damaged.cache'), ENGINE_NODE_FLAGS);
    expect(refused.cache).toBe('rejected');
    expect(refused.exports).toEqual(taken.exports);
    const other = readFileSync(built);
    other[0] = other[0]! ^ 0x01; // the digest of another source
    writeFileSync(join(dir, 'other.cache'), other);
    expect(cacheState(join(dir, 'other.cache'), ENGINE_NODE_FLAGS).cache).toBe('rejected');
    expect(cacheState(join(dir, 'none.cache'), ENGINE_NODE_FLAGS).cache).toBe('none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
