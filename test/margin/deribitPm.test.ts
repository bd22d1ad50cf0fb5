/**
 * deribit-pm (docs/methodology.md §4a) through the whole model path: fixtures → revaluation (float64 kernels)
 * → deribitPmGroups → aggregateReference → deribitPmAssemble.
 * Golden: test/golden/deribit_pm_examples.json (Deribit API private/pme/simulate example, June 2024 BTC;
 * a live X:PM capture, February 2026 ETH), tolerance 1e-9 coin as the file states.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { deribitPmAssemble, deribitPmGroups, deribitPmPrepare } from '../../src/margin/deribitPm.js';
import { aggregateReference, groupPnlVector } from '../helpers/naiveAggregate.js';
import { defaultParams, type Params } from '../../src/params/params.js';
import { buildUnitTables, marginInput, type MarginInput } from '../../src/margin/runTables.js';
import type { MarginRows } from '../../src/margin/types.js';
import { expectClose } from '../helpers/expectClose.js';
import { deribitPmSet, makeMarket, makePortfolio, revalue, type BalanceSpec, type PositionSpec } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';
import { standardRows } from '../../src/margin/standard.js';
import { checkStandardFromPm } from '../../src/report/rowChecks.js';

interface GoldenExample {
  name: string;
  index_price: number;
  params: {
    price_range: number;
    annualised_move_risk: number;
    min_annualised_move: number;
    mm_factor: number;
    pnl_offset: number;
  };
  positions: Array<{ instrument: string; kind: 'perpetual' | 'future'; expiry?: string; size_coin: number }>;
  expected: Record<string, number | number[]>;
}
const golden = JSON.parse(readFileSync(new URL('../golden/deribit_pm_examples.json', import.meta.url), 'utf8')) as {
  examples: GoldenExample[];
};
const TOL = 1e-9;

/** The example's market (one underlying, forwards at the index) and book (one account), params from the file. */
function goldenInput(ex: GoldenExample): MarginInput {
  const coin = ex.positions[0].instrument.split('-')[0];
  // Snapshot pinned to 2024-06-10 08:00 UTC: the June future then has 18 days left, so
  // annualised_move_risk·T (0.0037) stays below min_annualised_move as in the published result.
  const market = makeMarket(
    '2024-06-10T08:00:00Z',
    [{ name: coin, index: ex.index_price }],
    ex.positions.map((p) => ({
      name: p.instrument,
      underlying: coin,
      kind: p.kind,
      settlement: 'inverse' as const,
      expiry: p.expiry,
      forward: ex.index_price,
    })),
  );
  const { book, balances } = makePortfolio(
    market,
    ex.positions.map((p) => ({ account: 'x', instrument: p.instrument, qty: p.size_coin })),
  );
  const params = defaultParams();
  const dp = params.deribitPm;
  dp.priceRange[coin] = ex.params.price_range;
  dp.annualisedMoveRisk[coin] = ex.params.annualised_move_risk;
  dp.minAnnualisedMove[coin] = ex.params.min_annualised_move;
  dp.mmFactor = ex.params.mm_factor;
  dp.pnlOffset = ex.params.pnl_offset;
  return marginInput({ book, balances, market, params, scenarios: deribitPmSet(market, params) });
}

function runPm(input: MarginInput) {
  const pnl = revalue(input.market, input.scenarios, input.params);
  const plan = deribitPmGroups(input);
  const reduced = aggregateReference(pnl, plan.groups, plan.request);
  const prepared = deribitPmPrepare(input, plan, buildUnitTables(input));
  return { pnl, plan, rows: deribitPmAssemble(input, plan, prepared, reduced) };
}

