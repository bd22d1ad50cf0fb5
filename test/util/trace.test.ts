/**
 * MARGIN_ENGINE_TRACE=1 (src/util/trace.ts): a real `margin-engine run` (the command package.json names) on
 * the bundled sample writes the main thread's phases, the report thread's requests and the pool's tasks to
 * stderr, and bench/traceSummary.ts lays them out; without the variable nothing is written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { formatTrace, parseTrace } from '../../bench/traceSummary.js';
import { COMMAND } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'me-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(trace: boolean, db: string) {
  const env = { ...process.env, MARGIN_ENGINE_TRACE: trace ? '1' : '' };
  return spawnSync(
    process.execPath,
    [
      COMMAND,
      'run',
      '--market',
      join(ROOT, 'data/sample/market'),
      '--positions',
      join(ROOT, 'data/sample/book/positions.arrow'),
      '--balances',
      join(ROOT, 'data/sample/book/balances.arrow'),
      '--models',
      'deribit-pm,span',
      '--backend',
      'cpu',
      '--db',
      db,
    ],
    { env, encoding: 'utf8', timeout: 120_000 },
  );
}

describe('the run timeline', () => {
  test('with MARGIN_ENGINE_TRACE=1 every thread writes its spans, in order within each thread', () => {
    const r = run(true, join(dir, 'traced.duckdb'));
    expect(r.status).toBe(0);
    const spans = parseTrace(r.stderr);
    expect(new Set(spans.map((s) => s.thread))).toEqual(new Set(['main', 'report', 'pool']));
    const whats = (thread: string) => spans.filter((s) => s.thread === thread).map((s) => s.what);
    expect(whats('main')).toEqual(
      expect.arrayContaining([
        'load',
        'scenarios',
        'margin',
        'aggregation (deribit-pm, groups)',
        'report (rows written)',
      ]),
    );
    expect(whats('report')).toEqual(
      expect.arrayContaining(['open', 'hash', 'accounts', 'margin', 'symbols', 'runRow', 'commit']),
    );
    expect(whats('report').at(-1)).toBe('commit');
    // the command (the bundle) finds its WebAssembly kernels: the pool names the kernels it ran
    expect(whats('pool')).toEqual(expect.arrayContaining(['revalue (wasm)', 'aggregate (wasm)']));
    expect(whats('pool')).not.toContain('aggregate (js)');
    expect(whats('pool')).not.toContain('revalue (js)');
    // and the report's thread its fit's inner problem (kernels/svi.wat, installed by sviWasmLoad.ts)
    expect(whats('report')).toContain('volSurface (wasm)');
    for (const s of spans) expect(s.end).toBeGreaterThanOrEqual(s.start);
    expect(spans[0]!.start).toBe(0);
    expect(formatTrace(spans)).toMatch(/busy .*\n {2}main: [\d.]+ ms/);
  });
  test('without it nothing is written', () => {
    const r = run(false, join(dir, 'plain.duckdb'));
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/^TRACE /m);
  });
});
