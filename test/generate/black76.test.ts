// The generator's Black-76 (used to delta-hedge generated books) against textbook values.
import { describe, expect, test } from 'vitest';
import { black76, black76Delta, normCdf } from '../../src/generate/black76.js';
import { expectClose } from '../helpers/expectClose.js';

describe('Black-76', () => {
  // from ../shared/golden/haug_black76.csv (Haug, The Complete Guide to Option Pricing Formulas;
  // Hull, Options, Futures and Other Derivatives): discounted prices, so compare e^(−rT)·V within 5e-5
  test.each([
    ['C', 19, 19, 0.75, 0.1, 0.28, 1.7011],
    ['P', 19, 19, 0.75, 0.1, 0.28, 1.7011],
    ['P', 20, 20, 1 / 3, 0.09, 0.25, 1.1166],
  ])('%s F=%d K=%d T=%f r=%f σ=%f → %f', (type, F, K, T, r, vol, price) => {
    expectClose(Math.exp(-r * T) * black76(type === 'C', F, K, vol, T), price, 5e-5, { type, F, K, T, r, vol });
  });
  test.each([[-3, 0.0013499], [-1.96, 0.0249979], [0, 0.5], [1, 0.8413447], [2.5, 0.9937903]])('N(%f) = %f (tables)', (x, p) => {
    expectClose(normCdf(x), p, 2e-7, { x });
  });
  test.each([[80000, 90000], [80000, 70000], [2400, 2400]])('put–call parity and delta parity at F=%d K=%d', (F, K) => {
    expectClose(black76(true, F, K, 0.5, 0.2) - black76(false, F, K, 0.5, 0.2), F - K, 1e-9 * F, { F, K });
    expectClose(black76Delta(true, F, K, 0.5, 0.2) - black76Delta(false, F, K, 0.5, 0.2), 1, 1e-12, { F, K });
  });
});