describe('deribit_pm_examples.json', () => {
  test.each(golden.examples)('$name: worst_case, roll_shock, risk_matrix_margin, MM to 1e-9 coin', (ex) => {
    const input = goldenInput(ex);
    const { rows } = runPm(input);
    expect(rows.count).toBe(1);
    expect(rows.unitNames[rows.unit[0]]).toBe(input.market.underlyings[0]);
    const e = ex.expected as Record<string, number>;
    const info = { example: ex.name };
    expectClose(rows.worstCase[0], e.worst_case, TOL, { ...info, what: 'worst_case' });
    expectClose(rows.rollShock[0], e.roll_shock, TOL, { ...info, what: 'roll_shock' });
    expectClose(rows.riskMatrixMargin[0], e.risk_matrix_margin, TOL, { ...info, what: 'risk_matrix_margin' });
    expect(rows.deltaShock[0]).toBe(e.delta_shock ?? 0);
    expectClose(rows.mm[0], e.maintenance_margin, TOL, { ...info, what: 'MM' });
    // IM = rmm + liquidity add-on; no quotes: default half spread of 1 coin per |q|
    const gross = ex.positions.reduce((s, p) => s + Math.abs(p.size_coin), 0);
    expectClose(rows.liquidityAddon[0], 0.0005 * gross, 1e-15, info);
    expectClose(rows.im[0], e.risk_matrix_margin + 0.0005 * gross, TOL, { ...info, what: 'IM' });
  });

  test("G1: the perpetual's standard vector (vol none, j = −4..4)", () => {
    const ex = golden.examples[0];
    const input = goldenInput(ex);
    const pnl = revalue(input.market, input.scenarios, input.params);
    const I = input.market.instruments.count;
    const perp = input.market.instruments.id.get('BTC-PERPETUAL')!;
    const q = ex.positions[0].size_coin;
    const expected = ex.expected.perpetual_standard_vector as number[];
    expected.forEach((v, j) => {
      const s = j * 3 + 1;
      expectClose(q * pnl.data[(I + perp) * pnl.scenarios + s], v, TOL, { j: j - 4, scenario: s });
    });
  });

  test('G1: worst scenario is id 0 (−R, vol up), the first attaining the maximum', () => {
    expect(runPm(goldenInput(golden.examples[0])).rows.worstScenario[0]).toBe(0);
  });

  test('G2: the vector at ±R, pnl_offset 0.6 applied to the gain; worst scenario id 24 (+R, vol up)', () => {
    const ex = golden.examples[1];
    const e = ex.expected as Record<string, number>;
    const input = goldenInput(ex);
    const { pnl, plan, rows } = runPm(input);
    const p = groupPnlVector(pnl, plan.groups, 0);
    expectClose(p[25], e.vector_at_plus_range, TOL, { scenario: 25 });
    expectClose(p[1], e.vector_at_minus_range_after_offset, TOL, { scenario: 1 });
    const raw = groupPnlVector(pnl, { ...plan.groups, pnlOffset: 1 }, 0);
    expectClose(raw[1], e.vector_at_minus_range_before_offset, TOL, { scenario: 1 });
    expect(rows.worstScenario[0]).toBe(24);
  });
});

/** Runs deribit-pm on the sample market for positions and balances, with optional param changes. */
function sampleRows(
  positions: PositionSpec[],
  balances: BalanceSpec[],
  tweak: (p: Params) => void = () => {},
): { rows: MarginRows; input: MarginInput } {
  const market = sampleMarket();
  const params = defaultParams();
  tweak(params);
  const { book, balances: bal } = makePortfolio(market, positions, balances);
  const input = marginInput({ book, balances: bal, market, params, scenarios: deribitPmSet(market, params) });
  return { rows: runPm(input).rows, input };
}

/** Per (account key, unit name): the row index. */
function rowIndex(rows: MarginRows, input: MarginInput): Map<string, number> {
  const m = new Map<string, number>();
  for (let r = 0; r < rows.count; r++)
    m.set(`${input.book.accountKey[rows.account[r]]}/${rows.unitNames[rows.unit[r]]}`, r);
  return m;
}

