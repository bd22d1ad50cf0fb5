/**
 * The engine's V8 flags (src/cli/nodeFlags.ts) are the ones its launchers pass: the `margin-engine`
 * command (its #!/bin/sh line and the shell line after it, in the built file) and `npm run demo` (the
 * benchmark's children take them from the constant).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { DROPPED_ENV, ENGINE_NODE_FLAGS } from '../../src/cli/nodeFlags.js';
import { COMMAND_PATH } from '../helpers/command.js';

test("the command's first lines and npm run demo run node with the engine's V8 flags", () => {
  // the bundled command (package.json's bin), its launcher and the module tsc built them from start alike
  for (const file of [COMMAND_PATH, 'dist/src/cli/launch.js', 'dist/src/cli/main.js']) {
    const [shebang, relaunch] = readFileSync(file, 'utf8').split('\n');
    expect(shebang).toBe('#!/bin/sh');
    expect(relaunch).toBe(
      `//usr/bin/env true; unset ${DROPPED_ENV.join(' ')}; exec node ${ENGINE_NODE_FLAGS.join(' ')} "$0" "$@"`,
    );
  }
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    scripts: Record<string, string>;
    bin: Record<string, string>;
  };
  expect(pkg.scripts.demo).toBe(`node ${ENGINE_NODE_FLAGS.join(' ')} ${COMMAND_PATH} demo`);
  expect(pkg.bin['margin-engine']).toBe('dist/bundle/main.js');
});

test('the command run by a POSIX shell (as its #! line says) and by node directly: with the flags and without', () => {
  const version = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  expect(version('sh', [COMMAND_PATH, '--version'])).toBe(
    `margin-engine 0.1.0 (node ${process.version} ${ENGINE_NODE_FLAGS.join(' ')})`,
  );
  expect(version(process.execPath, [COMMAND_PATH, '--version'])).toBe(`margin-engine 0.1.0 (node ${process.version})`);
});

test('node accepts the flags', async () => {
  const { execFileSync } = await import('node:child_process');
  expect(
    execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' }),
  ).toBe('ok');
});

test('the command runs node without NODE_EXTRA_CA_CERTS, which node otherwise reads at start-up', () => {
  // a file node cannot read makes node itself warn at start-up: it does not when the command unset it
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' };
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', env });
  const direct = run(process.execPath, [COMMAND_PATH, '--version']);
  expect(direct.stderr).toContain('extra-ca.pem');
  const command = run('sh', [COMMAND_PATH, '--version']);
  expect(command.status).toBe(0);
  expect(command.stderr).toBe('');
});
