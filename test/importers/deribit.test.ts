// The Deribit chain import on the real chain of 2026-02-01 09:23:23 UTC (test/fixtures/deribit, copied
// byte for byte from ../shared/data/deribit: github.com/znmahbub/SVCJ-Deribit-Inverse-Options-Pricer,
// data/ at commit 516b0cb0f4d7). Mapping: docs/data.md, "The Deribit chain import".
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { InputError } from '../../src/errors.js';
import { parseCsv } from '../../src/importers/csv.js';
import { importDeribit, importDeribitTables, expiryCodeMs } from '../../src/importers/deribit.js';
import { writeMarket } from '../../src/importers/writeMarket.js';
import { formatPrice, main as importMain } from '../../src/cli/import.js';
import { expectClose } from '../helpers/expectClose.js';

const DIR = join(import.meta.dirname, '../fixtures/deribit');
const FILES = {
  chain: join(DIR, 'deribit_options_snapshot_20260201T092323Z.csv'),
  futures: join(DIR, 'term_futures_marks_20260201T092323Z.csv'),
  perpetuals: join(DIR, 'perpetual_futures_prices_20260201T092323Z.csv'),
};
const market = importDeribit(FILES);
const ins = market.instruments;

// An independent, naive reading of the chain (it has no quoted fields): header → column → values.
function naive(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}
const chainRows = naive(FILES.chain);

const tmp = mkdtempSync(join(tmpdir(), 'me-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('counts per underlying and kind', () => {
  // options: counted from the raw chain's `currency` column (the shared data README says 1,590 in all);
  // futures: 7 per coin in term_futures_marks; perpetuals: BTC-PERPETUAL and ETH-PERPETUAL.
  test.each([
    ['BTC', 'option', chainRows.filter((r) => r.currency === 'BTC').length, 766],
    ['ETH', 'option', chainRows.filter((r) => r.currency === 'ETH').length, 824],
    ['BTC', 'future', 7, 7],
    ['ETH', 'future', 7, 7],
    ['BTC', 'perpetual', 1, 1],
    ['ETH', 'perpetual', 1, 1],
  ])('%s %s: %i', (u, kind, counted, expected) => {
    expect(counted).toBe(expected);
    expect(ins.instrument.filter((_, i) => ins.underlying[i] === u && ins.kind[i] === kind).length).toBe(expected);
  });
  test('1,590 options in all, every instrument inverse, names unique', () => {
    expect(ins.kind.filter((k) => k === 'option').length).toBe(1590);
    expect(new Set(ins.settlement)).toEqual(new Set(['inverse']));
    expect(new Set(ins.instrument).size).toBe(ins.instrument.length);
  });
});

describe('inverse put–call parity C − P = 1 − K/F (coin) on matched pairs, mark prices', () => {
  const byKey = new Map<string, { c?: number; p?: number }>();
  ins.instrument.forEach((name, i) => {
    if (ins.kind[i] !== 'option') return;
    const key = `${ins.underlying[i]}|${ins.expiryMs[i]}|${ins.strike[i]}`;
    const e = byKey.get(key) ?? {};
    if (ins.optionType[i] === 'C') e.c = i;
    else e.p = i;
    byKey.set(key, e);
  });
  const pairs = [...byKey.values()].filter((e) => e.c !== undefined && e.p !== undefined) as { c: number; p: number }[];
  test('there are matched pairs', () => expect(pairs.length).toBeGreaterThan(700));
  test.each(pairs.map((e) => [ins.instrument[e.c], e]))('%s', (_name, e) => {
    const { c, p } = e as { c: number; p: number };
    const F = (ins.forward[c]! + ins.forward[p]!) / 2;
    const K = ins.strike[c]!;
    // 5e-4 coin per unit of underlying, scaled by K/F where K > F: the residual of a deep in-the-money put
    // scales with K/F (a forward off by 1e-4 moves 1 − K/F by 1e-4·K/F). One pair needs it on this chain:
    // ETH-26JUN26-15000 (K/F = 6.1) is off by 5.03e-4.
    expectClose(ins.markPrice[c]! - ins.markPrice[p]!, 1 - K / F, 5e-4 * Math.max(1, K / F), {
      call: ins.instrument[c],
      put: ins.instrument[p],
      F,
      K,
    });
  });
  test('the median residual is below 1e-4 coin (the shared data README measured 9e-5)', () => {
    const r = pairs
      .map(({ c, p }) =>
        Math.abs(
          ins.markPrice[c]! - ins.markPrice[p]! - (1 - ins.strike[c]! / ((ins.forward[c]! + ins.forward[p]!) / 2)),
        ),
      )
      .sort((a, b) => a - b);
    expect(r[Math.floor(r.length / 2)]).toBeLessThan(1e-4);
    expect(r.filter((x) => x > 5e-4).length).toBe(1);
  });
});

