/**
 * Margin attribution (docs/methodology.md §9) on the bundled sample book (data/sample) with float64
 * revaluation (test/margin/fixtures.ts `revalue`, independent of the engine's kernels) and the reference
 * aggregator: the shares add up to every model's margin, they are the formula's own weighted losses in the
 * worst scenario, scale with the book, split with a split position, vanish for an offset pair, and equal
 * q·∂M/∂q by central differences where the worst scenario is unique.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { attributeModel, attributeStandard, groupShares, type Attribution } from '../../src/margin/attribution.js';
import { computeMargin, MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import type { ModelPlan } from '../../src/margin/plan.js';
import { aggregateReference } from '../../src/margin/referenceAggregate.js';
import { buildRunTables, type MarginInput, type RunTables } from '../../src/margin/runTables.js';
import { standardRows } from '../../src/margin/standard.js';
import type { MarginRows } from '../../src/margin/types.js';
import type { PnlMatrix } from '../../src/engine/types.js';
import type { Market } from '../../src/model/market.js';
import { defaultParams } from '../../src/params/params.js';
import { deribitPmSet, jointSet, makePortfolio, pinnedJointMoves, revalue, spanSet } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

const root = new URL('../../data/sample/', import.meta.url).pathname;
const MODELS: ScenarioModelName[] = ['deribit-pm', 'span', 'var-hs', 'var-mc'];
let base: RunTables;
let market: Market;
const inputs: Partial<Record<ScenarioModelName, MarginInput>> = {};
const pnls: Partial<Record<ScenarioModelName, PnlMatrix>> = {};
const plans: Partial<Record<ScenarioModelName, ModelPlan>> = {};
const results: Partial<Record<ScenarioModelName, MarginRows>> = {};
const shares: Partial<Record<ScenarioModelName, Attribution>> = {};

beforeAll(async () => {
  ({ market } = await loadMarket(`${root}market`));
  const { book, balances } = await loadBook(market, `${root}book/positions.arrow`, `${root}book/balances.arrow`);
  const params = defaultParams();
  base = buildRunTables(book, balances, market, params);
  const moves = pinnedJointMoves(market);
  const sets = {
    'deribit-pm': deribitPmSet(market, params),
    span: spanSet(market, params),
    'var-hs': jointSet('historical', market, moves),
    'var-mc': jointSet('monte-carlo', market, moves),
  };
  for (const name of MODELS) {
    const input = { ...base, scenarios: sets[name] };
    inputs[name] = input;
    pnls[name] = revalue(market, sets[name], params);
    plans[name] = MARGIN_MODELS[name].groups(input);
    results[name] = await computeMargin(MARGIN_MODELS[name], input, pnls[name]);
    shares[name] = attributeModel(input, plans[name], pnls[name], results[name]);
  }
});

/** Σ of an attribution column per margin row. */
function sumPerRow(a: Attribution, col: 'im' | 'mm' | 'scenario' | 'liquidityAddon', rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let e = 0; e < a.count; e++) out[a.marginRow[e]] += a[col][e];
  return out;
}

/** |x − y| ≤ 1e-12 · max(|y|, scale) */
function expectRel(x: number, y: number, scale: number, what: string): void {
  const tol = 1e-12 * Math.max(Math.abs(y), scale, 1e-300);
  expect(Math.abs(x - y) <= tol, `${what}: ${x} vs ${y} (tol ${tol})`).toBe(true);
}

