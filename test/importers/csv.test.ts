// The CSV reader the importers use: RFC 4180 quoting (https://www.rfc-editor.org/rfc/rfc4180, section 2)
// and the typed cell accessors' error messages (docs/data.md, "Validation": file, row, column, value, rule).
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { columnIndex, dateCell, numberCell, parseCsv, parseIsoMs } from '../../src/importers/csv.js';

describe('parseCsv', () => {
  test.each([
    // [text, expected rows after the header]  (RFC 4180 §2 rules 5–7)
    ['a,b\n1,2\n', [['1', '2']]],
    [
      'a,b\r\n1,2\r\n3,4',
      [
        ['1', '2'],
        ['3', '4'],
      ],
    ],
    ['a,b\n"x,y",2\n', [['x,y', '2']]],
    ['a,b\n"say ""hi""",2\n', [['say "hi"', '2']]],
    ['a,b\n"line\nbreak",2\n', [['line\nbreak', '2']]],
    ['a,b\n,\n', [['', '']]],
    ['a,b\n1,2\n\n', [['1', '2']]],
    ['\ufeffa,b\n1,2', [['1', '2']]],
  ])('%j', (text, rows) => {
    const t = parseCsv(text, 'x.csv');
    expect(t.header).toEqual(['a', 'b']);
    expect(t.rows).toEqual(rows);
  });

  test.each([
    ['a,b\n"open,2\n', null, /never closed/],
    ['a,b\n1,2\n3\n', 1, /fields, expected 2/],
    ['', null, /empty/],
  ])('bad CSV %j is an InputError naming the file (row %s)', (text, row, rule) => {
    let err: unknown;
    try {
      parseCsv(text, 'x.csv');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const v = (err as InputError).violations[0]!;
    expect(v.file).toBe('x.csv');
    expect(v.row).toBe(row);
    expect(v.rule).toMatch(rule);
  });
});

describe('cell accessors', () => {
  const t = parseCsv(
    'n,d\n1.5,2026-02-01T09:23:23.513428+00:00\nabc,yesterday\n,2026-02-30T00:00:00Z\n1e400,2026-02-01\n',
    'cells.csv',
  );
  test('numbers and dates that parse', () => {
    expect(numberCell(t, 0, 0)).toBe(1.5);
    expect(dateCell(t, 0, 1)).toBe(Date.UTC(2026, 1, 1, 9, 23, 23, 513));
    expect(numberCell(t, 2, 0, true)).toBeNull();
    expect(dateCell(t, 3, 1)).toBe(Date.UTC(2026, 1, 1));
  });
  test.each([
    ['non-numeric', () => numberCell(t, 1, 0), 1, 'n', '"abc"'],
    ['empty required number', () => numberCell(t, 2, 0), 2, 'n', '""'],
    ['overflowing number', () => numberCell(t, 3, 0), 3, 'n', '"1e400"'],
    ['unparseable date', () => dateCell(t, 1, 1), 1, 'd', '"yesterday"'],
    ['impossible date', () => dateCell(t, 2, 1), 2, 'd', '"2026-02-30T00:00:00Z"'],
    ['missing column', () => columnIndex(t, 'strike'), null, 'strike', null],
  ])('%s → InputError with file, row, column, value', (_name, f, row, column, value) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).violations[0]).toMatchObject({ file: 'cells.csv', row, column, value });
  });

  test.each([
    ['2026-02-01T09:23:23+00:00', Date.UTC(2026, 1, 1, 9, 23, 23)],
    ['2026-02-01T09:23:23Z', Date.UTC(2026, 1, 1, 9, 23, 23)],
    ['2026-02-01T10:23:23+01:00', Date.UTC(2026, 1, 1, 9, 23, 23)],
    ['2026-02-01 09:23:23.9999', Date.UTC(2026, 1, 1, 9, 23, 23, 999)],
    ['2026-13-01', NaN],
  ])('parseIsoMs(%j)', (s, ms) => {
    expect(parseIsoMs(s)).toBe(ms);
  });
});
