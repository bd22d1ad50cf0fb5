/**
 * standard (docs/methodology.md §4d, Deribit's standard margin, Jan 2022 rates): the formulas by hand,
 * no offsets, long options free.
 */
import { describe, expect, test } from 'vitest';
import { standardFromTable, standardPosition, standardTable } from '../../src/margin/standardFormulas.js';
import { standardRows } from '../../src/margin/standard.js';
import { buildRunTables } from '../../src/margin/runTables.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { makeMarket, makePortfolio, type PositionSpec } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

// S = 60,000; F(Jun) = 60,500; marks set explicitly so the arithmetic is visible
const market = makeMarket(
  '2024-06-10T08:00:00Z',
  [
    { name: 'BTC', index: 60000 },
    { name: 'ETH', index: 3000 },
  ],
  [
    {
      name: 'C70',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      strike: 70000,
      forward: 60500,
      iv: 0.5,
      mark: 0.01,
    },
    {
      name: 'C55',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      strike: 55000,
      forward: 60500,
      iv: 0.5,
      mark: 0.1,
    },
    {
      name: 'P50',
      underlying: 'BTC',
      kind: 'option',
      type: 'P',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      strike: 50000,
      forward: 60500,
      iv: 0.5,
      mark: 0.01,
    },
    {
      name: 'P58',
      underlying: 'BTC',
      kind: 'option',
      type: 'P',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      strike: 58000,
      forward: 60500,
      iv: 0.5,
      mark: 0.02,
    },
    {
      name: 'P200',
      underlying: 'BTC',
      kind: 'option',
      type: 'P',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      strike: 200000,
      forward: 60500,
      iv: 0.5,
      mark: 2.3,
    },
    {
      name: 'LC70',
      underlying: 'BTC',
      kind: 'option',
      type: 'C',
      settlement: 'linear',
      expiry: '2024-06-28T08:00:00Z',
      strike: 70000,
      forward: 60500,
      iv: 0.5,
      mark: 600,
    },
    { name: 'PERP', underlying: 'BTC', kind: 'perpetual', settlement: 'inverse', forward: 60010 },
    {
      name: 'FUT',
      underlying: 'BTC',
      kind: 'future',
      settlement: 'inverse',
      expiry: '2024-06-28T08:00:00Z',
      forward: 60500,
    },
    { name: 'LPERP', underlying: 'BTC', kind: 'perpetual', settlement: 'linear', forward: 60020 },
    { name: 'EPERP', underlying: 'ETH', kind: 'perpetual', settlement: 'inverse', forward: 3001 },
  ],
);
const params = defaultParams();

describe('standardPosition by hand', () => {
  test.each([
    // short call OTM by 9,500 (15.8% of S): max(0.15 − 0.158, 0.10) = 0.10
    { inst: 'C70', qty: -2, im: (0.1 + 0.01) * 2, mm: (0.075 + 0.01) * 2 },
    // short call ITM: OTM 0 → 0.15
    { inst: 'C55', qty: -1, im: 0.15 + 0.1, mm: 0.075 + 0.1 },
    // short put OTM by 10,500: 0.10 + mark; MM = max(0.075, 0.075·0.01) + mark
    { inst: 'P50', qty: -3, im: 0.11 * 3, mm: 0.085 * 3 },
    // short put OTM by 2,500: max(0.15 − 2500/60000, 0.1) = 0.108333…
    { inst: 'P58', qty: -1, im: 0.15 - 2500 / 60000 + 0.02, mm: 0.075 + 0.02 },
    // deep ITM short put: MM = (0.075·2.3 + 2.3) exceeds (0.15 + 2.3), so IM = MM
    { inst: 'P200', qty: -1, im: 0.075 * 2.3 + 2.3, mm: 0.075 * 2.3 + 2.3 },
    // linear short call: coin terms × S, mark 600 USD = 0.01 coin
    { inst: 'LC70', qty: -2, im: (0.1 + 0.01) * 2 * 60000, mm: (0.075 + 0.01) * 2 * 60000 },
    // inverse futures, BTC: IM (0.02 + 0.00005·|q|)|q|, MM (0.01 + 0.00005·|q|)|q|, coin
    { inst: 'PERP', qty: 10, im: (0.02 + 0.0005) * 10, mm: (0.01 + 0.0005) * 10 },
    { inst: 'FUT', qty: -100, im: (0.02 + 0.005) * 100, mm: (0.01 + 0.005) * 100 },
    // linear: the same rates × F·|q| in USD
    { inst: 'LPERP', qty: -4, im: (0.02 + 0.0002) * 4 * 60020, mm: (0.01 + 0.0002) * 4 * 60020 },
    // ETH rates: im_per_coin 0.000004
    { inst: 'EPERP', qty: 500, im: (0.02 + 0.002) * 500, mm: (0.01 + 0.002) * 500 },
  ])('$inst qty $qty: IM $im, MM $mm', ({ inst, qty, im, mm }) => {
    const out = new Float64Array(2);
    standardPosition(market, params, market.instruments.id.get(inst)!, qty, out);
    expectClose(out[0], im, 1e-12 * Math.max(1, im), { inst, qty });
    expectClose(out[1], mm, 1e-12 * Math.max(1, mm), { inst, qty });
  });

  test.each(['C70', 'C55', 'P50', 'P58', 'P200', 'LC70'])('a long option has standard margin 0: %s', (inst) => {
    const out = new Float64Array([NaN, NaN]);
    standardPosition(market, params, market.instruments.id.get(inst)!, 7, out);
    expect([out[0], out[1]]).toEqual([0, 0]);
  });
});