describe('underlyings', () => {
  // median computed here, independently, from the raw CSV's index_price column
  function independentMedian(u: string): number {
    const v = chainRows
      .filter((r) => r.currency === u)
      .map((r) => Number(r.index_price))
      .sort((a, b) => a - b);
    const h = Math.floor(v.length / 2);
    return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
  }
  test.each(['BTC', 'ETH'])('%s index price = median of the chain', (u) => {
    const k = market.underlyings.underlying.indexOf(u);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(market.underlyings.indexPrice[k]).toBe(independentMedian(u));
    expect(market.underlyings.rate[k]).toBe(0);
  });
  test('snapshot time = the earliest timestamp of the chain, in ms', () => {
    const earliest = Math.min(...chainRows.map((r) => Date.parse(r.timestamp!.replace(/(\.\d{3})\d+/, '$1'))));
    expect(market.underlyings.snapshotTimeMs).toBe(earliest);
    // the companion files record the same snapshot as snapshot_timestamp_ms = 1769937803513
    expect(market.underlyings.snapshotTimeMs).toBe(1769937803513);
  });
});

describe('mapping of each kind', () => {
  const at = (name: string) => ins.instrument.indexOf(name);
  test('an option row maps column by column (first data row of the chain)', () => {
    // BTC-6FEB26-88000-P: underlying 78632.3, put, 88000, 2026-02-06T08:00Z, bid 0.1185, ask 0.1215,
    // mark 0.12019417, implied_volatility 0.5491, open_interest 421.6
    const i = at('BTC-6FEB26-88000-P');
    expect([ins.underlying[i], ins.kind[i], ins.optionType[i], ins.settlement[i]]).toEqual([
      'BTC',
      'option',
      'P',
      'inverse',
    ]);
    expect([
      ins.strike[i],
      ins.expiryMs[i],
      ins.markPrice[i],
      ins.markIv[i],
      ins.forward[i],
      ins.bidPrice[i],
      ins.askPrice[i],
      ins.openInterest[i],
    ]).toEqual([88000, Date.UTC(2026, 1, 6, 8), 0.12019417, 0.5490999999999999, 78632.3, 0.1185, 0.1215, 421.6]);
  });
  test.each([
    // term_futures_marks: snapshot_term_mark_price; expiry from the name at 08:00 UTC
    ['BTC-13FEB26', 78722.79, Date.UTC(2026, 1, 13, 8)],
    ['ETH-25DEC26', 2490.75, Date.UTC(2026, 11, 25, 8)],
    ['BTC-6FEB26', 78632.44, Date.UTC(2026, 1, 6, 8)],
  ])('future %s: mark = forward = %f USD, expiry 08:00 UTC', (name, mark, expiry) => {
    const i = at(name);
    expect([ins.kind[i], ins.settlement[i], ins.markPrice[i], ins.forward[i], ins.expiryMs[i]]).toEqual([
      'future',
      'inverse',
      mark,
      mark,
      expiry,
    ]);
    expect(Number.isNaN(ins.strike[i]!) && Number.isNaN(ins.markIv[i]!) && ins.optionType[i] === null).toBe(true);
  });
  test.each([
    ['BTC-PERPETUAL', 78658.0],
    ['ETH-PERPETUAL', 2411.65],
  ])('perpetual %s: mark = forward = %f USD, no expiry', (name, mark) => {
    const i = at(name);
    expect([ins.kind[i], ins.markPrice[i], ins.forward[i]]).toEqual(['perpetual', mark, mark]);
    expect(ins.expiryMs[i]).toBeNaN();
  });
  test('options expiries agree with the expiry code in their names', () => {
    ins.instrument.forEach((name, i) => {
      if (ins.kind[i] === 'option') expect(ins.expiryMs[i]).toBe(expiryCodeMs(name.split('-')[1]!));
    });
  });
});

