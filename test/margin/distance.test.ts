/**
 * Distance to liquidation (docs/methodology.md §7), src/margin/distance.ts, through the engine's own
 * revaluation and aggregation on the cpu backend (float64, the reference), against independent
 * references: the closed form of a linear perpetual under standard margin, the ordering properties of
 * §7's checks, and f re-evaluated on the whole book (not the search's sub-portfolios) at the answer and at
 * every scanned point nearer 0.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../../src/engine/createBackend.js';
import type { Backend } from '../../src/engine/backend.js';
import {
  DIRECTION_DOWN,
  DIRECTION_UP,
  JOINT,
  distanceGrid,
  distanceSearchCount,
  liquidationDistances,
  searchParts,
  type DistanceOptions,
  type DistanceRows,
} from '../../src/margin/distance.js';
import {
  marginAt,
  marginAtMany,
  marginCombined,
  moveMarket,
  perUnitModel,
  subPortfolio,
} from '../../src/margin/remargin.js';
import { defaultParams } from '../../src/params/params.js';
import type { Family, ScenarioSet } from '../../src/scenarios/types.js';
import type { ModelName } from '../../src/margin/types.js';
import type { Balances, PositionBook } from '../../src/model/book.js';
import type { Market } from '../../src/model/market.js';
import {
  deribitPmSet,
  jointSet,
  makeMarket,
  makePortfolio,
  pinnedJointMoves,
  spanSet,
  type BalanceSpec,
  type PositionSpec,
} from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';
import { MARGIN_MODELS, computeMargin } from '../../src/margin/models.js';
import { marginInput } from '../../src/margin/runTables.js';
import { hostPnl } from '../../src/engine/hostPnl.js';
import { KIND_OPTION } from '../../src/model/market.js';
import { decline, floorAt, type SlopeCoefficients } from '../../src/margin/slope.js';

let backend: Backend;
beforeAll(async () => {
  backend = await createBackend('cpu', { workers: 1 });
});
afterAll(async () => {
  await backend.close();
});

const params = defaultParams();
function setsOf(market: Market): Map<Family, ScenarioSet> {
  return new Map<Family, ScenarioSet>([
    ['deribit-pm', deribitPmSet(market, params)],
    ['span', spanSet(market, params)],
    ['historical', jointSet('historical', market, pinnedJointMoves(market))],
  ]);
}

/** The row of (account key, unit name, underlying or JOINT, direction). */
function rowOf(d: DistanceRows, book: PositionBook, account: string, unit: string, u: number, dir: number): number {
  for (let r = 0; r < d.count; r++)
    if (
      book.accountKey[d.account[r]] === account &&
      d.unitNames[d.unit[r]] === unit &&
      d.underlying[r] === u &&
      d.direction[r] === dir
    )
      return r;
  return -1;
}

/** f = E − MM of (account, unit) at the market moved by factor, re-margined on the whole book. */
async function fAt(
  model: ModelName,
  book: PositionBook,
  balances: Balances,
  market: Market,
  account: number,
  unitName: string,
  factor: Float64Array,
): Promise<number> {
  const all = Int32Array.from({ length: book.accountCount }, (_, a) => a);
  const rows = await marginAt(
    model,
    subPortfolio(book, balances, market, all),
    factor,
    params,
    setsOf(market),
    backend,
  );
  let eq = NaN;
  let mm = 0;
  for (let r = 0; r < rows.count; r++) {
    if (rows.account[r] !== account) continue;
    if (perUnitModel(model)) {
      if (rows.unitNames[rows.unit[r]] !== unitName) continue;
      return rows.equity[r] - rows.mm[r];
    }
    eq = rows.equity[r];
    mm += rows.mm[r];
  }
  return eq - mm;
}

describe('distance grid (§7)', () => {
  test('0.5 % steps to 20 %, 2 % to 60 %, 10 % to x_max', () => {
    const g = distanceGrid(0.9);
    expect(g.slice(0, 3)).toEqual([0.005, 0.01, 0.015]);
    expect(g).toContain(0.2);
    expect(g).toContain(0.22);
    expect(g).toContain(0.6);
    expect(g.slice(-3)).toEqual([0.7, 0.8, 0.9]);
    expect(g.length).toBe(40 + 20 + 3);
    expect(distanceGrid(3).at(-1)).toBe(3);
  });
});

