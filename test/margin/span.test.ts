/**
 * span (docs/methodology.md §4b). Golden: test/golden/span_risk_arrays_mcmillan.json (L. McMillan, Options as
 * a Strategic Investment, SPAN chapter pp. 668-670): the risk arrays fed as the P&L matrix of a one-
 * underlying market, through spanGroups → aggregateReference → spanAssemble. Exact, as the file says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { pnlRowCount, usdRow } from '../../src/engine/types.js';
import { aggregateReference, groupPnlVector } from '../helpers/naiveAggregate.js';
import { spanAssemble, spanGroups, spanPrepare } from '../../src/margin/span.js';
import type { ModelPlan } from '../../src/margin/plan.js';
import { marginInput, type MarginInput } from '../../src/margin/runTables.js';
import type { Reduced } from '../../src/engine/types.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { emptySet, makeMarket, makePortfolio, revalue, spanSet } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

const golden = JSON.parse(
  readFileSync(new URL('../golden/span_risk_arrays_mcmillan.json', import.meta.url), 'utf8'),
) as {
  risk_arrays: { long_future: number[]; long_dec_410_call: number[] };
  expected: Record<string, number>;
};

/** One underlying 'SP', a future and the Dec 410 call; accounts: long future, long call, covered write. */
function mcmillan(extremesCovered: boolean) {
  const market = makeMarket(
    '2024-06-10T00:00:00Z',
    [{ name: 'SP', index: 410 }],
    [
      {
        name: 'SP-FUT',
        underlying: 'SP',
        kind: 'future',
        settlement: 'linear',
        expiry: '2024-12-20T00:00:00Z',
        forward: 410,
      },
      {
        name: 'SP-DEC-410-C',
        underlying: 'SP',
        kind: 'option',
        type: 'C',
        settlement: 'linear',
        expiry: '2024-12-20T00:00:00Z',
        strike: 410,
        forward: 410,
        iv: 0.2,
      },
    ],
  );
  const { book, balances } = makePortfolio(market, [
    { account: 'covered_write', instrument: 'SP-FUT', qty: 1 },
    { account: 'covered_write', instrument: 'SP-DEC-410-C', qty: -1 },
    { account: 'long_call', instrument: 'SP-DEC-410-C', qty: 1 },
    { account: 'long_future', instrument: 'SP-FUT', qty: 1 },
  ]);
  const params = defaultParams();
  const scenarios = emptySet('span', 16, ['SP']);
  // the file's extreme entries already include the 35% cover: feed them with weight 1, or undo the
  // cover and let the set's extreme weight (extreme_cover) apply it
  if (!extremesCovered) {
    scenarios.weight[14] = scenarios.weight[15] = params.span.extremeCover;
  }
  const I = market.instruments.count;
  const S = 16;
  const data = new Float64Array(pnlRowCount(I, 1) * S);
  const put = (row: number, arr: number[]): void =>
    arr.forEach((v, s) => {
      data[row * S + s] = s >= 14 && !extremesCovered ? v / params.span.extremeCover : v;
    });
  put(usdRow(0), golden.risk_arrays.long_future);
  put(usdRow(1), golden.risk_arrays.long_dec_410_call);
  const input = marginInput({ book, balances, market, params, scenarios });
  const plan = spanGroups(input);
  const rows = spanRows(
    input,
    plan,
    aggregateReference({ rows: pnlRowCount(I, 1), scenarios: S, data }, plan.groups, plan.request),
  );
  const byKey = new Map(book.accountKey.map((k, a) => [k, a]));
  return { rows, at: (key: string) => byKey.get(key)! };
}

/** span's rows: its preparation, then its assembly from the reduced losses. */
function spanRows(input: MarginInput, plan: ModelPlan, reduced: Reduced) {
  return spanAssemble(input, plan, spanPrepare(input, plan), reduced);
}

