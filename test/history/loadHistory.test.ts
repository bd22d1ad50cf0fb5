/**
 * History input (issue 4, item 2): the files of data/history load as they are documented in its README;
 * broken files are refused with messages naming file, row (0-based data row), column, value and rule.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { formatDay, parseDay } from '../../src/history/dates.js';
import { loadHistory } from '../../src/history/loadHistory.js';
import { volIndexOnOrBefore } from '../../src/history/lookup.js';

const HEADER = 'datetime,open,high,low,close,volume';
const row = (d: string, close: string) => `${d},1,1,1,${close},10`;

function dirWith(files: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), lines.join('\n') + '\n');
  return dir;
}

describe('data/history', async () => {
  const h = await loadHistory('data/history', ['BTC', 'ETH', 'SOL']);
  test.each([
    { u: 'BTC', first: '2014-09-17', last: '2025-02-19', n: 3809, close0: 457.3340148925781 },
    { u: 'ETH', first: '2017-11-09', last: '2025-02-19', n: 2660, close0: 320.8840026855469 },
    { u: 'SOL', first: '2020-04-10', last: '2025-02-19', n: 1777, close0: 0.9510539770126343 },
  ])('$u: $first .. $last ($n closes; the partial day 2025-02-20 dropped)', ({ u, first, last, n, close0 }) => {
    const s = h.prices.get(u)!;
    expect(s.close.length).toBe(n);
    expect(formatDay(s.day[0]!)).toBe(first);
    expect(formatDay(s.day[n - 1]!)).toBe(last);
    expect(s.close[0]).toBe(close0);
  });
  test('BTC DVOL: 1594 values from 2021-03-24, last value on or before a missing day', () => {
    const v = h.volIndex.get('BTC')!;
    expect(v.value.length).toBe(1594);
    expect(formatDay(v.day[0]!)).toBe('2021-03-24');
    expect(h.volIndex.has('ETH')).toBe(false);
    // 2026-04-16..18 are missing: the value of 2026-04-15 (43.92) answers for them
    expect(volIndexOnOrBefore(v, parseDay('2026-04-17'))).toBe(43.92);
    expect(volIndexOnOrBefore(v, parseDay('2026-04-19'))).toBe(43.44);
    expect(Number.isNaN(volIndexOnOrBefore(v, parseDay('2021-03-23')))).toBe(true);
  });
});

describe('broken files', () => {
  const ok = [HEADER, row('2024-01-01', '100'), row('2024-01-02', '101')];
  test.each([
    {
      name: 'gap',
      lines: [HEADER, row('2024-01-01', '100'), row('2024-01-02', '101'), row('2024-01-05', '99')],
      msg: /X-USD_1d\.csv row 2, column datetime: "2024-01-05" leaves a gap after 2024-01-02: 2 calendar days missing \(first 2024-01-03\)/,
    },
    {
      name: 'duplicate',
      lines: [HEADER, row('2024-01-01', '100'), row('2024-01-01', '101')],
      msg: /row 1, column datetime: "2024-01-01" duplicates the date of row 0/,
    },
    {
      name: 'unsorted',
      lines: [HEADER, row('2024-01-02', '100'), row('2024-01-01', '101')],
      msg: /row 1, column datetime: "2024-01-01" is before the date of row 0 \(2024-01-02\): dates must be ascending/,
    },
    {
      name: 'zero price',
      lines: [HEADER, row('2024-01-01', '100'), row('2024-01-02', '0')],
      msg: /row 1, column close: 0 must be positive/,
    },
    {
      name: 'negative price',
      lines: [HEADER, row('2024-01-01', '-5')],
      msg: /row 0, column close: -5 must be positive/,
    },
    {
      name: 'non-numeric price',
      lines: [HEADER, row('2024-01-01', 'n/a')],
      msg: /row 0, column close: "n\/a" is not a finite number/,
    },
    {
      name: 'empty price',
      lines: [HEADER, row('2024-01-01', '')],
      msg: /row 0, column close: "" is not a finite number/,
    },
    {
      name: 'bad date',
      lines: [HEADER, row('2024-13-01', '1')],
      msg: /row 0, column datetime: "2024-13-01" is not a date YYYY-MM-DD/,
    },
    { name: 'no close column', lines: ['datetime,open', '2024-01-01,1'], msg: /X-USD_1d\.csv: has no column close/ },
    { name: 'header only', lines: [HEADER], msg: /X-USD_1d\.csv: has a header but no rows/ },
  ])('closes, $name', async ({ lines, msg }) => {
    const dir = dirWith({ 'X-USD_1d.csv': lines });
    await expect(loadHistory(dir, ['X'])).rejects.toThrow(InputError);
    await expect(loadHistory(dir, ['X'])).rejects.toThrow(msg);
  });

  test('a missing closes file names the file', async () => {
    const dir = dirWith({ 'X-USD_1d.csv': ok });
    await expect(loadHistory(dir, ['X', 'Y'])).rejects.toThrow(
      /Y-USD_1d\.csv: no such file: daily closes of Y are needed/,
    );
  });

  test('vol index: missing days are fine; duplicates and non-positive values are not', async () => {
    const good = dirWith({ 'X-USD_1d.csv': ok, 'dvol_x.csv': ['date,dvol', '2024-01-01,50', '2024-01-05,55'] });
    const h = await loadHistory(good, ['X']);
    expect(Array.from(h.volIndex.get('X')!.value)).toEqual([50, 55]);
    const bad = dirWith({
      'X-USD_1d.csv': ok,
      'dvol_x.csv': ['date,dvol', '2024-01-01,50', '2024-01-01,51', '2024-01-03,-1'],
    });
    await expect(loadHistory(bad, ['X'])).rejects.toThrow(
      /dvol_x\.csv row 1, column date: "2024-01-01" duplicates the date of row 0\n.*dvol_x\.csv row 2, column dvol: -1 must be positive/,
    );
  });

  test('every violation is listed, not only the first', async () => {
    const dir = dirWith({
      'X-USD_1d.csv': [HEADER, row('2024-01-01', '0'), row('2024-01-02', 'x'), row('2024-01-02', '3')],
    });
    const e = await loadHistory(dir, ['X']).catch((x: unknown) => x as InputError);
    expect((e as InputError).violations.map((v) => [v.row, v.column])).toEqual([
      [0, 'close'],
      [1, 'close'],
      [2, 'datetime'],
    ]);
  });
});