describe('the Arrow files', () => {
  const dir = join(tmp, 'full');
  writeMarket(dir, market);
  const it = tableFromIPC(readFileSync(join(dir, 'instruments.arrow')));
  const ut = tableFromIPC(readFileSync(join(dir, 'underlyings.arrow')));
  test.each([
    // docs/data.md, "Tables"
    ['instrument', 'Utf8'],
    ['underlying', 'Utf8'],
    ['kind', 'Utf8'],
    ['option_type', 'Utf8'],
    ['strike', 'Float64'],
    ['expiry', 'Timestamp<MILLISECOND, UTC>'],
    ['settlement', 'Utf8'],
    ['mark_price', 'Float64'],
    ['mark_iv', 'Float64'],
    ['forward', 'Float64'],
    ['bid_price', 'Float64'],
    ['ask_price', 'Float64'],
    ['open_interest', 'Float64'],
  ])('instruments.%s is %s', (col, type) => {
    expect(String(it.schema.fields.find((f) => f.name === col)?.type)).toBe(type);
  });
  test.each([
    ['underlying', 'Utf8'],
    ['index_price', 'Float64'],
    ['snapshot_time', 'Timestamp<MILLISECOND, UTC>'],
    ['rate', 'Float64'],
  ])('underlyings.%s is %s', (col, type) => {
    expect(String(ut.schema.fields.find((f) => f.name === col)?.type)).toBe(type);
  });
  test('rows, values and nulls survive the round trip (empty bid/ask → null)', () => {
    expect(it.numRows).toBe(ins.instrument.length);
    const emptyBids = chainRows.filter((r) => r.bid_price === '').length;
    const emptyAsks = chainRows.filter((r) => r.ask_price === '').length;
    expect(emptyBids + emptyAsks).toBeGreaterThan(0);
    // futures and perpetuals have no quotes either
    expect(it.getChild('bid_price')!.nullCount).toBe(emptyBids + 16);
    expect(it.getChild('ask_price')!.nullCount).toBe(emptyAsks + 16);
    expect(it.getChild('expiry')!.nullCount).toBe(2);
    const k = it.getChild('instrument')!.toArray().indexOf('BTC-6FEB26-88000-P');
    expect(it.get(k)!.toJSON()).toMatchObject({
      strike: 88000,
      mark_price: 0.12019417,
      option_type: 'P',
      expiry: Date.UTC(2026, 1, 6, 8),
    });
    expect(ut.getChild('snapshot_time')!.get(0)).toBe(1769937803513);
    expect(readdirSync(dir).sort()).toEqual(['instruments.arrow', 'underlyings.arrow']);
  });
});

describe('--expiries selects a sample', () => {
  const sample = importDeribit(FILES, { expiries: ['6FEB26', '27FEB26', '27MAR26'] });
  const s = sample.instruments;
  test.each([
    // option counts per expiry from the raw chain's underlying_name column: 72+72+112 BTC, 70+60+112 ETH
    ['BTC', 'option', 256],
    ['ETH', 'option', 242],
    ['BTC', 'future', 3],
    ['ETH', 'future', 3],
    ['BTC', 'perpetual', 1],
    ['ETH', 'perpetual', 1],
  ])('%s %s: %i', (u, kind, n) => {
    expect(s.instrument.filter((_, i) => s.underlying[i] === u && s.kind[i] === kind).length).toBe(n);
  });
  test('underlyings are those of the whole chain', () => {
    expect(sample.underlyings).toEqual(market.underlyings);
  });
  test('an expiry code with no instrument is an InputError', () => {
    expect(() => importDeribit(FILES, { expiries: ['30FEB26'] })).toThrow(/30FEB26.*no option or future expires/);
  });
});