describe('closed form: a long linear perpetual under standard margin', () => {
  // E(x) = C + q(F(1+x) − e), MM(x) = (mm_base + im_per_coin·q)·q·F(1+x)  (§4d)
  // ⇒ 1 + x* = (q·e − C) / (q·F·(1 − m)),  m = mm_base + im_per_coin·q
  const F = 60000;
  const q = 2;
  const e = 61000;
  const C = 20000;
  const market = makeMarket(
    '2024-06-10T08:00:00Z',
    [{ name: 'BTC', index: F }],
    [{ name: 'BTC_USDC-PERPETUAL', underlying: 'BTC', kind: 'perpetual', settlement: 'linear', forward: F }],
  );
  const { book, balances } = makePortfolio(
    market,
    [{ account: 'a', instrument: 'BTC_USDC-PERPETUAL', qty: q, entry: e }],
    [{ account: 'a', currency: 'USDC', amount: C }],
  );
  test('down: within 1e-5 of the closed form, on the liquidated side; up: none', async () => {
    const [d] = await liquidationDistances(book, balances, market, params, setsOf(market), ['standard'], backend);
    const m = params.standard.mmBase.BTC + params.standard.imPerCoin.BTC * q;
    const xStar = (q * e - C) / (q * F * (1 - m)) - 1;
    expect(xStar).toBeLessThan(-0.005);
    for (const u of [0, JOINT]) {
      const down = rowOf(d!, book, 'a', 'USDC', u, DIRECTION_DOWN);
      expect(down).toBeGreaterThanOrEqual(0);
      expect(d!.move[down]).toBeLessThanOrEqual(xStar + 1e-12);
      expect(d!.move[down]).toBeGreaterThanOrEqual(xStar - 1e-5);
      expect(d!.equity[down]).toBeLessThan(d!.mm[down]);
      const up = rowOf(d!, book, 'a', 'USDC', u, DIRECTION_UP);
      expect(d!.move[up]).toBeNaN();
    }
    const down = rowOf(d!, book, 'a', 'USDC', 0, DIRECTION_DOWN);
    expect(d!.price[down]).toBeCloseTo(F * (1 + d!.move[down]), 6);
    // f is linear, so the first refinement step's interpolation is the root, and on the grid's finest step its
    // pair closes the bracket at once (a secant point first would take two steps)
    expect(d!.search.brackets).toBe(1);
    expect(d!.search.refineSteps).toBe(1);
    expect(d!.search.refinePoints).toBe(2);
  });
});

describe('properties on the sample book (deribit-pm, span, standard)', () => {
  const market = sampleMarket();
  const models: ModelName[] = ['deribit-pm', 'span', 'standard'];

  test('f(x*) < 0 ≤ f one tolerance nearer 0, and f ≥ 0 at every scanned point nearer 0 (whole-book re-margin)', async () => {
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const ds = await liquidationDistances(book, balances, market, params, setsOf(market), models, backend);
    let checked = 0;
    for (const d of ds) {
      for (let r = 0; r < d.count; r++) {
        const x = d.move[r];
        if (!(x !== 0) || Number.isNaN(x)) continue;
        const u = d.underlying[r];
        const factorAt = (y: number) => {
          const f = new Float64Array(market.underlyings.length).fill(1);
          if (u === JOINT) f.fill(1 + y);
          else f[u] = 1 + y;
          return f;
        };
        const unit = d.unitNames[d.unit[r]];
        const a = d.account[r];
        const f = (y: number) => fAt(d.model, book, balances, market, a, unit, factorAt(y));
        expect(await f(x)).toBeLessThan(0);
        expect(await f(x - Math.sign(x) * 1e-5)).toBeGreaterThanOrEqual(0);
        for (const g of distanceGrid(x < 0 ? 0.9 : 3)) {
          if (g >= Math.abs(x) - 1e-5) break;
          expect(await f(Math.sign(x) * g)).toBeGreaterThanOrEqual(0);
        }
        checked++;
      }
    }
    // the sample book has liquidations within the range in every model
    expect(checked).toBeGreaterThan(6);
  }, 120_000);

  test('adding collateral never brings the distance closer to 0', async () => {
    const before = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const extra: BalanceSpec[] = [...new Set(SAMPLE_POSITIONS.map((p) => p.account))].flatMap((account) => [
      { account, currency: 'USDC', amount: 5000 },
      { account, currency: 'BTC', amount: 0.05 },
      { account, currency: 'ETH', amount: 0.5 },
    ]);
    const after = makePortfolio(market, SAMPLE_POSITIONS, [...SAMPLE_BALANCES, ...extra]);
    const d0 = await liquidationDistances(
      before.book,
      before.balances,
      market,
      params,
      setsOf(market),
      models,
      backend,
    );
    const d1 = await liquidationDistances(after.book, after.balances, market, params, setsOf(market), models, backend);
    let compared = 0;
    for (let m = 0; m < models.length; m++) {
      for (let r = 0; r < d0[m]!.count; r++) {
        const key = [
          before.book.accountKey[d0[m]!.account[r]],
          d0[m]!.unitNames[d0[m]!.unit[r]],
          d0[m]!.underlying[r],
          d0[m]!.direction[r],
        ] as const;
        const r1 = rowOf(d1[m]!, after.book, key[0], key[1], key[2], key[3]);
        if (r1 < 0) continue; // (span: the coin now held adds exposures; the old rows are all still there)
        const x0 = d0[m]!.move[r];
        const x1 = d1[m]!.move[r1];
        compared++;
        if (Number.isNaN(x0)) expect(x1).toBeNaN();
        else if (!Number.isNaN(x1)) expect(Math.abs(x1)).toBeGreaterThanOrEqual(Math.abs(x0) - 1e-5);
      }
    }
    expect(compared).toBeGreaterThan(20);
    // and somewhere it moved strictly further away
    const moved = models.some((_, m) =>
      Array.from(d0[m]!.move).some((x0, r) => {
        const k = d0[m]!;
        const r1 = rowOf(
          d1[m]!,
          after.book,
          before.book.accountKey[k.account[r]],
          k.unitNames[k.unit[r]],
          k.underlying[r],
          k.direction[r],
        );
        return r1 >= 0 && !Number.isNaN(x0) && !(Math.abs(d1[m]!.move[r1]) <= Math.abs(x0));
      }),
    );
    expect(moved).toBe(true);
  }, 120_000);

  test('a fully paid long option never liquidates on the side where it loses', async () => {
    const positions: PositionSpec[] = [
      { account: 'call', instrument: 'BTC-28JUN24-66000-C', qty: 3 },
      { account: 'put', instrument: 'ETH-28JUN24-3400-P', qty: 10 },
      { account: 'lcall', instrument: 'BTC_USDC-28JUN24-68000-C', qty: 2 },
    ];
    const { book, balances } = makePortfolio(market, positions);
    const ds = await liquidationDistances(book, balances, market, params, setsOf(market), models, backend);
    const loses: Record<string, number> = { call: DIRECTION_DOWN, put: DIRECTION_UP, lcall: DIRECTION_DOWN };
    let seen = 0;
    for (const d of ds) {
      for (let r = 0; r < d.count; r++) {
        if (d.direction[r] !== loses[book.accountKey[d.account[r]]!]) continue;
        seen++;
        expect(d.move[r], `${d.model} ${book.accountKey[d.account[r]]}`).toBeNaN();
      }
    }
    expect(seen).toBeGreaterThanOrEqual(3 * 2);
  }, 120_000);

  test('an account already below its MM has distance 0 on every side', async () => {
    const { book, balances } = makePortfolio(market, [{ account: 'x', instrument: 'BTC-PERPETUAL', qty: -5 }], []);
    const [d] = await liquidationDistances(book, balances, market, params, setsOf(market), ['deribit-pm'], backend);
    expect(d!.count).toBe(4); // BTC down / up, joint down / up
    for (let r = 0; r < d!.count; r++) {
      expect(d!.move[r]).toBe(0);
      expect(d!.equity[r]).toBeLessThan(d!.mm[r]);
    }
  });
});

