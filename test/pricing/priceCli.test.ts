/**
 * `margin-engine price` end to end: test/fixtures/pricing/price_small.csv (14 rows of
 * test/golden/black76_quantlib.csv, QuantLib 1.29, with their golden row as `id`) priced on the cpu
 * backend (float64: the golden tolerances) and on gl (float32: price within 5e-6 × forward), implied vols,
 * and bad input → exit 2 naming row, column and value.
 */
import { afterAll, describe, expect, test, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { cli } from '../../src/cli/main.js';
import { expectClose } from '../helpers/expectClose.js';
import { readCsv } from '../kernels/readCsv.js';

process.env.DISPLAY ??= ':99';

const fixture = fileURLToPath(new URL('../fixtures/pricing/price_small.csv', import.meta.url));
const golden = readCsv(fileURLToPath(new URL('../golden/black76_quantlib.csv', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'price-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process; returns exit code, stderr and the output rows. */
async function run(
  args: string[],
): Promise<{ code: number; stderr: string; rows: Array<Record<string, string>>; header: string[] }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  let code: number;
  try {
    code = await cli(['price', ...args]);
  } finally {
    spy.mockRestore();
  }
  const outAt = args.indexOf('--out');
  let rows: Array<Record<string, string>> = [];
  let header: string[] = [];
  if (code === 0 && outAt >= 0) {
    rows = readCsv(args[outAt + 1]!);
    header = readFileSync(args[outAt + 1]!, 'utf8')
      .split('\n')[0]!
      .split(',');
  }
  return { code, stderr, rows, header };
}

describe('cpu backend (float64)', () => {
  test('prices, Greeks and coin prices match QuantLib within the golden tolerances, row order kept', async () => {
    const out = join(dir, 'cpu.csv');
    const r = await run(['--in', fixture, '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/14 rows on backend cpu \(in-process\)/);
    expect(r.header).toEqual([
      'id',
      'type',
      'forward',
      'strike',
      't_years',
      'vol',
      'discount',
      'price',
      'delta_fwd',
      'gamma_fwd',
      'vega',
      'price_coin',
    ]);
    expect(r.rows.map((x) => x.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '18', '20', '36', '99']);
    for (const row of r.rows) {
      const g = golden[+row.id!]!;
      const F = +g.forward!;
      const tol = (x: number) => Math.max(1e-8 * Math.abs(x), 1e-12 * F);
      expect(row.type).toBe(g.type);
      expectClose(+row.price!, +g.price!, 1e-10 * F, { ...row, what: 'price' });
      expectClose(+row.delta_fwd!, +g.delta_fwd!, tol(+g.delta_fwd!), { ...row, what: 'delta_fwd' });
      expectClose(+row.gamma_fwd!, +g.gamma_fwd!, tol(+g.gamma_fwd!), { ...row, what: 'gamma_fwd' });
      expectClose(+row.vega!, +g.vega!, tol(+g.vega!), { ...row, what: 'vega' });
      expectClose(+row.price_coin!, +g.price_coin!, 1e-10, { ...row, what: 'price_coin' });
    }
  });

  test('--implied: implied_vol within 1e-8 of QuantLib, empty where the golden cell is empty', async () => {
    const out = join(dir, 'implied.csv');
    const r = await run(['--in', fixture, '--out', out, '--backend', 'cpu', '--implied']);
    expect(r.code).toBe(0);
    expect(r.header.slice(-6)).toEqual(['price', 'delta_fwd', 'gamma_fwd', 'vega', 'price_coin', 'implied_vol']);
    let empty = 0;
    for (const row of r.rows) {
      const g = golden[+row.id!]!;
      expect(row.price).toBe(g.price); // the input price is kept as given
      if (g.implied_vol === '') {
        empty++;
        expect(row.implied_vol).toBe('');
        expect(r.stderr).toMatch(new RegExp(`row ${r.rows.indexOf(row)}: not recoverable`));
      } else {
        expectClose(+row.implied_vol!, +g.implied_vol!, 1e-8, { ...row });
        // Greeks are evaluated at the implied vol, which reproduces QuantLib's
        expectClose(+row.delta_fwd!, +g.delta_fwd!, 1e-7, { ...row, what: 'delta at implied vol' });
      }
    }
    expect(empty).toBe(5); // golden rows 7, 18, 20, 36, 99
  });
});

const glMissing =
  process.env.CI !== 'true' &&
  spawnSync(process.execPath, ['-e', "const {GPU}=require('gpu.js');process.exit(GPU.isHeadlessGLSupported?0:1)"], {
    env: process.env,
  }).status !== 0;
if (glMissing) console.warn('priceCli: skipping the gl backend case: no headless GL context (DISPLAY)');

describe('gl backend (float32 on gpu.js headlessgl)', () => {
  test.skipIf(glMissing)(
    'prices within 5e-6 × forward of the float64 path; the backend that ran is reported',
    async () => {
      const cpu = await run(['--in', fixture, '--out', join(dir, 'ref.csv'), '--backend', 'cpu']);
      const gl = await run(['--in', fixture, '--out', join(dir, 'gl.csv'), '--backend', 'gl']);
      expect(gl.code).toBe(0);
      expect(gl.stderr).toMatch(/14 rows on backend gl \(HeadlessGLKernel\)/);
      gl.rows.forEach((row, i) => {
        const ref = cpu.rows[i]!;
        const F = +row.forward!;
        expect(row.id).toBe(ref.id);
        expectClose(+row.price!, +ref.price!, 5e-6 * F, { ...row, what: 'price' });
        expectClose(+row.price_coin!, +ref.price_coin!, 5e-6, { ...row, what: 'price_coin' });
        expectClose(+row.delta_fwd!, +ref.delta_fwd!, 1e-5, { ...row, what: 'delta_fwd' });
      });
    },
  );
});

describe('bad input → exit 2 naming file, row, column and value', () => {
  const cases: Array<[string, string, RegExp[]]> = [
    [
      'bad type and negative vol',
      'type,forward,strike,t_years,vol,discount\nC,100,100,0.5,0.3,1\nX,100,100,0.5,-0.3,1\n',
      [
        /bad\.csv row 1, column type: "X" must be C \(call\) or P \(put\)/,
        /bad\.csv row 1, column vol: "-0\.3" must be a finite vol/,
      ],
    ],
    [
      'non-numeric forward',
      'type,forward,strike,t_years,vol,discount\nP,abc,100,0.5,0.3,1\n',
      [/row 0, column forward: "abc" must be a positive finite number/],
    ],
    [
      'empty strike',
      'type,forward,strike,t_years,vol,discount\nP,100,,0.5,0.3,1\n',
      [/row 0, column strike: "" must be a positive finite number/],
    ],
    ['missing column', 'type,forward,strike,t_years,discount\nP,100,100,0.5,1\n', [/missing column vol/]],
    [
      'short row',
      'type,forward,strike,t_years,vol,discount\nP,100,100,0.5,0.3\n',
      [/row 0: "P,100,100,0\.5,0\.3" has 5 cells, the header has 6/],
    ],
  ];
  test.each(cases)('%s', async (_name, text, messages) => {
    const input = join(dir, 'bad.csv');
    writeFileSync(input, text);
    const r = await run(['--in', input, '--out', join(dir, 'bad_out.csv'), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    for (const m of messages) expect(r.stderr).toMatch(m);
  });

  test('--implied needs a price column', async () => {
    const input = join(dir, 'noprice.csv');
    writeFileSync(input, 'type,forward,strike,t_years,vol,discount\nC,100,100,0.5,0.3,1\n');
    const r = await run(['--in', input, '--out', join(dir, 'x.csv'), '--implied']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/noprice\.csv: missing column price/);
  });

  test('unknown backend and missing --out are usage errors', async () => {
    expect((await run(['--in', fixture, '--out', join(dir, 'y.csv'), '--backend', 'cuda'])).code).toBe(2);
    expect((await run(['--in', fixture])).code).toBe(2);
  });
});

describe('as a process', () => {
  test('node runs the CLI: exit 0 with output, exit 2 on a bad row', () => {
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const out = join(dir, 'proc.csv');
    const ok = spawnSync(process.execPath, [tsx, main, 'price', '--in', fixture, '--out', out, '--backend', 'cpu'], {
      encoding: 'utf8',
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(
      readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length,
    ).toBe(15);
    const bad = join(dir, 'proc_bad.csv');
    writeFileSync(bad, 'type,forward,strike,t_years,vol,discount\nC,100,100,0.5,0.3,0\n');
    const r = spawnSync(process.execPath, [tsx, main, 'price', '--in', bad, '--out', out, '--backend', 'cpu'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/row 0, column discount: "0" must be a positive finite discount factor/);
  });
});
