/**
 * Surface stress (docs/methodology.md §11c): the stress file's surface_level / surface_skew / surface_term
 * fields, src/surface/shock.ts, and their revaluation (kernels/revalue.ts RevalueColumns.shockedSurface):
 * - a level shock a scales the ATM total variance by exactly 1 + a; a skew shock adds to ρ; a term shock
 *   weighs the short end by e^{−T/τ};
 * - on a market whose mark_iv ARE an SVI surface (test/surface/sviMarket.ts), a level shock of 0.21 is the
 *   vol multiplier 1.1 (σ' = σ + 1.1·vol − vol), P&L to 1e-9 of the forward, on the cpu form and the pool;
 * - a shocked slice with butterfly arbitrage is repaired;
 * - the built-in "crash with skew steepening" is re-derived from data/history;
 * - bad values are refused with file, row, column and rule.
 */
import { describe, expect, test } from 'vitest';
import { loadHistory } from '../../src/history/loadHistory.js';
import { parseStressEvents } from '../../src/scenarios/stressEvent.js';
import { buildStress } from '../../src/scenarios/stress.js';
import { CRASH_WITH_SKEW_STEEPENING, deriveCrashWithSkewSteepening } from '../../src/scenarios/stressLibrary.js';
import { shockSlice, TERM_SHOCK_TAU } from '../../src/surface/shock.js';
import { butterflyFree, sviW, type SviParams } from '../../src/surface/svi.js';
import { fitSurface, instrumentSlices } from '../../src/surface/surface.js';
import { revalueColumns } from '../../src/engine/revalueColumns.js';
import { revalueTile } from '../../kernels/revalue.js';
import { CpuBackend } from '../../src/engine/cpuBackend.js';
import { defaultParams } from '../../src/params/params.js';
import { KIND_OPTION } from '../../src/model/market.js';
import { InputError } from '../../src/errors.js';
import { expectClose } from '../helpers/expectClose.js';
import { sviMarket, XS } from '../surface/sviMarket.js';

const P: SviParams = { a: 0.01, b: 0.08, rho: -0.3, m: 0.02, sigma: 0.2 };

describe('shockSlice', () => {
  test('level: ATM total variance × (1 + a), every x alike', () => {
    const r = shockSlice(P, 0.5, { level: 0.44, skew: 0, term: 0 });
    for (const x of [-1, 0, 0.3]) expectClose(sviW(r.params, x), 1.44 * sviW(P, x), 1e-15, { x });
    expect(r.repaired).toBe(false);
  });
  test('skew: ρ + r; term: the short end × (1 + s·e^{−T/τ})', () => {
    expect(shockSlice(P, 0.5, { level: 0, skew: -0.2, term: 0 }).params.rho).toBeCloseTo(-0.5, 15);
    for (const t of [7 / 365, 0.25, 1]) {
      const r = shockSlice(P, t, { level: 0, skew: 0, term: 0.5 });
      expectClose(sviW(r.params, 0.1), sviW(P, 0.1) * (1 + 0.5 * Math.exp(-t / TERM_SHOCK_TAU)), 1e-15, { t });
    }
  });
  test('a shock that breaks the butterfly condition is repaired', () => {
    // Gatheral & Jacquier's slice is arbitrage-free once its skew is moved away; shocking it back breaks it
    const gj: SviParams = { a: -0.041, b: 0.1331, m: 0.3586, rho: 0.306, sigma: 0.4153 };
    const r = shockSlice({ ...gj, rho: -0.3 }, 1, { level: 0, skew: 0.606, term: 0 });
    expect(butterflyFree({ ...gj })).toBe(false);
    expect(r.repaired).toBe(true);
    expect(butterflyFree(r.params)).toBe(true);
  });
});

