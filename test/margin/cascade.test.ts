/**
 * Cascading-liquidation stress (docs/methodology.md §8), src/margin/cascade.ts, on the cpu backend:
 * infinite depth is the static stress (checked against an independent re-margin at the shocked market:
 * the float64 fixtures' revaluation and the naive aggregation); monotone in |x₀| and in 1/depth;
 * Σ deficits = fund drawdown + ADL; and the ladder of §8, whose triggers are known in closed form.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../../src/engine/createBackend.js';
import type { Backend } from '../../src/engine/backend.js';
import {
  criticalShock,
  defaultDepthUsd,
  defaultSweep,
  runCascade,
  runCascades,
  type CascadeResult,
} from '../../src/margin/cascade.js';
import { moveMarket } from '../../src/margin/remargin.js';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { marginInput } from '../../src/margin/runTables.js';
import { defaultParams } from '../../src/params/params.js';
import type { Family, ScenarioSet } from '../../src/scenarios/types.js';
import type { Market } from '../../src/model/market.js';
import { aggregateReference } from '../helpers/naiveAggregate.js';
import {
  deribitPmSet,
  makeMarket,
  makePortfolio,
  revalue,
  spanSet,
  type BalanceSpec,
  type PositionSpec,
} from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

let backend: Backend;
beforeAll(async () => {
  backend = await createBackend('cpu', { workers: 1 });
});
afterAll(async () => {
  await backend.close();
});
const params = defaultParams();
const setsOf = (m: Market) =>
  new Map<Family, ScenarioSet>([
    ['deribit-pm', deribitPmSet(m, params)],
    ['span', spanSet(m, params)],
  ]);

/**
 * The ladder of §8: N accounts, each long 1 BTC of a linear perpetual at entry F with USDC collateral set
 * so that, under standard margin (MM = m·q·F(1+x), m = mm_base + im_per_coin·q), account i is liquidated
 * below x*_i = −0.05 − i·ε (closed form: C = qF(1 − (1 + x*)(1 − m))).
 */
const F = 50_000;
const EPS = 0.004;
function ladder(n: number, extra: PositionSpec[] = [], extraBalances: BalanceSpec[] = []) {
  const market = makeMarket(
    '2024-06-10T08:00:00Z',
    [{ name: 'BTC', index: F }],
    [{ name: 'BTC_USDC-PERPETUAL', underlying: 'BTC', kind: 'perpetual', settlement: 'linear', forward: F }],
  );
  const m = params.standard.mmBase.BTC + params.standard.imPerCoin.BTC * 1;
  const xStar = Array.from({ length: n }, (_, i) => -0.05 - i * EPS);
  const names = xStar.map((_, i) => `L${String(i).padStart(2, '0')}`);
  const { book, balances } = makePortfolio(
    market,
    [...names.map((account) => ({ account, instrument: 'BTC_USDC-PERPETUAL', qty: 1, entry: F })), ...extra],
    [
      ...names.map((account, i) => ({ account, currency: 'USDC', amount: F * (1 - (1 + xStar[i]!) * (1 - m)) })),
      ...extraBalances,
    ],
  );
  return { market, book, balances, xStar };
}

function cascade(
  l: ReturnType<typeof ladder>,
  x0: number,
  depth: number,
  fund = 1e9,
  model: 'standard' | 'deribit-pm' = 'standard',
): Promise<CascadeResult> {
  return runCascade(l.book, l.balances, l.market, params, setsOf(l.market), backend, {
    model,
    shock: Float64Array.of(x0),
    depthUsd: Float64Array.of(depth),
    insuranceFundUsd: fund,
  });
}

