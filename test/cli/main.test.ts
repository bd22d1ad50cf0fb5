/**
 * The command line's handling of bad input at its top level: every problem a user can cause is exit 2
 * with one clear message (no repeated lines, the command named once), file-system refusals included.
 */
import { describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemProblem, renderInputError } from '../../src/cli/main.js';
import { InputError, fileError } from '../../src/errors.js';
import { usageError } from '../../src/cli/args.js';
import { runMargin } from '../../src/pipeline/runMargin.js';

describe('renderInputError', () => {
  test('a usage error names the command once and says it once', () => {
    expect(renderInputError('run', usageError('run', '--market is required'))).toBe(
      'margin-engine run: --market is required (see --help)\n',
    );
  });

  test('a file-level error keeps the detail that adds something (column and value) and drops the repeat', () => {
    expect(renderInputError('validate', fileError('p.arrow', 'cannot be opened'))).toBe(
      'margin-engine validate: p.arrow: cannot be opened\n',
    );
    expect(renderInputError('validate', fileError('p.arrow', 'has the wrong type', 'quantity', 'Utf8'))).toBe(
      'margin-engine validate: p.arrow: has the wrong type\n  p.arrow column quantity: Utf8 has the wrong type\n',
    );
  });

  test('a lone violation without a summary is its own headline; several are listed under their count', () => {
    const one = new InputError({
      file: 'b.arrow',
      row: 3,
      column: 'amount',
      value: 'NaN',
      rule: 'is not a finite number',
    });
    expect(renderInputError('run', one)).toBe(
      'margin-engine run: b.arrow row 3, column amount: NaN is not a finite number\n',
    );
    const two = new InputError([
      { file: 'b.arrow', row: 3, column: 'amount', value: 'NaN', rule: 'is not a finite number' },
      { file: 'b.arrow', row: 5, column: 'currency', value: '"DOGE"', rule: 'is not an underlying or a cash currency' },
    ]);
    expect(renderInputError('run', two).split('\n')).toEqual([
      'margin-engine run: 2 input violations',
      '  b.arrow row 3, column amount: NaN is not a finite number',
      '  b.arrow row 5, column currency: "DOGE" is not an underlying or a cash currency',
      '',
    ]);
  });
});

describe('file-system refusals are bad input', () => {
  test.each([
    ['EACCES', 'permission denied'],
    ['EROFS', 'read-only file system'],
    ['EISDIR', 'is a directory, a file was expected'],
    ['ENOTDIR', 'a directory was expected'],
    ['EEXIST', 'already exists'],
  ])('%s names the path and the problem', (code, words) => {
    const e = Object.assign(new Error('raw'), { code, path: '/out/x', syscall: 'open' });
    expect(fileSystemProblem(e)).toBe(`/out/x: ${words} (open: ${code})`);
  });

  test('other errors stay internal', () => {
    expect(fileSystemProblem(new Error('boom'))).toBeNull();
    expect(fileSystemProblem(Object.assign(new Error('full'), { code: 'ENOSPC' }))).toBeNull();
  });

  test('run refuses a report it cannot write before computing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-cli-'));
    const file = join(dir, 'f');
    writeFileSync(file, '');
    const ROOT = join(import.meta.dirname, '../..');
    const base = {
      marketDir: join(ROOT, 'data/sample/market'),
      positions: join(ROOT, 'data/sample/book/positions.arrow'),
      balances: join(ROOT, 'data/sample/book/balances.arrow'),
      models: ['deribit-pm' as const],
      backend: 'cpu' as const,
      onInvalid: 'fail' as const,
    };
    await expect(runMargin({ ...base, db: join(dir, 'missing', 'r.duckdb') })).rejects.toThrow(
      /--db.*its directory .* does not exist/,
    );
    await expect(runMargin({ ...base, db: dir })).rejects.toThrow(/is a directory, not a DuckDB file/);
    await expect(runMargin({ ...base, db: join(file, 'r.duckdb') })).rejects.toThrow(InputError);
  });
});
