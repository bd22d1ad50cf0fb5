/**
 * The cpu aggregation through WebAssembly SIMD (kernels/aggregate.wat, built to dist/kernels/aggregate.wasm):
 * the same contract and the same bits as {@link aggregateGroups}, the JavaScript reference it is tested
 * against (test/kernels/aggregateWasm.test.ts). The f64x2 lanes are two scenarios, so every scenario's sums
 * run in the reference's order; the combining pass, the worst loss and the top-k heap are the reference's
 * scalar code, transcribed.
 *
 * Per call (a range of groups): the groups' entries are copied into the module's memory, their rows renumbered
 * to the rows the range uses; then per scenario block the used rows' columns of the block are copied in,
 * contiguous (float32 matrices widened to float64 as the reference reads them), and the module sweeps the
 * range's groups over them. The block of the matrix a sweep reads is then dense and its size is the rows used
 * × the block's scenarios, whatever the matrix's width. Memory: one instance per thread, grown to the largest
 * call and kept (about rows × block × 8 bytes, plus 24 bytes per entry, plus the range's outputs).
 *
 * With a top k (var's tail), a pilot pass comes first: the 3·k scenarios whose P&L columns are largest are
 * gathered into a block of their own and offered to every group's heap, so that the heaps start near their
 * final k, and the main pass skips them for the heap. The heap then replaces its root far less often (on the
 * eod book, var-mc's top 100 of 10,000: 557 → 264 times a group), and the heap holds the same k largest
 * losses as the reference's, which is all that its sorted output shows.
 *
 * kernels/ imports nothing outside kernels/: the caller compiles the module (WebAssembly.Module of the
 * .wasm's bytes) and hands it over.
 */
import { aggregateGroups, sortTopLosses, type AggregateColumns } from './aggregate.js';

/** The file the build writes beside the compiled kernels (dist/kernels/). */
export const AGGREGATE_WASM_FILE = 'aggregate.wasm';

/**
 * Where the compiled module is read: beside this module once built (dist/kernels/, and dist/bundle/, where
 * scripts/bundle.mjs copies it beside the bundled code). From source (vitest) there is none: the caller
 * falls back to the JavaScript kernel, which gives the same bits.
 */
export const AGGREGATE_WASM_URL = new URL(AGGREGATE_WASM_FILE, import.meta.url);

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
type AggregateBlock = (
  nG: number,
  n: number,
  stride: number,
  s0: number,
  B: number,
  off: number,
  K: number,
  every: number,
  pnl: number,
  gStart: number,
  eRow: number,
  eQty: number,
  eBucket: number,
  weight: number,
  wStride: number,
  acc: number,
  worst: number,
  at: number,
  top: number,
  skip: number,
) => void;