describe('the ladder (§8): liquidated whole iff each account’s impact crosses the next trigger', () => {
  // shock just past the first trigger; one account's close-out (1 BTC sold) moves the price by
  // δ = 0.01·S*/D relative, i.e. (1 + x₀)·δ in x
  const x0 = -0.05 - EPS / 10;
  const sStar = F * (1 + x0);
  const depthFor = (stepInX: number) => (0.01 * sStar * (1 + x0)) / stepInX;
  test('each step 1.05 ε: all 8 go, exactly one per round (the next trigger crossed, not the one after)', async () => {
    const l = ladder(8);
    const r = await cascade(l, x0, depthFor(1.05 * EPS));
    expect(r.liquidatedUnits).toBe(8);
    expect(r.rounds.map((x) => x.liquidatedUnits)).toEqual(new Array(8).fill(1));
    // round k ends at x₀ − k·1.05ε
    r.rounds.forEach((x, k) => expect(x.factor[0]! - 1).toBeCloseTo(x0 - (k + 1) * 1.05 * EPS, 12));
  });
  test('each step 1.5 ε: all 8 go, in fewer rounds (later steps cross two triggers)', async () => {
    const r = await cascade(ladder(8), x0, depthFor(1.5 * EPS));
    expect(r.liquidatedUnits).toBe(8);
    expect(r.rounds.length).toBeGreaterThan(1);
    expect(r.rounds.length).toBeLessThan(8);
  });
  test('each step 0.5 ε: the first goes, the second holds', async () => {
    const l = ladder(8);
    const r = await cascade(l, x0, depthFor(0.5 * EPS));
    expect(r.liquidatedUnits).toBe(1);
    expect(r.rounds.length).toBe(1);
    // and the price stopped where one account's flow left it, above the second trigger
    expect(r.finalMove[0]).toBeGreaterThan(l.xStar[1]!);
    expect(r.finalMove[0]).toBeCloseTo((1 + x0) * (1 - (0.01 * sStar) / depthFor(0.5 * EPS)) - 1, 12);
  });
});

describe('infinite depth is the static stress', () => {
  test.each([
    ['deribit-pm', -0.12],
    ['deribit-pm', 0.15],
    ['span', -0.2],
  ] as const)('%s at x₀ = %d: one round, exactly the units below MM at the shocked market', async (model, x) => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const r = await runCascade(book, balances, market, params, setsOf(market), backend, {
      model,
      shock: Float64Array.of(x, x),
      depthUsd: Float64Array.of(Infinity, Infinity),
      insuranceFundUsd: 1e6,
    });
    // the reference: the fixtures' float64 revaluation at the shocked market, the naive aggregation
    const moved = moveMarket(market, Float64Array.of(1 + x, 1 + x));
    const input = marginInput({ book, balances, market: moved, params, scenarios: setsOf(moved).get(model)! });
    const rows = await computeMargin(
      MARGIN_MODELS[model],
      input,
      revalue(moved, input.scenarios, params),
      aggregateReference,
    );
    const expected = new Set<string>();
    if (model === 'span') {
      const mm = new Map<number, number>();
      for (let k = 0; k < rows.count; k++) mm.set(rows.account[k]!, (mm.get(rows.account[k]!) ?? 0) + rows.mm[k]!);
      for (const [a, m] of mm) if (rows.equity[rows.account.indexOf(a)]! < m) expected.add(`${a}/-1`);
    } else
      for (let k = 0; k < rows.count; k++)
        if (rows.equity[k]! < rows.mm[k]!) expected.add(`${rows.account[k]}/${rows.unit[k]}`);
    expect(expected.size).toBeGreaterThan(0);
    expect(new Set(r.accounts.map((a) => `${a.account}/${a.code}`))).toEqual(expected);
    expect(r.rounds.length).toBe(1);
    expect(Array.from(r.finalMove)).toEqual([x, x].map((v) => 1 + v - 1));
  });
});

describe('monotone in |x₀| and in 1/depth', () => {
  // the ladder with shorts on the other side
  const l = ladder(
    10,
    Array.from({ length: 6 }, (_, i) => ({ account: `S${i}`, instrument: 'BTC_USDC-PERPETUAL', qty: -1, entry: F })),
    Array.from({ length: 6 }, (_, i) => ({ account: `S${i}`, currency: 'USDC', amount: 3000 + 900 * i })),
  );
  test('|x_final|, units and notional grow with |x₀| (both directions)', async () => {
    for (const sign of [-1, 1]) {
      let prev: CascadeResult | null = null;
      for (const m of [0.02, 0.04, 0.06, 0.08, 0.1]) {
        const r = await cascade(l, sign * m, 2e6);
        if (prev) {
          expect(Math.abs(r.finalMove[0]!)).toBeGreaterThanOrEqual(Math.abs(prev.finalMove[0]!));
          expect(r.liquidatedUnits).toBeGreaterThanOrEqual(prev.liquidatedUnits);
          expect(r.liquidatedNotionalUsd).toBeGreaterThanOrEqual(prev.liquidatedNotionalUsd * (1 - 1e-12));
        }
        prev = r;
      }
      expect(prev!.liquidatedUnits).toBeGreaterThan(0);
    }
  });
  test('|x_final| and units grow as depth shrinks', async () => {
    let prev: CascadeResult | null = null;
    for (const d of [1e9, 1e7, 4e6, 2e6, 1e6, 5e5]) {
      const r = await cascade(l, -0.055, d);
      if (prev) {
        expect(Math.abs(r.finalMove[0]!)).toBeGreaterThanOrEqual(Math.abs(prev.finalMove[0]!));
        expect(r.liquidatedUnits).toBeGreaterThanOrEqual(prev.liquidatedUnits);
      }
      prev = r;
    }
    expect(prev!.liquidatedUnits).toBeGreaterThan(1);
  });
});

