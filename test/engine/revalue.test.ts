/**
 * Revaluation on every backend, on 40 real Deribit options + 16 futures/perpetuals (test/fixtures/engine)
 * under 71 scenarios (deribit-pm grid with extended moves, SPAN relative vol, multipliers with Δt).
 * Sources: docs/methodology.md §1–2 (formulas), src/engine/types.ts (row layout), docs/architecture.md "Precision"
 * and issue 3 (gl: price within 5e-6 × forward).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../src/engine/cpuBackend.js';
import { GpuRevaluer, packScenarios } from '../../src/engine/gpuRevalue.js';
import { DEVICE_REVALUE_TILE_SCENARIOS } from '../../src/engine/tuning.js';
import { revalueColumns } from '../../src/engine/revalueColumns.js';
import {
  VOL_DOWN,
  VOL_MULT,
  VOL_NONE,
  VOL_REL_DOWN,
  VOL_REL_UP,
  VOL_UP,
  type ScenarioSet,
} from '../../src/scenarios/types.js';
import { SCENARIO_ROW, SHOCK_DOWN, SHOCK_SCALED, SHOCK_SCALED_FLOORED, SHOCK_UP } from '../../kernels/revalue.js';
import { openGpu, type GpuInstance } from '../../src/engine/gpuDevice.js';
import { coinRow, spotRow, usdRow, type GroupBook, type PnlMatrix } from '../../src/engine/types.js';
import { defaultParams } from '../../src/params/params.js';
import { KIND_OPTION } from '../../src/model/market.js';
import { revalueCoin, revalueNormalised } from '../../kernels/revalue.js';
import { expectClose } from '../helpers/expectClose.js';
import { sampleMarket, sampleScenarios } from './sampleMarket.js';
import { GL_REQUIRED, glUnavailableReason } from './glAvailability.js';

const market = sampleMarket();
const scenarios = sampleScenarios();
const params = defaultParams();
const I = market.instruments.count;
const S = scenarios.count;
const U = market.underlyings.length;
const glReason = await glUnavailableReason();

let one: CpuBackend;
let many: CpuBackend;
let cpu1: PnlMatrix;
let cpuN: PnlMatrix;
beforeAll(async () => {
  one = new CpuBackend(1);
  many = new CpuBackend(2);
  cpu1 = await one.revalue(market, scenarios, params);
  cpuN = await many.revalue(market, scenarios, params);
});
afterAll(async () => {
  await one.close();
  await many.close();
});

const instruments = Array.from({ length: I }, (_, i) => [market.instruments.name[i]!, i] as const);

describe('cpu revaluation: every cell from the float64 scalar kernels', () => {
  test('matrix shape: 2I + U rows × S, float64', () => {
    expect(cpuN.rows).toBe(2 * I + U);
    expect(cpuN.scenarios).toBe(S);
    expect(cpuN.data).toBeInstanceOf(Float64Array);
  });
  test.each(instruments)(
    '%s: USD row = F·revalueNormalised (bit for bit), coin row = revalueCoin (1e-13)',
    (name, i) => {
      const ins = market.instruments;
      const u = ins.underlying[i]!;
      const opt = ins.kind[i] === KIND_OPTION;
      const k = opt ? ins.strike[i]! / ins.forward[i]! : 0;
      const sigma = opt ? ins.markIv[i]! : 0;
      for (let s = 0; s < S; s++) {
        const j = s * U + u;
        const a = [
          ins.kind[i]!,
          ins.optionType[i] === 1 ? 1 : 0,
          k,
          ins.tYears[i]!,
          sigma,
          0,
          scenarios.move[j]!,
          scenarios.deltaOneMove[j]!,
          scenarios.volRule[j]!,
          scenarios.volParam[j]!,
          scenarios.dtDays[s]! / 365,
          u === 0 ? 0.5 : 0.4,
          0.25,
          0.5,
          0.3,
          0.13,
        ] as const;
        const F = ins.forward[i]!;
        const inputs = { instrument: name, scenario: s, move: scenarios.move[j], rule: scenarios.volRule[j] };
        // to the bit: revalueTile evaluates revalueNormalised's own expressions (base term hoisted per instrument)
        expect(cpuN.data[usdRow(i) * S + s], JSON.stringify(inputs)).toBe(F * revalueNormalised(...a));
        expectClose(cpuN.data[coinRow(i, I) * S + s]!, revalueCoin(...a), 1e-13, inputs);
      }
    },
  );
  test('the zero scenario (grid middle, vol none) is exactly zero P&L', () => {
    const zero = 4 * 3 + 1;
    for (let r = 0; r < 2 * I; r++) expect(cpuN.data[r * S + zero], `row ${r}`).toBe(0);
  });
  test.each([
    [0, 'BTC'],
    [1, 'ETH'],
  ])('spot row of underlying %i (%s) is S_u · m', (u) => {
    for (let s = 0; s < S; s++)
      expect(cpuN.data[spotRow(u, I) * S + s]).toBe(market.indexPrice[u]! * scenarios.move[s * U + u]!);
  });
  test('1 and 2 workers give identical bits', () => {
    expect(Buffer.from(cpuN.data.buffer).equals(Buffer.from(cpu1.data.buffer))).toBe(true);
  });
  test('without coin rows: the USD and spot rows to the bit, the coin rows left 0 and named unwritten', async () => {
    const m = await many.revalue(market, scenarios, params, { coinRows: false });
    expect(m.unwritten).toEqual([I, 2 * I]);
    expect(cpuN.unwritten).toBeUndefined();
    const same = (a: number, b: number) =>
      Buffer.from(m.data.buffer, a * S * 8, (b - a) * S * 8).equals(
        Buffer.from(cpuN.data.buffer, a * S * 8, (b - a) * S * 8),
      );
    expect(same(0, I), 'USD rows').toBe(true);
    expect(same(2 * I, 2 * I + U), 'spot rows').toBe(true);
    expect(m.data.subarray(I * S, 2 * I * S).every((x) => x === 0)).toBe(true);
    // the matrix's groups may not read what was left out
    const groups = (row: number): GroupBook => ({
      groupCount: 1,
      groupStart: Int32Array.of(0, 2),
      row: Int32Array.of(usdRow(0), row),
      qty: Float64Array.of(1, 1),
      bucket: Int32Array.of(0, 0),
      buckets: 1,
      weight: new Float64Array(S).fill(1),
      pnlOffset: 1,
    });
    await expect(many.aggregate(m, groups(coinRow(3, I)), { topK: 0 })).rejects.toThrow(
      `GroupBook.row[1] = ${I + 3} is one of the rows ${I}..${2 * I - 1} this matrix was revalued without`,
    );
    const fromFull = await many.aggregate(cpuN, groups(spotRow(1, I)), { topK: 0 });
    const fromPart = await many.aggregate(m, groups(spotRow(1, I)), { topK: 0 });
    expect(Array.from(fromPart.worstLoss)).toEqual(Array.from(fromFull.worstLoss));
  });
});

describe.skipIf(glReason !== null && !GL_REQUIRED)(
  `gl revaluation vs float64${glReason ? ` (gl unavailable here: ${glReason})` : ''}`,
  () => {
    let gpu: GpuInstance;
    let gl: PnlMatrix;
    let revaluer: GpuRevaluer;
    beforeAll(async () => {
      gpu = await openGpu('gl'); // in CI this throws when gl is missing: the tests fail, they never skip
      revaluer = new GpuRevaluer(gpu, 'gl');
      gl = await revaluer.revalue(market, scenarios, params);
    });
    afterAll(() => {
      revaluer?.destroy();
      gpu?.destroy();
    });

    test('the kernel ran as HeadlessGLKernel (no silent fallback)', () => {
      expect(revaluer.kernelClass).toBe('HeadlessGLKernel');
      expect(gl.data).toBeInstanceOf(Float32Array);
    });
    test.each(instruments)('%s: USD rows within 5e-6·F, coin rows within 5e-6 coin', (name, i) => {
      const F = market.instruments.forward[i]!;
      for (let s = 0; s < S; s++) {
        const inputs = {
          instrument: name,
          scenario: s,
          move: scenarios.move[s * U + market.instruments.underlying[i]!],
        };
        expectClose(gl.data[usdRow(i) * S + s]!, cpuN.data[usdRow(i) * S + s]!, 5e-6 * F, inputs);
        expectClose(gl.data[coinRow(i, I) * S + s]!, cpuN.data[coinRow(i, I) * S + s]!, 5e-6, inputs);
      }
    });
    test('spot rows equal the float64 ones to float32 rounding', () => {
      for (let r = 2 * I; r < 2 * I + U; r++) {
        for (let s = 0; s < S; s++) expect(gl.data[r * S + s]).toBe(Math.fround(cpuN.data[r * S + s]!));
      }
    });
  },
);

/**
 * A larger deterministic set (no randomness) that crosses the gl kernel's edges: more scenarios than one
 * tile and not a multiple of 4 (several tiles, clamped padding threads), every vol rule including an
 * unknown code (σ unchanged) and VOL_REL_DOWN with volParam > 1 (the 0.01 floor), and time steps past
 * most expiries (T' = 0). Moves from sin, so the set is the same on every run.
 */
