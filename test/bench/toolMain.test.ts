/**
 * The bench tools' command line (bench/toolMain.ts): --help prints the usage (exit 0), a usage error its message
 * (exit 2), any other failure its stack (exit 1); and every tool of bench/README.md answers --help as a process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { runTool } from '../../bench/toolMain.js';
import { parseArgs } from '../../src/cli/args.js';

const ROOT = join(import.meta.dirname, '../..');

afterEach(() => vi.restoreAllMocks());

function captured(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out, err };
}

const main = (argv: string[]): number => {
  const p = parseArgs(argv, { n: {} }, 'bench demo');
  if (p.options.n === 'boom') throw new Error('boom');
  return 0;
};

test('--help prints the usage and runs nothing', async () => {
  const c = captured();
  expect(await runTool('demo', 'usage: demo [--n N]', () => Promise.reject(new Error('ran')), ['--help'])).toBe(0);
  expect(c.out.join('')).toBe('usage: demo [--n N]\n');
  expect(await runTool('demo', 'usage', main, ['-h'])).toBe(0);
});

test('a usage error: its message, exit 2; another failure: its stack, exit 1; else what main returns', async () => {
  const c = captured();
  expect(await runTool('demo', 'usage', main, ['--m', '1'])).toBe(2);
  expect(c.err.join('')).toBe('margin-engine bench demo: unknown option --m (see --help)\n');
  c.err.length = 0;
  expect(await runTool('demo', 'usage', main, ['--n', 'boom'])).toBe(1);
  expect(c.err.join('')).toMatch(/^bench demo: Error: boom\n\s+at /);
  expect(await runTool('demo', 'usage', main, ['--n', '1'])).toBe(0);
});

test('every bench tool answers --help (exit 0) and an unknown option (exit 2) as a process', () => {
  const tools = ['run', 'ab', 'peer', 'reportBreakdown', 'fingerprint', 'traceSummary', 'profileSummary'];
  for (const t of [...tools, 'jitCost', 'threadCpu', 'aggregateKernel']) {
    const file = join(ROOT, 'dist', 'bench', `${t}.js`);
    expect(execFileSync(process.execPath, [file, '--help'], { encoding: 'utf8' }), t).toMatch(/^(npm run bench|node)/);
  }
  for (const t of tools) {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', `${t}.js`), '--no-such-option'], {
      encoding: 'utf8',
    });
    expect(r.status, `${t}: ${r.stderr}`).toBe(2);
    expect(r.stderr, t).toMatch(
      /^margin-engine bench[^\n]*(unknown option --no-such-option|no such file)[^\n]*\(see --help\)\n$/,
    );
  }
});
