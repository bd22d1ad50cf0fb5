/**
 * Black-76 kernels (float64 reference path) against:
 * - test/golden/black76_quantlib.csv: copied from /work/shared/golden/black76_quantlib.csv — 400 cases
 *   from QuantLib 1.29 (`BlackCalculator`, `blackFormulaImpliedStdDev`); tolerances from its README:
 *   price within 1e-10 × forward, Greeks within 1e-8 relative or 1e-12 × forward absolute.
 * - test/golden/haug_black76.csv: copied from /work/shared/golden/haug_black76.csv — Haug, "The Complete
 *   Guide to Option Pricing Formulas" (Black-76 example) and Hull, "Options, Futures and Other
 *   Derivatives" (futures option example), quoted to 4 decimals: within 5e-5.
 * - central finite differences (Greeks), put–call parity and the value at expiry (no oracle needed).
 */
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  black76Norm,
  black76Norm32,
  black76Price,
  black76PriceCoin,
  black76Delta,
  black76Gamma,
  black76Vega,
  discountFactor,
  black76DeltaNorm,
  black76DeltaNorm32,
} from '../../kernels/black76.js';
import { expectClose } from '../helpers/expectClose.js';
import { readCsv } from './readCsv.js';

const golden = readCsv(fileURLToPath(new URL('../golden/black76_quantlib.csv', import.meta.url))).map((r, row) => ({
  row,
  isCall: r.type === 'C' ? 1 : 0,
  F: +r.forward!,
  K: +r.strike!,
  T: +r.t_years!,
  vol: +r.vol!,
  D: +r.discount!,
  price: +r.price!,
  delta: +r.delta_fwd!,
  gamma: +r.gamma_fwd!,
  vega: +r.vega!,
  priceCoin: +r.price_coin!,
}));

describe('QuantLib golden (black76_quantlib.csv, 400 rows)', () => {
  test('the file has its 400 rows', () => expect(golden.length).toBe(400));

  test.each(golden)('row $row: price, Greeks and coin price', (g) => {
    const inputs = { ...g };
    const greekTol = (x: number) => Math.max(1e-8 * Math.abs(x), 1e-12 * g.F);
    expectClose(black76Price(g.isCall, g.F, g.K, g.T, g.vol, g.D), g.price, 1e-10 * g.F, { ...inputs, what: 'price' });
    expectClose(black76Delta(g.isCall, g.F, g.K, g.T, g.vol, g.D), g.delta, greekTol(g.delta), {
      ...inputs,
      what: 'delta_fwd',
    });
    expectClose(black76Gamma(g.F, g.K, g.T, g.vol, g.D), g.gamma, greekTol(g.gamma), { ...inputs, what: 'gamma_fwd' });
    expectClose(black76Vega(g.F, g.K, g.T, g.vol, g.D), g.vega, greekTol(g.vega), { ...inputs, what: 'vega' });
    // coin price = price / forward: the same absolute bound in forward units
    expectClose(black76PriceCoin(g.isCall, g.F, g.K, g.T, g.vol, g.D), g.priceCoin, 1e-10, {
      ...inputs,
      what: 'price_coin',
    });
  });
});

describe('textbook values (haug_black76.csv)', () => {
  const rows = readCsv(fileURLToPath(new URL('../golden/haug_black76.csv', import.meta.url)));
  test.each(rows)('$source $type F=$forward K=$strike T=$t_years r=$rate σ=$vol → $price', (r) => {
    const T = +r.t_years!;
    const D = discountFactor(+r.rate!, T);
    expectClose(black76Price(r.type === 'C' ? 1 : 0, +r.forward!, +r.strike!, T, +r.vol!, D), +r.price!, 5e-5, r);
  });
});

// A grid of (type, k, T, σ, r) away from expiry for the no-oracle checks; F = 1000 so USD ≠ normalised.
const F0 = 1000;
const grid = [0, 1].flatMap((isCall) =>
  [0.5, 0.8, 0.97, 1, 1.03, 1.25, 2].flatMap((k) =>
    [
      [0.02, 0.5],
      [0.25, 0.8],
      [1.5, 0.3],
      [0.003, 1.2],
    ].map(([T, vol]) => ({ isCall, k, T: T!, vol: vol!, r: 0.05 })),
  ),
);