describe('standardRows', () => {
  const book: PositionSpec[] = [
    { account: 'x', instrument: 'PERP', qty: 5 },
    { account: 'x', instrument: 'FUT', qty: -5 },
    { account: 'x', instrument: 'C70', qty: -1 },
    { account: 'x', instrument: 'C55', qty: 1 },
    { account: 'x', instrument: 'P50', qty: -2 },
    { account: 'x', instrument: 'LC70', qty: -1 },
    { account: 'x', instrument: 'LPERP', qty: 1 },
  ];

  test('never offsets: the margin of a unit is the sum over its positions taken alone', () => {
    const pf = makePortfolio(market, book);
    const all = standardRows(buildRunTables(pf.book, pf.balances, market, params));
    expect(all.count).toBe(2); // x/BTC, x/USDC
    const sums = new Map<string, [number, number]>();
    for (const p of book) {
      const one = makePortfolio(market, [p]);
      const r = standardRows(buildRunTables(one.book, one.balances, market, params));
      expect(r.count).toBe(1);
      const k = r.unitNames[r.unit[0]];
      const s = sums.get(k) ?? [0, 0];
      sums.set(k, [s[0] + r.im[0], s[1] + r.mm[0]]);
    }
    for (let r = 0; r < all.count; r++) {
      const [im, mm] = sums.get(all.unitNames[all.unit[r]])!;
      expectClose(all.im[r], im, 1e-9, { unit: all.unitNames[all.unit[r]] });
      expectClose(all.mm[r], mm, 1e-9, { unit: all.unitNames[all.unit[r]] });
      expect(all.standardIm[r]).toBe(all.im[r]);
      expect(all.worstScenario[r]).toBe(-1);
      expect(Number.isNaN(all.worstCase[r])).toBe(true);
    }
  });

  test('the liquidity add-on is reported but not added to the standard IM', () => {
    const pf = makePortfolio(market, [{ account: 'y', instrument: 'PERP', qty: 10 }]);
    const r = standardRows(buildRunTables(pf.book, pf.balances, market, params));
    expectClose(r.liquidityAddon[0], 0.0005 * 10, 1e-15, {});
    expectClose(r.im[0], 0.205, 1e-12, {});
  });

  test('doubling option quantities doubles their standard margin (the futures size term is not linear)', () => {
    const m = sampleMarket();
    const opts = SAMPLE_POSITIONS.filter((p) => p.instrument.split('-').length === 4);
    const a = makePortfolio(m, opts, SAMPLE_BALANCES);
    const b = makePortfolio(
      m,
      opts.map((p) => ({ ...p, qty: 2 * p.qty })),
      SAMPLE_BALANCES,
    );
    const ra = standardRows(buildRunTables(a.book, a.balances, m, params));
    const rb = standardRows(buildRunTables(b.book, b.balances, m, params));
    for (let r = 0; r < ra.count; r++) expectClose(rb.im[r], 2 * ra.im[r], 1e-12 * Math.max(1, ra.im[r]), { r });
    const f1 = new Float64Array(2);
    const f2 = new Float64Array(2);
    standardPosition(market, params, market.instruments.id.get('PERP')!, 100, f1);
    standardPosition(market, params, market.instruments.id.get('PERP')!, 200, f2);
    expect(f2[0]).toBeGreaterThan(2 * f1[0]);
  });
});

test.each([-300, -2, -0.1, 0.1, 5, 120])(
  'the precomputed table gives standardPosition for every instrument, qty %d',
  (qty) => {
    const t = standardTable(market, params);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    for (let i = 0; i < market.instruments.count; i++) {
      standardPosition(market, params, i, qty, a);
      standardFromTable(t, i, qty, b);
      expectClose(b[0], a[0], 1e-12 * Math.max(1, a[0]), { i, qty, what: 'IM' });
      expectClose(b[1], a[1], 1e-12 * Math.max(1, a[1]), { i, qty, what: 'MM' });
    }
  },
);