describe('stress events with surface shocks', () => {
  const market = sviMarket([
    { underlying: 0, days: 20, forward: 80000, params: { a: 0.002, b: 0.03, rho: -0.3, m: 0.01, sigma: 0.1 }, xs: XS },
    { underlying: 0, days: 90, forward: 81000, params: { a: 0.01, b: 0.07, rho: -0.25, m: 0.02, sigma: 0.2 }, xs: XS },
    { underlying: 1, days: 45, forward: 2400, params: { a: 0.006, b: 0.06, rho: -0.1, m: 0, sigma: 0.15 }, xs: XS },
  ]);
  const surface = fitSurface(market);
  market.volSurface = { params: instrumentSlices(surface, market).params, stickyMoneyness: false };
  const events = parseStressEvents(
    [
      { name: 'level', moves: { BTC: -0.1, ETH: 0.05 }, surface_level: { BTC: 0.21, ETH: 0.21 } },
      { name: 'mult', moves: { BTC: -0.1, ETH: 0.05 }, vol_multipliers: { BTC: 1.1, ETH: 1.1 } },
      { name: 'skew', moves: { BTC: -0.1 }, surface_skew: { BTC: -0.3 }, surface_term: { ETH: 0.5 } },
      { name: 'none', moves: { BTC: -0.1, ETH: 0.05 } },
    ],
    'events.json',
  );
  const set = buildStress(market, events, 'events.json');
  const params = defaultParams();

  test('the set carries the shocks per (scenario, underlying)', () => {
    expect(Array.from(set.surfaceShock!.level)).toEqual([0.21, 0.21, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(set.surfaceShock!.skew)).toEqual([0, 0, 0, 0, -0.3, 0, 0, 0]);
    expect(Array.from(set.surfaceShock!.term)).toEqual([0, 0, 0, 0, 0, 0.5, 0, 0]);
  });

  test('a level shock of 0.21 on an SVI market is the vol multiplier 1.1; no shock is no vol change', async () => {
    const c = revalueColumns(market, set, params, true);
    revalueTile(c, 0, c.instruments, 0, c.scenarios);
    const plain = revalueColumns(market, buildStress(market, [events[1]!, events[3]!], 'x'), params, true);
    revalueTile(plain, 0, plain.instruments, 0, plain.scenarios);
    const S = c.scenarios;
    const ins = market.instruments;
    let options = 0;
    for (let i = 0; i < ins.count; i++) {
      if (ins.kind[i] !== KIND_OPTION) continue;
      options++;
      const F = ins.forward[i]!;
      // scenario 0 (level) against the multiplier event, scenario 3 (none) against the unshocked one
      expectClose(c.out[i * S]!, plain.out[i * plain.scenarios]!, 1e-9 * F, { i, what: 'level vs mult' });
      expect(c.out[i * S + 3]).toBe(plain.out[i * plain.scenarios + 1]);
      // the skew event moves BTC options only
      const skewMoved = c.out[i * S + 2] !== c.out[i * S + 3] || ins.underlying[i] === 1;
      expect(skewMoved).toBe(true);
    }
    expect(options).toBeGreaterThan(50);
    const pool = new CpuBackend(2);
    try {
      const m = await pool.revalue(market, set, params);
      expect(
        Buffer.from(m.data.buffer, 0, 2 * ins.count * S * 8).equals(
          Buffer.from(c.out.buffer, 0, 2 * ins.count * S * 8),
        ),
      ).toBe(true);
    } finally {
      await pool.close();
    }
  });

  test('bad surface values are refused with file, row, column and rule', () => {
    const bad = () =>
      parseStressEvents(
        [
          { name: 'a', moves: { BTC: -0.1 }, surface_level: { BTC: -1 } },
          { name: 'b', moves: { BTC: -0.1 }, surface_skew: { BTC: 3 }, surface_term: { BTC: 'x' } },
        ],
        'ev.json',
      );
    expect(bad).toThrow(InputError);
    try {
      bad();
    } catch (e) {
      expect((e as InputError).violations.map((v) => [v.row, v.column])).toEqual([
        [0, 'surface_level.BTC'],
        [1, 'surface_skew.BTC'],
        [1, 'surface_term.BTC'],
      ]);
    }
  });
});

describe('the built-in crash with skew steepening', () => {
  test('equals the event re-derived from data/history', async () => {
    const history = await loadHistory('data/history', ['BTC', 'ETH', 'SOL']);
    expect(deriveCrashWithSkewSteepening(history)).toEqual(CRASH_WITH_SKEW_STEEPENING);
    expect(CRASH_WITH_SKEW_STEEPENING.moves.BTC).toBeLessThan(-0.2);
    expect(CRASH_WITH_SKEW_STEEPENING.surfaceSkew!.BTC).toBe(Math.log(1 + CRASH_WITH_SKEW_STEEPENING.moves.BTC!));
  });
});
