/**
 * The engine's V8 flags (src/cli/nodeFlags.ts) are the ones its launchers pass: the `margin-engine`
 * command's shebang and `npm run demo` (the benchmark's children take them from the constant).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { ENGINE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';

test('the command\'s shebang and npm run demo run node with the engine\'s V8 flags', () => {
  const shebang = readFileSync('src/cli/main.ts', 'utf8').split('\n')[0];
  expect(shebang).toBe(`#!/usr/bin/env -S node ${ENGINE_NODE_FLAGS.join(' ')}`);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  expect(pkg.scripts.demo).toBe(`node ${ENGINE_NODE_FLAGS.join(' ')} dist/src/cli/main.js demo`);
  expect(pkg.bin['margin-engine']).toBe('dist/src/cli/main.js');
});

test('node accepts the flags', async () => {
  const { execFileSync } = await import('node:child_process');
  expect(execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })).toBe('ok');
});