describe('broken input → InputError naming file, row, column, value', () => {
  const raw = {
    chain: readFileSync(FILES.chain, 'utf8'),
    futures: readFileSync(FILES.futures, 'utf8'),
    perps: readFileSync(FILES.perpetuals, 'utf8'),
  };
  // replaces the value of `column` in data row `row` (0-based) of a CSV text without quoted fields
  function setCell(text: string, row: number, column: string, value: string): string {
    const lines = text.split('\n');
    const k = lines[0]!.split(',').indexOf(column);
    const cells = lines[row + 1]!.split(',');
    cells[k] = value;
    lines[row + 1] = cells.join(',');
    return lines.join('\n');
  }
  function dropColumn(text: string, column: string): string {
    const lines = text.trim().split('\n');
    const k = lines[0]!.split(',').indexOf(column);
    return lines
      .map((l) =>
        l
          .split(',')
          .filter((_, i) => i !== k)
          .join(','),
      )
      .join('\n');
  }
  const cases: [string, { chain?: string; futures?: string; perps?: string }, object][] = [
    [
      'missing column',
      { chain: dropColumn(raw.chain, 'implied_volatility') },
      { file: 'chain.csv', row: null, column: 'implied_volatility' },
    ],
    [
      'non-numeric strike',
      { chain: setCell(raw.chain, 5, 'strike', 'abc') },
      { file: 'chain.csv', row: 5, column: 'strike', value: '"abc"' },
    ],
    [
      'empty mark price',
      { chain: setCell(raw.chain, 9, 'mark_price', '') },
      { file: 'chain.csv', row: 9, column: 'mark_price', value: '""' },
    ],
    [
      'non-numeric bid',
      { chain: setCell(raw.chain, 3, 'bid_price', '0.1x') },
      { file: 'chain.csv', row: 3, column: 'bid_price', value: '"0.1x"' },
    ],
    [
      'unparseable expiry date',
      { chain: setCell(raw.chain, 7, 'expiry_datetime', '2026-02-31T08:00:00+00:00') },
      { file: 'chain.csv', row: 7, column: 'expiry_datetime', value: '"2026-02-31T08:00:00+00:00"' },
    ],
    [
      'unparseable timestamp',
      { chain: setCell(raw.chain, 0, 'timestamp', 'now') },
      { file: 'chain.csv', row: 0, column: 'timestamp', value: '"now"' },
    ],
    [
      'unknown option type',
      { chain: setCell(raw.chain, 2, 'option_type', 'straddle') },
      { file: 'chain.csv', row: 2, column: 'option_type', value: '"straddle"' },
    ],
    [
      'duplicate instrument',
      { chain: setCell(raw.chain, 4, 'instrument_name', 'BTC-6FEB26-88000-P') },
      { file: 'chain.csv', row: 4, column: 'instrument_name' },
    ],
    [
      'future without a date in its name',
      { futures: setCell(raw.futures, 1, 'futures_instrument_name', 'BTC-SOMEDAY') },
      { file: 'futures.csv', row: 1, column: 'futures_instrument_name', value: '"BTC-SOMEDAY"' },
    ],
    [
      'non-numeric future mark',
      { futures: setCell(raw.futures, 0, 'snapshot_term_mark_price', 'n/a') },
      { file: 'futures.csv', row: 0, column: 'snapshot_term_mark_price', value: '"n/a"' },
    ],
    [
      'perpetual mark missing',
      { perps: dropColumn(raw.perps, 'perp_futures_mark_price') },
      { file: 'perps.csv', row: null, column: 'perp_futures_mark_price' },
    ],
    [
      'perpetual of a coin with no index',
      { perps: setCell(raw.perps, 1, 'coin', 'SOL') },
      { file: 'perps.csv', row: 1, column: 'coin', value: '"SOL"' },
    ],
  ];
  test.each(cases)('%s', (_name, broken, expected) => {
    let err: unknown;
    try {
      importDeribitTables(
        parseCsv(broken.chain ?? raw.chain, 'chain.csv'),
        parseCsv(broken.futures ?? raw.futures, 'futures.csv'),
        parseCsv(broken.perps ?? raw.perps, 'perps.csv'),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).violations[0]).toMatchObject(expected);
  });

  function importError(broken: { chain?: string; futures?: string; perps?: string }): InputError {
    try {
      importDeribitTables(
        parseCsv(broken.chain ?? raw.chain, 'chain.csv'),
        parseCsv(broken.futures ?? raw.futures, 'futures.csv'),
        parseCsv(broken.perps ?? raw.perps, 'perps.csv'),
      );
    } catch (e) {
      if (e instanceof InputError) return e;
      throw e;
    }
    throw new Error('no InputError');
  }

  // docs/data.md "Validation": the rules the loader applies to instruments.arrow / underlyings.arrow, checked
  // here on the CSV cell the value comes from. Each case breaks one cell and must give exactly one violation.
  const ruleCases: [
    string,
    { chain?: string; futures?: string; perps?: string },
    string,
    number,
    string,
    string,
    RegExp,
  ][] = [
    [
      'negative implied volatility',
      { chain: setCell(raw.chain, 2, 'implied_volatility', '-0.3') },
      'chain.csv',
      2,
      'implied_volatility',
      '"-0.3"',
      /^is not in \(0, 10\]: mark_iv/,
    ],
    [
      'zero implied volatility',
      { chain: setCell(raw.chain, 3, 'implied_volatility', '0') },
      'chain.csv',
      3,
      'implied_volatility',
      '"0"',
      /^is not in \(0, 10\]/,
    ],
    [
      'implied volatility above 10',
      { chain: setCell(raw.chain, 4, 'implied_volatility', '10.5') },
      'chain.csv',
      4,
      'implied_volatility',
      '"10.5"',
      /^is not in \(0, 10\]/,
    ],
    [
      'zero strike',
      { chain: setCell(raw.chain, 5, 'strike', '0') },
      'chain.csv',
      5,
      'strike',
      '"0"',
      /^is not > 0: strike must be positive/,
    ],
    [
      'negative strike',
      { chain: setCell(raw.chain, 6, 'strike', '-88000') },
      'chain.csv',
      6,
      'strike',
      '"-88000"',
      /^is not > 0: strike must be positive/,
    ],
    [
      'strike not finite',
      { chain: setCell(raw.chain, 7, 'strike', '1e400') },
      'chain.csv',
      7,
      'strike',
      '"1e400"',
      /^is not a finite number/,
    ],
    [
      'zero forward (underlying)',
      { chain: setCell(raw.chain, 8, 'underlying', '0') },
      'chain.csv',
      8,
      'underlying',
      '"0"',
      /^is not > 0: forward must be positive/,
    ],
    [
      'negative mark price',
      { chain: setCell(raw.chain, 9, 'mark_price', '-0.01') },
      'chain.csv',
      9,
      'mark_price',
      '"-0.01"',
      /^is not >= 0: mark_price must not be negative/,
    ],
    [
      'zero index price',
      { chain: setCell(raw.chain, 10, 'index_price', '0') },
      'chain.csv',
      10,
      'index_price',
      '"0"',
      /^is not > 0: index_price must be positive/,
    ],
    [
      'option expired before the snapshot',
      { chain: setCell(raw.chain, 11, 'expiry_datetime', '2026-01-30T08:00:00+00:00') },
      'chain.csv',
      11,
      'expiry_datetime',
      '"2026-01-30T08:00:00.000Z"',
      /^is not after the snapshot time 2026-02-01T09:23:23\.513Z: .* expired at 2026-01-30T08:00:00\.000Z/,
    ],
    [
      'option type outside call | put',
      { chain: setCell(raw.chain, 12, 'option_type', 'X') },
      'chain.csv',
      12,
      'option_type',
      '"X"',
      /^is not an option type: expected call or put/,
    ],
    [
      'duplicate option name',
      { chain: setCell(raw.chain, 13, 'instrument_name', 'BTC-6FEB26-88000-P') },
      'chain.csv',
      13,
      'instrument_name',
      '"BTC-6FEB26-88000-P"',
      /^appears twice: instrument names must be unique \(first at chain\.csv row 0\)/,
    ],
    [
      'zero future mark',
      { futures: setCell(raw.futures, 2, 'snapshot_term_mark_price', '0') },
      'futures.csv',
      2,
      'snapshot_term_mark_price',
      '"0"',
      /^is not > 0: the mark is the forward/,
    ],
    [
      'future expired before the snapshot',
      { futures: setCell(raw.futures, 0, 'futures_instrument_name', 'BTC-30JAN26') },
      'futures.csv',
      0,
      'futures_instrument_name',
      '"2026-01-30T08:00:00.000Z"',
      /^is not after the snapshot time .*BTC-30JAN26 expired/,
    ],
    [
      'negative perpetual mark',
      { perps: setCell(raw.perps, 0, 'perp_futures_mark_price', '-1') },
      'perps.csv',
      0,
      'perp_futures_mark_price',
      '"-1"',
      /^is not > 0: the mark is the forward/,
    ],
    [
      'duplicate perpetual name',
      { perps: setCell(raw.perps, 1, 'instrument_name', 'BTC-PERPETUAL') },
      'perps.csv',
      1,
      'instrument_name',
      '"BTC-PERPETUAL"',
      /^appears twice.*first at perps\.csv row 0/,
    ],
  ];
  test.each(ruleCases)(
    '%s → one violation naming file, row, column, value, rule',
    (_name, broken, file, row, column, value, rule) => {
      const err = importError(broken);
      expect(err.violations).toHaveLength(1);
      const v = err.violations[0]!;
      expect({ file: v.file, row: v.row, column: v.column, value: v.value }).toEqual({ file, row, column, value });
      expect(v.rule).toMatch(rule);
      expect(err.message).toContain(`${file} row ${row}, column ${column}: ${value} ${v.rule}`);
    },
  );

  test('every violation is collected, in file and row order, not just the first', () => {
    let chain = setCell(raw.chain, 20, 'implied_volatility', '-0.3');
    chain = setCell(chain, 3, 'strike', 'abc');
    chain = setCell(chain, 3, 'mark_price', '-1');
    const err = importError({
      chain,
      futures: setCell(raw.futures, 1, 'snapshot_term_mark_price', '0'),
      perps: setCell(raw.perps, 0, 'perp_futures_mark_price', 'n/a'),
    });
    expect(err.violations.map((v) => [v.file, v.row, v.column, v.value])).toEqual([
      ['chain.csv', 3, 'strike', '"abc"'],
      ['chain.csv', 3, 'mark_price', '"-1"'],
      ['chain.csv', 20, 'implied_volatility', '"-0.3"'],
      ['futures.csv', 1, 'snapshot_term_mark_price', '"0"'],
      ['perps.csv', 0, 'perp_futures_mark_price', '"n/a"'],
    ]);
    expect(err.message.split('\n')[0]).toBe('5 input violations');
  });

  test('more than 20 violations: the message lists the first 20 and the count', () => {
    let chain = raw.chain;
    for (let r = 0; r < 25; r++) chain = setCell(chain, r, 'implied_volatility', '-1');
    const err = importError({ chain });
    expect(err.violations).toHaveLength(25);
    expect(err.violations.map((v) => v.row)).toEqual(Array.from({ length: 25 }, (_, r) => r));
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('25 input violations');
    expect(lines[20]!.trim()).toBe(
      'chain.csv row 19, column implied_volatility: "-1" is not in (0, 10]: mark_iv is a decimal volatility per year, 0 < mark_iv <= 10',
    );
    expect(lines[21]!.trim()).toBe('… and 5 more (25 in all)');
    expect(lines).toHaveLength(22);
  });

  test('missing columns of several files are all named', () => {
    const err = importError({ chain: dropColumn(raw.chain, 'strike'), perps: dropColumn(raw.perps, 'coin') });
    expect(err.violations.map((v) => [v.file, v.row, v.column])).toEqual([
      ['chain.csv', null, 'strike'],
      ['perps.csv', null, 'coin'],
    ]);
  });
});

