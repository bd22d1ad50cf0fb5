/**
 * `margin-engine whatif` through the built CLI: the JSON answer is the what-if state's (a full check
 * against full runs is test/margin/whatif.test.ts), and bad input exits 2 naming the option, the value
 * and the rule, before or after the book loads.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COMMAND as CLI } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const BASE = [
  'whatif',
  '--market',
  join(ROOT, 'data/sample/market'),
  '--positions',
  join(ROOT, 'data/sample/book/positions.arrow'),
  '--balances',
  join(ROOT, 'data/sample/book/balances.arrow'),
];
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...BASE, ...args], { encoding: 'utf8' });

describe('margin-engine whatif', () => {
  test('--json: before and after per model, ΔIM = after − before, a contribution per trade', () => {
    const r = run([
      '--account',
      'A000007',
      '--trade',
      'BTC-PERPETUAL:-0.5',
      '--trade',
      'BTC-PERPETUAL:0.2@78000',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const x = JSON.parse(r.stdout);
    expect(x.account).toBe('A000007');
    expect(x.models.map((m: { model: string }) => m.model)).toEqual(['deribit-pm', 'span', 'standard']);
    for (const m of x.models) {
      expect(m.deltaIm).toBe(m.after.im - m.before.im);
      expect(m.deltaMm).toBe(m.after.mm - m.before.mm);
      expect(m.after.available).toBe(m.after.equity - m.after.im);
      expect(m.trades).toHaveLength(2);
      for (const k of ['im', 'mm', 'equity', 'available']) expect(Number.isFinite(m.before[k])).toBe(true);
    }
    // a short future adds margin to a book that holds none of it
    expect(x.models[0].deltaIm).toBeGreaterThan(0);
  });

  test('the text table names every model and trade', () => {
    const r = run(['--account', 'A000007', '--trade', 'BTC-PERPETUAL:-0.5']);
    expect(r.status, r.stderr).toBe(0);
    for (const w of ['deribit-pm', 'span', 'standard', 'trade BTC-PERPETUAL -0.5']) expect(r.stdout).toContain(w);
  });

  test.each([
    [['--account', 'nobody', '--trade', 'BTC-PERPETUAL:1'], '--account', '"nobody"', 'is not an account'],
    [['--account', 'A000007', '--trade', 'NOPE-PERP:1'], '--trade NOPE-PERP:1', '"NOPE-PERP"', 'is not an instrument'],
    [['--account', 'A000007', '--trade', 'BTC-PERPETUAL:0'], '--trade BTC-PERPETUAL:0', '0', 'finite, non-zero'],
    [
      ['--account', 'A000007', '--trade', 'BTC-PERPETUAL:abc'],
      '--trade',
      '"BTC-PERPETUAL:abc"',
      'not a decimal number',
    ],
    [['--account', 'A000007', '--trade', 'BTC-PERPETUAL'], '--trade', '"BTC-PERPETUAL"', 'INSTRUMENT:QTY[@PRICE]'],
    [['--account', 'A000007', '--trade', 'BTC-PERPETUAL:1@-5'], '--trade BTC-PERPETUAL:1@-5', '-5', '> 0'],
    [
      ['--account', 'A000007', '--trade', 'BTC-PERPETUAL:1', '--models', 'bogus'],
      '--models',
      '"bogus"',
      'is not a model',
    ],
    [
      ['--account', 'A000007', ...Array.from({ length: 21 }, () => ['--trade', 'BTC-PERPETUAL:1']).flat()],
      '--trade',
      '21',
      'maximum of 20',
    ],
  ])('bad input %j exits 2 naming %s', (args, field, value, rule) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(field);
    expect(r.stderr).toContain(value);
    expect(r.stderr).toContain(rule);
  });

  test('var-hs without --history exits 2 naming --history', () => {
    const r = run(['--account', 'A000007', '--trade', 'BTC-PERPETUAL:1', '--models', 'var-hs']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--history');
  });
});
