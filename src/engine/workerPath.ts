/**
 * Where the compiled Piscina worker lives. Piscina needs a JavaScript file, and the project compiles with
 * tsc into dist/ (`npm run build`). Two ways this module runs:
 * - from dist (dist/src/engine/workerPath.js): the worker is the sibling dist/src/engine/<name>.js;
 * - from source under vitest or tsx (src/engine/workerPath.ts, import.meta.url ends in .ts): the worker
 *   is <project>/dist/src/engine/<name>.js, i.e. the BUILT copy (run `npm run build` after changing it or
 *   the kernels it imports; `npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/**
 * Absolute path of the built worker `name` (without extension, e.g. 'poolWorker').
 * @throws Error naming the path looked at and saying to run `npm run build` when the file is missing.
 */
export function resolveWorker(name: string, moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const fromSource = moduleUrl.endsWith('.ts');
  // source: <root>/src/engine → <root>/dist/src/engine; dist: already dist/src/engine
  const dir = fromSource ? join(resolve(here, '..', '..'), 'dist', 'src', 'engine') : here;
  const file = join(dir, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`worker ${name}.js not found at ${file}: the cpu backend runs the compiled worker; run npm run build`);
  }
  return file;
}
