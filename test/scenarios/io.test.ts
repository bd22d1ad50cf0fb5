/**
 * Scenario files (issue 4, item 1): every family written as CSV and as Arrow reads back into an identical
 * set (bit for bit; meta too for Arrow), and a broken file is refused naming file, row, column, value, rule.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadHistory } from '../../src/history/loadHistory.js';
import { defaultParams } from '../../src/params/params.js';
import { FAMILIES, buildScenarios } from '../../src/scenarios/build.js';
import { readScenarioFile, writeScenarioFile } from '../../src/scenarios/io.js';
import type { ScenarioSet } from '../../src/scenarios/types.js';
import { marketOf } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'scenario-io-'));
const market = marketOf(['BTC', 'ETH', 'SOL']);
const history = await loadHistory('data/history', ['BTC', 'ETH', 'SOL']);
const p = defaultParams();
const sets: Record<string, ScenarioSet> = {
  'deribit-pm': buildScenarios('deribit-pm', market, p),
  span: buildScenarios('span', market, p, { history }),
  historical: buildScenarios('historical', market, p, { history, count: 200 }),
  'monte-carlo': buildScenarios('monte-carlo', market, p, { history, count: 500, seed: 3 }),
  stress: buildScenarios('stress', market, p),
};

const bits = (x: Float64Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length * 2));
function expectSameArrays(a: ScenarioSet, b: ScenarioSet): void {
  expect(b.family).toBe(a.family);
  expect(b.count).toBe(a.count);
  expect(b.underlyings).toEqual(a.underlyings);
  expect(Array.from(b.id)).toEqual(Array.from(a.id));
  expect(b.label).toEqual(a.label);
  for (const k of ['weight', 'dtDays', 'move', 'deltaOneMove', 'volParam'] as const)
    expect(bits(b[k]), k).toEqual(bits(a[k]));
  expect(Array.from(b.volRule)).toEqual(Array.from(a.volRule));
}

describe('round trip', () => {
  test.each(FAMILIES.flatMap((f) => ['csv', 'arrow'].map((ext) => ({ f, ext }))))('$f as .$ext', ({ f, ext }) => {
    const file = join(dir, `${f}.${ext}`);
    writeScenarioFile(sets[f]!, file);
    const back = readScenarioFile(file, market);
    expectSameArrays(sets[f]!, back);
    if (ext === 'arrow') expect(back.meta).toEqual(sets[f]!.meta);
    else expect(back.meta).toEqual({ source: file });
  });

  test('CSV columns: the documented names, per-underlying weight and delta-one only where they differ', () => {
    const head = (f: string) =>
      readFileSync(join(dir, `${f}.csv`), 'utf8')
        .split('\n')[0]!
        .split(',');
    expect(head('stress')).toEqual([
      'scenario',
      'family',
      'label',
      'weight',
      'dt_days',
      'BTC_move',
      'BTC_vol_rule',
      'BTC_vol_mult',
      'ETH_move',
      'ETH_vol_rule',
      'ETH_vol_mult',
      'SOL_move',
      'SOL_vol_rule',
      'SOL_vol_mult',
    ]);
    expect(head('deribit-pm').slice(5, 10)).toEqual([
      'BTC_move',
      'BTC_vol_rule',
      'BTC_vol_mult',
      'BTC_weight',
      'BTC_delta_one_move',
    ]);
    expect(head('span').slice(5, 9)).toEqual(['BTC_move', 'BTC_vol_rule', 'BTC_vol_mult', 'BTC_vol_shift']);
  });

  test('a file for more underlyings reads back for a market with fewer (extra columns ignored and listed)', () => {
    const back = readScenarioFile(join(dir, 'stress.csv'), marketOf(['ETH']));
    expect(back.underlyings).toEqual(['ETH']);
    // the built-in library: 16 events + the crash with skew steepening (docs/methodology.md §11c)
    expect(Array.from(back.move)).toEqual(Array.from({ length: 17 }, (_, s) => sets.stress!.move[s * 3 + 1]!));
    expect(back.meta.ignoredColumns).toEqual([
      'BTC_move',
      'BTC_vol_rule',
      'BTC_vol_mult',
      'SOL_move',
      'SOL_vol_rule',
      'SOL_vol_mult',
    ]);
  });
});

describe('validation', () => {
  const one = marketOf(['BTC']);
  const H = 'scenario,family,label,weight,dt_days,BTC_move,BTC_vol_rule,BTC_vol_mult';
  test.each([
    {
      name: 'missing column',
      lines: ['scenario,family,label,weight,dt_days,BTC_move,BTC_vol_rule', '0,stress,a,1,0,0.1,none'],
      msg: /bad\.csv column BTC_vol_mult: is missing/,
    },
    {
      name: 'unknown family',
      lines: [H, '0,fancy,a,1,0,0.1,none,1'],
      msg: /bad\.csv row 0, column family: "fancy" is not a scenario family/,
    },
    {
      name: 'mixed family',
      lines: [H, '0,stress,a,1,0,0.1,none,1', '1,span,b,1,0,0.1,none,1'],
      msg: /row 1, column family: "span" differs from row 0/,
    },
    {
      name: 'repeated id',
      lines: [H, '0,stress,a,1,0,0.1,none,1', '0,stress,b,1,0,0.1,none,1'],
      msg: /row 1, column scenario: "0" repeats the id of row 0/,
    },
    {
      name: 'non-integer id',
      lines: [H, '1.5,stress,a,1,0,0.1,none,1'],
      msg: /row 0, column scenario: "1\.5" is not a non-negative integer/,
    },
    { name: 'move ≤ −1', lines: [H, '0,stress,a,1,0,-1,none,1'], msg: /row 0, column BTC_move: "-1" must be > −1/ },
    {
      name: 'move not a number',
      lines: [H, '0,stress,a,1,0,abc,none,1'],
      msg: /row 0, column BTC_move: "abc" is not a finite number/,
    },
    {
      name: 'negative weight',
      lines: [H, '0,stress,a,-1,0,0.1,none,1'],
      msg: /row 0, column weight: "-1" must be ≥ 0/,
    },
    {
      name: 'unknown vol rule',
      lines: [H, '0,stress,a,1,0,0.1,sideways,1'],
      msg: /row 0, column BTC_vol_rule: "sideways" is not a vol rule \(one of up, none, down, rel_up, rel_down, mult\)/,
    },
    {
      name: 'multiplier without mult',
      lines: [H, '0,stress,a,1,0,0.1,up,2'],
      msg: /row 0, column BTC_vol_mult: 2 must be 1 when the vol rule is up/,
    },
    {
      name: 'non-positive multiplier',
      lines: [H, '0,stress,a,1,0,0.1,mult,0'],
      msg: /row 0, column BTC_vol_mult: "0" must be > 0/,
    },
    {
      name: 'relative rule without shift',
      lines: [H, '0,span,a,1,0,0.1,rel_up,1'],
      msg: /row 0, column BTC_vol_shift: is missing: vol rule rel_up needs the relative shift/,
    },
    { name: 'no rows', lines: [H], msg: /bad\.csv: has no scenarios/ },
  ])('refused: $name', ({ lines, msg }) => {
    const f = join(dir, 'bad.csv');
    writeFileSync(f, lines.join('\n') + '\n');
    expect(() => readScenarioFile(f, one)).toThrow(InputError);
    expect(() => readScenarioFile(f, one)).toThrow(msg);
  });

  test('a hand-written CSV with quoted labels reads', () => {
    const f = join(dir, 'hand.csv');
    writeFileSync(f, [H, '0,stress,"crash, ""big""",1,0.5,-0.3,mult,1.8', '5,stress,calm,1,0,0,none,1'].join('\r\n'));
    const s = readScenarioFile(f, one);
    expect(s.label).toEqual(['crash, "big"', 'calm']);
    expect(Array.from(s.id)).toEqual([0, 5]);
    expect(Array.from(s.volParam)).toEqual([1.8, 1]);
    expect(Array.from(s.dtDays)).toEqual([0.5, 0]);
  });

  // tester's report: a truncated .arrow said "(Cannot read properties of null (reading 'fieldsLength'))" and a
  // text file named .arrow "(Expected to read 1819043176 metadata bytes, but only read 8.)"; the wording
  // mirrors the input loader's openArrow (src/io/arrowSource.ts)
  const EXPECTED = /expected an Arrow IPC file \(starting and ending with ARROW1\) or an Arrow IPC stream/;
  const good = (): Buffer => {
    const f = join(dir, 'good.arrow');
    writeScenarioFile(sets.stress!, f);
    return readFileSync(f);
  };
  test.each([
    {
      name: 'truncated to half',
      bytes: () => good().subarray(0, good().length >> 1),
      msg: /bad\.arrow: is truncated or corrupt: the Arrow IPC file does not end with ARROW1 \(its footer is missing\)/,
    },
    {
      name: 'last byte cut',
      bytes: () => good().subarray(0, good().length - 1),
      msg: /bad\.arrow: is truncated or corrupt: the Arrow IPC file does not end with ARROW1/,
    },
    {
      name: 'only the magic',
      bytes: () => good().subarray(0, 8),
      msg: /bad\.arrow: is truncated: an Arrow IPC file of 8 bytes has no footer/,
    },
    {
      name: 'text named .arrow',
      bytes: () => Buffer.from('hello world\n'),
      msg: /bad\.arrow: is not Arrow \(it starts with the text "hello wo"\)/,
    },
    {
      name: 'binary named .arrow',
      bytes: () => Buffer.from([0, 1, 2, 0xfe]),
      msg: /bad\.arrow: is not Arrow \(it starts with the bytes 00 01 02 fe\)/,
    },
    { name: 'empty', bytes: () => Buffer.alloc(0), msg: /bad\.arrow: is empty/ },
    {
      name: 'magic at both ends, garbage between',
      bytes: () => {
        const g = good();
        return Buffer.concat([g.subarray(0, 8), Buffer.alloc(g.length - 16, 0x7f), g.subarray(g.length - 8)]);
      },
      msg: /bad\.arrow: is corrupt or truncated: the Arrow IPC file cannot be read/,
    },
    {
      name: 'stream cut inside its schema',
      bytes: () => Buffer.from(tableToIPC(tableFromArrays({ a: Float64Array.from([1, 2]) }), 'stream').subarray(0, 20)),
      msg: /bad\.arrow: is corrupt or truncated: the Arrow IPC stream cannot be read/,
    },
  ])('refused: $name', ({ bytes, msg }) => {
    const f = join(dir, 'bad.arrow');
    writeFileSync(f, bytes());
    let e: unknown = null;
    try {
      readScenarioFile(f, market);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).toMatch(msg);
    expect(m).toMatch(EXPECTED);
    expect(m).not.toMatch(/Cannot read properties|fieldsLength|1819043176/); // never the library message alone
  });

  test('an Arrow stream reads too; a directory or a missing file is named plainly', () => {
    const f = join(dir, 'stream.arrows');
    const file = join(dir, 'for-stream.arrow');
    writeScenarioFile(sets.stress!, file);
    writeFileSync(f, tableToIPC(tableFromIPC(readFileSync(file)), 'stream'));
    expectSameArrays(sets.stress!, readScenarioFile(f, market));
    expect(() => readScenarioFile(dir, market)).toThrow(/is a directory, not a scenario file/);
    expect(() => readScenarioFile(join(dir, 'nope.arrow'), market)).toThrow(/nope\.arrow: not found/);
  });

  test('.csv or .arrow only', () => {
    expect(() => writeScenarioFile(sets.stress!, join(dir, 'x.parquet'))).toThrow(/must end in \.csv or \.arrow/);
  });
});
