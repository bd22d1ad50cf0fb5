/**
 * Positions and balances: one test per validation rule of docs/data.md (a broken cell in a small valid
 * book, the message naming file, row, column, value and rule), the counts of merged duplicate rows and
 * dropped zero quantities, and --on-invalid skip recording the rows it leaves out.
 */
import { expectClose } from '../helpers/expectClose.js';
import { describe, expect, test } from 'vitest';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadBook } from '../../src/io/loadBook.js';
import { InputError } from '../../src/errors.js';
import { dict, writeBook, writeMarket, type Cols } from '../fixtures/io/arrowTables.js';

const dir = writeMarket();
const { market } = await loadMarket(dir);
type Edit = (p: Cols, b: Cols) => void;
const set = (c: Cols, column: string, row: number, value: unknown) => {
  c[column]!.values[row] = value;
};

/** [rule, file, edit, row, column, value as shown, words of the rule] */
const cases: [string, 'positions' | 'balances', Edit, number, string, string, string][] = [
  [
    'position account not null',
    'positions',
    (p) => set(p, 'account', 3, null),
    3,
    'account',
    'null',
    'the column is required',
  ],
  [
    'position account not null (dictionary-encoded)',
    'positions',
    (p) => {
      p.account!.type = dict();
      set(p, 'account', 2, null);
    },
    2,
    'account',
    'null',
    'the column is required',
  ],
  [
    'position instrument exists (dictionary-encoded)',
    'positions',
    (p) => {
      p.instrument!.type = dict();
      set(p, 'instrument', 0, 'ETH-PERPETUAL');
    },
    0,
    'instrument',
    '"ETH-PERPETUAL"',
    'is not an instrument of the market snapshot',
  ],
  [
    'position instrument not null',
    'positions',
    (p) => set(p, 'instrument', 1, null),
    1,
    'instrument',
    'null',
    'the column is required',
  ],
  [
    'position instrument exists',
    'positions',
    (p) => set(p, 'instrument', 4, 'BTC-1JAN20-1-C'),
    4,
    'instrument',
    '"BTC-1JAN20-1-C"',
    'is not an instrument of the market snapshot',
  ],
  [
    'quantity not null',
    'positions',
    (p) => set(p, 'quantity', 6, null),
    6,
    'quantity',
    'null',
    'the column is required',
  ],
  [
    'quantity finite (NaN)',
    'positions',
    (p) => set(p, 'quantity', 5, NaN),
    5,
    'quantity',
    'NaN',
    'is not a finite number',
  ],
  [
    'quantity finite (Infinity)',
    'positions',
    (p) => set(p, 'quantity', 0, -Infinity),
    0,
    'quantity',
    '-Infinity',
    'is not a finite number',
  ],
  [
    'entry_price finite when given',
    'positions',
    (p) => set(p, 'entry_price', 0, Infinity),
    0,
    'entry_price',
    'Infinity',
    'is not a finite number',
  ],
  [
    'balance account not null',
    'balances',
    (_p, b) => set(b, 'account', 2, null),
    2,
    'account',
    'null',
    'the column is required',
  ],
  [
    'balance currency not null',
    'balances',
    (_p, b) => set(b, 'currency', 0, null),
    0,
    'currency',
    'null',
    'the column is required',
  ],
  [
    'balance currency an underlying or cash',
    'balances',
    (_p, b) => set(b, 'currency', 3, 'DOGE'),
    3,
    'currency',
    '"DOGE"',
    'is not an underlying of the snapshot (BTC, ETH) or a cash currency (USD, USDC, USDT)',
  ],
  ['amount not null', 'balances', (_p, b) => set(b, 'amount', 1, null), 1, 'amount', 'null', 'the column is required'],
  ['amount finite', 'balances', (_p, b) => set(b, 'amount', 1, NaN), 1, 'amount', 'NaN', 'is not a finite number'],
];

describe('book rules (docs/data.md, Validation)', () => {
  test.each(cases)('%s', async (_rule, table, edit, row, column, value, words) => {
    const f = writeBook(writeMarket(), edit);
    const file = table === 'positions' ? f.positions : f.balances;
    const e = await loadBook(market, f.positions, f.balances).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.violations).toHaveLength(1);
    expect(err.violations[0]).toMatchObject({ file, row, column, value });
    expect(err.violations[0]!.rule).toContain(words);
    expect(err.message).toContain(`${file} row ${row}, column ${column}: ${value} `);
  });

  test('violations in both files are all listed (first 20 and a count)', async () => {
    const f = writeBook(writeMarket(), (p, b) => {
      const n = 30;
      p.account!.values = Array.from({ length: n }, (_, k) => `acct-${k}`);
      p.instrument!.values = Array.from({ length: n }, () => 'NOPE');
      p.quantity!.values = Array.from({ length: n }, () => 1);
      p.entry_price!.values = Array.from({ length: n }, () => null);
      set(b, 'amount', 0, NaN);
    });
    const e = (await loadBook(market, f.positions, f.balances).then(
      () => null,
      (x: unknown) => x,
    )) as InputError;
    expect(e.violations).toHaveLength(31);
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('31 input violations');
    expect(lines).toHaveLength(1 + 20 + 1);
    expect(lines[21]).toContain('… and 11 more (31 in all)');
  });
});

