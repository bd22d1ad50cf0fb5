/**
 * Browser entry of test/engine/webgpuBrowser.test.ts (bundled by esbuild for the page): the engine's webgpu
 * backend (DeviceBackend over gpu.js's WebGPU mode, the same modules a Node run uses, with the page's own
 * navigator.gpu) checked against the float64 references, in the page.
 */
import { DeviceBackend } from '../../src/engine/deviceBackend.js';
import { referenceMatrix, selfCheck, selfCheckMarket, selfCheckScenarios } from '../../src/engine/selfCheck.js';
import { skewedSviSlices } from '../helpers/skewedSurface.js';
import { normalisedGreeksGpu } from '../../src/pricing/priceBatchGpu.js';
import { black76DeltaNorm, black76GammaNorm, black76Norm, black76VegaNorm } from '../../kernels/black76.js';
import { defaultParams } from '../../src/params/params.js';
import { aggregateGroups, sortTopLosses } from '../../kernels/aggregate.js';
import type { GroupBook } from '../../src/engine/types.js';

/**
 * A seeded book: `groups` groups of 1–4 entries over `rows` rows, two buckets, weights 0.5 or 1; with `levels`,
 * every P&L one of that many values and quantities whole (many scenarios of a group tie).
 */
function book(
  rows: number,
  S: number,
  groups: number,
  seed: number,
  levels = 0,
): { pnl: Float64Array; groups: GroupBook } {
  let x = seed >>> 0;
  const rnd = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
  const pnl = Float64Array.from({ length: rows * S }, () =>
    levels > 0 ? Math.floor(rnd() * levels) / levels - 0.5 : 2 * rnd() - 1,
  );
  const groupStart = new Int32Array(groups + 1);
  const row: number[] = [];
  const qty: number[] = [];
  const bucket: number[] = [];
  for (let g = 0; g < groups; g++) {
    const n = 1 + Math.floor(rnd() * 4);
    for (let e = 0; e < n; e++) {
      row.push(Math.floor(rnd() * rows));
      qty.push(levels > 0 ? Math.floor(10 * rnd()) - 5 : Math.round((10 * rnd() - 5) * 100) / 100);
      bucket.push(rnd() < 0.5 ? 0 : 1);
    }
    groupStart[g + 1] = row.length;
  }
  const weight = Float64Array.from({ length: S * 2 }, () => (rnd() < 0.2 ? 0.5 : 1));
  return {
    pnl,
    groups: {
      groupCount: groups,
      groupStart,
      row: Int32Array.from(row),
      qty: Float64Array.from(qty),
      bucket: Int32Array.from(bucket),
      buckets: 2,
      weight,
      pnlOffset: 0.5,
    },
  };
}

export interface PageResult {
  kernelClass: string;
  selfCheck: { ok: boolean; worst: number; detail: string };
  /**
   * The self-check market with a skewed SVI slice per option, sticky moneyness (movedValueSurfaceKernel):
   * max over cells of |device − float64| / (5e-6 · scale), as the self-check measures, and the cells that moved
   */
  stickyMoneyness: { worstErrOverBound: number; movedCells: number; cells: number };
  /**
   * `margin-engine price --backend webgpu`'s kernel (src/pricing/priceBatchGpu.ts) on 1,000 rows: whether the
   * backend was taken (its own self-check), and the largest |device − float64| of each normalised quantity
   */
  pricing: { ok: boolean; reason: string | null; kernelClass: string | null; maxErr: Record<string, number> };
  aggregation: Array<{
    groups: number;
    topK: number;
    scenarios: number;
    seconds: number;
    /** max over groups of |device − float64| / bound, worst loss and each of the top k */
    worstErrOverBound: number;
    topErrOverBound: number;
    sameWorstScenario: number;
    /** groups whose k-th loss the device did not pin down (heaped from p on the host instead) */
    fallbackGroups: number;
    /** the aggregator's milliseconds by part */
    timings: Record<string, number>;
  }>;
}

