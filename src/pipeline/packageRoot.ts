/** The project's root directory (where package.json and data/ are), from dist/ or from source alike. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'margin-engine')
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the margin-engine package root above ' + fileURLToPath(from));
    dir = up;
  }
}
