/**
 * var (docs/methodology.md §4c): k = ceil(N(1 − α)), VaR = k-th largest loss, ES = mean of the k largest,
 * IM = max(ES, 0) + add-on, MM = mm_factor · max(ES, 0); on hand-made loss vectors.
 */
import { describe, expect, test } from 'vitest';
import { aggregateReference } from '../helpers/naiveAggregate.js';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { marginInput } from '../../src/margin/runTables.js';
import { varAssemble, varGroups, varTailCount } from '../../src/margin/var.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { jointSet, makeMarket, makePortfolio, revalue } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

describe('varTailCount: k = ceil(N·(1 − α)), float noise ignored', () => {
  test.each([
    { n: 10_000, alpha: 0.99, k: 100 }, // 10,000·(1 − 0.99) = 100.00000000000009 in float64
    { n: 1_000, alpha: 0.99, k: 10 },
    { n: 1_000, alpha: 0.975, k: 25 },
    { n: 250, alpha: 0.99, k: 3 },
    { n: 200, alpha: 0.99, k: 2 },
    { n: 50, alpha: 0.99, k: 1 },
    { n: 10, alpha: 0.95, k: 1 },
    { n: 1, alpha: 0.99, k: 1 },
    { n: 0, alpha: 0.99, k: 0 },
  ])('N = $n, α = $alpha → k = $k', ({ n, alpha, k }) => {
    expect(varTailCount(n, alpha)).toBe(k);
  });
});

/**
 * One linear perpetual with F = 100 (USD P&L per unit = 100·m) and 200 scenarios with moves
 * m_s = (π(s) − 100)/1000, π(s) = (37·s + 11) mod 200 a permutation of 0..199: the moves are
 * −0.100, −0.099, …, +0.099 in scrambled order.
 */
function handMade(qty: number, balanceBtc = 0) {
  const market = makeMarket(
    '2024-06-10T00:00:00Z',
    [{ name: 'BTC', index: 100 }],
    [{ name: 'BTC_USDC-PERPETUAL', underlying: 'BTC', kind: 'perpetual', settlement: 'linear', forward: 100 }],
  );
  const moves = Array.from({ length: 200 }, (_, s) => [(((37 * s + 11) % 200) - 100) / 1000]);
  const scenarios = jointSet('historical', market, moves);
  const params = defaultParams();
  const { book, balances } = makePortfolio(
    market,
    [{ account: 'a', instrument: 'BTC_USDC-PERPETUAL', qty }],
    balanceBtc ? [{ account: 'a', currency: 'BTC', amount: balanceBtc }] : [],
  );
  const input = marginInput({ book, balances, market, params, scenarios });
  const plan = varGroups(input);
  const reduced = aggregateReference(revalue(market, scenarios, params), plan.groups, plan.request);
  return { plan, rows: varAssemble(input, plan, reduced), moves };
}

describe('var on a hand-made loss vector (N = 200, α = 0.99, k = 2)', () => {
  test.each([
    // long 1: losses 100·0.100 = 10 and 100·0.099 = 9.9 are the two largest
    { qty: 1, var: 9.9, es: 9.95, worstMove: -0.1 },
    // short 1: the largest up-moves 0.099 and 0.098
    { qty: -1, var: 9.8, es: 9.85, worstMove: 0.099 },
    // long 3: scales
    { qty: 3, var: 29.7, es: 29.85, worstMove: -0.1 },
  ])('qty $qty: VaR $var, ES $es', ({ qty, var: v, es, worstMove }) => {
    const { plan, rows, moves } = handMade(qty);
    expect(plan.request.topK).toBe(2);
    expect(rows.model).toBe('var-hs');
    expectClose(rows.var[0], v, 1e-9, { qty });
    expectClose(rows.es[0], es, 1e-9, { qty });
    expect(moves[rows.worstScenario[0]][0]).toBe(worstMove);
    expectClose(rows.liquidityAddon[0], 0.0005 * 100 * Math.abs(qty), 1e-12, {});
    expectClose(rows.im[0], es + 0.05 * Math.abs(qty), 1e-9, {});
    expectClose(rows.mm[0], 0.8 * es, 1e-9, {});
    expect(rows.unitNames[rows.unit[0]]).toBe('ALL');
  });

  test('coin collateral is a spot position: long 1 perp + 2 BTC lose 3·S·|m| jointly', () => {
    const { rows } = handMade(1, 2);
    expectClose(rows.es[0], 3 * 9.95, 1e-9, {});
    expectClose(rows.equity[0], 200, 1e-12, {});
  });

  test('a perfectly hedged book (perp −2 against 2 BTC) has ES 0 and no margin but the add-on', () => {
    const { rows } = handMade(-2, 2);
    expectClose(rows.es[0], 0, 1e-12, {});
    expectClose(rows.mm[0], 0, 1e-12, {});
    expectClose(rows.im[0], 0.1, 1e-12, {});
  });
});