describe('merges and zero quantities', () => {
  test('duplicate (account, instrument) rows are summed and counted; zero rows dropped and counted', async () => {
    // fixture: carol has BTC-PERPETUAL twice (1 @ 77000, 2 @ 80000); bob's call is 0
    const f = writeBook(writeMarket());
    const { book, stats } = await loadBook(market, f.positions, f.balances);
    expect(stats).toMatchObject({
      positionRows: 7,
      balanceRows: 4,
      mergedPositionRows: 1,
      droppedZeroRows: 1,
      rejected: [],
    });
    const carol = book.accountKey.indexOf('carol');
    const p = book.accountStart[carol]!;
    expect(book.accountStart[carol + 1]! - p).toBe(1);
    expect(book.quantity[p]).toBe(3);
    // entry price: Σ q·e / Σ q = (1·77000 + 2·80000) / 3, which keeps the unrealised P&L of both rows
    expect(book.entryPrice[p]).toBe(79000);
  });

  test('rows netting to exactly 0 leave the book and are counted as dropped', async () => {
    const f = writeBook(writeMarket(), (p) => {
      set(p, 'quantity', 5, -1);
    });
    const { book, stats } = await loadBook(market, f.positions, f.balances);
    expect(stats.mergedPositionRows).toBe(1);
    expect(stats.droppedZeroRows).toBe(2);
    const carol = book.accountKey.indexOf('carol');
    expect(book.accountStart[carol + 1]! - book.accountStart[carol]!).toBe(0);
    expect(book.accountKey).toContain('carol'); // she still has a balance
  });

  test('a merged position keeps the unrealised P&L of its priced rows when some rows give no entry price', async () => {
    // carol: 1 without an entry price (no unrealised P&L), 2 @ 80000 → merged 3 must carry 2·(F − 80000)
    const f = writeBook(writeMarket(), (p) => {
      set(p, 'entry_price', 0, null);
    });
    const { book } = await loadBook(market, f.positions, f.balances);
    const carol = book.accountKey.indexOf('carol');
    const p = book.accountStart[carol]!;
    const F = market.instruments.forward[book.instrumentId[p]!]!;
    expect(book.quantity[p]).toBe(3);
    expectClose(book.quantity[p]! * (F - book.entryPrice[p]!), 2 * (F - 80000), 1e-9 * F, { F });
    // and the inverse form q(1 − e/F) likewise (both are linear in q·e)
    expectClose(book.quantity[p]! * (1 - book.entryPrice[p]! / F), 2 * (1 - 80000 / F), 1e-12, { F });
  });

  test('priced rows that net to zero keep their locked-in P&L in the merged position', async () => {
    // carol: −2 @ 77000 and +2 @ 80000 (net 0, locked-in −6000 USD) plus +1 without an entry price
    const f = writeBook(writeMarket(), (p) => {
      set(p, 'quantity', 0, -2);
      for (const [col, v] of [
        ['account', 'carol'],
        ['instrument', 'BTC-PERPETUAL'],
        ['quantity', 1],
        ['entry_price', null],
      ] as const)
        p[col]!.values.push(v);
    });
    const { book, stats } = await loadBook(market, f.positions, f.balances);
    expect(stats.mergedPositionRows).toBe(2);
    const carol = book.accountKey.indexOf('carol');
    const p = book.accountStart[carol]!;
    const F = market.instruments.forward[book.instrumentId[p]!]!;
    expect(book.quantity[p]).toBe(1);
    expectClose(book.quantity[p]! * (F - book.entryPrice[p]!), -2 * (F - 77000) + 2 * (F - 80000), 1e-9 * F, { F });
  });

  test('duplicate (account, currency) balances are summed with a warning', async () => {
    const f = writeBook(writeMarket(), (_p, b) => {
      set(b, 'currency', 1, 'BTC');
    });
    const { balances, stats } = await loadBook(market, f.positions, f.balances);
    expect(balances.amount[0]).toBe(10001.5);
    expect(stats.warnings).toEqual([`${f.balances}: 1 duplicate (account, currency) row summed into earlier rows`]);
  });
});