/**
 * The sample book and buyers of options, whose units the models' floors cover (slope.ts SlopeFloor): two with coin
 * and USDC collateral (a floor above 0: never liquidated), one with none (a floor of 0, which proves nothing).
 */
const BUYER_POSITIONS: PositionSpec[] = [
  ...SAMPLE_POSITIONS,
  { account: 'buyer', instrument: 'BTC-28JUN24-72000-C', qty: 3 },
  { account: 'buyer', instrument: 'BTC-28JUN24-60000-P', qty: 2 },
  { account: 'buyer', instrument: 'ETH-28JUN24-3400-P', qty: 20 },
  { account: 'buyer', instrument: 'BTC_USDC-28JUN24-68000-C', qty: 1 },
  { account: 'bare-buyer', instrument: 'BTC-27SEP24-80000-C', qty: 1 },
  { account: 'call-buyer', instrument: 'BTC-28JUN24-72000-C', qty: 1 },
];
const BUYER_BALANCES: BalanceSpec[] = [
  ...SAMPLE_BALANCES,
  { account: 'buyer', currency: 'BTC', amount: 0.01 },
  { account: 'buyer', currency: 'ETH', amount: 0.2 },
  { account: 'buyer', currency: 'USDC', amount: 50 },
  // span's floor takes the coin at its least scenario value (κ), the calls hedging none of its fall
  { account: 'call-buyer', currency: 'BTC', amount: 1 },
];

