/**
 * Implied volatility (src/pricing/impliedVol.ts) against test/golden/black76_quantlib.csv (copied from
 * /work/shared/golden/black76_quantlib.csv: QuantLib 1.29 `blackFormulaImpliedStdDev`; README tolerance:
 * within 1e-8 absolute where the implied_vol cell is not empty; an empty cell means the time value is below
 * what float64 can resolve and the solver must say "not recoverable"), a round trip over a grid, and the
 * no-arbitrage bounds.
 */
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { impliedVol } from '../../src/pricing/impliedVol.js';
import { black76Price } from '../../kernels/black76.js';
import { expectClose } from '../helpers/expectClose.js';
import { readCsv } from '../kernels/readCsv.js';

const golden = readCsv(fileURLToPath(new URL('../golden/black76_quantlib.csv', import.meta.url))).map((r, row) => ({
  row,
  isCall: r.type === 'C' ? 1 : 0,
  F: +r.forward!,
  K: +r.strike!,
  T: +r.t_years!,
  vol: +r.vol!,
  D: +r.discount!,
  price: +r.price!,
  iv: r.implied_vol === '' ? null : +r.implied_vol!,
}));

describe('QuantLib golden implied vols', () => {
  test('the golden file has both kinds of rows', () => {
    expect(golden.filter((g) => g.iv === null).length).toBe(43);
    expect(golden.filter((g) => g.iv !== null).length).toBe(357);
  });

  test.each(golden.filter((g) => g.iv !== null))('row $row: within 1e-8 of QuantLib', (g) => {
    const r = impliedVol(g.isCall, g.F, g.K, g.T, g.D, g.price);
    expect(r.vol, 'reason' in r ? r.reason : '').not.toBeNull();
    expectClose(r.vol!, g.iv!, 1e-8, g);
  });

  test.each(golden.filter((g) => g.iv === null))('row $row: empty cell → "not recoverable" with a reason', (g) => {
    const r = impliedVol(g.isCall, g.F, g.K, g.T, g.D, g.price);
    expect(r.vol).toBeNull();
    expect('reason' in r && r.reason).toMatch(/^not recoverable: time value .* (float64 noise|float64 resolution)/);
  });
});

describe('round trip σ → price → σ over a grid', () => {
  const F = 50000;
  const grid = [0, 1].flatMap((isCall) =>
    [0.5, 0.8, 0.95, 1, 1.05, 1.3, 2].flatMap((k) =>
      [1 / (365 * 24), 7 / 365, 0.25, 2].flatMap((T) => [0.05, 0.3, 0.8, 2].map((vol) => ({ isCall, k, T, vol }))),
    ),
  );

  test.each(grid)('isCall=$isCall k=$k T=$T σ=$vol', ({ isCall, k, T, vol }) => {
    const K = k * F;
    const D = 0.99;
    const price = black76Price(isCall, F, K, T, vol, D);
    const r = impliedVol(isCall, F, K, T, D, price);
    // The vol is resolvable when a price change of one float64 ulp of max(F, K) moves it by ≤ 1e-7:
    // ulp / (∂price/∂σ). Where it is not, the solver must say so rather than return a number.
    const h = 1e-6 * vol;
    const vega = (black76Price(isCall, F, K, T, vol + h, D) - black76Price(isCall, F, K, T, vol - h, D)) / (2 * h);
    const resolvable = (2.2e-16 * Math.max(F, K) * D) / vega < 5e-8;
    const unresolvable = !((2.2e-16 * Math.max(F, K) * D) / vega < 5e-7);
    if (resolvable) {
      expect(r.vol, 'reason' in r ? r.reason : '').not.toBeNull();
      expectClose(r.vol!, vol, 1e-8, { isCall, F, K, T, vol, price });
    } else if (unresolvable) {
      expect(r.vol).toBeNull();
      expect('reason' in r && r.reason).toMatch(/^not recoverable/);
    } else if (r.vol !== null) {
      expectClose(r.vol, vol, 1e-7, { isCall, F, K, T, vol, price });
    }
  });

  test('the grid exercises the solver: 146 of 224 points give a vol (the rest: one-hour and deep wings)', () => {
    let ok = 0;
    for (const { isCall, k, T, vol } of grid) {
      if (impliedVol(isCall, F, k * F, T, 0.99, black76Price(isCall, F, k * F, T, vol, 0.99)).vol !== null) ok++;
    }
    expect(ok).toBe(146);
  });
});

describe('bounds and bad inputs give a reason, never a number', () => {
  test.each([
    ['call below intrinsic', 1, 100, 90, 0.5, 1, 9.5, /below the discounted intrinsic value (10|9\.99)/],
    ['put below intrinsic (discounted)', 0, 100, 110, 0.5, 0.9, 8.9, /below the discounted intrinsic value 9/],
    ['negative price', 1, 100, 110, 0.5, 1, -0.01, /below the discounted intrinsic value 0/],
    ['call at the discounted forward', 1, 100, 50, 0.5, 0.95, 95, /at or above the discounted forward 95/],
    ['call above the forward', 1, 100, 50, 0.5, 1, 120, /at or above the discounted forward 100/],
    ['put at the discounted strike', 0, 100, 150, 0.5, 1, 150, /at or above the discounted strike 150/],
    ['price exactly intrinsic', 1, 100, 90, 0.5, 1, 10, /^not recoverable: time value .* at or below float64 noise/],
    ['zero price OTM', 0, 100, 90, 0.5, 1, 0, /^not recoverable: time value 0 is at or below float64 noise/],
    ['expired', 1, 100, 90, 0, 1, 10.5, /t_years 0 must be a positive/],
    ['non-positive forward', 1, -100, 90, 0.5, 1, 10.5, /forward -100 must be a positive/],
    ['NaN price', 1, 100, 90, 0.5, 1, Number.NaN, /price NaN is not a finite number/],
  ])('%s', (_name, isCall, F, K, T, D, price, reason) => {
    const r = impliedVol(isCall, F, K, T, D, price);
    expect(r.vol).toBeNull();
    expect('reason' in r && r.reason).toMatch(reason);
  });
});
