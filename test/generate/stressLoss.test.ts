// The generator's coarse risk measure: its Black-76 against textbook values, and the shape of the
// stress grid (DATA.md units: inverse P&L in coin, linear in USD).
import { describe, expect, test } from 'vitest';
import { black76, black76Delta, normCdf, stressPnl, rollShock, STRESS_SCENARIOS } from '../../src/generate/stressLoss.js';
import { loadMarket } from '../../src/io/loadMarket.js';
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

describe('stress grid on the sample market (data/sample/market)', async () => {
  const { market } = await loadMarket('data/sample/market');
  const pnl = stressPnl(market);
  const roll = rollShock(market);
  const ins = market.instruments;
  const id = (name: string) => ins.id.get(name)!;
  const S = STRESS_SCENARIOS;
  test('the unshocked scenario (move 0, vol 0: index 7) is zero for every instrument', () => {
    for (let i = 0; i < ins.count; i++) expect(Math.abs(pnl[i * S + 7]!)).toBeLessThan(1e-12);
  });
  test('an inverse perpetual gains 1 − F/F′ coin: −0.1905 at −16%, +0.1379 at +16% (BTC R = 0.16)', () => {
    const i = id('BTC-PERPETUAL');
    expectClose(pnl[i * S + 0]!, 1 - 1 / 0.84, 1e-12, { scenario: 'move −R' });
    expectClose(pnl[i * S + 12]!, 1 - 1 / 1.16, 1e-12, { scenario: 'move +R' });
    expectClose(roll[i]!, 0.01, 1e-15, { rule: 'perpetual: max(min_annualised_move, 0)' });
  });
  test('a long call gains when the underlying rises and loses at most its value', () => {
    const i = id('BTC-27MAR26-80000-C');
    expect(pnl[i * S + 13]!).toBeGreaterThan(0);
    expect(pnl[i * S + 1]!).toBeLessThan(0);
    const value = black76(true, ins.forward[i]!, 80000, ins.markIv[i]!, ins.tYears[i]!) / ins.forward[i]!;
    for (let s = 0; s < S; s++) expect(pnl[i * S + s]!).toBeGreaterThanOrEqual(-value - 1e-12);
  });
});