describe('Greeks against central finite differences', () => {
  test.each(grid)('isCall=$isCall k=$k T=$T σ=$vol', ({ isCall, k, T, vol, r }) => {
    const K = k * F0;
    const D = discountFactor(r, T);
    const p = (F: number, s: number) => black76Price(isCall, F, K, T, s, D);
    const hF = 1e-4 * F0 * vol * Math.sqrt(T); // steps scaled by the forward's total std
    const fdDelta = (p(F0 + hF, vol) - p(F0 - hF, vol)) / (2 * hF);
    const fdGamma = (p(F0 + 10 * hF, vol) - 2 * p(F0, vol) + p(F0 - 10 * hF, vol)) / (100 * hF * hF);
    const hV = 1e-5;
    const fdVega = (p(F0, vol + hV) - p(F0, vol - hV)) / (2 * hV);
    const inputs = { isCall, F: F0, K, T, vol, D };
    const delta = black76Delta(isCall, F0, K, T, vol, D);
    const gamma = black76Gamma(F0, K, T, vol, D);
    const vega = black76Vega(F0, K, T, vol, D);
    // float64 rounding of the differenced prices: a few ulps of (price + F) over the step (squared for gamma)
    const ulps = 4 * 2.3e-16 * (Math.abs(p(F0, vol)) + F0);
    expectClose(delta, fdDelta, 1e-6 * Math.abs(delta) + ulps / hF, { ...inputs, what: 'delta' });
    expectClose(gamma, fdGamma, 1e-4 * gamma + ulps / (10 * hF) ** 2, { ...inputs, what: 'gamma' });
    expectClose(vega, fdVega, 1e-6 * Math.max(vega, 1e-3 * F0 * Math.sqrt(T)), { ...inputs, what: 'vega' });
  });
});

describe('put–call parity C − P = D·(F − K)', () => {
  test.each(grid.filter((g) => g.isCall === 1))('k=$k T=$T σ=$vol', ({ k, T, vol, r }) => {
    const K = k * F0;
    const D = discountFactor(r, T);
    const c = black76Price(1, F0, K, T, vol, D);
    const p = black76Price(0, F0, K, T, vol, D);
    expectClose(c - p, D * (F0 - K), 1e-12 * F0, { k, T, vol, D });
    expectClose(black76Delta(1, F0, K, T, vol, D) - black76Delta(0, F0, K, T, vol, D), D, 1e-15, { k, T, vol, D });
  });

  test.each(golden)('golden row $row: parity holds for the other type too', (g) => {
    const c = black76Price(1, g.F, g.K, g.T, g.vol, g.D);
    const p = black76Price(0, g.F, g.K, g.T, g.vol, g.D);
    expectClose(c - p, g.D * (g.F - g.K), 1e-12 * Math.max(g.F, g.K), g);
  });
});

describe('at expiry: discounted intrinsic value', () => {
  test.each([
    // [isCall, F, K, T, vol, D, price, delta]
    [1, 100, 90, 0, 0.5, 0.99, 0.99 * 10, 0.99],
    [1, 100, 110, 0, 0.5, 1, 0, 0],
    [0, 100, 110, 0, 0.5, 0.98, 0.98 * 10, -0.98],
    [0, 100, 90, 0, 0.5, 1, 0, 0],
    [1, 100, 100, 0, 0.5, 1, 0, 0.5],
    [0, 100, 100, 0, 0.5, 1, 0, -0.5],
    [1, 100, 90, 0.5, 0, 1, 10, 1], // σ = 0: sd below 1e-12
    [0, 100, 90, 1e-30, 0.8, 1, 0, 0], // sd = 8e-16
    [1, 100, 90, -0.1, 0.5, 1, 10, 1], // past expiry: treated as T = 0
  ])('isCall=%i F=%f K=%f T=%f σ=%f D=%f → %f', (isCall, F, K, T, vol, D, price, delta) => {
    expectClose(black76Price(isCall, F, K, T, vol, D), price, 1e-12 * F, { isCall, F, K, T, vol, D });
    expect(black76Delta(isCall, F, K, T, vol, D)).toBe(delta);
    expect(black76Gamma(F, K, T, vol, D)).toBe(0);
    expect(black76Vega(F, K, T, vol, D)).toBe(0);
  });

  test('the price is continuous into expiry (T → 0 converges to intrinsic)', () => {
    for (const T of [1e-6, 1e-9, 1e-12]) {
      expectClose(black76Price(1, 100, 90, T, 0.5, 1), 10, 1e-9, { T });
      expectClose(black76Price(0, 100, 90, T, 0.5, 1), 0, 1e-9, { T });
    }
  });
});

describe('float32-safe twins evaluated in float64', () => {
  // normCdf32 has absolute error < 1.2e-7 · tail, so the normalised price is within a few 1e-7 of the forward.
  test.each(grid)('isCall=$isCall k=$k T=$T σ=$vol', ({ isCall, k, T, vol }) => {
    const sd = vol * Math.sqrt(T);
    expectClose(black76Norm32(isCall, k, sd), black76Norm(isCall, k, sd), 5e-7, { isCall, k, sd });
    expectClose(black76DeltaNorm32(isCall, k, sd), black76DeltaNorm(isCall, k, sd), 2.5e-7, { isCall, k, sd });
  });

  test('the OTM side is computed directly: deep OTM prices stay positive and relatively accurate', () => {
    const p64 = black76Norm(1, 1.6, 0.1);
    const p32 = black76Norm32(1, 1.6, 0.1);
    expect(p64).toBeGreaterThan(0);
    expectClose(p32, p64, 1e-5 * p64, { k: 1.6, sd: 0.1 });
  });
});
