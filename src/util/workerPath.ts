/**
 * Where the compiled worker threads live (the cpu pool's src/engine/poolWorker, the report's
 * src/report/reportWorker). A worker needs a JavaScript file, and the project compiles with tsc into
 * dist/ (`npm run build`). Two ways the asking module runs:
 * - from dist (dist/src/<dir>/x.js): the worker is the sibling dist/src/<dir>/<name>.js;
 * - from source under vitest or tsx (src/<dir>/x.ts, import.meta.url ends in .ts): the worker is
 *   <project>/dist/src/<dir>/<name>.js, i.e. the BUILT copy (run `npm run build` after changing it or
 *   what it imports; `npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Absolute path of the built worker `name` (without extension, e.g. 'poolWorker') beside the module
 * `moduleUrl` (the asking module's import.meta.url, a module of src/<dir>/).
 * @throws Error naming the path looked at and saying to run `npm run build` when the file is missing.
 */
export function resolveWorker(name: string, moduleUrl: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const fromSource = moduleUrl.endsWith('.ts');
  // source: <root>/src/<dir> → <root>/dist/src/<dir>; dist: already dist/src/<dir>
  const dir = fromSource ? join(resolve(here, '..', '..'), 'dist', 'src', basename(here)) : here;
  const file = join(dir, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`worker ${name}.js not found at ${file}: workers run compiled; run npm run build`);
  }
  return file;
}
