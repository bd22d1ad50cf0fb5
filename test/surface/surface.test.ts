/**
 * src/surface/surface.ts on synthetic chains from known SVI slices (test/surface/sviMarket.ts): the fit
 * recovers the parameters to 1e-6, planted arbitrage is flagged and repaired, a slice with fewer than 5
 * quotes is not fitted, and the per-instrument slice table points each option at its own slice.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  FLAG_BUTTERFLY_REPAIRED,
  FLAG_CALENDAR_RAISED,
  FLAG_TOO_FEW_QUOTES,
  fitSurface,
  instrumentSlices,
  SLICE_ROW,
  surfaceVol,
} from '../../src/surface/surface.js';
import { butterflyFree, calendarGap, type SviParams } from '../../src/surface/svi.js';
import { KIND_OPTION } from '../../src/model/market.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { expectClose } from '../helpers/expectClose.js';
import { sviMarket, XS } from './sviMarket.js';

const P1: SviParams = { a: 0.004, b: 0.04, rho: -0.35, m: 0.02, sigma: 0.15 };
const P2: SviParams = { a: 0.015, b: 0.09, rho: -0.3, m: 0.03, sigma: 0.25 };
const P3: SviParams = { a: 0.03, b: 0.12, rho: 0.1, m: -0.02, sigma: 0.3 };

describe('fitSurface', () => {
  test('slices generated from known parameters are recovered to 1e-6, unflagged', () => {
    const market = sviMarket([
      { underlying: 0, days: 14, forward: 80000, params: P1, xs: XS },
      { underlying: 0, days: 60, forward: 80500, params: P2, xs: XS },
      { underlying: 1, days: 30, forward: 2400, params: P3, xs: XS },
    ]);
    const s = fitSurface(market);
    expect(s.slices.map((x) => [x.underlyingName, x.quotes, x.fitted, x.flags])).toEqual([
      ['BTC', XS.length, true, []],
      ['BTC', XS.length, true, []],
      ['ETH', XS.length, true, []],
    ]);
    s.slices.forEach((slice, j) => {
      const truth = [P1, P2, P3][j]!;
      for (const k of ['a', 'b', 'rho', 'm', 'sigma'] as const) expectClose(slice.params![k], truth[k], 1e-6, { j, k });
      expect(slice.rmseAll).toBeLessThan(1e-6);
      expect(slice.gMin).toBeGreaterThan(0);
    });
    // every option points at its slice and reads back its own mark_iv
    const ins = market.instruments;
    const { params, fitted } = instrumentSlices(s, market);
    for (let i = 0; i < ins.count; i++) {
      if (ins.kind[i] !== KIND_OPTION) {
        expect(s.sliceOf[i]).toBe(-1);
        expect(fitted[i]).toBe(0);
        continue;
      }
      expect(fitted[i]).toBe(1);
      expectClose(surfaceVol(s, market, i), ins.markIv[i]!, 1e-7, { i });
      const sl = s.slices[s.sliceOf[i]!]!;
      expect(Array.from(params.subarray(i * SLICE_ROW, (i + 1) * SLICE_ROW))).toEqual([
        sl.params!.a,
        sl.params!.b,
        sl.params!.rho,
        sl.params!.m,
        sl.params!.sigma,
      ]);
    }
  });

  test('a slice with fewer than 5 usable quotes is not fitted and flagged', () => {
    const market = sviMarket([
      { underlying: 0, days: 14, forward: 80000, params: P1, xs: XS },
      { underlying: 0, days: 30, forward: 80000, params: P2, xs: [-0.1, 0, 0.1, 0.2] },
    ]);
    const s = fitSurface(market);
    expect(s.slices[1]!.fitted).toBe(false);
    expect(s.slices[1]!.flags).toEqual([FLAG_TOO_FEW_QUOTES]);
    const opt = market.instruments.id.get(`BTC-30D-${(80000).toFixed(4)}-C`)!;
    expect(Number.isNaN(surfaceVol(s, market, opt))).toBe(true);
  });

  test('a planted calendar violation (later slice lower) is flagged and removed on the whole grid', () => {
    const low: SviParams = { ...P1, a: P1.a - 0.003 };
    const market = sviMarket([
      { underlying: 0, days: 14, forward: 80000, params: P1, xs: XS },
      { underlying: 0, days: 30, forward: 80000, params: low, xs: XS },
    ]);
    const s = fitSurface(market);
    expect(s.slices[0]!.flags).toEqual([]);
    expect(s.slices[1]!.flags).toContain(FLAG_CALENDAR_RAISED);
    expect(s.slices[1]!.calendarGap).toBeGreaterThan(0);
    expect(calendarGap(s.slices[0]!.params!, s.slices[1]!.params!)).toBeLessThanOrEqual(1e-10);
  });

  test('a planted butterfly violation (Gatheral & Jacquier’s slice) is flagged and repaired', () => {
    const gj: SviParams = { a: -0.041, b: 0.1331, m: 0.3586, rho: 0.306, sigma: 0.4153 };
    const xs = Array.from({ length: 21 }, (_, i) => -0.5 + i * 0.075);
    const market = sviMarket([{ underlying: 0, days: 365, forward: 80000, params: gj, xs }]);
    const s = fitSurface(market);
    const sl = s.slices[0]!;
    expect(sl.gMinFitted).toBeLessThan(0);
    expect(sl.flags).toEqual([FLAG_BUTTERFLY_REPAIRED]);
    expect(butterflyFree(sl.params!)).toBe(true);
    expect(sl.gMin).toBeGreaterThanOrEqual(-1e-9);
  });
});

describe('the fit of the bundled chain (data/full/market)', () => {
  // Pinned to the bits commit 8b2aba4 fitted: the fit's speed-ups (the KKT elimination reused while the
  // working set stands, Nelder–Mead's simplex in nine numbers) must repeat its arithmetic exactly. Every field of
  // every slice (parameters, JW, errors, g, gaps, flags) goes into the digest, numbers as their shortest
  // round-trip decimal. A deliberate change of the method changes this value, and says so in its commit.
  test('is bit for bit the pinned surface', async () => {
    const { market } = await loadMarket('data/full/market');
    const surface = fitSurface(market);
    expect(surface.slices.length).toBe(26);
    const digest = createHash('sha256').update(JSON.stringify(surface)).digest('hex');
    expect(digest).toBe('fe51c9d43aa3c2edf9cb4d2013e81e969a04278c58b52eb4bafd692a95bd4d5b');
  });
});
