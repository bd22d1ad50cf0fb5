/**
 * The liquidity add-on (docs/methodology.md §4e, engine convention): |q|·h·c, with h half the quoted spread
 * (converted between coin and USD at F) or default_half_spread (5 bp) of one unit of underlying, and
 * c = min(max_concentration, max(1, |q| / (oi_share · OI))) (docs/methodology.md §4e; the cap: issue 18).
 */
import { describe, expect, test } from 'vitest';
import { loadMarket } from '../../src/io/loadMarket.js';
import { liquidityAddonFromTable, liquidityAddonPosition, liquidityTable } from '../../src/margin/liquidity.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { makeMarket } from './fixtures.js';

const E = '2024-06-28T08:00:00Z';
const market = makeMarket(
  '2024-06-10T08:00:00Z',
  [{ name: 'BTC', index: 60000 }],
  [
    {
      name: 'quoted-opt',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
      bid: 0.01,
      ask: 0.012,
    },
    {
      name: 'bare-opt',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
    },
    {
      name: 'one-sided',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
      bid: 0.01,
    },
    {
      name: 'crossed',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
      bid: 0.012,
      ask: 0.01,
    },
    {
      name: 'quoted-fut',
      underlying: 'BTC',
      kind: 'future',
      settlement: 'inverse',
      expiry: E,
      forward: 60500,
      bid: 60490,
      ask: 60510,
    },
    { name: 'bare-fut', underlying: 'BTC', kind: 'future', settlement: 'inverse', expiry: E, forward: 60500 },
    {
      name: 'lin-opt',
      underlying: 'BTC',
      kind: 'option',
      type: 'P',
      settlement: 'linear',
      expiry: E,
      strike: 55000,
      forward: 60500,
      iv: 0.5,
      bid: 400,
      ask: 420,
    },
    {
      name: 'oi-opt',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
      bid: 0.01,
      ask: 0.012,
      oi: 1000,
    },
    {
      name: 'oi-zero',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: E,
      strike: 65000,
      forward: 60500,
      iv: 0.5,
      bid: 0.01,
      ask: 0.012,
      oi: 0,
    },
  ],
);
const params = defaultParams();
const F = 60500;

describe('liquidityAddonPosition', () => {
  test.each([
    { inst: 'quoted-opt', qty: -5, inCoin: true, expected: 5 * 0.001, why: 'coin quote in a coin unit' },
    { inst: 'quoted-opt', qty: -5, inCoin: false, expected: 5 * 0.001 * F, why: 'coin quote × F in USD' },
    { inst: 'bare-opt', qty: 4, inCoin: true, expected: 4 * 0.0005, why: 'no quotes: 5 bp of 1 coin' },
    { inst: 'bare-opt', qty: 4, inCoin: false, expected: 4 * 0.0005 * F, why: 'no quotes: 5 bp of F USD' },
    { inst: 'one-sided', qty: 1, inCoin: true, expected: 0.0005, why: 'one quote only: default' },
    { inst: 'crossed', qty: 1, inCoin: true, expected: 0.0005, why: 'ask < bid: default' },
    { inst: 'quoted-fut', qty: 10, inCoin: true, expected: (10 * 10) / F, why: 'USD quote / F in coin' },
    { inst: 'quoted-fut', qty: 10, inCoin: false, expected: 10 * 10, why: 'USD quote in USD' },
    { inst: 'bare-fut', qty: -2, inCoin: false, expected: 2 * 0.0005 * F, why: 'default in USD' },
    { inst: 'lin-opt', qty: -3, inCoin: false, expected: 3 * 10, why: 'linear option quote in USD' },
    // OI 1,000, oi_share 5%: c = max(1, |q| / 50)
    { inst: 'oi-opt', qty: -20, inCoin: true, expected: 20 * 0.001 * 1, why: 'below 5% of OI: c = 1' },
    { inst: 'oi-opt', qty: -100, inCoin: true, expected: 100 * 0.001 * 2, why: '10% of OI: c = 2' },
    { inst: 'oi-opt', qty: 250, inCoin: false, expected: 250 * 0.001 * F * 5, why: '25% of OI: c = 5' },
    // the cap (max_concentration 5): 40% of OI would be c = 8, 100% of OI c = 20
    { inst: 'oi-opt', qty: 400, inCoin: true, expected: 400 * 0.001 * 5, why: '40% of OI: c = min(5, 8) = 5' },
    { inst: 'oi-opt', qty: -1000, inCoin: false, expected: 1000 * 0.001 * F * 5, why: '100% of OI: c = 5' },
    { inst: 'oi-zero', qty: -100, inCoin: true, expected: 100 * 0.001, why: 'OI 0: c = 1' },
  ])('$inst qty $qty inCoin $inCoin → $expected ($why)', ({ inst, qty, inCoin, expected }) => {
    const got = liquidityAddonPosition(market, params, market.instruments.id.get(inst)!, qty, inCoin);
    expectClose(got, expected, 1e-12 * Math.max(1, expected), { inst, qty, inCoin });
  });
});