describe('span_risk_arrays_mcmillan.json', () => {
  test.each([
    { account: 'covered_write', expected: golden.expected.covered_write_long_future_short_call_scan_risk },
    { account: 'long_call', expected: golden.expected.long_call_scan_risk },
    { account: 'long_future', expected: golden.expected.long_future_scan_risk },
  ])('$account: scan risk $expected (exact)', ({ account, expected }) => {
    const { rows, at } = mcmillan(true);
    expect(rows.scanRisk[at(account)]).toBe(expected);
    expect(rows.worstCase[at(account)]).toBe(expected);
  });

  test('covered write: worst scenario 13 (1-based in the file, id 12 here: down 3/3, vol up)', () => {
    const { rows, at } = mcmillan(true);
    expect(rows.worstScenario[at('covered_write')] + 1).toBe(golden.expected.covered_write_worst_scenario);
  });

  test("with the cover applied by the set's extreme weight (0.35) the result is the same", () => {
    const { rows, at } = mcmillan(false);
    expectClose(rows.scanRisk[at('covered_write')], 6620, 1e-9, {});
    expect(rows.worstScenario[at('covered_write')]).toBe(12);
    expect(rows.worstScenario[at('long_future')]).toBe(12); // first of the tied −10,000 (ids 12, 13)
  });

  test('covered write: MM = max(scan, SOM) with SOM = 0.01·S·1 short option; IM = 1.1·MM + add-on', () => {
    const { rows, at } = mcmillan(true);
    const r = at('covered_write');
    expectClose(rows.som[r], 0.01 * 410, 1e-12, {});
    expect(rows.mm[r]).toBe(6620);
    // no quotes: add-on = 0.0005 × F per unit, two units of 410
    expectClose(rows.liquidityAddon[r], 2 * 0.0005 * 410, 1e-12, {});
    expectClose(rows.im[r], 1.1 * 6620 + 0.41, 1e-9, {});
  });
});