function edgeScenarios(S: number): ScenarioSet {
  const U2 = 2;
  const rules = [VOL_UP, VOL_NONE, VOL_DOWN, VOL_REL_UP, VOL_REL_DOWN, VOL_MULT, 9];
  const move = new Float64Array(S * U2);
  const volRule = new Uint8Array(S * U2);
  const volParam = new Float64Array(S * U2);
  const dtDays = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    dtDays[s] = s % 11 === 0 ? 400 : s % 3;
    for (let u = 0; u < U2; u++) {
      const j = s * U2 + u;
      move[j] = Math.sin(s * 0.37 + u) * 0.5;
      volRule[j] = rules[(s + u) % rules.length]!;
      volParam[j] = volRule[j] === VOL_MULT ? Math.exp(-move[j]!) : (s % 5) * 0.3; // REL_DOWN with 1.2: floored
    }
  }
  return {
    family: 'stress',
    count: S,
    underlyings: ['BTC', 'ETH'],
    id: Int32Array.from({ length: S }, (_, s) => s),
    label: Array.from({ length: S }, (_, s) => `e${s}`),
    weight: new Float64Array(S * U2).fill(1),
    dtDays,
    move,
    deltaOneMove: Float64Array.from(move),
    volRule,
    volParam,
    meta: {},
  };
}