describe('deribit-pm on a realistic book', () => {
  const { rows, input } = sampleRows(SAMPLE_POSITIONS, SAMPLE_BALANCES);
  const at = rowIndex(rows, input);

  test('units: (account, settlement currency) with a position or a balance; currencies as units', () => {
    expect([...at.keys()].sort()).toEqual([
      'basis/BTC',
      'cash-only/USDC',
      'covered/ETH',
      'hedged/BTC',
      'strangle/BTC',
      'strangle/ETH',
      'usdc/BTC',
      'usdc/USDC',
    ]);
    for (let r = 0; r < rows.count; r++) expect(rows.currency[r]).toBe(rows.unit[r]);
  });

  test("the units' account, currency, equity, add-on and standard margins are the run's arrays, as standard's rows have them", () => {
    const unit = buildUnitTables(input);
    const plan = deribitPmGroups(input);
    const pm = deribitPmAssemble(
      input,
      plan,
      deribitPmPrepare(input, plan, unit),
      aggregateReference(runPm(input).pnl, plan.groups, plan.request),
    );
    const std = standardRows(input, unit);
    for (const rows of [pm, std]) {
      expect(rows.account).toBe(input.units.account);
      expect(rows.unit).toBe(input.units.currency);
      expect(rows.currency).toBe(input.units.currency);
      expect(rows.equity).toBe(unit.equity);
      expect(rows.liquidityAddon).toBe(unit.liquidityAddon);
      expect(rows.standardIm).toBe(unit.standardIm);
      expect(rows.standardMm).toBe(unit.standardMm);
    }
    expect(std.im).toBe(unit.standardIm);
    expect(std.mm).toBe(unit.standardMm);
    // the same rows as deribit-pm assembled before it took them (each value its unit's), which the report's check
    // of the standard rows derived from deribit-pm's accepts
    expect(Array.from(pm.equity)).toEqual(Array.from(rows.equity));
    expect(Array.from(pm.standardIm)).toEqual(Array.from(rows.standardIm));
    expect(() => checkStandardFromPm(std, pm)).not.toThrow();
  });

  test('a collateral-only unit has no margin, no worst scenario, its balance as equity', () => {
    const r = at.get('cash-only/USDC')!;
    expect([
      rows.im[r],
      rows.mm[r],
      rows.worstCase[r],
      rows.rollShock[r],
      rows.worstScenario[r],
      rows.equity[r],
    ]).toEqual([0, 0, 0, 0, -1, 1000]);
  });

  test('the USDC unit: roll shock is |q|·max(min, risk·T)·F with USDC parameters (perpetuals: T = 0)', () => {
    const r = at.get('usdc/USDC')!;
    expectClose(rows.rollShock[r], (2.5 * 66020 + 30 * 3602) * 0.01, 1e-9, { row: 'usdc/USDC' });
  });

  test('the basis trade: roll shock of the September future uses annualised_move_risk·T', () => {
    const r = at.get('basis/BTC')!;
    const t = (Date.parse('2024-09-27T08:00:00Z') - Date.parse('2024-06-10T08:00:00Z')) / (365 * 86_400_000);
    expectClose(rows.rollShock[r], 40 * Math.max(0.01, 0.075 * t) + 40 * 0.01, 1e-12, { t });
  });

  test('equity per unit: coin balance + q·V/F + q(1 − entry/F) (coin); USDC: cash at 1 + q·V + q(F − entry)', () => {
    const r = at.get('basis/BTC')!;
    expectClose(rows.equity[r], 3 - 40 * (1 - 67000 / 67500) + 40 * (1 - 65500 / 66010), 1e-12, { row: 'basis/BTC' });
    const u = at.get('usdc/USDC')!;
    const mi = input.market.instruments;
    const linCall = mi.id.get('BTC_USDC-28JUN24-68000-C')!;
    // the sample's linear option mark is its model value (fixtures), so q·V = q·mark
    expectClose(rows.equity[u], 40000 + 5000 + 2.5 * (66020 - 64000) - 3 * mi.markPrice[linCall], 1e-9, {
      row: 'usdc/USDC',
    });
    // the linked BTC unit of the same account: its two inverse BTC options and its 0.2 BTC
    const b = at.get('usdc/BTC')!;
    const c = mi.id.get('BTC-27SEP24-80000-C')!;
    const p = mi.id.get('BTC-28JUN24-66000-P')!;
    expectClose(rows.equity[b], 0.2 + 4 * mi.markPrice[c] + 2 * mi.markPrice[p], 1e-12, { row: 'usdc/BTC' });
  });

  test('margin components add up: MM = 0.8·(worst + roll), IM = worst + roll + add-on, status from equity', () => {
    for (let r = 0; r < rows.count; r++) {
      expectClose(rows.mm[r], 0.8 * (rows.worstCase[r] + rows.rollShock[r]), 1e-12, { r });
      expectClose(rows.im[r], rows.worstCase[r] + rows.rollShock[r] + rows.liquidityAddon[r], 1e-12, { r });
      expect(rows.available[r]).toBe(rows.equity[r] - rows.im[r]);
      expect(rows.standardIm[r]).toBeGreaterThanOrEqual(0);
    }
    // the short strangle on 2 BTC of collateral is under water in the BTC unit
    expect(rows.status[at.get('strangle/BTC')!]).toBe(2);
    expect(rows.status[at.get('hedged/BTC')!]).toBe(0);
  });
});