describe('the scan skips what a slope bound proves (span, deribit-pm, var)', () => {
  const market = sampleMarket();
  const U = market.underlyings.length;
  const xs = [-0.89, -0.6, -0.31, -0.2, -0.12, -0.05, -0.025, -0.01, 0, 0.005, 0.015, 0.03, 0.08, 0.2, 0.4, 1.1, 2.9];
  // deribit-pm's bound takes both pieces of adj (a gain × pnl_offset) and m_F: a second parameter set moves both
  const offsetParams = { ...params, deribitPm: { ...params.deribitPm, pnlOffset: 0.5, mmFactor: 1 } };

  test.each([
    ['span', 'default parameters', params],
    ['deribit-pm', 'default parameters', params],
    ['deribit-pm', 'pnl_offset 0.5, mm_factor 1', offsetParams],
    ['var-hs', 'default parameters', params],
  ] as const)(
    '%s (%s): f falls by at most D(1 + min(x, y))·|x − y| going up and down, and stays above its floor, every status unit, target and pair',
    async (model, _label, params) => {
      const { book, balances } = makePortfolio(market, BUYER_POSITIONS, BUYER_BALANCES);
      const scenarios = setsOf(market).get(MARGIN_MODELS[model].family)!;
      const perUnit = perUnitModel(model);
      // the bound's index of a row: the account (span) or the book's unit of (account, currency)
      const indexOf = (a: number, code: number) => {
        if (!perUnit) return a;
        for (let k = book.accountUnitStart[a]!; k < book.accountUnitStart[a + 1]!; k++)
          if (book.unitCurrency[k] === code) return k;
        return -1;
      };
      const n = perUnit ? book.unitCount : book.accountCount;
      let pairs = 0;
      let rising = 0;
      let tightest = Infinity;
      // the floor's checks, and those where it is above 0 (it proves the unit never liquidated)
      let floors = 0;
      let above = 0;
      for (const target of [JOINT, ...Array.from({ length: U }, (_, u) => u)]) {
        const moved = new Uint8Array(U);
        if (target === JOINT) moved.fill(1);
        else moved[target] = 1;
        const bound = MARGIN_MODELS[model].slopeBound!({ book, balances, market, scenarios, params }, moved);
        // f of every status unit at each move, from one whole-book re-margin per move
        const fs = await Promise.all(
          xs.map(async (x) => {
            const factor = new Float64Array(U).fill(1);
            if (target === JOINT) factor.fill(1 + x);
            else factor[target] = 1 + x;
            const all = Int32Array.from({ length: book.accountCount }, (_, a) => a);
            const sub = subPortfolio(book, balances, market, all);
            const rows = await marginAt(model, sub, factor, params, setsOf(market), backend);
            const f = new Float64Array(n).fill(NaN);
            const mm = new Float64Array(n);
            for (let r = 0; r < rows.count; r++) {
              const i = indexOf(rows.account[r]!, rows.unit[r]!);
              if (i < 0) continue;
              f[i] = rows.equity[r]!;
              mm[i] += rows.mm[r]!;
            }
            return f.map((e, i) => e - mm[i]!);
          }),
        );
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(fs[0]![i])) continue;
          expect(bound.down.c0[i]).toBeLessThan(Infinity);
          expect(bound.up.c0[i]).toBeLessThan(Infinity);
          expect(bound.floor.c1[i]).toBeGreaterThanOrEqual(0);
          if (bound.floor.c0[i]! > -Infinity)
            xs.forEach((x, p) => {
              const floor = floorAt(bound.floor, i, 1 + x);
              expect(fs[p]![i]).toBeGreaterThanOrEqual(floor - 1e-9 * Math.abs(floor));
              floors++;
              if (floor > 0) above++;
            });
          for (let p = 0; p < xs.length; p++)
            for (let q = p + 1; q < xs.length; q++) {
              const g = 1 + Math.min(xs[p]!, xs[q]!);
              // going up from xs[p] to xs[q], and down from xs[q] to xs[p]: f falls by at most D·|Δx|
              for (const [from, to, c] of [
                [p, q, bound.up],
                [q, p, bound.down],
              ] as const) {
                const D = decline(c, i, g);
                const fall = fs[from]![i]! - fs[to]![i]!;
                const allowed = D * (xs[q]! - xs[p]!);
                expect(fall).toBeLessThanOrEqual(allowed * (1 + 1e-9) + 1e-9);
                if (fall > 0) tightest = Math.min(tightest, allowed / fall);
                if (D === 0) rising++;
                pairs++;
              }
            }
        }
      }
      expect(pairs).toBeGreaterThan(100);
      // the bound is not vacuous: somewhere it is within 5× of a fall it allows
      expect(tightest).toBeLessThan(5);
      // and somewhere it proves that f cannot fall at all in a direction
      expect(rising).toBeGreaterThan(0);
      // the buyers have floors (a model without one, var, none), the collateralised one above 0
      if (model === 'var-hs') expect(floors).toBe(0);
      else expect(above).toBeGreaterThan(0);
      if (model !== 'var-hs') expect(floors).toBeGreaterThan(above);
    },
    120_000,
  );

  test.each(['span', 'var-hs'] as const)(
    '%s: a unit with anything not finite has no bound, either way (an infinite balance cannot prove it safe)',
    (model) => {
      const balances = SAMPLE_BALANCES.map((b) => (b.account === 'hedged' ? { ...b, amount: -1e308 } : b));
      const { book, balances: bal } = makePortfolio(market, SAMPLE_POSITIONS, balances);
      const scenarios = setsOf(market).get(MARGIN_MODELS[model].family)!;
      const moved = new Uint8Array(U).fill(1);
      const bound = MARGIN_MODELS[model].slopeBound!({ book, balances: bal, market, scenarios, params }, moved);
      const a = book.accountKey.indexOf('hedged');
      expect(a).toBeGreaterThanOrEqual(0);
      for (const c of [bound.down, bound.up]) expect(decline(c, a, 1)).toBe(Infinity);
      // the others keep their bounds
      expect(Array.from(book.accountKey.keys()).some((i) => i !== a && decline(bound.down, i, 1) < Infinity)).toBe(
        true,
      );
    },
  );

  test('skipping gives the full scan’s rows bit for bit, and evaluates fewer points', async () => {
    const { book, balances } = makePortfolio(market, BUYER_POSITIONS, BUYER_BALANCES);
    // instrument copies revalued: a sub-portfolio's instruments once per grid point it is evaluated at
    let revalued = 0;
    const counting = {
      revalue: (...a: Parameters<Backend['revalue']>) => {
        revalued += a[0].instruments.count;
        return backend.revalue(...a);
      },
      aggregate: (...a: Parameters<Backend['aggregate']>) => backend.aggregate(...a),
    };
    const run = (slopeSkip: boolean) =>
      liquidationDistances(book, balances, market, params, setsOf(market), ['span', 'deribit-pm', 'var-hs'], counting, {
        slopeSkip,
        scanBlock: 1, // one grid point per batch, as on a large book
      });
    const skip = await run(true);
    const withSkip = revalued;
    revalued = 0;
    const full = await run(false);
    expect(revalued).toBeGreaterThan(1.2 * withSkip);
    for (let m = 0; m < 3; m++) {
      // the searches' counts (DistanceRows.search): the same brackets and refinement, fewer scanned pairs
      expect(skip[m]!.search.searches).toBe(2 * (market.underlyings.length + 1));
      expect(skip[m]!.search.brackets).toBe(full[m]!.search.brackets);
      expect(skip[m]!.search.refinePoints).toBe(full[m]!.search.refinePoints);
      expect(skip[m]!.search.scanPairs).toBeLessThan(full[m]!.search.scanPairs);
      expect(skip[m]!.search.refinePoints).toBeGreaterThanOrEqual(skip[m]!.search.brackets);
      expect(skip[m]!.count).toBe(full[m]!.count);
      for (const c of ['account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity', 'mm'] as const)
        expect(Buffer.from(skip[m]![c].buffer).equals(Buffer.from(full[m]![c].buffer))).toBe(true);
    }
  }, 120_000);

  test('a buyer of options with collateral is never scanned (its floor), and answers "none" as the full scan does', async () => {
    const buyer = (x: { account: string }) => x.account === 'buyer';
    const { book, balances } = makePortfolio(market, BUYER_POSITIONS.filter(buyer), BUYER_BALANCES.filter(buyer));
    const run = (slopeSkip: boolean) =>
      liquidationDistances(book, balances, market, params, setsOf(market), ['span', 'deribit-pm'], backend, {
        slopeSkip,
      });
    const [skip, full] = [await run(true), await run(false)];
    for (let m = 0; m < 2; m++) {
      expect(skip[m]!.count).toBeGreaterThan(0);
      expect(skip[m]!.search.scanPairs).toBe(0);
      expect(full[m]!.search.scanPairs).toBeGreaterThan(10 * full[m]!.count);
      expect(Array.from(skip[m]!.move).every(Number.isNaN)).toBe(true);
      expect(Array.from(full[m]!.move).every(Number.isNaN)).toBe(true);
    }
  }, 60_000);

  /** One model's distances on (positions, balances) a grid point a batch, and its full scan's (no skipping). */
  async function againstFullScan(model: 'span' | 'deribit-pm', positions: PositionSpec[], balances: BalanceSpec[]) {
    const pf = makePortfolio(market, positions, balances);
    const opts = { scanBlock: 1 };
    const run = (o: DistanceOptions) =>
      liquidationDistances(pf.book, pf.balances, market, params, setsOf(market), [model], backend, o);
    const [full] = await run({ ...opts, slopeSkip: false });
    return { full: full!, skipping: async () => (await run(opts))[0]! };
  }

  test('a floor that is too high gives other answers (the comparisons above can fail)', async () => {
    const { full, skipping } = await againstFullScan('deribit-pm', BUYER_POSITIONS, BUYER_BALANCES);
    const dpm = MARGIN_MODELS['deribit-pm'];
    const honest = dpm.slopeBound!;
    // every unit's floor at its equity at x = 0: a unit that falls below it is answered "none"
    dpm.slopeBound = (input, moved) => {
      const b = honest(input, moved);
      return { ...b, floor: { c0: b.floor.c0.map(() => 1e9), c1: b.floor.c1 } };
    };
    try {
      const wrong = await skipping();
      expect(Array.from(full.move).some((x) => !Number.isNaN(x))).toBe(true);
      expect(Array.from(wrong.move).every((x) => Number.isNaN(x) || x === 0)).toBe(true);
    } finally {
      dpm.slopeBound = honest;
    }
  }, 60_000);

  test('a bound that is too small is refused or gives other answers (the comparison above can fail)', async () => {
    const { full, skipping } = await againstFullScan('span', SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const span = MARGIN_MODELS.span;
    const honest = span.slopeBound!;
    for (const shrink of [30, 100, 1000]) {
      span.slopeBound = (input, moved) => {
        const b = honest(input, moved);
        const shrunk = (c: SlopeCoefficients): SlopeCoefficients => ({
          c0: c.c0.map((L) => L / shrink),
          c1: c.c1.map((L) => L / shrink),
          c2: c.c2.map((L) => L / shrink),
        });
        return { ...b, down: shrunk(b.down), up: shrunk(b.up) };
      };
      try {
        const wrong = await skipping();
        // a point the bound wrongly proved safe hid the first f ≤ 0: some answer moved or became "none"
        const moved = Array.from(wrong.move).some((x, r) => !Object.is(x, full.move[r]));
        expect(moved).toBe(true);
      } catch (e) {
        // or the grid point before a hit, skipped as safe, has E < MM
        expect(String(e)).toMatch(/slope bound is wrong/);
      } finally {
        span.slopeBound = honest;
      }
    }
  }, 120_000);
});