describe('Σ deficits = fund drawdown + ADL', () => {
  test('a fund too small for the bad debt: drawn to 0, the rest auto-deleveraged', async () => {
    // thin collateral: deep in deficit once the price falls through the ladder
    const l = ladder(10);
    const r = await cascade(l, -0.3, 5e5, 300);
    const deficits = r.accounts.reduce((s, a) => s + a.deficitUsd, 0);
    expect(deficits).toBeGreaterThan(300);
    expect(r.badDebtUsd).toBe(deficits);
    expect(r.minFundUsd).toBe(0);
    expect(r.insuranceFundUsd - r.minFundUsd + r.adlUsd).toBeCloseTo(deficits, 9);
    const perRound = r.rounds.reduce((s, x) => s + x.badDebtUsd, 0);
    expect(perRound).toBeCloseTo(deficits, 9);
    expect(r.rounds.reduce((s, x) => s + x.adlUsd, 0)).toBeCloseTo(r.adlUsd, 9);
  });
  // the ladder's longs fall into deficit; shorts on the other side profit from the fall and pay the ADL
  const shorts = (n: number, qty: number[]) =>
    ladder(
      n,
      qty.map((q, i) => ({ account: `S${i}`, instrument: 'BTC_USDC-PERPETUAL', qty: -q, entry: F })),
      qty.map((q, i) => ({ account: `S${i}`, currency: 'USDC', amount: F * q })),
    );
  test('ADL is charged pro rata to the profit of the units that stay, and sums to the ADL', async () => {
    const l = shorts(10, [10, 20, 30]);
    const r = await cascade(l, -0.3, 5e5, 300);
    expect(r.adlUsd).toBeGreaterThan(0);
    const accountOf = (a: number) => l.book.accountKey[a];
    // only the shorts are charged: the longs lose, and the liquidated leave
    expect(new Set(r.adl.map((x) => String(accountOf(x.account))))).toEqual(new Set(['S0', 'S1', 'S2']));
    for (const round of r.rounds) {
      const charged = r.adl.filter((x) => x.round === round.round);
      if (round.adlUsd === 0) {
        expect(charged).toEqual([]);
        continue;
      }
      const sum = charged.reduce((s, x) => s + x.haircutUsd, 0);
      expect(sum).toBeCloseTo(round.adlUsd, 6);
      // the same fraction of every unit's profit
      const profit = charged.reduce((s, y) => s + y.profitUsd, 0);
      for (const x of charged) expect(x.haircutUsd / x.profitUsd).toBeCloseTo(round.adlUsd / profit, 12);
    }
    // a short of q BTC gains q·F·|move| since the snapshot: profits 1 : 2 : 3 in the first charged round
    const first = r.adl.filter((x) => x.round === r.adl[0]!.round).sort((a, b) => a.profitUsd - b.profitUsd);
    expect(first[1]!.profitUsd / first[0]!.profitUsd).toBeCloseTo(2, 9);
    expect(first[2]!.profitUsd / first[0]!.profitUsd).toBeCloseTo(3, 9);
  });
  test('ADL beyond every unit’s profit takes the profit and no more', async () => {
    // one small short: its profit is far below the bad debt
    const r = await cascade(shorts(10, [0.01]), -0.3, 5e5, 0);
    expect(r.adlUsd).toBeGreaterThan(0);
    for (const x of r.adl) expect(x.haircutUsd).toBeCloseTo(x.profitUsd, 9);
    expect(r.adl.reduce((s, x) => s + x.haircutUsd, 0)).toBeLessThan(r.adlUsd);
  });
  test('a large fund pays everything: no ADL', async () => {
    const r = await cascade(ladder(10), -0.3, 5e5, 1e9);
    expect(r.badDebtUsd).toBeGreaterThan(0);
    expect(r.adlUsd).toBe(0);
    expect(r.insuranceFundUsd - r.minFundUsd).toBeCloseTo(r.badDebtUsd, 6);
  });
});