describe('deribit-pm properties', () => {
  const scale = (ps: PositionSpec[], k: number): PositionSpec[] => ps.map((p) => ({ ...p, qty: p.qty * k }));
  const noOi = (p: Params): void => {
    p.liquidity.oiShare = 1e12;
  };

  test('scaling every quantity and balance by 2 doubles every margin and equity', () => {
    const one = sampleRows(SAMPLE_POSITIONS, SAMPLE_BALANCES, noOi).rows;
    const two = sampleRows(
      scale(SAMPLE_POSITIONS, 2),
      SAMPLE_BALANCES.map((b) => ({ ...b, amount: 2 * b.amount })),
      noOi,
    ).rows;
    expect(two.count).toBe(one.count);
    for (let r = 0; r < one.count; r++) {
      for (const col of ['im', 'mm', 'worstCase', 'rollShock', 'liquidityAddon', 'equity'] as const) {
        expectClose(two[col][r], 2 * one[col][r], 1e-12 * Math.max(1, Math.abs(one[col][r])), { r, col });
      }
      expect(two.worstScenario[r]).toBe(one.worstScenario[r]);
      expect(two.status[r]).toBe(one.status[r]);
    }
  });

  test.each([
    {
      name: 'long call, delta-hedged with the perpetual',
      a: [['BTC-28JUN24-66000-C', 10]],
      h: [['BTC-PERPETUAL', -5.3]],
    },
    { name: 'short put, hedged with a long put', a: [['BTC-28JUN24-60000-P', -20]], h: [['BTC-28JUN24-66000-P', 20]] },
    { name: 'calendar: perpetual against the September future', a: [['BTC-PERPETUAL', 40]], h: [['BTC-27SEP24', -40]] },
    { name: 'USDC unit across underlyings', a: [['BTC_USDC-PERPETUAL', 2]], h: [['ETH_USDC-PERPETUAL', -36]] },
    { name: 'covered call', a: [['ETH-28JUN24-3800-C', -100]], h: [['ETH-PERPETUAL', 100]] },
  ] as Array<{ name: string; a: Array<[string, number]>; h: Array<[string, number]> }>)(
    'adding an offsetting hedge does not raise margin above the parts: $name',
    ({ a, h }) => {
      for (const offset of [0, 0.6, 1]) {
        const ps = (acc: string, xs: Array<[string, number]>): PositionSpec[] =>
          xs.map(([instrument, qty]) => ({ account: acc, instrument, qty }));
        const { rows } = sampleRows([...ps('a', a), ...ps('h', h), ...ps('ah', a), ...ps('ah', h)], [], (p) => {
          p.deribitPm.pnlOffset = offset;
          noOi(p);
        });
        // accounts sort as a, ah, h: one unit each
        expect(rows.count).toBe(3);
        const [ra, rah, rh] = [0, 1, 2];
        expect(rows.mm[rah]).toBeLessThanOrEqual(rows.mm[ra] + rows.mm[rh] + 1e-12);
        expect(rows.im[rah]).toBeLessThanOrEqual(rows.im[ra] + rows.im[rh] + 1e-12);
        expect(rows.worstCase[rah]).toBeLessThanOrEqual(rows.worstCase[ra] + rows.worstCase[rh] + 1e-12);
      }
    },
  );

  test('negating every quantity mirrors the vectors (pnl_offset 1): worst loss of −q = largest gain of q', () => {
    const market = sampleMarket();
    const params = defaultParams();
    params.deribitPm.pnlOffset = 1;
    const scenarios = deribitPmSet(market, params);
    const pnl = revalue(market, scenarios, params);
    const pos = makePortfolio(market, SAMPLE_POSITIONS);
    const neg = makePortfolio(market, scale(SAMPLE_POSITIONS, -1));
    const planP = deribitPmGroups(marginInput({ ...pos, market, params, scenarios }));
    const planN = deribitPmGroups(marginInput({ ...neg, market, params, scenarios }));
    const redN = aggregateReference(pnl, planN.groups, planN.request);
    expect(planN.groups.groupCount).toBe(planP.groups.groupCount);
    for (let g = 0; g < planP.groups.groupCount; g++) {
      const vp = groupPnlVector(pnl, planP.groups, g);
      const vn = groupPnlVector(pnl, planN.groups, g);
      vp.forEach((x, s) => expectClose(vn[s], -x, 1e-9 * Math.max(1, Math.abs(x)), { g, s }));
      expectClose(redN.worstLoss[g], Math.max(...vp), 1e-9, { g });
    }
  });
});

describe("with the project's scenario builder (src/scenarios/deribitPm.ts)", () => {
  test.each(golden.examples)('$name: the same rows as with the test grid', async (ex) => {
    const { buildDeribitPm } = await import('../../src/scenarios/deribitPm.js');
    const input = goldenInput(ex);
    const built = { ...input, scenarios: buildDeribitPm(input.market, input.params) };
    const a = runPm(input).rows;
    const b = runPm(built).rows;
    expect(Array.from(built.scenarios.id)).toEqual(Array.from(input.scenarios.id));
    for (const col of ['worstCase', 'rollShock', 'mm', 'im'] as const)
      expectClose(b[col][0], a[col][0], 1e-15, { col });
    expect(b.worstScenario[0]).toBe(a.worstScenario[0]);
  });
});
