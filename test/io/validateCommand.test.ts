/**
 * `margin-engine validate` through the CLI entry (src/cli/main.ts): exit 0 with a summary on a valid
 * snapshot and book, exit 2 listing violations, exit 2 naming an unreadable / truncated / non-Arrow
 * file, --on-invalid skip reporting rejected rows, --json for machines.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../src/cli/main.js';
import { writeBook, writeMarket } from '../fixtures/io/arrowTables.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
});
afterEach(() => { vi.restoreAllMocks(); });

function inputs(edit?: Parameters<typeof writeBook>[1]) {
  const dir = writeMarket();
  const f = writeBook(dir, edit);
  return { dir, ...f, args: ['validate', '--market', dir, '--positions', f.positions, '--balances', f.balances] };
}

describe('margin-engine validate', () => {
  test('exit 0 with a summary of a valid input', async () => {
    const { args } = inputs();
    expect(await cli(args)).toBe(0);
    expect(out).toContain('instruments: 7 (4 option, 1 future, 2 perpetual)');
    expect(out).toContain('accounts: 3 (utf8 keys)');
    expect(out).toContain('positions: 5 in 5 risk units, from 7 rows (1 duplicate rows merged, 1 zero quantities dropped)');
    expect(out).toContain('balances: 4 rows');
    expect(err).toBe('');
  });

  test('--json prints the summary as JSON', async () => {
    const { args } = inputs();
    expect(await cli([...args, '--json'])).toBe(0);
    const s = JSON.parse(out);
    expect(s).toMatchObject({ valid: true, accounts: 3, positions: 5, mergedPositionRows: 1, droppedZeroRows: 1, rejectedRows: 0 });
    expect(s.instruments.byUnderlying).toEqual({ BTC: { option: 3, future: 1, perpetual: 1 }, ETH: { option: 1, perpetual: 1 } });
  });

  test('exit 2 listing every violation with file, row, column and value', async () => {
    const { args, positions } = inputs((p) => { p.quantity!.values[2] = NaN; p.instrument!.values[0] = 'NOPE'; });
    expect(await cli(args)).toBe(2);
    expect(err).toContain('2 input violations');
    expect(err).toContain(`${positions} row 0, column instrument: "NOPE" is not an instrument`);
    expect(err).toContain(`${positions} row 2, column quantity: NaN is not a finite number`);
    expect(out).toBe('');
  });

  test('--on-invalid skip: exit 0 with the rejected rows listed', async () => {
    const { args, positions } = inputs((p) => { p.quantity!.values[2] = NaN; });
    expect(await cli([...args, '--on-invalid', 'skip'])).toBe(0);
    expect(out).toContain('rejected rows (--on-invalid skip): 1');
    expect(out).toContain(`${positions} row 2, column quantity: NaN is not a finite number`);
  });

  test('unknown extra columns are reported as a warning', async () => {
    const { args, balances } = inputs((_p, b) => { b.note = { values: ['x', 'y', 'z', 'w'], type: b.currency!.type }; });
    expect(await cli(args)).toBe(0);
    expect(out).toContain(`warning: ${balances}: unknown column ignored: note`);
  });

  test.each([
    ['a truncated file', (f: string) => { writeFileSync(f, readFileSync(f).subarray(0, 100)); return f; }, /truncated/],
    ['a text file renamed .arrow', (f: string) => { writeFileSync(f, 'account,instrument,quantity\n'); return f; }, /is not Arrow/],
    ['a missing file', (f: string) => `${f}.missing`, /not found/],
  ])('%s: exit 2 naming the file', async (_name, spoil, why) => {
    const { args, positions } = inputs();
    const target = spoil(positions);
    const argv = args.map((a) => (a === positions ? target : a));
    expect(await cli(argv)).toBe(2);
    expect(err).toContain(target);
    expect(err).toMatch(why);
    expect(err).not.toMatch(/unrecognized input|    at /i);
  });

  test('a market directory without instruments.arrow: exit 2 naming it', async () => {
    const { args } = inputs();
    const argv = args.map((a, k) => (args[k - 1] === '--market' ? join(a, 'nowhere') : a));
    expect(await cli(argv)).toBe(2);
    expect(err).toContain(join(argv[2]!, 'underlyings.arrow'));
  });

  test.each([
    [['validate', '--positions', 'p.arrow', '--balances', 'b.arrow'], '--market is required'],
    [['validate', '--market', 'm', '--positions', 'p', '--balances', 'b', '--on-invalid', 'drop'], '--on-invalid must be fail or skip'],
  ])('usage errors exit 2: %j', async (argv, words) => {
    expect(await cli(argv)).toBe(2);
    expect(err).toContain(words);
  });

  test('--help has an example', async () => {
    expect(await cli(['validate', '--help'])).toBe(0);
    expect(out).toContain('Example:');
    expect(out).toContain('margin-engine validate --market');
  });
});
