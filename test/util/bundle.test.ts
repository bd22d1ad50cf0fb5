/**
 * The bundled command (scripts/bundle.mjs, dist/bundle/) holds every worker a command starts: each name
 * src/ passes to resolveWorker is an entry of the bundle, built beside the command, and each entry is a
 * module tsc built. A worker added without an entry would leave the bundled command unable to start it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BUNDLE_DIR, BUNDLE_ENTRIES } from '../../scripts/bundle.mjs';

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
