/**
 * bench/device.sh, the prepared GPU run (issue 17), kept from rotting on the CPU-only machine: the
 * app-only pack (bench/device-pack.sh: dist/ and the production modules it picks, without DuckDB) is
 * unpacked into a work directory and runs the dry run: cpu only, small sizes (256 scenarios, 300
 * accounts). Every step must run from the pack alone and write its record; the eod run writes no report.
 * Needs `npm run build` (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const root = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), 'device-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('device.sh --dry-run runs the revaluation, aggregation and eod steps from the packed build', () => {
  const pack = join(tmp, 'pack');
  const packed = spawnSync('bash', ['bench/device-pack.sh', '--app-only', '--fast', '--out', pack], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(packed.status, packed.stderr).toBe(0);
  expect(existsSync(join(pack, 'app.tar.xz'))).toBe(true);
  // the pack leaves DuckDB (and the development dependencies) out
  const listing = spawnSync('tar', ['-tJf', join(pack, 'app.tar.xz')], { encoding: 'utf8', maxBuffer: 2 ** 26 });
  expect(listing.stdout).toContain('node_modules/apache-arrow/');
  expect(listing.stdout).toContain('dist/bench/run.js');
  expect(listing.stdout).not.toContain('node_modules/@duckdb/');
  expect(listing.stdout).not.toContain('node_modules/vitest/');

  const out = join(tmp, 'out');
  const r = spawnSync(
    'bash',
    ['bench/device.sh', '--dry-run', '--pack', pack, '--out', out, '--work', join(tmp, 'work')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, DISPLAY: process.env.DISPLAY ?? ':99' } },
  );
  const log = existsSync(join(out, 'device.log')) ? readFileSync(join(out, 'device.log'), 'utf8') : r.stderr;
  expect(r.status, log.slice(-3000)).toBe(0);
  const records = readdirSync(out).filter((f) => f.endsWith('.json'));
  const read = (prefix: string) => {
    const f = records.find((x) => x.startsWith(prefix));
    expect(f, `${prefix} record in ${records.join(', ')}`).toBeDefined();
    return JSON.parse(readFileSync(join(out, f!), 'utf8')) as Record<string, unknown>;
  };
  const reval = read('revaluation-') as { scenarios: number; runs: Array<{ backend: string; ok: boolean }> };
  expect(reval.scenarios).toBe(256);
  expect(reval.runs.map((x) => [x.backend, x.ok])).toEqual([['cpu', true]]);
  const agg = read('aggregation-') as { runs: Array<{ backend: string; ok: boolean }> };
  expect(agg.runs.length).toBeGreaterThan(0);
  expect(agg.runs.every((x) => x.backend === 'cpu' && x.ok)).toBe(true);
  const eod = read('eod-') as { accounts: number; commit: string; runs: Array<Record<string, unknown>> };
  expect(eod.accounts).toBe(300);
  expect(eod.commit).toBe(readFileSync(join(pack, 'COMMIT'), 'utf8').trim());
  expect(eod.runs).toHaveLength(1);
  expect(eod.runs[0]!.ok).toBe(true);
  expect(eod.runs[0]!.backendChoice).toBe('cpu');
  expect(eod.runs[0]!.runId).toBeNull(); // no report: the device runs leave DuckDB out
  expect(eod.runs[0]!.phasesSeconds).not.toHaveProperty('report');
  const distance = read('distance-') as { accounts: number; backendChoice: string; completed: boolean };
  expect([distance.accounts, distance.backendChoice, distance.completed]).toEqual([300, 'cpu', true]);
}, 300_000);
