#!/usr/bin/env node
/**
 * Builds the WebAssembly kernels from their text sources: kernels/<name>.wat → dist/kernels/<name>.wasm, with
 * the wabt package (a devDependency: wat2wasm compiled to JavaScript, nothing to download at build time).
 * Run by `npm run build` after tsc. `compileWat` is what the tests use to compile the same source.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import wabtInit from 'wabt';

/** The kernels written in WebAssembly text (kernels/<name>.wat). */
export const WAT_KERNELS = ['aggregate', 'revalue', 'svi'];

/**
 * The binary module of a WebAssembly text source (SIMD on; no other proposal).
 * @throws Error on a parse or validation error.
 */
export async function compileWat(source, filename = 'kernel.wat') {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(filename, source, { simd: true });
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: true });
    return new Uint8Array(buffer);
  } finally {
    mod.destroy();
  }
}

async function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(root, 'dist', 'kernels');
  mkdirSync(out, { recursive: true });
  for (const name of WAT_KERNELS) {
    const src = join(root, 'kernels', `${name}.wat`);
    const bytes = await compileWat(readFileSync(src, 'utf8'), src);
    writeFileSync(join(out, `${name}.wasm`), bytes);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`build-wasm: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
