/**
 * Parity: every kernel of kernels/ on every backend against its float64 reference, with a tolerance per
 * backend (in the manner of TensorFlow.js's `describeWithFlags`). A backend that cannot start here is
 * reported as a skipped case with its reason (in CI, CI=true, gl must start: then a missing gl fails).
 *
 * Kernels (each file's header lists its forms):
 * - black76    kernels/black76.ts: normalised price and forward delta over the real chain sample
 *              (test/fixtures/pricing/deribit_chain_sample.csv, 208 Deribit options).
 * - revalue    kernels/revalue.ts: the whole P&L matrix (USD, coin and spot rows) of 40 Deribit options
 *              and 16 futures/perpetuals under 71 scenarios (test/engine/sampleMarket.ts); reference:
 *              F·revalueNormalised, revalueCoin and S_u·m per cell.
 * - aggregate  kernels/aggregate.ts: seeded GroupBooks (test/engine/seededBook.ts); reference: the naive
 *              loops of test/helpers/naiveAggregate.ts.
 *
 * Backends and tolerances (docs/methodology.md "Precision"):
 * - cpu        float64, kernels' cpu form on the calling thread: exact where the form is the reference's
 *              arithmetic (black76; revalue USD and spot rows), else 1e-12 relative.
 * - cpu-pool   float64, the engine's Piscina pool (src/engine/cpuBackend.ts): as cpu, and bit-identical to it.
 * - gpujs-cpu  the device form run by gpu.js in 'cpu' mode (JavaScript, float32 inputs): the float32 bound.
 * - gl         the device form on gpu.js 'headlessgl' through the engine (src/engine/gpuRevalue.ts,
 *              gpuAggregate.ts; here Mesa llvmpipe under Xvfb): the float32 bound.
 * - webgpu     the device form on gpu.js 'webgpu' when an adapter answers: the float32 bound.
 * float32 bound: revaluation 5e-6 · v per cell (v = F for USD rows, 1 coin for coin rows, S_u for spot rows),
 * Black-76 price 5e-6 and delta 1e-5 of the forward, aggregation 1e-5·|loss| + 5e-7·Σ|q|·v per group.
 * Which gpu.js kernel class really ran is checked (gpu.js falls back to CPUKernel silently).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { GPU } from 'gpu.js';
import {
  addKernelFunctions,
  DEVICE_BLACK76_FUNCTIONS,
  DEVICE_REVALUE_FUNCTIONS,
  DEVICE_REVALUE_SURFACE_FUNCTIONS,
  kernelSource,
} from '../../kernels/source.js';
import { black76DeltaNorm, black76Norm } from '../../kernels/black76.js';
import {
  assembleMovedRow,
  deltaOneRows,
  KIND_OPTION_CODE,
  movedValueKernel,
  packInstrumentTable,
  packScenarioTable,
  INSTRUMENT_ROW,
  revalueCoin,
  revalueNormalised,
  revalueNormalisedSticky,
  movedValueSurfaceKernel,
  optionBaseValue,
  packSurfaceTable,
  shockedVol,
  SURFACE_TABLE_ROW,
  revalueTile,
  SCENARIO_ROW,
  spotRowValues,
} from '../../kernels/revalue.js';
import { aggregateGroups, groupPnlKernel, worstLossKernel, adjustPnl } from '../../kernels/aggregate.js';
import { CpuBackend } from '../../src/engine/cpuBackend.js';
import { GpuRevaluer } from '../../src/engine/gpuRevalue.js';
import { GpuAggregator } from '../../src/engine/gpuAggregate.js';
import { openGpu, type DeviceBackend, type GpuInstance } from '../../src/engine/gpuDevice.js';
import { revalueColumns } from '../../src/engine/revalueColumns.js';
import { writeSpotRows } from '../../src/engine/spotRows.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK } from '../../src/engine/tuning.js';
import { coinRow, pnlRowCount, spotRow, usdRow, type GroupBook, type PnlMatrix } from '../../src/engine/types.js';
import { KIND_OPTION, type Market } from '../../src/model/market.js';
import { stickyMoneynessVol, sviVol } from '../../kernels/svi.js';
import { defaultParams, forUnderlying } from '../../src/params/params.js';
import { aggregateReference as aggregateNaive, groupPnlVector } from '../helpers/naiveAggregate.js';
import { skewedSviSlices } from '../helpers/skewedSurface.js';
import { sampleMarket, sampleScenarios } from '../engine/sampleMarket.js';
import { seededBook, type BookSpec } from '../engine/seededBook.js';
import { readCsv } from './readCsv.js';

process.env.DISPLAY ??= ':99';
const IN_CI = process.env.CI === 'true';

// ---------------------------------------------------------------------------------------------------------
// backends
// ---------------------------------------------------------------------------------------------------------

type BackendId = 'cpu' | 'cpu-pool' | 'gpujs-cpu' | 'gl' | 'webgpu';
type Precision = 'float64' | 'float32';
const PRECISION: Record<BackendId, Precision> = {
  cpu: 'float64',
  'cpu-pool': 'float64',
  'gpujs-cpu': 'float32',
  gl: 'float32',
  webgpu: 'float32',
};
const BACKENDS: BackendId[] = ['cpu', 'cpu-pool', 'gpujs-cpu', 'gl', 'webgpu'];
const KERNEL_CLASS: Partial<Record<BackendId, string>> = {
  'gpujs-cpu': 'CPUKernel',
  gl: 'HeadlessGLKernel',
  webgpu: 'WebGPUKernel',
};

/** null when the device opens, else why not. */
async function deviceReason(b: DeviceBackend): Promise<string | null> {
  try {
    (await openGpu(b)).destroy();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
const UNAVAILABLE: Partial<Record<BackendId, string>> = {};
for (const b of ['gl', 'webgpu'] as const) {
  const reason = await deviceReason(b);
  if (reason !== null) UNAVAILABLE[b] = reason;
}
for (const [b, reason] of Object.entries(UNAVAILABLE))
  console.warn(`parity: backend ${b} skipped: ${reason}${b === 'gl' && IN_CI ? ' (CI: gl required, fails)' : ''}`);

function kernelClassOf(kernel: unknown): string {
  const k = kernel as { kernel?: { constructor: { name: string } }; constructor: { name: string } };
  return k.kernel?.constructor.name ?? k.constructor.name;
}

/** gpu.js in a mode, closed after `f`. */
async function withGpu<T>(b: BackendId, f: (gpu: GpuInstance) => Promise<T>): Promise<T> {
  const gpu: GpuInstance =
    b === 'gpujs-cpu' ? (new GPU({ mode: 'cpu' }) as unknown as GpuInstance) : await openGpu(b as DeviceBackend);
  try {
    return await f(gpu);
  } finally {
    gpu.destroy();
  }
}

let pool: CpuBackend;
beforeAll(() => {
  pool = new CpuBackend(2);
});
afterAll(async () => {
  await pool.close();
});

/** Largest error in units of the tolerance, with where it happened; the case passes when worst ≤ 1. */
class Worst {
  worst = 0;
  where = 'none';
  note(got: number, want: number, tol: number, where: string): void {
    const r = got === want || Object.is(got, want) ? 0 : Math.abs(got - want) / tol;
    if (!(r <= this.worst)) {
      this.worst = Number.isNaN(r) ? Infinity : r;
      this.where = `${where}: ${got} vs float64 ${want} (tolerance ${tol})`;
    }
  }
  exact(got: number, want: number, where: string): void {
    if (!Object.is(got, want) && this.worst !== Infinity) {
      this.worst = Infinity;
      this.where = `${where}: ${got} vs float64 ${want} (exact)`;
    }
  }
  check(label: string): void {
    console.info(`parity ${label}: worst ${this.worst.toExponential(2)} of the tolerance`);
    expect(this.worst, this.where).toBeLessThanOrEqual(1);
  }
}

// ---------------------------------------------------------------------------------------------------------
// black76
// ---------------------------------------------------------------------------------------------------------

const chain = readCsv(fileURLToPath(new URL('../fixtures/pricing/deribit_chain_sample.csv', import.meta.url))).map(
  (r) => ({
    isCall: r.option_type === 'call' ? 1 : 0,
    k: +r.strike! / +r.futures_price!,
    sd: +r.implied_volatility! * Math.sqrt(+r.time_to_maturity!),
  }),
);

async function black76On(b: BackendId): Promise<{ price: ArrayLike<number>; delta: ArrayLike<number> }> {
  if (b === 'cpu') {
    // the reference is the cpu form (kernels/black76.ts): src/pricing/priceBatch.ts calls these on the cpu
    return {
      price: chain.map((c) => black76Norm(c.isCall, c.k, c.sd)),
      delta: chain.map((c) => black76DeltaNorm(c.isCall, c.k, c.sd)),
    };
  }
  return withGpu(b, async (gpu) => {
    addKernelFunctions(gpu, DEVICE_BLACK76_FUNCTIONS);
    const body = function (this: { thread: { x: number; y: number } }, isCall: number[], k: number[], sd: number[]) {
      let r = 0.0;
      if (this.thread.y == 0) {
        r = black76Norm32(isCall[this.thread.x]!, k[this.thread.x]!, sd[this.thread.x]!);
      } else {
        r = black76DeltaNorm32(isCall[this.thread.x]!, k[this.thread.x]!, sd[this.thread.x]!);
      }
      return r;
    };
    const kernel = gpu.createKernel(body.toString(), { output: [chain.length, 2], precision: 'single' });
    const out = (await kernel(
      Float32Array.from(chain, (c) => c.isCall),
      Float32Array.from(chain, (c) => c.k),
      Float32Array.from(chain, (c) => c.sd),
    )) as Float32Array[];
    expect(kernelClassOf(kernel), 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
    return { price: out[0]!, delta: out[1]! };
  });
}

async function black76Case(b: BackendId): Promise<void> {
  const got = await black76On(b);
  const w = new Worst();
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    const price = black76Norm(c.isCall, c.k, c.sd);
    const delta = black76DeltaNorm(c.isCall, c.k, c.sd);
    const where = `option ${i} (call ${c.isCall}, k ${c.k}, sd ${c.sd})`;
    if (PRECISION[b] === 'float64') {
      w.exact(got.price[i]!, price, `${where} price`);
      w.exact(got.delta[i]!, delta, `${where} delta`);
    } else {
      w.note(got.price[i]!, price, 5e-6, `${where} price / F`);
      w.note(got.delta[i]!, delta, 1e-5, `${where} delta`);
    }
  }
  w.check(`black76 × ${b}`);
}

// ---------------------------------------------------------------------------------------------------------
// revalue
// ---------------------------------------------------------------------------------------------------------

const marketDefault = sampleMarket();
const scenarios = sampleScenarios();
const params = defaultParams();

/**
 * The sample market under sticky moneyness (docs/methodology.md §11c): every option gets a skewed SVI slice
 * of its own expiry (a = 0.8·σ²T, b = 0.3·√T, ρ = −0.4, m = 0.02, σ = 0.15 + T), its base vol σ kept.
 */
function stickyMarket(): Market {
  const mk = sampleMarket();
  mk.volSurface = { params: skewedSviSlices(mk), stickyMoneyness: true };
  return mk;
}
const sticky = stickyMarket();

/** The float64 reference matrix, cell by cell from the reference forms. */
function revalueReference(market: Market = marketDefault): PnlMatrix {
  const ins = market.instruments;
  const I = ins.count;
  const S = scenarios.count;
  const U = market.underlyings.length;
  const dp = params.deribitPm;
  const data = new Float64Array(pnlRowCount(I, U) * S);
  for (let i = 0; i < I; i++) {
    const u = ins.underlying[i]!;
    const opt = ins.kind[i] === KIND_OPTION;
    const F = ins.forward[i]!;
    const vru = forUnderlying(dp.volRangeUp, market.underlyings[u]!);
    for (let s = 0; s < S; s++) {
      const j = s * U + u;
      const a = [
        ins.kind[i]!,
        opt && ins.optionType[i] === 1 ? 1 : 0,
        opt ? ins.strike[i]! / F : 0,
        Math.max(ins.tYears[i]! || 0, 0),
        opt ? ins.markIv[i]! : 0,
        market.rate[u] ?? 0,
        scenarios.move[j]!,
        scenarios.deltaOneMove[j]!,
        scenarios.volRule[j]!,
        scenarios.volParam[j]!,
        scenarios.dtDays[s]! / 365,
        vru,
        dp.volRangeDown,
        dp.minVolForShockUp,
        dp.shortTermVegaPower,
        dp.longTermVegaPower,
      ] as const;
      const sl = market.volSurface?.params;
      if (sl && opt) {
        // sticky moneyness: σ_m from the slice at the moved log-moneyness, then the vol rule (§11c)
        const [ka, kb, kr, km, ks] = Array.from(sl.subarray(i * 5, i * 5 + 5));
        const x0 = Math.log(a[2]);
        const slice = [ka!, kb!, kr!, km!, ks!, x0, sviVol(ka!, kb!, kr!, km!, ks!, x0, a[3])];
        data[usdRow(i) * S + s] = F * revalueNormalisedSticky(...a, slice);
        const growth = 1 + a[6];
        const sm = stickyMoneynessVol(a[4], ka!, kb!, kr!, km!, ks!, x0, slice[6]!, a[3], growth);
        const shocked = shockedVol(sm, a[3], a[8], a[9], vru, a[12], a[13], a[14], a[15]);
        const t1 = Math.max(a[3] - a[10], 0);
        const moved = Math.exp(-a[5] * t1) * black76Norm(a[1], a[2] / growth, shocked * Math.sqrt(t1));
        data[coinRow(i, I) * S + s] = moved - optionBaseValue(a[1], a[2], a[3], a[4], a[5]);
        continue;
      }
      data[usdRow(i) * S + s] = F * revalueNormalised(...a);
      data[coinRow(i, I) * S + s] = revalueCoin(...a);
    }
  }
  for (let u = 0; u < U; u++)
    for (let s = 0; s < S; s++) data[spotRow(u, I) * S + s] = market.indexPrice[u]! * scenarios.move[s * U + u]!;
  return { rows: pnlRowCount(I, U), scenarios: S, data };
}

/** The device form on gpu.js (any mode) in one tile, assembled on the host as src/engine/gpuRevalue.ts does. */
async function revalueDeviceForm(gpu: GpuInstance, b: BackendId, market: Market): Promise<PnlMatrix> {
  const c = revalueColumns(market, scenarios, params, false);
  const I = c.instruments;
  const S = c.scenarios;
  const U = c.underlyings;
  const out = new Float32Array(pnlRowCount(I, U) * S);
  const opts = Int32Array.from({ length: I }, (_, i) => i).filter((i) => c.kind[i] === KIND_OPTION_CODE);
  for (let i = 0; i < I; i++)
    if (c.kind[i] !== KIND_OPTION_CODE)
      deltaOneRows(c.deltaOneMove, c.underlying[i]!, U, c.forward[i]!, 0, S, out, i * S, (I + i) * S);
  const rows = (t: Float32Array, w: number) =>
    Array.from({ length: t.length / w }, (_, y) => t.subarray(y * w, y * w + w));
  const inst = rows(packInstrumentTable(c, opts), INSTRUMENT_ROW);
  const scen = rows(packScenarioTable(c), SCENARIO_ROW);
  const width = 4 * Math.ceil(S / 4);
  addKernelFunctions(gpu, DEVICE_REVALUE_FUNCTIONS);
  if (c.surface) addKernelFunctions(gpu, DEVICE_REVALUE_SURFACE_FUNCTIONS);
  const source = c.surface ? movedValueSurfaceKernel : movedValueKernel;
  const kernel = gpu.createKernel(kernelSource(source as unknown as (...a: number[]) => number), {
    output: [width / 4, opts.length],
    precision: 'single',
    returnType: 'Array(4)',
  });
  const res = (
    c.surface
      ? await kernel(
          inst,
          rows(packSurfaceTable(c, opts), SURFACE_TABLE_ROW),
          scen,
          0,
          0,
          opts.length,
          S,
          U,
          c.minVolForShockUp,
        )
      : await kernel(inst, scen, 0, 0, opts.length, S, U)
  ) as ArrayLike<ArrayLike<ArrayLike<number>>>;
  expect(kernelClassOf(kernel), 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
  const w = new Float32Array(opts.length * width);
  for (let y = 0; y < opts.length; y++)
    for (let x = 0; x < width / 4; x++) for (let q = 0; q < 4; q++) w[y * width + 4 * x + q] = res[y]![x]![q]!;
  const growth = new Float64Array(U * S);
  for (let s = 0; s < S; s++) for (let u = 0; u < U; u++) growth[u * S + s] = 1 + c.move[s * U + u]!;
  opts.forEach((i, y) =>
    assembleMovedRow(w, y * width, S, c.forward[i]!, c.v0[i]!, growth, c.underlying[i]! * S, out, i * S, (I + i) * S),
  );
  writeSpotRows(market, scenarios, out);
  return { rows: pnlRowCount(I, U), scenarios: S, data: out };
}

async function revalueOn(b: BackendId, market: Market): Promise<PnlMatrix> {
  if (b === 'cpu') {
    const c = revalueColumns(market, scenarios, params, true);
    revalueTile(c, 0, c.instruments, 0, c.scenarios);
    for (let u = 0; u < c.underlyings; u++)
      spotRowValues(
        market.indexPrice[u]!,
        c.move,
        u,
        c.underlyings,
        c.scenarios,
        c.out,
        spotRow(u, c.instruments) * c.scenarios,
      );
    return { rows: pnlRowCount(c.instruments, c.underlyings), scenarios: c.scenarios, data: c.out };
  }
  if (b === 'cpu-pool') return pool.revalue(market, scenarios, params);
  if (b === 'gpujs-cpu') return withGpu(b, (gpu) => revalueDeviceForm(gpu, b, market));
  return withGpu(b, async (gpu) => {
    const r = new GpuRevaluer(gpu, b as DeviceBackend);
    try {
      const m = await r.revalue(market, scenarios, params);
      expect(r.kernelClass, 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
      return m;
    } finally {
      r.destroy();
    }
  });
}

const revalueRefs = new Map<Market, PnlMatrix>();
const revalueCpus = new Map<Market, PnlMatrix>();

async function revalueCase(b: BackendId, market: Market = marketDefault): Promise<void> {
  if (!revalueRefs.has(market)) revalueRefs.set(market, revalueReference(market));
  const ref = revalueRefs.get(market)!;
  const got = await revalueOn(b, market);
  expect([got.rows, got.scenarios]).toEqual([ref.rows, ref.scenarios]);
  const I = market.instruments.count;
  const S = ref.scenarios;
  const w = new Worst();
  for (let r = 0; r < ref.rows; r++) {
    const kind = r < I ? 'USD' : r < 2 * I ? 'coin' : 'spot';
    const v = r < I ? market.instruments.forward[r]! : r < 2 * I ? 1 : market.indexPrice[r - 2 * I]!;
    for (let s = 0; s < S; s++) {
      const where = `${kind} row ${r}, scenario ${s}`;
      const a = got.data[r * S + s]!;
      const e = ref.data[r * S + s]!;
      if (PRECISION[b] === 'float32') w.note(a, e, 5e-6 * v, where);
      else if (kind === 'coin') w.note(a, e, 1e-12 * v, where);
      else w.exact(a, e, where);
    }
  }
  w.check(`revalue${market.volSurface ? ' (sticky moneyness)' : ''} × ${b}`);
  if (b === 'cpu') revalueCpus.set(market, got);
  const cpu = revalueCpus.get(market);
  if (b === 'cpu-pool' && cpu !== undefined)
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(cpu.data.buffer)), 'pool = cpu, bit for bit').toBe(true);
}

// ---------------------------------------------------------------------------------------------------------
// aggregate
// ---------------------------------------------------------------------------------------------------------

const BOOKS: Array<[string, BookSpec, number]> = [
  [
    'one bucket, offset 1, top 4',
    { seed: 21, rows: 40, scenarios: 35, groups: 50, maxEntries: 12, buckets: 1, pnlOffset: 1, float32: true },
    4,
  ],
  [
    'two buckets, offset 0, weights',
    {
      seed: 22,
      rows: 60,
      scenarios: 300,
      groups: 30,
      maxEntries: 10,
      buckets: 2,
      pnlOffset: 0,
      weights: true,
      float32: true,
    },
    2,
  ],
  [
    'three buckets, offset 0.5, long groups',
    {
      seed: 23,
      rows: 30,
      scenarios: 64,
      groups: 20,
      maxEntries: 60,
      buckets: 3,
      pnlOffset: 0.5,
      weights: true,
      float32: true,
    },
    0,
  ],
  [
    'integer ties: first index',
    {
      seed: 24,
      rows: 10,
      scenarios: 90,
      groups: 40,
      maxEntries: 3,
      buckets: 1,
      pnlOffset: 1,
      ties: true,
      float32: true,
    },
    3,
  ],
];

interface Reduction {
  worstLoss: Float64Array;
  worstScenario: Int32Array;
  topLosses?: Float64Array;
}

/** The device form on gpu.js (any mode) in one block: entries sorted by bucket per group, then the kernels. */
async function aggregateDeviceForm(gpu: GpuInstance, b: BackendId, pnl: PnlMatrix, g: GroupBook): Promise<Reduction> {
  const G = g.groupCount;
  const S = pnl.scenarios;
  const order: number[] = [];
  for (let k = 0; k < G; k++)
    for (let bk = 0; bk < g.buckets; bk++)
      for (let e = g.groupStart[k]!; e < g.groupStart[k + 1]!; e++) if (g.bucket[e] === bk) order.push(e);
  let maxEntries = 1;
  for (let k = 0; k < G; k++) maxEntries = Math.max(maxEntries, g.groupStart[k + 1]! - g.groupStart[k]!);
  gpu.addFunction(kernelSource(adjustPnl as (...a: number[]) => number), {
    argumentTypes: ['Number', 'Number'],
    returnType: 'Number',
  });
  const pk = gpu.createKernel(kernelSource(groupPnlKernel as unknown as (...a: number[]) => number), {
    output: [S, G],
    precision: 'single',
    loopMaxIterations: 2 ** Math.ceil(Math.log2(maxEntries + 1)),
  });
  const wk = gpu.createKernel(kernelSource(worstLossKernel as unknown as (...a: number[]) => number), {
    output: [G],
    precision: 'single',
    loopMaxIterations: S,
  });
  const p = await pk(
    Float32Array.from(pnl.data),
    Float32Array.from(g.groupStart),
    Float32Array.from(order, (e) => g.row[e]!),
    Float32Array.from(order, (e) => g.qty[e]!),
    Float32Array.from(order, (e) => g.bucket[e]!),
    Float32Array.from(g.weight),
    S,
    g.buckets,
    g.pnlOffset,
    G,
  );
  const res = (await wk(p, S)) as ArrayLike<ArrayLike<number>>;
  expect(kernelClassOf(pk), 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
  expect(kernelClassOf(wk), 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
  return {
    worstLoss: Float64Array.from({ length: G }, (_, k) => res[k]![0]!),
    worstScenario: Int32Array.from({ length: G }, (_, k) => Math.round(res[k]![1]!)),
  };
}

async function aggregateOn(b: BackendId, pnl: PnlMatrix, g: GroupBook, topK: number): Promise<Reduction> {
  if (b === 'cpu') {
    const G = g.groupCount;
    const out = {
      worstLoss: new Float64Array(G),
      worstScenario: new Int32Array(G),
      topLosses: topK > 0 ? new Float64Array(G * topK) : null,
    };
    aggregateGroups(
      { ...g, pnl: pnl.data, scenarios: pnl.scenarios, topK, ...out },
      0,
      G,
      CPU_AGGREGATE_SCENARIO_BLOCK,
    );
    return { worstLoss: out.worstLoss, worstScenario: out.worstScenario, topLosses: out.topLosses ?? undefined };
  }
  if (b === 'cpu-pool') return pool.aggregate(pnl, g, { topK });
  if (b === 'gpujs-cpu') return withGpu(b, (gpu) => aggregateDeviceForm(gpu, b, pnl, g));
  return withGpu(b, async (gpu) => {
    const agg = new GpuAggregator(gpu, b as DeviceBackend);
    try {
      const r = await agg.aggregate(pnl, g, { topK });
      expect(agg.kernelClass, 'gpu.js kernel class that ran').toBe(KERNEL_CLASS[b]);
      return r;
    } finally {
      agg.destroy();
    }
  });
}

const aggregateCpu = new Map<string, Reduction>();

async function aggregateCase(b: BackendId, name: string, spec: BookSpec, topK: number): Promise<void> {
  const { pnl, groups } = seededBook(spec);
  const ref = aggregateNaive(pnl, groups, { topK });
  const got = await aggregateOn(b, pnl, groups, topK);
  const S = pnl.scenarios;
  const w = new Worst();
  for (let g = 0; g < groups.groupCount; g++) {
    let tol = 1e-12 * (1 + Math.abs(ref.worstLoss[g]!));
    if (PRECISION[b] === 'float32') {
      let gross = 0;
      for (let e = groups.groupStart[g]!; e < groups.groupStart[g + 1]!; e++) {
        let v = 0;
        for (let s = 0; s < S; s++) v = Math.max(v, Math.abs(pnl.data[groups.row[e]! * S + s]!));
        gross += Math.abs(groups.qty[e]!) * v;
      }
      tol = 1e-5 * Math.abs(ref.worstLoss[g]!) + 5e-7 * gross;
    }
    w.note(got.worstLoss[g]!, ref.worstLoss[g]!, tol, `group ${g} worst loss`);
    // the scenario reported attains the worst loss: its float64 loss is within the tolerance (float64: the same index)
    const at = got.worstScenario[g]!;
    if (PRECISION[b] === 'float64' || spec.ties) w.exact(at, ref.worstScenario[g]!, `group ${g} worst scenario`);
    else w.note(0 - groupPnlVector(pnl, groups, g)[at]!, ref.worstLoss[g]!, tol, `group ${g} loss at scenario ${at}`);
    if (got.topLosses !== undefined)
      for (let j = 0; j < Math.min(topK, S); j++)
        w.note(got.topLosses[g * topK + j]!, ref.topLosses![g * topK + j]!, tol, `group ${g} top loss ${j}`);
  }
  w.check(`aggregate ${name} × ${b}`);
  if (b === 'cpu') aggregateCpu.set(name, got);
  const cpu = aggregateCpu.get(name);
  if (b === 'cpu-pool' && cpu !== undefined) {
    expect(Buffer.from(got.worstLoss.buffer).equals(Buffer.from(cpu.worstLoss.buffer)), 'pool = cpu, bit for bit').toBe(
      true,
    );
    expect(Array.from(got.worstScenario)).toEqual(Array.from(cpu.worstScenario));
  }
}

// ---------------------------------------------------------------------------------------------------------
// the table: kernels × backends
// ---------------------------------------------------------------------------------------------------------

/** Why a (kernel, backend) pair does not run, or null when it runs. */
function skipReason(kernel: string, b: BackendId): string | null {
  if (kernel === 'black76' && b === 'cpu-pool')
    return 'the cpu pool runs revalue and aggregate only; pricing runs the cpu form in-process (src/pricing/priceBatch.ts)';
  const r = UNAVAILABLE[b];
  if (r === undefined) return null;
  if (b === 'gl' && IN_CI) return null; // CI: gl must run; the case fails with the reason
  return `${b} cannot start here: ${r}`;
}

function caseName(b: BackendId, skip: string | null): string {
  return `${b} (${PRECISION[b]})${skip !== null ? ` — skipped: ${skip}` : ''}`;
}

test('kernels/ codes agree with the model and scenario codes', () => {
  expect(KIND_OPTION_CODE).toBe(KIND_OPTION);
});

describe('black76', () => {
  for (const b of BACKENDS) {
    const skip = skipReason('black76', b);
    test.skipIf(skip !== null)(caseName(b, skip), () => black76Case(b));
  }
});

describe('revalue', () => {
  for (const b of BACKENDS) {
    const skip = skipReason('revalue', b);
    test.skipIf(skip !== null)(caseName(b, skip), () => revalueCase(b), 60_000);
  }
});

describe('revalue, sticky moneyness (slice parameters as kernel inputs)', () => {
  for (const b of BACKENDS) {
    const skip = skipReason('revalue', b);
    test.skipIf(skip !== null)(caseName(b, skip), () => revalueCase(b, sticky), 60_000);
  }
  test('the surface moves the P&L: sticky moneyness differs from sticky strike on the skewed slices', () => {
    const a = revalueReference(marketDefault).data;
    const b = revalueReference(sticky).data;
    let differ = 0;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) differ++;
    expect(differ).toBeGreaterThan(a.length / 4);
  });
  test('on flat slices (b = 0) sticky moneyness is sticky strike, bit for bit (cpu form)', () => {
    const flat = sampleMarket();
    const sl = new Float64Array(flat.instruments.count * 5);
    for (let i = 0; i < flat.instruments.count; i++) sl[i * 5] = 0.04; // w ≡ 0.04: b = 0
    flat.volSurface = { params: sl, stickyMoneyness: true };
    const run = (mk: Market) => {
      const c = revalueColumns(mk, scenarios, params, true);
      revalueTile(c, 0, c.instruments, 0, c.scenarios);
      return c.out;
    };
    expect(Buffer.from(run(flat).buffer).equals(Buffer.from(run(marketDefault).buffer))).toBe(true);
  });
});

describe.each(BOOKS)('aggregate: %s', (name, spec, topK) => {
  for (const b of BACKENDS) {
    const skip = skipReason('aggregate', b);
    test.skipIf(skip !== null)(caseName(b, skip), () => aggregateCase(b, name, spec, topK), 60_000);
  }
});

declare function black76Norm32(isCall: number, k: number, sd: number): number;
declare function black76DeltaNorm32(isCall: number, k: number, sd: number): number;