describe('the import command', () => {
  const args = (out: string) => [
    'deribit',
    '--chain',
    FILES.chain,
    '--futures',
    FILES.futures,
    '--perpetuals',
    FILES.perpetuals,
    '--out',
    out,
    '--quiet',
  ];
  test('writes instruments.arrow and underlyings.arrow, identical for identical input', async () => {
    const a = join(tmp, 'cli-a'),
      b = join(tmp, 'cli-b');
    expect(await importMain(args(a))).toBe(0);
    expect(await importMain(args(b))).toBe(0);
    expect(readdirSync(a).sort()).toEqual(['instruments.arrow', 'underlyings.arrow']);
    expect(readFileSync(join(a, 'instruments.arrow')).equals(readFileSync(join(b, 'instruments.arrow')))).toBe(true);
  });
  test('a broken chain leaves no file behind', async () => {
    const bad = join(tmp, 'bad.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, readFileSync(FILES.chain, 'utf8').replace('0.5490999999999999', 'high'));
    const out = join(tmp, 'cli-bad');
    const a = args(out);
    a[2] = bad;
    await expect(importMain(a)).rejects.toThrow(/bad\.csv row 0, column implied_volatility: "high" is not a number/);
    expect(() => readdirSync(out)).toThrow();
  });
  test('messages name the file by the path as given, not its base name', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { relative } = await import('node:path');
    mkdirSync(join(tmp, 'given'), { recursive: true });
    const lines = readFileSync(FILES.chain, 'utf8').split('\n');
    const cells = lines[3]!.split(',');
    cells[lines[0]!.split(',').indexOf('implied_volatility')] = '-0.3';
    lines[3] = cells.join(',');
    const bad = relative(process.cwd(), join(tmp, 'given', 'ch_bad.csv'));
    writeFileSync(bad, lines.join('\n'));
    const a = args(join(tmp, 'cli-given'));
    a[2] = bad;
    await expect(importMain(a)).rejects.toThrow(
      `\n  ${bad} row 2, column implied_volatility: "-0.3" is not in (0, 10]`,
    );
  });
  test.each([
    // a NUL in the first KB: a binary file (here the committed Arrow file of the sample market)
    [
      'binary (NUL bytes)',
      () => readFileSync(join(import.meta.dirname, '../../data/sample/market/instruments.arrow')),
      /is not a text CSV file: it holds a NUL byte at byte \d+/,
    ],
    // Latin-1 "é" (0xe9) followed by a comma is not UTF-8
    [
      'invalid UTF-8',
      () => Buffer.from('a,b\ncaf\xe9,1\n', 'latin1'),
      /is not a text CSV file: it is not valid UTF-8 \(first bad byte at 7\)/,
    ],
  ])('a %s --chain is "not a text CSV file", naming the path', async (_name, bytes, msg) => {
    const { writeFileSync } = await import('node:fs');
    const bad = join(tmp, `not-text-${_name.length}.csv`);
    writeFileSync(bad, bytes());
    const a = args(join(tmp, 'cli-binary'));
    a[2] = bad;
    let err: unknown;
    try {
      await importMain(a);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).violations).toEqual([expect.objectContaining({ file: bad, row: null })]);
    expect((err as InputError).message).toMatch(msg);
    expect((err as InputError).message.startsWith(`${bad}: is not a text CSV file`)).toBe(true);
  });
  test('the summary prints index prices rounded for people', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      const a = args(join(tmp, 'cli-summary')).filter((x) => x !== '--quiet');
      expect(await importMain(a)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    // medians of the chain's index_price: BTC 78658.77, ETH (2411.01 + 2411.02) / 2 = 2411.0150000000003 in float64
    expect(text).toContain('  BTC index 78658.77\n');
    expect(text).toContain('  ETH index 2411.015\n');
    expect(text).not.toContain('2411.0150000000003');
  });
  test.each([
    [2411.0150000000003, '2411.015'],
    [78658.77, '78658.77'],
    [0.1 + 0.2, '0.3'],
    [123456789012.5, '123456789000'],
    [1e-7 / 3, '3.333333333e-8'],
  ])('formatPrice(%f) = %s', (x, s) => {
    expect(formatPrice(x)).toBe(s);
  });
  test.each([
    [['csv', '--out', 'x'], /only "deribit"/],
    [['deribit', '--out', 'x'], /--chain is required/],
  ])('usage errors %j', async (argv, msg) => {
    await expect(importMain(argv)).rejects.toThrow(msg);
  });
});
