/**
 * stress (docs/methodology.md §3e): the built-in library against the closes in data/history (each move is the
 * close ratio on the dates it claims; each event is the extreme it claims), and the validation of
 * user-written event files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseDay } from '../../src/history/dates.js';
import { loadHistory } from '../../src/history/loadHistory.js';
import { priceIndex, volIndexOnOrBefore } from '../../src/history/lookup.js';
import { defaultParams } from '../../src/params/params.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { buildStress } from '../../src/scenarios/stress.js';
import { parseStressEvents, readStressFile } from '../../src/scenarios/stressEvent.js';
import {
  BUILTIN_STRESS_EVENTS,
  CRASH_WITH_SKEW_STEEPENING,
  deriveStressLibrary,
} from '../../src/scenarios/stressLibrary.js';
import { VOL_MULT, VOL_NONE } from '../../src/scenarios/types.js';
import { marketOf } from './fixtures.js';

const history = await loadHistory('data/history', ['BTC', 'ETH', 'SOL']);

describe('built-in library', () => {
  test('equals the library re-derived from data/history', () => {
    expect(deriveStressLibrary(history)).toEqual(BUILTIN_STRESS_EVENTS);
    expect(BUILTIN_STRESS_EVENTS.length).toBe(16);
  });

  test.each(BUILTIN_STRESS_EVENTS.map((e) => ({ name: e.name, e })))(
    '$name: every move is the close ratio from its dates',
    ({ e }) => {
      const from = parseDay(e.from!),
        to = parseDay(e.to!);
      for (const [u, m] of Object.entries(e.moves)) {
        const s = history.prices.get(u)!;
        expect(m).toBe(s.close[priceIndex(s, to)]! / s.close[priceIndex(s, from)]! - 1);
      }
      // underlyings not listed had no close on one of the dates
      for (const u of ['BTC', 'ETH', 'SOL'].filter((x) => !(x in e.moves))) {
        const s = history.prices.get(u)!;
        expect(priceIndex(s, from) < 0 || priceIndex(s, to) < 0).toBe(true);
      }
      for (const [u, g] of Object.entries(e.volMultipliers ?? {})) {
        const vi = history.volIndex.get(u)!;
        expect(g).toBe(volIndexOnOrBefore(vi, to) / volIndexOnOrBefore(vi, from));
      }
    },
  );

  test.each(BUILTIN_STRESS_EVENTS.map((e) => ({ name: e.name, e })))(
    '$name: no ratio of its leader over its horizon and era is more extreme',
    ({ e }) => {
      const m = /^(\w+) largest (\d)-day (fall|rise)(?: since (\S+))?:/.exec(e.name)!;
      const [lead, h, dir, since] = [m[1]!, Number(m[2]), m[3]!, m[4]];
      const s = history.prices.get(lead)!;
      const start = since ? parseDay(since) : -Infinity;
      const mine = e.moves[lead]! + 1;
      for (let i = h; i < s.close.length; i++) {
        if (s.day[i - h]! < start) continue;
        const ratio = s.close[i]! / s.close[i - h]!;
        if (dir === 'fall') expect(ratio).toBeGreaterThanOrEqual(mine);
        else expect(ratio).toBeLessThanOrEqual(mine);
      }
      expect(parseDay(e.to!) - parseDay(e.from!)).toBe(h);
    },
  );

  test('the set: one scenario per event; missing underlyings move 0 and are listed; DVOL as mult', () => {
    const set = buildScenarios('stress', marketOf(['BTC', 'ETH', 'SOL']), defaultParams());
    expect(set.count).toBe(16 + 1); // + the crash with skew steepening (test/scenarios/surfaceStress.test.ts)
    expect(set.label[0]).toBe('BTC largest 1-day fall: 2020-03-12');
    expect(set.move[2]).toBe(0); // SOL did not trade in 2020-03
    expect((set.meta.unmoved as Record<string, string[]>)['BTC largest 1-day fall: 2020-03-12']).toEqual(['SOL']);
    const k = set.label.indexOf('BTC largest 2-day fall since 2021-03-24: 2022-11-09');
    expect(set.volRule[k * 3]).toBe(VOL_MULT);
    expect(set.volParam[k * 3]).toBe(BUILTIN_STRESS_EVENTS[k]!.volMultipliers!.BTC);
    expect(set.volRule[k * 3 + 1]).toBe(VOL_NONE);
  });
});

describe('user events', () => {
  test('a valid file: moves, vol multipliers, dt_days; underlyings not named move 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stress-'));
    const f = join(dir, 'events.json');
    writeFileSync(
      f,
      JSON.stringify([
        { name: 'crash, with a comma', moves: { BTC: -0.4, ETH: -0.5 }, vol_multipliers: { BTC: 2 }, dt_days: 1 },
        { name: 'rally', moves: { BTC: 0.3 } },
      ]),
    );
    const set = buildStress(marketOf(['BTC', 'ETH']), readStressFile(f), f);
    expect(Array.from(set.move)).toEqual([-0.4, -0.5, 0.3, 0]);
    expect(Array.from(set.volRule)).toEqual([VOL_MULT, VOL_NONE, VOL_NONE, VOL_NONE]);
    expect(Array.from(set.volParam)).toEqual([2, 1, 1, 1]);
    expect(Array.from(set.dtDays)).toEqual([1, 0]);
    expect(set.label).toEqual(['crash, with a comma', 'rally']);
  });

  // a user's events are for the market at hand: a move of an underlying it lacks is a typo or the wrong
  // market, and dropping it would understate the stress (tester's report: XRP −50% on BTC/ETH exited 0)
  test.each([
    {
      events: [{ name: 'x', moves: { XRP: -0.5 } }],
      msg: /ev\.json row 0, column moves\.XRP: -0\.5 is not an underlying of the market \(BTC, ETH\)/,
    },
    {
      events: [
        { name: 'a', moves: { BTC: -0.1 } },
        { name: 'b', moves: { BTC: -0.2, DOGE: -0.9 } },
      ],
      msg: /ev\.json row 1, column moves\.DOGE: -0\.9 is not an underlying of the market \(BTC, ETH\)/,
    },
    {
      events: [{ name: 'a', moves: { BTC: -0.1 }, vol_multipliers: { SOL: 2 } }],
      msg: /ev\.json row 0, column vol_multipliers\.SOL: 2 is not an underlying of the market \(BTC, ETH\)/,
    },
  ])('refused for a BTC/ETH market: $msg', ({ events, msg }) => {
    const market = marketOf(['BTC', 'ETH']);
    const parsed = parseStressEvents(events, 'ev.json');
    expect(() => buildStress(market, parsed, 'ev.json')).toThrow(InputError);
    expect(() => buildStress(market, parsed, 'ev.json')).toThrow(msg);
  });

  test('every foreign key is listed; through buildScenarios with a file too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stress-'));
    const f = join(dir, 'ev.json');
    writeFileSync(
      f,
      JSON.stringify([
        { name: 'x', moves: { XRP: -0.5, BTC: -0.1 }, vol_multipliers: { XRP: 3 } },
        { name: 'y', moves: { ADA: 0.2 } },
      ]),
    );
    let e: InputError | null = null;
    try {
      buildScenarios('stress', marketOf(['BTC', 'ETH']), defaultParams(), { stressFile: f });
    } catch (x) {
      e = x as InputError;
    }
    expect(e).toBeInstanceOf(InputError);
    expect(e!.violations.map((v) => [v.file, v.row, v.column, v.value])).toEqual([
      [f, 0, 'moves.XRP', '-0.5'],
      [f, 0, 'vol_multipliers.XRP', '3'],
      [f, 1, 'moves.ADA', '0.2'],
    ]);
  });

  test('the built-in library on a BTC/ETH market leaves SOL out (listed in meta.ignoredUnderlyings), refusing nothing', () => {
    const set = buildScenarios('stress', marketOf(['BTC', 'ETH']), defaultParams());
    expect(set.count).toBe(BUILTIN_STRESS_EVENTS.length + 1); // + the crash with skew steepening
    const ignored = set.meta.ignoredUnderlyings as Record<string, string[]>;
    const withSol = [...BUILTIN_STRESS_EVENTS, CRASH_WITH_SKEW_STEEPENING].filter(
      (e) => 'SOL' in e.moves || 'SOL' in (e.volMultipliers ?? {}),
    );
    expect(withSol.length).toBeGreaterThan(0);
    expect(Object.keys(ignored)).toEqual(withSol.map((e) => e.name));
    for (const names of Object.values(ignored)) expect(names).toEqual(['SOL']);
  });

  test.each([
    { json: {}, msg: /ev\.json: must be a JSON list of events/ },
    { json: [], msg: /ev\.json: lists no events/ },
    { json: [{ moves: { BTC: -0.1 } }], msg: /ev\.json row 0, column name: must be a non-empty string/ },
    {
      json: [
        { name: 'a', moves: { BTC: -0.1 } },
        { name: 'a', moves: { BTC: 0.1 } },
      ],
      msg: /row 1, column name: "a" duplicates the name of event 0/,
    },
    { json: [{ name: 'a' }], msg: /row 0, column moves: is required/ },
    { json: [{ name: 'a', moves: { BTC: -1 } }], msg: /row 0, column moves\.BTC: -1 must be > −1/ },
    { json: [{ name: 'a', moves: { BTC: '0.1' } }], msg: /row 0, column moves\.BTC: "0\.1" must be a finite number/ },
    { json: [{ name: 'a', moves: { btc: 0.1 } }], msg: /row 0, column moves\.btc: is not an underlying name/ },
    {
      json: [{ name: 'a', moves: { BTC: 0.1 }, vol_multipliers: { BTC: 0 } }],
      msg: /row 0, column vol_multipliers\.BTC: 0 must be > 0/,
    },
    {
      json: [{ name: 'a', moves: { BTC: 0.1 }, dt_days: -1 }],
      msg: /row 0, column dt_days: -1 must be a finite number ≥ 0/,
    },
    {
      json: [{ name: 'a', moves: { BTC: 0.1 }, shock: 1 }],
      msg: /row 0, column shock: is not a key of a stress event/,
    },
    {
      json: [{ name: 'a', moves: { BTC: 0.1 }, from: '2020-02-30' }],
      msg: /row 0, column from: "2020-02-30" must be a date YYYY-MM-DD/,
    },
  ])('refused: $msg', ({ json, msg }) => {
    expect(() => parseStressEvents(json, 'ev.json')).toThrow(InputError);
    expect(() => parseStressEvents(json, 'ev.json')).toThrow(msg);
  });
});
