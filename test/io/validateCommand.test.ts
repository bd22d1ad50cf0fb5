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
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function inputs(edit?: Parameters<typeof writeBook>[1]) {
  const dir = writeMarket();
  const f = writeBook(dir, edit);
  return { dir, ...f, args: ['validate', '--market', dir, '--positions', f.positions, '--balances', f.balances] };
}

describe('margin-engine validate', () => {
  test('exit 0 with a summary of a valid input', async () => {
    const { args } = inputs();
    expect(await cli(args)).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^valid: snapshot /);
    expect(out).toContain('instruments: 7 (4 options, 1 future, 2 perpetuals)');
    expect(out).toContain('accounts: 3 (utf8 keys)');
    expect(out).toContain(
      'positions: 5 in 5 risk units, from 7 rows (1 duplicate row merged, 1 zero quantity dropped)',
    );
    expect(out).toContain('balances: 4 rows');
    expect(err).toBe('');
  });

  test('--json prints the summary as JSON', async () => {
    const { args } = inputs();
    expect(await cli([...args, '--json'])).toBe(0);
    const s = JSON.parse(out);
    expect(s).toMatchObject({
      valid: true,
      accounts: 3,
      positions: 5,
      mergedPositionRows: 1,
      droppedZeroRows: 1,
      rejectedRows: 0,
    });
    expect(s.instruments.byUnderlying).toEqual({
      BTC: { option: 3, future: 1, perpetual: 1 },
      ETH: { option: 1, perpetual: 1 },
    });
  });

  test('exit 2 listing every violation with file, row, column and value', async () => {
    const { args, positions } = inputs((p) => {
      p.quantity!.values[2] = NaN;
      p.instrument!.values[0] = 'NOPE';
    });
    expect(await cli(args)).toBe(2);
    expect(err).toContain('2 input violations');
    expect(err).toContain(`${positions} row 0, column instrument: "NOPE" is not an instrument`);
    expect(err).toContain(`${positions} row 2, column quantity: NaN is not a finite number`);
    expect(out).toBe('');
  });

  test('--on-invalid skip: exit 0 with the rejected rows listed', async () => {
    const { args, positions } = inputs((p) => {
      p.quantity!.values[2] = NaN;
    });
    expect(await cli([...args, '--on-invalid', 'skip'])).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^valid after skipping 1 rejected row: snapshot /);
    expect(out).toContain('rejected rows (--on-invalid skip): 1');
    expect(out).toContain(`${positions} row 2, column quantity: NaN is not a finite number`);
  });

  test("--on-invalid skip: a position on a rejected instrument names that instrument's row and rule", async () => {
    // instruments.arrow row 4 (ETH-27MAR26-2500-C) with mark_iv 0; positions.arrow row 4 holds it
    const dir = writeMarket((_u, i) => {
      i.mark_iv!.values[4] = 0;
    });
    const f = writeBook(dir);
    expect(
      await cli([
        'validate',
        '--market',
        dir,
        '--positions',
        f.positions,
        '--balances',
        f.balances,
        '--on-invalid',
        'skip',
      ]),
    ).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^valid after skipping 2 rejected rows: /);
    expect(out).toContain(
      `${f.positions} row 4, column instrument: "ETH-27MAR26-2500-C" was rejected at instruments.arrow row 4 (column mark_iv: 0 is not in (0, 10]`,
    );
    expect(out).not.toContain('is not an instrument of the market snapshot');
  });

  test('--json on invalid input: every violation as JSON on stdout, exit 2', async () => {
    // 25 bad rows: more than the 20 the text message lists
    const { args, positions, balances } = inputs((p, b) => {
      p.account!.values = Array.from({ length: 24 }, (_, k) => `acct-${k}`);
      p.instrument!.values = Array.from({ length: 24 }, () => 'NOPE');
      p.quantity!.values = Array.from({ length: 24 }, () => 1);
      p.entry_price!.values = Array.from({ length: 24 }, () => null);
      b.amount!.values[1] = NaN;
    });
    expect(await cli([...args, '--json'])).toBe(2);
    const s = JSON.parse(out);
    expect(Object.keys(s)).toEqual(['valid', 'violations']);
    expect(s.valid).toBe(false);
    expect(s.violations).toHaveLength(25);
    expect(s.violations[0]).toEqual({
      file: positions,
      row: 0,
      column: 'instrument',
      value: '"NOPE"',
      rule: 'is not an instrument of the market snapshot (instruments.arrow)',
    });
    expect(s.violations[23]).toMatchObject({ file: positions, row: 23 });
    expect(s.violations[24]).toEqual({
      file: balances,
      row: 1,
      column: 'amount',
      value: 'NaN',
      rule: 'is not a finite number',
    });
    expect(err).toContain('25 input violations');
  });

  test('--json on an unreadable file: the file-level violation as JSON, exit 2', async () => {
    const { args, positions } = inputs();
    writeFileSync(positions, 'account,instrument,quantity\n');
    expect(await cli([...args, '--json'])).toBe(2);
    const s = JSON.parse(out);
    expect(s.valid).toBe(false);
    expect(s.violations).toHaveLength(1);
    expect(s.violations[0]).toMatchObject({ file: positions, row: null });
    expect(s.violations[0].rule).toMatch(/is not Arrow/);
  });

  test('one of each: singular nouns', async () => {
    // one position row (carol's BTC-PERPETUAL) and one balance row (carol's BTC)
    const { args } = inputs((p, b) => {
      for (const c of ['account', 'instrument', 'quantity', 'entry_price']) p[c]!.values = p[c]!.values.slice(0, 1);
      for (const c of ['account', 'currency', 'amount']) b[c]!.values = b[c]!.values.slice(3, 4);
    });
    expect(await cli(args)).toBe(0);
    expect(out).toContain(
      'positions: 1 in 1 risk unit, from 1 row (0 duplicate rows merged, 0 zero quantities dropped)',
    );
    expect(out).toContain('balances: 1 row, 1 non-zero (account, currency) balance');
  });

  test('unknown extra columns are reported as a warning on stderr', async () => {
    const { args, balances } = inputs((_p, b) => {
      b.note = { values: ['x', 'y', 'z', 'w'], type: b.currency!.type };
    });
    expect(await cli(args)).toBe(0);
    expect(err).toContain(`warning: ${balances}: unknown column ignored: note`);
    expect(out).not.toContain('warning');
  });

  test.each([
    [
      'a truncated file',
      (f: string) => {
        writeFileSync(f, readFileSync(f).subarray(0, 100));
        return f;
      },
      /truncated/,
    ],
    [
      'a text file renamed .arrow',
      (f: string) => {
        writeFileSync(f, 'account,instrument,quantity\n');
        return f;
      },
      /is not Arrow/,
    ],
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
    [
      ['validate', '--market', 'm', '--positions', 'p', '--balances', 'b', '--on-invalid', 'drop'],
      '--on-invalid must be fail or skip',
    ],
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
