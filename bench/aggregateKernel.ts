#!/usr/bin/env node
/**
 * The cpu aggregation kernels on one thread, without the pool: the JavaScript reference (aggregateGroups) and
 * the WebAssembly SIMD form (kernels/aggregateWasm.ts) over the same eod-shaped book, per scenario block:
 * `node --no-concurrent-recompilation dist/bench/aggregateKernel.js [--scenarios 10000] [--groups 6250]
 *  [--entries 10] [--buckets 1] [--topk 100] [--blocks 64,128,256,1024] [--rounds 3] [--forms js,wasm]`.
 * The book is var-mc's shape by default: one group per account, ~10 entries on the full chain's USD rows
 * (1,606 of the matrix's 3,214 rows) and spot rows, one bucket, the 1 % tail kept (top 100 of 10,000); 6,250
 * groups is one task of the eod pool (100,000 accounts in 16 tasks). Prints multiply-adds/s per form and block
 * (the best of `rounds`, thread CPU time beside wall time) and checks that every form gives the reference's
 * bits. Nothing is written; bench/README.md keeps the numbers.
 */
import { readFileSync } from 'node:fs';
import { aggregateGroups, type AggregateColumns } from '../kernels/aggregate.js';
import { AGGREGATE_WASM_FILE, compileAggregateWasm, WasmAggregator } from '../kernels/aggregateWasm.js';
import { parseArgs, optional } from '../src/cli/args.js';
import { runTool } from './toolMain.js';

const USAGE = `node --no-concurrent-recompilation dist/bench/aggregateKernel.js [--scenarios 10000] [--groups 6250]
    [--entries 10] [--buckets 1] [--topk 100] [--blocks 64,128,256,1024] [--rounds 3] [--forms js,wasm] [--rows R]

The cpu aggregation kernels on one thread (JavaScript reference, WebAssembly SIMD) over one eod-shaped book, per
scenario block: multiply-adds/s per form, each checked against the reference's bits.`;

function main(argv: string[]): number {
  const p = parseArgs(
    argv,
    { scenarios: {}, groups: {}, entries: {}, buckets: {}, topk: {}, blocks: {}, rounds: {}, forms: {}, rows: {} },
    'bench aggregateKernel',
  );
  const S = Number(optional(p, 'scenarios') ?? 10_000);
  const G = Number(optional(p, 'groups') ?? 6_250);
  const meanEntries = Number(optional(p, 'entries') ?? 10);
  const B = Number(optional(p, 'buckets') ?? 1);
  const K = Number(optional(p, 'topk') ?? 100);
  const R = Number(optional(p, 'rows') ?? 3_214);
  const rounds = Number(optional(p, 'rounds') ?? 3);
  const blocks = (optional(p, 'blocks') ?? '64,128,256,512,1024').split(',').map(Number);
  const forms = (optional(p, 'forms') ?? 'js,wasm').split(',');

  // a seeded generator (no Math.random): the same book every run
  let seed = 12345;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pnl = new Float64Array(R * S);
  for (let k = 0; k < pnl.length; k++) pnl[k] = (rnd() - 0.5) * 2000;
  const I = Math.floor((R - 2) / 2);
  const groupStart = new Int32Array(G + 1);
  const row: number[] = [],
    qty: number[] = [],
    bucket: number[] = [];
  for (let g = 0; g < G; g++) {
    const n = Math.max(1, Math.round(meanEntries * 2 * rnd()));
    const b0 = Math.floor(rnd() * B);
    for (let e = 0; e < n; e++) {
      // USD rows (0..I) for positions, then a spot row (2I + u) for the coin balance, as varGroups builds them
      row.push(e === n - 1 && n > 1 ? 2 * I + (g & 1) : Math.floor(rnd() * I));
      qty.push(Math.round((rnd() - 0.5) * 40) / 4 || 0.25);
      bucket.push(B === 1 ? 0 : (b0 + (2 * e >= n ? 1 : 0)) % B);
    }
    groupStart[g + 1] = row.length;
  }
  const E = row.length;
  const out = () => ({
    worstLoss: new Float64Array(G),
    worstScenario: new Int32Array(G),
    topLosses: K > 0 ? new Float64Array(G * K) : null,
  });
  const base = {
    pnl,
    scenarios: S,
    groupStart,
    row: Int32Array.from(row),
    qty: Float64Array.from(qty),
    bucket: Int32Array.from(bucket),
    buckets: B,
    weight: new Float64Array(S * B).fill(1),
    pnlOffset: 1,
    topK: K,
  };
  const wasmBytes = readFileSync(new URL(`../kernels/${AGGREGATE_WASM_FILE}`, import.meta.url));
  const wasm = new WasmAggregator(compileAggregateWasm(wasmBytes));
  const madds = E * S;
  process.stdout.write(
    `book: ${G} groups, ${E} entries, ${B} bucket(s), top ${K}, ${S} scenarios, matrix ${R} rows ` +
      `(${((R * S * 8) / 2 ** 20).toFixed(0)} MiB): ${(madds / 1e9).toFixed(3)} G multiply-adds per run\n`,
  );
  let ref: ReturnType<typeof out> | null = null;
  for (const form of forms) {
    for (const block of blocks) {
      let best = Infinity,
        bestCpu = Infinity;
      let o = out();
      for (let r = 0; r < rounds; r++) {
        o = out();
        const c: AggregateColumns = { ...base, ...o };
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        if (form === 'js') aggregateGroups(c, 0, G, block);
        else wasm.run(c, 0, G, block);
        const wall = (performance.now() - t0) / 1e3;
        const cu = process.cpuUsage(c0);
        best = Math.min(best, wall);
        bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1e6);
      }
      let same = 'reference';
      if (ref === null) ref = o;
      else {
        const eq = (a: ArrayBufferView | null, b: ArrayBufferView | null) =>
          a === null || b === null
            ? a === b
            : Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
                Buffer.from(b.buffer, b.byteOffset, b.byteLength),
              );
        same =
          eq(o.worstLoss, ref.worstLoss) && eq(o.worstScenario, ref.worstScenario) && eq(o.topLosses, ref.topLosses)
            ? 'same bits'
            : 'DIFFERENT BITS';
      }
      process.stdout.write(
        `${form.padEnd(4)} block ${String(block).padStart(5)}: ${(madds / best / 1e6).toFixed(0).padStart(5)} M multiply-adds/s ` +
          `(best of ${rounds}: ${best.toFixed(3)} s wall, ${bestCpu.toFixed(3)} s cpu) ${same}\n`,
      );
    }
  }
  return 0;
}

process.exitCode = await runTool('aggregateKernel', USAGE, main);