describe('span on a realistic book', () => {
  const market = sampleMarket();
  const params = defaultParams();
  const scenarios = spanSet(market, params);
  const pnl = revalue(market, scenarios, params);
  const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
  const input = marginInput({ book, balances, market, params, scenarios });
  const plan = spanGroups(input);
  const rows = spanRows(input, plan, aggregateReference(pnl, plan.groups, plan.request));
  const key = (r: number): string => `${book.accountKey[rows.account[r]]}/${rows.unitNames[rows.unit[r]]}`;

  test('units: (account, underlying) with positions (inverse and linear) or a coin balance', () => {
    expect(Array.from({ length: rows.count }, (_, r) => key(r))).toEqual([
      'basis/BTC',
      'covered/ETH',
      'hedged/BTC',
      'strangle/BTC',
      'strangle/ETH',
      'usdc/BTC',
      'usdc/ETH',
    ]);
    expect(rows.currencyNames).toEqual(['USD']);
  });

  test('coin collateral enters as a spot row: 3 BTC of the basis account lose 3·S·PSR at the down scan', () => {
    const g = Array.from({ length: rows.count }, (_, r) => key(r)).indexOf('basis/BTC');
    const v = groupPnlVector(pnl, plan.groups, g);
    // perpetual +40 and Sep future −40 cancel in USD (F·m each, different F): spot 3 BTC at −12%
    const expected = 40 * 66010 * -0.12 - 40 * 67500 * -0.12 + 3 * 66000 * -0.12;
    expectClose(v[12], expected, 1e-6, { scenario: 12 });
    expectClose(rows.scanRisk[g], -Math.min(...v), 1e-9, {});
  });

  test('SOM counts short options of the underlying only: strangle BTC 40 contracts, ETH 150', () => {
    const ks = Array.from({ length: rows.count }, (_, r) => key(r));
    expectClose(rows.som[ks.indexOf('strangle/BTC')], 0.01 * 66000 * 40, 1e-9, {});
    expectClose(rows.som[ks.indexOf('strangle/ETH')], 0.01 * 3600 * 150, 1e-9, {});
    expect(rows.som[ks.indexOf('basis/BTC')]).toBe(0);
  });

  test('rows of one account carry its USD equity; status and available from the account totals', () => {
    for (let r = 0; r < rows.count; r++) {
      const same = Array.from({ length: rows.count }, (_, k) => k).filter((k) => rows.account[k] === rows.account[r]);
      const im = same.reduce((s, k) => s + rows.im[k], 0);
      const mm = same.reduce((s, k) => s + rows.mm[k], 0);
      expectClose(rows.available[r], rows.equity[r] - im, 1e-9, { r });
      expect(rows.status[r]).toBe(rows.equity[r] < mm ? 2 : rows.equity[r] < im ? 1 : 0);
      expect(rows.mm[r]).toBe(Math.max(rows.scanRisk[r], rows.som[r]));
      expectClose(rows.im[r], 1.1 * rows.mm[r] + rows.liquidityAddon[r], 1e-9, { r });
    }
  });

  test('negating every quantity and balance mirrors the vectors: worst loss of −q = largest gain of q', () => {
    const neg = makePortfolio(
      market,
      SAMPLE_POSITIONS.map((p) => ({ ...p, qty: -p.qty })),
      SAMPLE_BALANCES.map((b) => ({ ...b, amount: -b.amount })),
    );
    const planN = spanGroups(marginInput({ ...neg, market, params, scenarios }));
    const redN = aggregateReference(pnl, planN.groups, planN.request);
    expect(planN.groups.groupCount).toBe(plan.groups.groupCount);
    for (let g = 0; g < plan.groups.groupCount; g++) {
      const v = groupPnlVector(pnl, plan.groups, g); // weighted p[s]
      const vn = groupPnlVector(pnl, planN.groups, g);
      v.forEach((x, s) => expectClose(vn[s], -x, 1e-9 * Math.max(1, Math.abs(x)), { g, s }));
      expectClose(redN.worstLoss[g], Math.max(...v), 1e-9 * Math.max(1, ...Array.from(v, Math.abs)), { g });
    }
  });

  test('scaling every quantity and balance by 2 doubles scan risk, SOM, MM and IM (no OI cap)', () => {
    const p2 = defaultParams();
    p2.liquidity.oiShare = 1e12;
    const one = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const two = makePortfolio(
      market,
      SAMPLE_POSITIONS.map((p) => ({ ...p, qty: 2 * p.qty })),
      SAMPLE_BALANCES.map((b) => ({ ...b, amount: 2 * b.amount })),
    );
    const run = (pf: typeof one) => {
      const inp = marginInput({ ...pf, market, params: p2, scenarios });
      const pl = spanGroups(inp);
      return spanRows(inp, pl, aggregateReference(pnl, pl.groups, pl.request));
    };
    const a = run(one);
    const b = run(two);
    for (let r = 0; r < a.count; r++) {
      for (const col of ['scanRisk', 'som', 'mm', 'im', 'equity'] as const)
        expectClose(b[col][r], 2 * a[col][r], 1e-9 * Math.max(1, Math.abs(a[col][r])), { r, col });
    }
  });
});

describe("with the project's scenario builder (src/scenarios/span.ts)", () => {
  test('the sample book gives the same span rows as with the test set', async () => {
    const { buildSpan } = await import('../../src/scenarios/span.js');
    const market = sampleMarket();
    const params = defaultParams();
    const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
    const run = (scenarios: ReturnType<typeof spanSet>) => {
      const input = marginInput({ book, balances, market, params, scenarios });
      const plan = spanGroups(input);
      return spanRows(input, plan, aggregateReference(revalue(market, scenarios, params), plan.groups, plan.request));
    };
    const a = run(spanSet(market, params));
    const b = run(buildSpan(market, params));
    expect(b.count).toBe(a.count);
    for (let r = 0; r < a.count; r++) {
      expectClose(b.mm[r], a.mm[r], 1e-9 * Math.max(1, a.mm[r]), { r });
      expect(b.worstScenario[r]).toBe(a.worstScenario[r]);
    }
  });
});