describe('the cap of the concentration factor (max_concentration)', () => {
  test('ETH-25SEP26-5500-P, 915 contracts long, OI 1 (the full chain): by hand', async () => {
    const { market: full } = await loadMarket('data/full/market');
    const i = full.instruments.id.get('ETH-25SEP26-5500-P')!;
    // bid 1.227, ask 1.2725 ETH (an inverse option's quote, coin per coin): h = 0.02275 ETH per ETH
    expect([full.instruments.bidPrice[i], full.instruments.askPrice[i], full.instruments.openInterest[i]]).toEqual([
      1.227, 1.2725, 1,
    ]);
    const h = (1.2725 - 1.227) / 2;
    // uncapped: c = 915 / (0.05 · 1) = 18,300 and the add-on 915 · 0.02275 · 18,300 = 380,937.4 ETH
    const uncapped = { ...params, liquidity: { ...params.liquidity, maxConcentration: Infinity } };
    expectClose(liquidityAddonPosition(full, uncapped, i, 915, true), 915 * h * 18_300, 1e-6, { uncapped: true });
    expectClose(915 * h * 18_300, 380_937.375, 1e-6, { byHand: true });
    // capped at 5: 915 · 0.02275 · 5 = 104.08125 ETH (the position is worth 915 · 1.2521 ≈ 1,146 ETH)
    expectClose(liquidityAddonPosition(full, params, i, 915, true), 104.08125, 1e-9, { capped: true });
    expectClose(liquidityAddonFromTable(liquidityTable(full, params), i, 915, true), 104.08125, 1e-9, { table: true });
    // in USD: × F
    expectClose(liquidityAddonPosition(full, params, i, -915, false), 104.08125 * 2468.2, 1e-6, { usd: true });
  });
  test.each([
    [1, 400, 400 * 0.001 * 1],
    [2.5, 400, 400 * 0.001 * 2.5],
    [10, 400, 400 * 0.001 * 8],
    [5, 50, 50 * 0.001 * 1],
  ])('max_concentration %d, qty %d → %d', (maxConcentration, qty, expected) => {
    const p = { ...params, liquidity: { ...params.liquidity, maxConcentration } };
    const oi = market.instruments.id.get('oi-opt')!;
    expectClose(liquidityAddonPosition(market, p, oi, qty, true), expected, 1e-12, { maxConcentration, qty });
    expectClose(liquidityAddonFromTable(liquidityTable(market, p), oi, qty, true), expected, 1e-12, { qty });
  });
  test('without open interest c stays 1 whatever the cap', () => {
    const p = { ...params, liquidity: { ...params.liquidity, maxConcentration: 3 } };
    const z = market.instruments.id.get('oi-zero')!;
    expectClose(liquidityAddonPosition(market, p, z, -1e6, true), 1e6 * 0.001, 1e-6, { z });
  });
});

test.each([-250, -100, -5, 0.5, 4, 60])(
  "the precomputed table gives the formula's add-on for every instrument, qty %d",
  (qty) => {
    const t = liquidityTable(market, params);
    for (let i = 0; i < market.instruments.count; i++) {
      for (const inCoin of [true, false]) {
        const want = liquidityAddonPosition(market, params, i, qty, inCoin);
        expectClose(liquidityAddonFromTable(t, i, qty, inCoin), want, 1e-15 * Math.max(1, want), { i, qty, inCoin });
      }
    }
  },
);