/** The self-check, then one aggregation per case [rows, scenarios, groups, top k, levels], each against float64. */
async function run(cases: Array<[number, number, number, number, number]>): Promise<PageResult> {
  const backend = await DeviceBackend.open('webgpu');
  const check = await selfCheck(backend, false);
  const stickyMoneyness = await surfaceCase(backend);
  const pricing = await pricingCase();
  const aggregation: PageResult['aggregation'] = [];
  for (const [rows, S, G, K, levels] of cases) {
    const { pnl, groups } = book(rows, S, G, 7, levels);
    const t0 = performance.now();
    const got = await backend.aggregate({ rows, scenarios: S, data: pnl }, groups, { topK: K });
    const seconds = (performance.now() - t0) / 1000;
    // (the backend's aggregator, reached into for its profile)
    const timings = {
      ...(backend as unknown as { aggregator: { timings: Record<string, number> } }).aggregator.timings,
    };
    const worstLoss = new Float64Array(G);
    const worstScenario = new Int32Array(G);
    const topLosses = new Float64Array(G * K).fill(-Infinity);
    aggregateGroups({ ...groups, pnl, scenarios: S, topK: K, worstLoss, worstScenario, topLosses }, 0, G, 256);
    sortTopLosses(topLosses, K, 0, G);
    // float32 bound per group: 5e-6 · Σ_e |q_e| (every |pnl| ≤ 1, weights ≤ 1); −∞ beyond the scenarios
    let worstErr = 0;
    let topErr = 0;
    let same = 0;
    for (let g = 0; g < G; g++) {
      let mass = 0;
      for (let e = groups.groupStart[g]!; e < groups.groupStart[g + 1]!; e++) mass += Math.abs(groups.qty[e]!);
      const bound = 5e-6 * mass + 1e-12;
      worstErr = Math.max(worstErr, Math.abs(got.worstLoss[g]! - worstLoss[g]!) / bound);
      if (got.worstScenario[g] === worstScenario[g]) same++;
      for (let j = 0; j < K; j++) {
        const a = got.topLosses![g * K + j]!;
        const b = topLosses[g * K + j]!;
        topErr = Math.max(topErr, a === b ? 0 : Math.abs(a - b) / bound);
      }
    }
    aggregation.push({
      groups: G,
      topK: K,
      scenarios: S,
      seconds,
      worstErrOverBound: worstErr,
      topErrOverBound: topErr,
      sameWorstScenario: same / G,
      fallbackGroups: timings.fallbackGroups ?? 0,
      timings,
    });
  }
  const kernelClass = backend.report.phaseKernelClass?.aggregate ?? '';
  await backend.close();
  return {
    kernelClass,
    selfCheck: { ok: check.ok, worst: check.worst, detail: check.detail },
    stickyMoneyness,
    pricing,
    aggregation,
  };
}

/** Price and forward Greeks of 1,000 calls and puts (k 0.5–1.5, sd 0.05–1.0) on webgpu against float64. */
async function pricingCase(): Promise<PageResult['pricing']> {
  const n = 1000;
  const isCall = Float64Array.from({ length: n }, (_, i) => i % 2);
  const k = Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 101) / 100);
  const sd = Float64Array.from({ length: n }, (_, i) => 0.05 + (i % 97) / 100);
  const r = await normalisedGreeksGpu('webgpu', isCall, k, sd);
  if (!r.ok) return { ok: false, reason: r.reason, kernelClass: null, maxErr: {} };
  const maxErr = { price: 0, delta: 0, gamma: 0, vega: 0 };
  for (let i = 0; i < n; i++) {
    maxErr.price = Math.max(maxErr.price, Math.abs(r.greeks.price[i]! - black76Norm(isCall[i]!, k[i]!, sd[i]!)));
    maxErr.delta = Math.max(maxErr.delta, Math.abs(r.greeks.delta[i]! - black76DeltaNorm(isCall[i]!, k[i]!, sd[i]!)));
    maxErr.gamma = Math.max(maxErr.gamma, Math.abs(r.greeks.gamma[i]! - black76GammaNorm(k[i]!, sd[i]!)));
    maxErr.vega = Math.max(maxErr.vega, Math.abs(r.greeks.vega[i]! - black76VegaNorm(k[i]!, sd[i]!)));
  }
  return { ok: true, reason: null, kernelClass: r.kernelClass, maxErr };
}

/** Revaluation with a vol surface (sticky moneyness) on the device against the float64 reference. */
async function surfaceCase(backend: DeviceBackend): Promise<PageResult['stickyMoneyness']> {
  const market = selfCheckMarket();
  const ins = market.instruments;
  const slices = skewedSviSlices(market);
  const scenarios = selfCheckScenarios();
  const plain = referenceMatrix(market, scenarios);
  market.volSurface = { params: slices, stickyMoneyness: true };
  const ref = referenceMatrix(market, scenarios);
  const got = await backend.revalue(market, scenarios, defaultParams());
  const I = ins.count;
  const S = scenarios.count;
  let worst = 0;
  let moved = 0;
  for (let r = 0; r < ref.rows; r++) {
    const i = r < I ? r : r - I;
    const scale = r < I ? ins.forward[i]! : r < 2 * I ? 1 : market.indexPrice[r - 2 * I]!;
    for (let s = 0; s < S; s++) {
      const a = got.data[r * S + s]!;
      const b = ref.data[r * S + s]!;
      worst = Math.max(worst, Number.isNaN(a - b) ? Infinity : Math.abs(a - b) / (5e-6 * scale));
      if (b !== plain.data[r * S + s]) moved++;
    }
  }
  return { worstErrOverBound: worst, movedCells: moved, cells: ref.rows * S };
}

(globalThis as unknown as { webgpuCheck: typeof run }).webgpuCheck = run;