describe('square-root impact (§8)', () => {
  // one account (the ladder's first) liquidated: ΔS/S = −0.7·σ_d·sqrt(|−1 · S*| / V_d) from the shocked price
  test('one round: the closed form of the law, then nothing more; monotone in |x₀|', async () => {
    const l = ladder(1);
    const x0 = -0.06;
    const sigma = 0.03;
    const volume = 5e6;
    const run = (x: number) =>
      runCascade(l.book, l.balances, l.market, params, setsOf(l.market), backend, {
        model: 'standard',
        shock: Float64Array.of(x),
        depthUsd: Float64Array.of(1), // ignored by the square-root law
        insuranceFundUsd: 1e9,
        impact: { law: 'sqrt', dailyVol: Float64Array.of(sigma), dailyVolumeUsd: Float64Array.of(volume) },
      });
    const r = await run(x0);
    expect(r.liquidatedUnits).toBe(1);
    const sStar = F * (1 + x0);
    expect(r.finalMove[0]).toBeCloseTo((1 + x0) * (1 - 0.7 * sigma * Math.sqrt(sStar / volume)) - 1, 14);
    const deeper = await run(-0.1);
    expect(Math.abs(deeper.finalMove[0]!)).toBeGreaterThan(Math.abs(r.finalMove[0]!));
  });
});

describe('sweep', () => {
  test('the default ladder of shocks and the critical shock', () => {
    const s = defaultSweep();
    expect(s.length).toBe(40);
    expect(s[0]).toBe(-0.02);
    expect(s[19]).toBe(-0.4);
    expect(s[39]).toBe(0.4);
    expect(
      criticalShock([
        { x0: -0.02, rounds: 1 },
        { x0: -0.06, rounds: 3 },
        { x0: -0.04, rounds: 2 },
      ]),
    ).toBe(-0.04);
    expect(criticalShock([{ x0: 0.02, rounds: 1 }])).toBeNull();
  });
});

describe('a sweep on the cpu backend’s worker threads (runCascades)', () => {
  test('gives this thread’s cascades field for field; this thread revalues nothing', async () => {
    const market = sampleMarket();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const U = market.underlyings.length;
    // thin books (1/1000 of the defaults) so that the larger shocks cascade over several rounds
    const depthUsd = defaultDepthUsd(market.underlyings).map((d) => d / 1000);
    const ladder = [-0.6, -0.3, -0.1, 0.2, 0.5].map((x) => ({
      model: 'deribit-pm' as const,
      shock: new Float64Array(U).fill(x),
      depthUsd,
      insuranceFundUsd: 50_000,
    }));
    // one worker: the cascades one after the other on this thread, through the backend
    const alone = await runCascades(book, balances, market, params, setsOf(market), backend, ladder);
    expect(alone.some((r) => r.rounds.length > 1)).toBe(true);
    const two = await createBackend('cpu', { workers: 2 });
    let revalued = 0;
    try {
      const counting = {
        revalue: (...a: Parameters<Backend['revalue']>) => {
          revalued++;
          return two.revalue(...a);
        },
        aggregate: (...a: Parameters<Backend['aggregate']>) => two.aggregate(...a),
        threads: two.threads,
      };
      const done: number[] = [];
      const threaded = await runCascades(book, balances, market, params, setsOf(market), counting, ladder, (d, n) => {
        expect(n).toBe(ladder.length);
        done.push(d);
      });
      expect(revalued).toBe(0);
      expect(done).toEqual([1, 2, 3, 4, 5]);
      expect(threaded).toEqual(alone);
    } finally {
      await two.close();
    }
  }, 120_000);
});
