#!/usr/bin/env node
// Lists the production modules a device run needs (bench/device-pack.sh): the closure of the
// project's dependencies (dependencies and optionalDependencies, resolved as Node resolves them) less
// what the GPU runs leave out: the DuckDB report (@duckdb/*: its binary alone is 68 MB), the HTTP
// service (fastify) and the HTML page (vega). Prints one path per line, relative to the project root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';

const root = process.cwd();
const LEFT_OUT = /^(@duckdb\/|fastify$|@fastify\/|vega)/;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// packages whose declared dependencies include their build tools: what they require at run time
const RUNTIME_DEPS = { gl: ['bindings', 'bit-twiddle', 'glsl-tokenizer'] };
const seen = new Set();
/** the directory `name` resolves to from `from` (a package directory), as Node looks it up */
function resolveDir(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const c = join(d, 'node_modules', name);
    if (existsSync(join(c, 'package.json'))) return c;
    if (d === dirname(d)) return null;
  }
}
function visit(name, from) {
  if (LEFT_OUT.test(name)) return;
  const dir = resolveDir(name, from);
  if (!dir || seen.has(dir)) return;
  seen.add(dir);
  const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = RUNTIME_DEPS[p.name] ?? Object.keys({ ...p.dependencies, ...p.optionalDependencies });
  for (const dep of deps) visit(dep, dir);
}
for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, root);
process.stdout.write(
  [...seen]
    .map((d) => relative(root, d))
    .sort()
    .join('\n') + '\n',
);