describe('the searches on the cpu backend’s worker threads (Backend.threads)', () => {
  test('give this thread’s rows bit for bit, every model; this thread revalues only the base re-margins', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const models: ModelName[] = ['deribit-pm', 'span', 'var-hs', 'standard'];
    const two = await createBackend('cpu', { workers: 2 });
    try {
      expect(two.threads?.workers).toBe(2);
      let calls = 0;
      const counting = {
        revalue: (...a: Parameters<Backend['revalue']>) => {
          calls++;
          return two.revalue(...a);
        },
        aggregate: (...a: Parameters<Backend['aggregate']>) => two.aggregate(...a),
        threads: two.threads,
      };
      const progress: Array<[number, number]> = [];
      const handed: DistanceRows[] = [];
      const threaded = await liquidationDistances(book, balances, market, params, setsOf(market), models, counting, {
        onProgress: (done, total) => progress.push([done, total]),
        onModel: (rows) => handed.push(rows),
      });
      // every model's rows handed on once, in the models' order: the objects the call returns
      expect(handed).toHaveLength(models.length);
      handed.forEach((rows, m) => expect(rows).toBe(threaded[m]));
      // one re-margin per scenario model at the unmoved market; every search ran on the threads
      expect(calls).toBe(3);
      // progress as each search ends: per model, both underlyings and the joint move, down and up
      const total = distanceSearchCount(models, market);
      expect(total).toBe(4 * 3 * 2);
      expect(progress).toEqual(Array.from({ length: total }, (_, j) => [j + 1, total]));
      calls = 0;
      // on this thread the searches end in the models' order: each model's rows are handed on right after
      // its last search, before the next model's first
      const events: string[] = [];
      const here = await liquidationDistances(book, balances, market, params, setsOf(market), models, counting, {
        threads: false,
        onProgress: (done) => events.push(`search ${done}`),
        onModel: (rows) => events.push(rows.model),
      });
      const perModel = total / models.length;
      expect(events).toEqual(
        models.flatMap((model, m) => [
          ...Array.from({ length: perModel }, (_, k) => `search ${m * perModel + k + 1}`),
          model,
        ]),
      );
      expect(calls).toBeGreaterThan(20);
      for (let m = 0; m < models.length; m++) {
        expect(threaded[m]!.model).toBe(models[m]);
        expect(threaded[m]!.count).toBe(here[m]!.count);
        expect(threaded[m]!.count).toBeGreaterThan(10);
        expect(threaded[m]!.unitNames).toEqual(here[m]!.unitNames);
        for (const c of ['account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity', 'mm'] as const)
          expect(Buffer.from(threaded[m]![c].buffer).equals(Buffer.from(here[m]![c].buffer))).toBe(true);
      }
      // and the answers are not all "none": the comparison covers found moves
      expect(Array.from(threaded[0]!.move).filter((x) => Number.isFinite(x) && x !== 0).length).toBeGreaterThan(3);
      // each search's units in parts, each part a task of its own (as on 16 cores): the same rows, the same
      // progress (a search ends with its last part)
      calls = 0;
      const progressParts: Array<[number, number]> = [];
      const parted = await liquidationDistances(book, balances, market, params, setsOf(market), models, counting, {
        searchParts: 3,
        onProgress: (done, t) => progressParts.push([done, t]),
      });
      expect(calls).toBe(3);
      expect(progressParts).toEqual(progress);
      // more parts than a search has units: a part a unit, the same rows
      const fine = await liquidationDistances(book, balances, market, params, setsOf(market), models, counting, {
        searchParts: 10_000,
      });
      for (let m = 0; m < models.length; m++)
        for (const c of ['account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity', 'mm'] as const)
          expect(Buffer.from(fine[m]![c].buffer).equals(Buffer.from(here[m]![c].buffer))).toBe(true);
      // a part count that is not a positive integer is refused, not searched with units left out
      for (const bad of [0, -1, 1.5, NaN])
        await expect(
          liquidationDistances(book, balances, market, params, setsOf(market), models, counting, { searchParts: bad }),
        ).rejects.toThrow(/searchParts must be an integer ≥ 1/);
      // likewise a scan block (NaN would scan no grid point at all)
      for (const bad of [0, 2.5, NaN])
        await expect(
          liquidationDistances(book, balances, market, params, setsOf(market), models, counting, { scanBlock: bad }),
        ).rejects.toThrow(/scanBlock must be an integer ≥ 1/);
      calls = 0;
      for (let m = 0; m < models.length; m++) {
        expect(parted[m]!.count).toBe(here[m]!.count);
        for (const c of ['account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity', 'mm'] as const)
          expect(Buffer.from(parted[m]![c].buffer).equals(Buffer.from(here[m]![c].buffer))).toBe(true);
        // (the scan's pairs may differ: a part batches its own units' grid points)
        expect(parted[m]!.search.refinePoints).toBe(here[m]!.search.refinePoints);
      }
    } finally {
      await two.close();
    }
  }, 120_000);
});