describe('Σ attribution = margin (docs/methodology.md §9), every model on data/sample', () => {
  test.each(MODELS)('%s: IM, MM, add-on and scenario part add up per row to 1e-12 relative', (name) => {
    const rows = results[name]!;
    const a = shares[name]!;
    expect(a.count).toBeGreaterThan(5000);
    const im = sumPerRow(a, 'im', rows.count);
    const mm = sumPerRow(a, 'mm', rows.count);
    const addon = sumPerRow(a, 'liquidityAddon', rows.count);
    const scen = sumPerRow(a, 'scenario', rows.count);
    let nonzero = 0;
    for (let r = 0; r < rows.count; r++) {
      expectRel(im[r], rows.im[r], 0, `${name} IM row ${r}`);
      expectRel(mm[r], rows.mm[r], 0, `${name} MM row ${r}`);
      expectRel(addon[r], rows.liquidityAddon[r], 0, `${name} add-on row ${r}`);
      const part =
        name === 'deribit-pm' ? rows.worstCase[r] : name === 'span' ? rows.scanRisk[r] : Math.max(rows.es[r], 0);
      expectRel(scen[r], part, 0, `${name} scenario part row ${r}`);
      if (rows.im[r] > 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(500);
  });

  test('standard: each position its own IM and MM, adding up to the unit', () => {
    const rows = standardRows(base);
    const a = attributeStandard(base);
    const im = sumPerRow(a, 'im', rows.count);
    const mm = sumPerRow(a, 'mm', rows.count);
    for (let r = 0; r < rows.count; r++) {
      expectRel(im[r], rows.im[r], 0, `standard IM row ${r}`);
      expectRel(mm[r], rows.mm[r], 0, `standard MM row ${r}`);
    }
    expect(a.scenario.every(Number.isNaN)).toBe(true);
  });
});

describe('the shares are the formula of §9', () => {
  test('deribit-pm: a unique worst scenario gives −f·w·q·pnl(s*) per position (independent loop)', () => {
    const rows = results['deribit-pm']!;
    const plan = plans['deribit-pm']!;
    const pnl = pnls['deribit-pm']!;
    const a = shares['deribit-pm']!;
    const S = pnl.scenarios;
    const { groupStart, row, qty, bucket, buckets: B, weight, pnlOffset } = plan.groups;
    let checked = 0;
    for (let g = 0; g < rows.count; g++) {
      if (!(rows.worstCase[g] > 0)) continue;
      const s = rows.worstScenario[g]; // deribit-pm's set: id = index
      // the bucket sums at s*, then each entry's share
      const pb = new Float64Array(B);
      for (let e = groupStart[g]; e < groupStart[g + 1]; e++) pb[bucket[e]] += qty[e] * pnl.data[row[e] * S + s];
      for (let e = groupStart[g]; e < groupStart[g + 1]; e++) {
        const w = weight[s * B + bucket[e]];
        const f = w * pb[bucket[e]] < 0 ? 1 : pnlOffset;
        const expected = -f * w * qty[e] * pnl.data[row[e] * S + s];
        expectRel(a.scenario[e], expected, 1e-3 * rows.worstCase[g], `unit ${g} entry ${e}`);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });

  test('span: SOM, when it binds, goes to the short options in proportion to |q|', () => {
    const rows = results.span!;
    const a = shares.span!;
    let binding = 0;
    for (let e = 0; e < a.count; e++) {
      const g = a.marginRow[e];
      if (rows.som[g] > rows.scanRisk[g]) {
        binding++;
        const i = a.instrument[e];
        const short = i >= 0 && market.instruments.kind[i] === 0 && a.quantity[e] < 0;
        const expected = short ? (rows.som[g] * -a.quantity[e]) / sumShort(a, g) : 0;
        expectRel(a.mm[e], expected, 0, `span entry ${e}`);
      }
    }
    expect(binding).toBeGreaterThan(0);
  });
});

function sumShort(a: Attribution, g: number): number {
  let n = 0;
  for (let e = 0; e < a.count; e++) {
    const i = a.instrument[e];
    if (a.marginRow[e] === g && i >= 0 && market.instruments.kind[i] === 0 && a.quantity[e] < 0) n -= a.quantity[e];
  }
  return n;
}

/** One group of `plan` as its own plan with the entries given. */
function onePlan(plan: ModelPlan, entries: Array<{ row: number; qty: number; bucket: number }>): ModelPlan {
  const n = entries.length;
  return {
    ...plan,
    groups: {
      ...plan.groups,
      groupCount: 1,
      groupStart: Int32Array.from([0, n]),
      row: Int32Array.from(entries, (x) => x.row),
      qty: Float64Array.from(entries, (x) => x.qty),
      bucket: Int32Array.from(entries, (x) => x.bucket),
    },
  };
}

function entriesOf(plan: ModelPlan, g: number) {
  const out: Array<{ row: number; qty: number; bucket: number }> = [];
  for (let e = plan.groups.groupStart[g]; e < plan.groups.groupStart[g + 1]; e++)
    out.push({ row: plan.groups.row[e], qty: plan.groups.qty[e], bucket: plan.groups.bucket[e] });
  return out;
}

describe('properties of §9', () => {
  test.each(MODELS)('%s: scaling the unit by λ scales every scenario share by λ', (name) => {
    const plan = plans[name]!;
    const pnl = pnls[name]!;
    for (let g = 0; g < Math.min(plan.groups.groupCount, 200); g++) {
      const ent = entriesOf(plan, g);
      if (ent.length < 2) continue;
      const one = new Float64Array(ent.length);
      const two = new Float64Array(ent.length);
      const m1 = groupShares(onePlan(plan, ent), pnl, 0, one);
      const m2 = groupShares(
        onePlan(
          plan,
          ent.map((x) => ({ ...x, qty: 2.5 * x.qty })),
        ),
        pnl,
        0,
        two,
      );
      expectRel(m2, 2.5 * m1, 0, `${name} group ${g} measure`);
      for (let j = 0; j < ent.length; j++) expectRel(two[j], 2.5 * one[j], 1e-12 * Math.abs(m1), `${name} group ${g}`);
    }
  });

  test.each(MODELS)('%s: a position split into two rows gets two equal halves', (name) => {
    const plan = plans[name]!;
    const pnl = pnls[name]!;
    for (let g = 0; g < Math.min(plan.groups.groupCount, 200); g++) {
      const ent = entriesOf(plan, g);
      if (ent.length < 2) continue;
      const whole = new Float64Array(ent.length);
      groupShares(onePlan(plan, ent), pnl, 0, whole);
      const split = [...ent, { ...ent[0], qty: ent[0].qty / 2 }];
      split[0] = { ...ent[0], qty: ent[0].qty / 2 };
      const parts = new Float64Array(split.length);
      groupShares(onePlan(plan, split), pnl, 0, parts);
      const scale = Math.abs(whole.reduce((x, y) => x + Math.abs(y), 0));
      expectRel(parts[0], parts[ent.length], 0, `${name} group ${g}: the halves`);
      expectRel(parts[0] + parts[ent.length], whole[0], 1e-12 * scale, `${name} group ${g}: the whole`);
    }
  });

  test('a perfectly offset pair gets 0 each (deribit-pm and span: the unit has no loss)', () => {
    for (const name of ['deribit-pm', 'span'] as const) {
      const plan = plans[name]!;
      const pnl = pnls[name]!;
      const ent = entriesOf(plan, 0)[0];
      const pair = onePlan(plan, [ent, { ...ent, qty: -ent.qty }]);
      const out = new Float64Array(2);
      const measure = groupShares(pair, pnl, 0, out);
      expect(measure).toBe(0);
      // the model counts the scenario part only when the measure is positive: attributeModel's rule
      const rows = { ...results[name]!, count: 1, scanRisk: Float64Array.of(0), som: Float64Array.of(0) };
      const a = attributeModel(inputs[name]!, { ...pair, entryPosition: Int32Array.of(-1, -1) }, pnl, rows);
      expect(Array.from(a.scenario)).toEqual([0, 0]);
    }
  });

  test.each(['deribit-pm', 'span', 'var-hs'] as const)(
    '%s: with a unique worst scenario, share = q·∂M/∂q by central differences (reference aggregator)',
    (name) => {
      const plan = plans[name]!;
      const pnl = pnls[name]!;
      let checked = 0;
      for (let g = 0; g < plan.groups.groupCount && checked < 40; g++) {
        const ent = entriesOf(plan, g);
        if (ent.length < 2) continue;
        const shares1 = new Float64Array(ent.length);
        const m = groupShares(onePlan(plan, ent), pnl, 0, shares1);
        if (!(m > 0)) continue;
        // a unique worst (or a tail with a gap at its edge): the reference's losses around it
        const measureAt = (j: number, h: number): number => {
          const p = onePlan(
            plan,
            ent.map((x, k) => (k === j ? { ...x, qty: x.qty * (1 + h) } : x)),
          );
          const red = aggregateReference(pnl, p.groups, p.request);
          if (p.request.topK === 0) return red.worstLoss[0];
          let sum = 0;
          for (let t = 0; t < p.request.topK; t++) sum += red.topLosses![t];
          return sum / p.request.topK;
        };
        const h = 1e-6;
        for (let j = 0; j < ent.length; j++) {
          // q·∂M/∂q = ∂M/∂(log q): M(q(1+h)) − M(q(1−h)) over 2h
          const fd = (measureAt(j, h) - measureAt(j, -h)) / (2 * h);
          const tol = 1e-6 * Math.max(m, 1e-9);
          expect(Math.abs(fd - shares1[j]) <= tol, `${name} group ${g} entry ${j}: fd ${fd} share ${shares1[j]}`).toBe(
            true,
          );
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(10);
    },
  );
});

describe('pnl_offset: a USDC unit of two underlyings (test/margin/sampleBook.ts)', () => {
  test.each([0, 0.3, 1])('pnl_offset %s: the shares add up to deribit-pm and span margins', async (offset) => {
    const m = sampleMarket();
    const params = defaultParams();
    params.deribitPm.pnlOffset = offset;
    // 'pair': long BTC, short ETH in one USDC unit, so one underlying gains in the worst scenario
    const { book, balances } = makePortfolio(
      m,
      [
        ...SAMPLE_POSITIONS,
        { account: 'pair', instrument: 'BTC_USDC-PERPETUAL', qty: 1 },
        { account: 'pair', instrument: 'ETH_USDC-PERPETUAL', qty: -10 },
      ],
      SAMPLE_BALANCES,
    );
    const tables = buildRunTables(book, balances, m, params);
    let multi = 0;
    for (const [name, set] of [
      ['deribit-pm', deribitPmSet(m, params)],
      ['span', spanSet(m, params)],
    ] as const) {
      const input = { ...tables, scenarios: set };
      const pnl = revalue(m, set, params);
      const plan = MARGIN_MODELS[name].groups(input);
      const rows = await computeMargin(MARGIN_MODELS[name], input, pnl);
      const a = attributeModel(input, plan, pnl, rows);
      const im = sumPerRow(a, 'im', rows.count);
      const mm = sumPerRow(a, 'mm', rows.count);
      for (let r = 0; r < rows.count; r++) {
        expectRel(im[r], rows.im[r], 0, `${name} IM row ${r}`);
        expectRel(mm[r], rows.mm[r], 0, `${name} MM row ${r}`);
        const buckets = new Set<number>();
        for (let e = plan.groups.groupStart[r]; e < plan.groups.groupStart[r + 1]; e++)
          buckets.add(plan.groups.bucket[e]);
        if (buckets.size > 1 && rows.worstCase[r] > 0) multi++;
      }
    }
    expect(multi).toBeGreaterThan(0);
  });
});