/** The global WebAssembly object, or null where the runtime has none. */
function wasmApi(): WasmApi | null {
  return ((globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null) as WasmApi | null;
}

/**
 * Compiles the module from its bytes.
 * @throws Error when the runtime has no WebAssembly or rejects the module (no SIMD).
 */
export function compileAggregateWasm(bytes: Uint8Array): object {
  const api = wasmApi();
  if (!api) throw new Error('aggregate wasm: this runtime has no WebAssembly');
  return new api.Module(bytes);
}

/**
 * The scenarios of the pilot pass for a top k of `K` among `S` scenarios: 3·K (at least 32, even), or 0 (no
 * pilot) when that is more than a quarter of the set. On the eod book (var-mc, top 100 of 10,000) a pilot of
 * 256 cut the heap's insertions from 557 to 264 a group; 3·K (300) gives about the same.
 */
export function pilotScenarios(S: number, K: number): number {
  if (K <= 0) return 0;
  const P = Math.max(32, 3 * K + ((3 * K) & 1));
  return 4 * P <= S ? P : 0;
}

/**
 * The P scenarios whose P&L columns are largest (the sum of |pnl| over up to 64 of the rows the call uses,
 * evenly spaced), in ascending order; ties and non-finite sums are taken in scenario order. Only a guess at
 * every group's worst scenarios: any choice gives the same results, a good one fewer heap insertions.
 */
function extremeScenarios(pnl: Float64Array | Float32Array, S: number, used: number[], P: number): Int32Array {
  const norm = new Float64Array(S);
  const step = Math.max(1, used.length / 64);
  for (let k = 0; k < used.length; k += step) {
    const a = used[Math.floor(k)]! * S;
    for (let s = 0; s < S; s++) norm[s]! += Math.abs(pnl[a + s]!);
  }
  for (let s = 0; s < S; s++) if (!(norm[s]! < Infinity)) norm[s] = 0; // NaN and ∞: no preference
  const t = Float64Array.from(norm).sort()[S - P]!; // the P-th largest
  const out = new Int32Array(P);
  let m = 0;
  for (let s = 0; s < S && m < P; s++) if (norm[s]! > t) out[m++] = s;
  for (let s = 0; s < S && m < P; s++) if (norm[s] === t) out[m++] = s;
  return out.sort(); // scenario order
}

/** Rounds a byte count up to a multiple of 16 (v128 alignment). */
const align16 = (x: number) => (x + 15) & ~15;

/**
 * An aggregator over one instance of the module (one per thread: calls must not overlap, which a worker's
 * synchronous calls never do). `run(c, g0, g1, scenarioBlock)` is {@link aggregateGroups}(c, g0, g1,
 * scenarioBlock), bit for bit.
 */
export class WasmAggregator {
  private readonly memory: WasmMemory;
  private readonly block: AggregateBlock;
  /** row → its index among the rows of the current call, −1 when unused (kept between calls, reset after each) */
  private rowMap = new Int32Array(0);
  /** how many calls ran a pilot pass (for tests) */
  pilots = 0;

  constructor(module: object) {
    const api = wasmApi();
    if (!api) throw new Error('aggregate wasm: this runtime has no WebAssembly');
    const inst = new api.Instance(module, {});
    this.memory = inst.exports.memory as WasmMemory;
    this.block = inst.exports.aggregateBlock as AggregateBlock;
  }

  /** Reduces groups [g0, g1) of `c` into its output columns: {@link aggregateGroups}'s contract and bits. */
  run(c: AggregateColumns, g0: number, g1: number, scenarioBlock: number): void {
    const S = c.scenarios;
    const B = c.buckets;
    const { groupStart, row, qty, bucket, weight, worstLoss, worstScenario, topLosses } = c;
    const K = topLosses !== null ? c.topK : 0;
    const nG = g1 - g0;
    if (nG <= 0) return;
    // The wasm path needs 32-bit addresses and bucket masks as the reference computes them; anything
    // outside (≥ 2 GiB of memory, a non-integer size) goes to the reference itself.
    const SB = Math.max(1, Math.min(scenarioBlock, S));
    const stride = SB + (SB & 1);
    const E0 = groupStart[g0]!;
    const E1 = groupStart[g1]!;
    const nE = E1 - E0;
    const R = S > 0 ? Math.floor(c.pnl.length / S) : 0;
    if (S === 0 || nE < 0 || !Number.isInteger(B) || B < 1) {
      aggregateGroups(c, g0, g1, scenarioBlock);
      return;
    }
    // the rows the range uses, numbered in order of first use
    if (this.rowMap.length < R) this.rowMap = new Int32Array(R).fill(-1);
    const rowMap = this.rowMap;
    const used: number[] = [];
    let valid = true;
    for (let e = E0; e < E1; e++) {
      const r = row[e]!;
      const b = bucket[e]!;
      if (!(r >= 0 && r < R && b >= 0 && b < B)) {
        valid = false; // the backend checks GroupBooks (checkGroupBook); the module must never address outside
        break;
      }
      if (rowMap[r]! < 0) {
        rowMap[r] = used.length;
        used.push(r);
      }
    }
    const Ru = used.length;
    // layout (bytes)
    let p = 0;
    const take = (bytes: number) => {
      const at = p;
      p = align16(p + bytes + 16); // 16 bytes between regions: a pair's second lane may read past a column
      return at;
    };
    const pPnl = take(Ru * stride * 8);
    const P = pilotScenarios(S, K);
    const accWidth = Math.max(stride, P); // the pilot's block is P wide
    const pAcc = take(B * accWidth * 8);
    const pWeight = take(S * B * 8 + 16); // transposed, [b * S + s]; the last pair reads one past the end
    const pStart = take((nG + 1) * 4);
    const pRow = take(nE * 4);
    const pQty = take(nE * 8);
    const pBucket = take(nE * 4);
    const pWorst = take(nG * 8);
    const pAt = take(nG * 4);
    const pTop = take(nG * K * 8);
    // the pilot pass: its block of P scenarios and their weights, a byte per scenario (skip[s] = 1: the pilot
    // has offered s to the heaps; all 0 during the pilot's own call), and worst-loss slots it writes for nothing
    const pPilot = take(Ru * P * 8);
    const pPilotW = take(P * B * 8 + 16);
    const pSkip = take(S + 1);
    const pPilotWorst = take(P > 0 ? nG * 8 : 0);
    const pPilotAt = take(P > 0 ? nG * 4 : 0);
    if (!valid || p > 0x7fff0000) {
      for (const r of used) rowMap[r] = -1;
      aggregateGroups(c, g0, g1, scenarioBlock);
      return;
    }
    const have = this.memory.buffer.byteLength;
    if (p > have) this.memory.grow(Math.ceil((p - have) / 65536));
    const buf = this.memory.buffer;
    const f64 = (at: number, n: number) => new Float64Array(buf, at, n);
    const i32 = (at: number, n: number) => new Int32Array(buf, at, n);

    const eRow = i32(pRow, nE);
    for (let e = 0; e < nE; e++) eRow[e] = rowMap[row[E0 + e]!]!;
    for (const r of used) rowMap[r] = -1;
    f64(pQty, nE).set(qty.subarray(E0, E1));
    i32(pBucket, nE).set(bucket.subarray(E0, E1));
    const gs = i32(pStart, nG + 1);
    for (let g = 0; g <= nG; g++) gs[g] = groupStart[g0 + g]! - E0;
    const wT = f64(pWeight, S * B);
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) wT[b * S + s] = weight[s * B + b]!;
    f64(pAcc, B * accWidth).fill(0);
    f64(pWorst, nG).fill(-Infinity);
    i32(pAt, nG).fill(-1);
    const top = K > 0 ? f64(pTop, nG * K) : null;
    if (top) top.fill(-Infinity);

    // aggregateGroups' `every`: combine every bucket when a weight or pnlOffset is not finite
    const off = c.pnlOffset;
    let canMask = B <= 30 && off - off === 0;
    for (let k = 0; k < weight.length && canMask; k++) {
      const w = weight[k]!;
      if (w - w !== 0) canMask = false;
    }
    const every = canMask ? 0 : B <= 30 ? (1 << B) - 1 : -1;

    const pnl = c.pnl;
    const skip = new Uint8Array(buf, pSkip, S + 1).fill(0);
    if (top !== null && P > 0) {
      // The pilot: the P scenarios with the largest P&L columns, offered to every group's heap first, so the
      // heaps start near their final k and later scenarios seldom beat the root. The main pass then skips
      // them for the heap (skip) but not for the worst loss, which keeps its first-scenario order; it passes
      // a pair unless a loss beats min(worst, root) (the root can start above the worst). The same k
      // largest, so the same sorted top losses: the pilot computes each loss as the main pass does.
      const pil = extremeScenarios(pnl, S, used, P);
      const pb = f64(pPilot, Ru * P);
      for (let k = 0; k < Ru; k++) {
        const a = used[k]! * S;
        for (let j = 0; j < P; j++) pb[k * P + j] = pnl[a + pil[j]!]!;
      }
      const pw = f64(pPilotW, P * B);
      for (let b = 0; b < B; b++) for (let j = 0; j < P; j++) pw[b * P + j] = weight[pil[j]! * B + b]!;
      f64(pPilotWorst, nG).fill(Infinity); // no loss beats it: the pilot leaves the worst loss alone
      i32(pPilotAt, nG).fill(0);
      // prettier-ignore
      this.block(nG, P, P, 0, B, off, K, every, pPilot, pStart, pRow, pQty, pBucket, pPilotW, P * 8, pAcc,
        pPilotWorst, pPilotAt, pTop, pSkip);
      for (let j = 0; j < P; j++) skip[pil[j]!] = 1;
      this.pilots++;
    }
    const blk = f64(pPnl, Ru * stride);
    for (let s0 = 0; s0 < S; s0 += SB) {
      const n = Math.min(SB, S - s0);
      for (let k = 0; k < Ru; k++) {
        const a = used[k]! * S + s0;
        blk.set(pnl.subarray(a, a + n), k * stride);
        if (n & 1) blk[k * stride + n] = 0;
      }
      this.block(
        nG,
        n,
        stride,
        s0,
        B,
        off,
        K,
        every,
        pPnl,
        pStart,
        pRow,
        pQty,
        pBucket,
        pWeight,
        S * 8,
        pAcc,
        pWorst,
        pAt,
        pTop,
        pSkip,
      );
    }

    worstLoss.set(f64(pWorst, nG), g0);
    worstScenario.set(i32(pAt, nG), g0);
    if (topLosses !== null && top !== null) {
      topLosses.set(top, g0 * K);
      sortTopLosses(topLosses, K, g0, g1);
    }
  }
}