describe('searchParts: a search is cut into parts only when the threads outnumber the searches', () => {
  test.each([
    [2, 12, 1],
    [12, 12, 1],
    [16, 12, 3],
    [16, 8, 4],
    [64, 12, 11],
    [16, 0, 1],
  ])('%i threads, %i searches: %i parts', (workers, searches, parts) => {
    expect(searchParts(workers, searches)).toBe(parts);
  });
});

describe('one combined re-margin of many jobs, each at its own move (marginCombined, the refinement)', () => {
  test('every job’s rows are its own re-margin’s, every column bit for bit (deribit-pm, span, var-hs, standard)', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const U = market.underlyings.length;
    // each account alone, one job of two accounts, and jobs of some units of their accounts (a per-unit model's
    // searched units: the first unit of each account, and of an account with several its last, beside its
    // first in another job), at moves of one underlying or of all, down and up
    const A = book.accountCount;
    const firstUnits = Array.from({ length: A }, (_, a) => book.accountUnitStart[a]!);
    const lastOfSeveral = Array.from({ length: A }, (_, a) => a)
      .filter((a) => book.accountUnitStart[a + 1]! - book.accountUnitStart[a]! > 1)
      .map((a) => [a, book.accountUnitStart[a + 1]! - 1] as const);
    expect(lastOfSeveral.length).toBeGreaterThan(0);
    const cuts: Array<{ accounts: Int32Array; units?: Int32Array }> = [
      ...Array.from({ length: A }, (_, a) => ({ accounts: Int32Array.of(a) })),
      { accounts: Int32Array.of(0, A - 1) },
      ...firstUnits
        .map((k, a) => ({ accounts: Int32Array.of(a), units: Int32Array.of(k) }))
        .filter(({ accounts }) => book.accountUnitStart[accounts[0]! + 1]! > book.accountUnitStart[accounts[0]!]!),
      ...lastOfSeveral.map(([a, k]) => ({ accounts: Int32Array.of(a), units: Int32Array.of(k) })),
      { accounts: Int32Array.of(0, A - 1), units: Int32Array.of(firstUnits[0]!, firstUnits[A - 1]!) },
    ];
    const jobs = cuts.map(({ accounts, units }, j) => {
      const x = ((j % 7) - 3) * 0.0731;
      const factor = new Float64Array(U).fill(j % 3 === 0 ? 1 + x : 1);
      factor[j % U] = 1 + x;
      let keep: Uint8Array | undefined;
      if (units) {
        keep = new Uint8Array(book.unitCount);
        for (const k of units) keep[k] = 1;
      }
      return { accounts, units, factor, sub: subPortfolio(book, balances, market, accounts, keep) };
    });
    // E, MM and what they derive from: the same bits; IM and what only IM reads are left out of a scenario
    // model's re-margins (RunTables.statusOnly: NaN in both), standard computes them
    const statusColumns = [
      'mm',
      'equity',
      'marginRatio',
      'worstScenario',
      'worstCase',
      'scanRisk',
      'som',
      'var',
      'es',
    ] as const;
    const imColumns = ['im', 'available', 'status', 'liquidityAddon', 'standardIm', 'standardMm'] as const;
    let compared = 0;
    for (const model of ['deribit-pm', 'span', 'var-hs', 'standard'] as const) {
      const { rows, job, accounts } = await marginCombined(
        model,
        { book, balances, market },
        jobs,
        params,
        setsOf(market),
        backend,
      );
      expect(new Set(job).size).toBe(jobs.length);
      for (let j = 0; j < jobs.length; j++) {
        const own = await marginAt(model, jobs[j]!.sub, jobs[j]!.factor, params, setsOf(market), backend);
        // the combined rows of job j, in order, against its own rows
        const mine = Array.from({ length: rows.count }, (_, r) => r).filter((r) => job[rows.account[r]!] === j);
        expect(mine.length, `${model} job ${j}`).toBe(own.count);
        mine.forEach((r, i) => {
          expect(accounts[rows.account[r]!]).toBe(jobs[j]!.sub.accounts[own.account[i]!]);
          expect(rows.unit[r]).toBe(own.unit[i]);
          for (const c of model === 'standard' ? [...statusColumns, ...imColumns] : statusColumns)
            expect(
              Object.is(rows[c][r], own[c][i]),
              `${model} job ${j} row ${i} ${c}: ${rows[c][r]} vs ${own[c][i]}`,
            ).toBe(true);
          if (model !== 'standard')
            for (const c of ['im', 'liquidityAddon', 'available'] as const)
              expect(Number.isNaN(rows[c][r]) && Number.isNaN(own[c][i]), `${model} ${c}`).toBe(true);
          compared++;
        });
      }
    }
    expect(compared).toBeGreaterThan(60);
  }, 120_000);

  test('a job keeping a unit of none of its accounts is refused', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const factor = new Float64Array(market.underlyings.length).fill(1);
    const job = { accounts: Int32Array.of(0), units: Int32Array.of(book.accountUnitStart[1]!), factor };
    await expect(
      marginCombined('deribit-pm', { book, balances, market }, [job], params, setsOf(market), backend),
    ).rejects.toThrow(/keeps a unit of none of its accounts/);
  });
});