describe('--on-invalid skip', () => {
  test('offending rows are left out and recorded once each with their first reason', async () => {
    const f = writeBook(writeMarket(), (p, b) => {
      set(p, 'instrument', 4, 'NOPE');
      set(p, 'quantity', 4, NaN); // a second problem in the same row: recorded once
      set(p, 'quantity', 1, null);
      set(b, 'currency', 2, 'DOGE');
    });
    const { book, balances, stats } = await loadBook(market, f.positions, f.balances, { onInvalid: 'skip' });
    expect(stats.rejected).toEqual([
      { file: f.positions, row: 1, column: 'quantity', value: 'null', rule: 'is not allowed: the column is required' },
      {
        file: f.positions,
        row: 4,
        column: 'instrument',
        value: '"NOPE"',
        rule: 'is not an instrument of the market snapshot (instruments.arrow)',
      },
      {
        file: f.balances,
        row: 2,
        column: 'currency',
        value: '"DOGE"',
        rule: expect.stringContaining('is not an underlying') as unknown as string,
      },
    ]);
    const alice = book.accountKey.indexOf('alice');
    expect(Array.from(book.instrumentId.subarray(book.accountStart[alice]!, book.accountStart[alice + 1]!))).toEqual([
      0,
    ]);
    expect(balances.amount[book.accountKey.indexOf('bob') * 5 + 4]).toBe(0);
  });

  test('an account that only appears in rejected rows is not an account', async () => {
    const f = writeBook(writeMarket(), (p) => {
      set(p, 'account', 6, 'dave');
      set(p, 'instrument', 6, 'NOPE');
    });
    const { book } = await loadBook(market, f.positions, f.balances, { onInvalid: 'skip' });
    expect(book.accountKey).toEqual(['alice', 'bob', 'carol']);
  });

  describe('a position on an instrument whose instruments.arrow row was rejected', () => {
    // instruments.arrow row 4 is ETH-27MAR26-2500-C (fixture); mark_iv 0 breaks docs/data.md's 0 < mark_iv <= 10.
    // positions.arrow row 4 is alice's ETH-27MAR26-2500-C.
    const badIv = (_u: Cols, i: Cols) => {
      set(i, 'mark_iv', 4, 0);
    };

    test('names the rejected row and its rule when given rejectedInstruments', async () => {
      const dir = writeMarket(badIv);
      const lm = await loadMarket(dir, { onInvalid: 'skip' });
      expect(lm.rejected).toHaveLength(1);
      const why = lm.rejected[0]!;
      expect(why).toMatchObject({ row: 4, column: 'mark_iv', value: '0' });
      expect([...lm.rejectedInstruments]).toEqual([['ETH-27MAR26-2500-C', why]]);
      const f = writeBook(dir);
      const { stats } = await loadBook(lm.market, f.positions, f.balances, {
        onInvalid: 'skip',
        rejectedInstruments: lm.rejectedInstruments,
      });
      expect(stats.rejected).toEqual([
        {
          file: f.positions,
          row: 4,
          column: 'instrument',
          value: '"ETH-27MAR26-2500-C"',
          rule: `was rejected at instruments.arrow row 4 (column mark_iv: 0 ${why.rule})`,
        },
      ]);
      expect(why.rule).toContain('0 < mark_iv <= 10');
    });

    test('without rejectedInstruments, and for a name never in instruments.arrow, the rule stays "not an instrument"', async () => {
      const dir = writeMarket(badIv);
      const lm = await loadMarket(dir, { onInvalid: 'skip' });
      const f = writeBook(dir, (p) => {
        set(p, 'instrument', 0, 'NOPE');
      });
      const plain = await loadBook(lm.market, f.positions, f.balances, { onInvalid: 'skip' });
      expect(plain.stats.rejected.map((r) => [r.row, r.rule])).toEqual([
        [0, 'is not an instrument of the market snapshot (instruments.arrow)'],
        [4, 'is not an instrument of the market snapshot (instruments.arrow)'],
      ]);
      const named = await loadBook(lm.market, f.positions, f.balances, {
        onInvalid: 'skip',
        rejectedInstruments: lm.rejectedInstruments,
      });
      expect(named.stats.rejected.map((r) => [r.row, r.rule])).toEqual([
        [0, 'is not an instrument of the market snapshot (instruments.arrow)'],
        [4, `was rejected at instruments.arrow row 4 (column mark_iv: 0 ${lm.rejected[0]!.rule})`],
      ]);
    });

    test('a name rejected twice (its row, then a duplicate row) is reported with its first row', async () => {
      const dir = writeMarket((u, i) => {
        badIv(u, i);
        set(i, 'instrument', 6, 'ETH-27MAR26-2500-C');
      });
      const lm = await loadMarket(dir, { onInvalid: 'skip' });
      expect(lm.rejected.map((r) => r.row)).toEqual([4, 6]);
      expect(lm.rejectedInstruments.get('ETH-27MAR26-2500-C')?.row).toBe(4);
      expect(lm.rejectedInstruments.size).toBe(1);
    });

    test('under fail nothing is rejected, so the map is empty', async () => {
      expect((await loadMarket(writeMarket())).rejectedInstruments.size).toBe(0);
    });
  });
});