describe('var on a realistic book', () => {
  const market = sampleMarket();
  const params = defaultParams();
  // 60 joint two-day moves of BTC and ETH, pinned: BTC from −15% to +14.75%, ETH 1.2× BTC with a twist
  const moves = Array.from({ length: 60 }, (_, s) => {
    const b = (((s * 23) % 60) - 30) / 200;
    return [b, 1.2 * b + (s % 7 === 0 ? -0.04 : 0.01)];
  });
  const scenarios = jointSet('monte-carlo', market, moves);
  const pnl = revalue(market, scenarios, params);

  test('one row per account (ALL, USD), model var-mc from the family; ES ≥ VaR; status from USD equity', async () => {
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const rows = await computeMargin(
      MARGIN_MODELS['var-mc'],
      marginInput({ book, balances, market, params, scenarios }),
      pnl,
    );
    expect(rows.model).toBe('var-mc');
    expect(rows.count).toBe(book.accountCount);
    expect(varTailCount(60, 0.99)).toBe(1);
    for (let r = 0; r < rows.count; r++) {
      expect(rows.account[r]).toBe(r);
      expect(rows.es[r]).toBeGreaterThanOrEqual(rows.var[r]);
      expect(rows.status[r]).toBe(rows.equity[r] < rows.mm[r] ? 2 : rows.equity[r] < rows.im[r] ? 1 : 0);
    }
    const cash = book.accountKey.indexOf('cash-only');
    expect([rows.es[cash], rows.im[cash], rows.worstScenario[cash], rows.equity[cash]]).toEqual([0, 0, -1, 1000]);
  });

  test('negation mirrors and doubling doubles (k = 3 of 60 at α = 0.95)', async () => {
    const p = defaultParams();
    p.var.alpha = 0.95;
    p.liquidity.oiShare = 1e12;
    const run = (k: number) => {
      const pf = makePortfolio(
        market,
        SAMPLE_POSITIONS.map((x) => ({ ...x, qty: k * x.qty })),
        SAMPLE_BALANCES.map((b) => ({ ...b, amount: k * b.amount })),
      );
      return computeMargin(MARGIN_MODELS['var-mc'], marginInput({ ...pf, market, params: p, scenarios }), pnl);
    };
    const [one, two, neg] = await Promise.all([run(1), run(2), run(-1)]);
    for (let r = 0; r < one.count; r++) {
      for (const col of ['es', 'var', 'im', 'mm', 'equity'] as const)
        expectClose(two[col][r], 2 * one[col][r], 1e-9 * Math.max(1, Math.abs(one[col][r])), { r, col });
    }
    // the worst loss of −q is the largest gain of q
    const pf = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const plan = varGroups(marginInput({ ...pf, market, params: p, scenarios }));
    const pfN = makePortfolio(
      market,
      SAMPLE_POSITIONS.map((x) => ({ ...x, qty: -x.qty })),
      SAMPLE_BALANCES.map((b) => ({ ...b, amount: -b.amount })),
    );
    const planN = varGroups(marginInput({ ...pfN, market, params: p, scenarios }));
    const red = aggregateReference(pnl, plan.groups, { topK: 60 });
    const redN = aggregateReference(pnl, planN.groups, plan.request);
    for (let g = 0; g < one.count; g++) {
      if (plan.groups.groupStart[g] === plan.groups.groupStart[g + 1]) continue;
      const largestGain = -red.topLosses![g * 60 + 59];
      expectClose(redN.worstLoss[g], largestGain, 1e-9 * Math.max(1, Math.abs(largestGain)), { g });
      expectClose(neg.worstCase[g], Math.max(0, largestGain), 1e-9 * Math.max(1, Math.abs(largestGain)), { g });
    }
  });
});