describe('a batch of jobs in one backend call (marginAtMany, the scan)', () => {
  test('each job’s rows are those of the job alone, every column bit for bit (the one-job path copies nothing)', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const U = market.underlyings.length;
    const all = Int32Array.from({ length: book.accountCount }, (_, a) => a);
    const sub = subPortfolio(book, balances, market, all);
    const half = subPortfolio(
      book,
      balances,
      market,
      all.filter((a) => a % 2 === 1),
    );
    // grid points of one block (the same sub at several moves) and another sub beside them
    const jobs = [-0.3, -0.05, 0.1, 0.6].map((x, j) => {
      const factor = new Float64Array(U).fill(1);
      if (j % 2 === 0) factor.fill(1 + x);
      else factor[j % U] = 1 + x;
      return { sub: j === 3 ? half : sub, factor };
    });
    let compared = 0;
    for (const model of ['deribit-pm', 'span', 'var-hs'] as const) {
      const together = await marginAtMany(model, jobs, params, setsOf(market), backend);
      for (let j = 0; j < jobs.length; j++) {
        const [alone] = await marginAtMany(model, [jobs[j]!], params, setsOf(market), backend);
        const t = together[j]!;
        expect(t.count, `${model} job ${j}`).toBe(alone!.count);
        // (IM is left out of these re-margins, RunTables.statusOnly: NaN)
        expect(Array.from(t.im).every(Number.isNaN)).toBe(true);
        for (const c of ['account', 'unit', 'mm', 'equity', 'marginRatio', 'worstScenario', 'worstCase'] as const)
          for (let r = 0; r < t.count; r++) {
            expect(
              Object.is(t[c][r], alone![c][r]),
              `${model} job ${j} row ${r} ${c}: ${t[c][r]} vs ${alone![c][r]}`,
            ).toBe(true);
            compared++;
          }
      }
    }
    expect(compared).toBeGreaterThan(100);
  }, 120_000);
});