describe("gl scenario table: each vol rule maps to the σ' column and factor the kernel selects", () => {
  // kernels/revalue.ts, device form: [1+m, Δt, col, g]
  const set = edgeScenarios(14);
  const c = revalueColumns(market, set, params, false);
  const rows = packScenarios(c);
  const expected: Record<number, (p: number) => [number, number]> = {
    [VOL_UP]: () => [SHOCK_UP, 1],
    [VOL_NONE]: () => [SHOCK_SCALED, 1],
    [VOL_DOWN]: () => [SHOCK_DOWN, 1],
    [VOL_REL_UP]: (p) => [SHOCK_SCALED_FLOORED, 1 + p],
    [VOL_REL_DOWN]: (p) => [SHOCK_SCALED_FLOORED, 1 - p],
    [VOL_MULT]: (p) => [SHOCK_SCALED, p],
    9: () => [SHOCK_SCALED, 1],
  };
  test.each(Array.from({ length: 14 * 2 }, (_, j) => [j, set.volRule[j]!] as const))('row %i (rule %i)', (j, rule) => {
    const [col, g] = expected[rule]!(set.volParam[j]!);
    expect(rows[j]!.length).toBe(SCENARIO_ROW);
    expect(Array.from(rows[j]!)).toEqual([
      Math.fround(1 + set.move[j]!),
      Math.fround(c.dtYears[Math.floor(j / 2)]!),
      col,
      Math.fround(g),
    ]);
  });
});

describe.skipIf(glReason !== null && !GL_REQUIRED)(
  `gl revaluation over several tiles, every vol rule, T' = 0${glReason ? ` (gl unavailable here: ${glReason})` : ''}`,
  () => {
    const S2 = 2 * DEVICE_REVALUE_TILE_SCENARIOS + 5; // three tiles, last width not a multiple of 4
    const set = edgeScenarios(S2);
    let gpu: GpuInstance;
    let gl: PnlMatrix;
    let ref: PnlMatrix;
    let revaluer: GpuRevaluer;
    beforeAll(async () => {
      gpu = await openGpu('gl');
      revaluer = new GpuRevaluer(gpu, 'gl');
      gl = await revaluer.revalue(market, set, params);
      ref = await many.revalue(market, set, params);
    });
    afterAll(() => {
      revaluer?.destroy();
      gpu?.destroy();
    });

    test.each(instruments)('%s: every cell within 5e-6·F (USD) and 5e-6 (coin) of float64', (name, i) => {
      expect(revaluer.kernelClass).toBe('HeadlessGLKernel');
      const F = market.instruments.forward[i]!;
      const u = market.instruments.underlying[i]!;
      for (let s = 0; s < S2; s++) {
        const inputs = { instrument: name, scenario: s, rule: set.volRule[s * U + u], dtDays: set.dtDays[s] };
        expectClose(gl.data[usdRow(i) * S2 + s]!, ref.data[usdRow(i) * S2 + s]!, 5e-6 * F, inputs);
        expectClose(gl.data[coinRow(i, I) * S2 + s]!, ref.data[coinRow(i, I) * S2 + s]!, 5e-6, inputs);
      }
    });
    test('the same revaluer on another shape afterwards (the kernel resized, not rebuilt) is still within the bound', async () => {
      const small = await revaluer.revalue(market, scenarios, params);
      for (let i = 0; i < I; i++) {
        const F = market.instruments.forward[i]!;
        for (let s = 0; s < S; s++) {
          const inputs = { instrument: market.instruments.name[i], scenario: s };
          expectClose(small.data[usdRow(i) * S + s]!, cpuN.data[usdRow(i) * S + s]!, 5e-6 * F, inputs);
          expectClose(small.data[coinRow(i, I) * S + s]!, cpuN.data[coinRow(i, I) * S + s]!, 5e-6, inputs);
        }
      }
    });
  },
);
