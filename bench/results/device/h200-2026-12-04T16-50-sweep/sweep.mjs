// device sweep: webgpu aggregation blocks (topK 0 and 100) on a var-mc-like book, and the readback alone
import { openGpu, readWebGpuFloats } from './dist/src/engine/gpuDevice.js';
import { GpuAggregator } from './dist/src/engine/gpuAggregate.js';
const R = 3214, S = 10000, G = 100000, K = 100;
let x = 7;
const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296);
const pnl = new Float64Array(R * S);
for (let i = 0; i < pnl.length; i++) pnl[i] = 2 * rnd() - 1;
const groupStart = new Int32Array(G + 1), row = [], qty = [], bucket = [];
for (let g = 0; g < G; g++) {
  const n = 1 + Math.floor(rnd() * 19);
  for (let e = 0; e < n; e++) { row.push(Math.floor(rnd() * R)); qty.push(10 * rnd() - 5); bucket.push(rnd() < 0.5 ? 0 : 1); }
  groupStart[g + 1] = row.length;
}
const groups = { groupCount: G, groupStart, row: Int32Array.from(row), qty: Float64Array.from(qty), bucket: Int32Array.from(bucket), buckets: 2, weight: new Float64Array(S * 2).fill(1), pnlOffset: 1 };
const matrix = { rows: R, scenarios: S, data: pnl };
const gpu = await openGpu('webgpu');
console.log(`book: ${R} rows × ${S} scenarios, ${G} groups, ${row.length} entries`);
for (const [sb, gb] of [[1024, 4096], [2048, 32768], [2048, 8192], [4096, 16384], [1024, 65536]]) {
  const agg = new GpuAggregator(gpu, 'webgpu', { scenarios: sb, groups: gb });
  for (const k of [0, K]) {
    const t0 = performance.now();
    try {
      await agg.aggregate(matrix, groups, { topK: k });
      const t = (performance.now() - t0) / 1000;
      console.log(`blocks ${sb}×${gb} topK ${k}: ${t.toFixed(2)} s ${JSON.stringify(Object.fromEntries(Object.entries(agg.timings).map(([a, b]) => [a, Math.round(b)])))}`);
    } catch (e) { console.log(`blocks ${sb}×${gb} topK ${k}: FAIL ${e.message}`); }
  }
  agg.destroy();
}
// readback alone: a pipeline output of 2048 × 32768 floats
const k = gpu.createKernel('function () { return this.thread.x + this.thread.y; }', { output: [2048, 32768], pipeline: true, precision: 'single' });
const res = await k();
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const f = await readWebGpuFloats(res, 2048 * 32768);
  console.log(`readback 256 MiB: ${(performance.now() - t0).toFixed(1)} ms (${f[5]})`);
}
process.exit(0);