describe('a per-unit model re-margins a unit without its account’s other units (subPortfolio keepUnit)', () => {
  test('deribit-pm and standard: each unit’s equity and MM are the whole book’s, bit for bit, at moved markets', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const all = Int32Array.from({ length: book.accountCount }, (_, a) => a);
    const whole = subPortfolio(book, balances, market, all);
    let compared = 0;
    let withOthers = 0;
    for (const model of ['deribit-pm', 'standard'] as const) {
      for (const x of [-0.3, 0, 0.25]) {
        const factor = Float64Array.from(market.underlyings, (_, u) => (u === 0 ? 1 + x : 1 - x / 2));
        const ref = await marginAt(model, whole, factor, params, setsOf(market), backend);
        for (let a = 0; a < book.accountCount; a++) {
          const units = book.accountUnitStart[a + 1]! - book.accountUnitStart[a]!;
          for (let k = book.accountUnitStart[a]!; k < book.accountUnitStart[a + 1]!; k++) {
            const keep = new Uint8Array(book.unitCount);
            keep[k] = 1;
            const one = subPortfolio(book, balances, market, Int32Array.of(a), keep);
            // only that unit's positions travel
            expect(one.book.instrumentId.length).toBe(book.unitStart[k + 1]! - book.unitStart[k]!);
            const rows = await marginAt(model, one, factor, params, setsOf(market), backend);
            const code = book.unitCurrency[k]!;
            const r = Array.from({ length: rows.count }, (_, j) => j).find((j) => rows.unit[j] === code);
            const q = Array.from({ length: ref.count }, (_, j) => j).find(
              (j) => ref.account[j] === a && ref.unit[j] === code,
            );
            expect(r).toBeDefined();
            expect(q).toBeDefined();
            expect(Object.is(rows.equity[r!], ref.equity[q!]), `${model} account ${a} unit ${code} equity`).toBe(true);
            expect(Object.is(rows.mm[r!], ref.mm[q!]), `${model} account ${a} unit ${code} MM`).toBe(true);
            compared++;
            if (units > 1) withOthers++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(20);
    expect(withOthers).toBeGreaterThan(4); // accounts with other units, left out
  }, 120_000);
});

describe('under a fitted surface (Market.volSurface: sticky moneyness, --fill-iv surface)', () => {
  /** The sample market with a non-flat SVI slice on every option (flat, all 0, elsewhere). */
  function surfaceMarket(): Market {
    const market = sampleMarket();
    const ins = market.instruments;
    const params = new Float64Array(ins.count * 5);
    for (let i = 0; i < ins.count; i++)
      if (ins.kind[i] === KIND_OPTION) params.set([0.01 + 0.001 * (i % 7), 0.1, -0.3, 0.02, 0.2], i * 5);
    market.volSurface = { params, stickyMoneyness: true };
    return market;
  }

  test('a sub-portfolio revalues each of its instruments as the whole market does, bit for bit', () => {
    const market = surfaceMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const set = deribitPmSet(market, params);
    const whole = hostPnl(market, set, params);
    const I = market.instruments.count;
    const S = set.count;
    // every other account, then each account alone: sub-markets of other instruments in other orders
    const picks = [Int32Array.from({ length: Math.ceil(book.accountCount / 2) }, (_, k) => 2 * k)];
    for (let a = 0; a < book.accountCount; a++) picks.push(Int32Array.of(a));
    let cells = 0;
    for (const accounts of picks) {
      const sub = subPortfolio(book, balances, market, accounts);
      const J = sub.market.instruments.count;
      const part = hostPnl(sub.market, set, params);
      for (let j = 0; j < J; j++) {
        const i = sub.instruments[j]!;
        for (const [r, q] of [
          [j, i],
          [J + j, I + i],
        ]) {
          const got = part.data.subarray(r! * S, (r! + 1) * S);
          const want = whole.data.subarray(q! * S, (q! + 1) * S);
          expect(Buffer.from(got.slice().buffer).equals(Buffer.from(want.slice().buffer))).toBe(true);
          cells += S;
        }
      }
    }
    expect(cells).toBeGreaterThan(1000);
  });

  test('run’s search: f(x*) < 0 ≤ f one tolerance nearer 0, f on the whole moved market (no sub-portfolio)', async () => {
    const market = surfaceMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const sets = setsOf(market);
    const [d] = await liquidationDistances(book, balances, market, params, sets, ['deribit-pm'], backend);
    const set = sets.get('deribit-pm')!;
    /** f of (account, unit) at the whole market moved by factor: its own tables, revaluation and aggregation */
    const fWhole = async (a: number, unit: string, factor: Float64Array): Promise<number> => {
      const moved = moveMarket(market, factor);
      const input = marginInput({ book, balances, market: moved, params, scenarios: set });
      const rows = await computeMargin(MARGIN_MODELS['deribit-pm'], input, hostPnl(moved, set, params));
      for (let r = 0; r < rows.count; r++)
        if (rows.account[r] === a && rows.unitNames[rows.unit[r]!] === unit) return rows.equity[r]! - rows.mm[r]!;
      return NaN;
    };
    let checked = 0;
    for (let r = 0; r < d!.count; r++) {
      const x = d!.move[r]!;
      if (!(x !== 0) || Number.isNaN(x)) continue;
      const u = d!.underlying[r]!;
      const factorAt = (y: number) => {
        const f = new Float64Array(market.underlyings.length).fill(1);
        if (u === JOINT) f.fill(1 + y);
        else f[u] = 1 + y;
        return f;
      };
      const unit = d!.unitNames[d!.unit[r]!]!;
      const a = d!.account[r]!;
      expect(await fWhole(a, unit, factorAt(x))).toBeLessThan(0);
      expect(await fWhole(a, unit, factorAt(x - Math.sign(x) * 1e-5))).toBeGreaterThanOrEqual(0);
      expect(d!.equity[r]! - d!.mm[r]!).toBe(await fWhole(a, unit, factorAt(x)));
      checked++;
    }
    expect(checked).toBeGreaterThan(2);
  }, 120_000);
});
