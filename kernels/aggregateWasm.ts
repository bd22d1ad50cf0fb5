/**
 * The cpu aggregation through WebAssembly SIMD (kernels/aggregate.wat, built to dist/kernels/aggregate.wasm):
 * the same contract and the same bits as {@link aggregateGroups}, the JavaScript reference it is tested
 * against (test/kernels/aggregateWasm.test.ts). The f64x2 lanes are two scenarios, so every scenario's sums
 * run in the reference's order; the combining pass, the worst loss and the top-k heap are the reference's
 * scalar code, transcribed.
 *
 * Per call (a range of groups): the groups' entries are copied into the module's memory, their rows renumbered
 * to the rows the range uses (kept as they are when the whole matrix is one block no larger than the entries:
 * usedRows); then per scenario block the used rows' columns of the block are copied in,
 * contiguous (float32 matrices widened to float64 as the reference reads them), and the module sweeps the
 * range's groups over them. The block of the matrix a sweep reads is then dense and its size is the rows used
 * × the block's scenarios, whatever the matrix's width. Memory: one instance per thread, grown to the largest
 * call and kept (about rows × block × 8 bytes, plus 24 bytes per entry, plus the range's outputs).
 *
 * With a top k (var's tail), a pilot pass comes first: the 3·k scenarios whose P&L columns are largest are
 * gathered into a block of their own and offered to every group's heap, so that the heaps start near their
 * final k, and the main pass skips them for the heap. The heap then replaces its root far less often (on the
 * eod book, var-mc's top 100 of 10,000: 557 → 264 times a group), and the heap holds the same k largest
 * losses as the reference's, which is all that its sorted output shows. That is bit for bit, whatever order
 * the losses were offered in: a loss is 0 − y, never −0 (0 − (±0) is +0), and a NaN never enters (it beats no
 * root), so losses that compare equal have equal bits, whichever of them a heap evicted first.
 *
 * kernels/ imports nothing outside kernels/: the caller compiles the module (WebAssembly.Module of the
 * .wasm's bytes) and hands it over.
 */
import { aggregateGroups, sortTopLosses, type AggregateColumns } from './aggregate.js';
import { align16, compileWasm, growTo, instantiateWasm, type WasmMemory } from './wasmApi.js';

/** The file the build writes beside the compiled kernels (dist/kernels/). */
export const AGGREGATE_WASM_FILE = 'aggregate.wasm';

/**
 * Where the compiled module is read: beside this module once built (dist/kernels/, and dist/bundle/, where
 * scripts/bundle.mjs copies it beside the bundled code). From source (vitest) there is none: the caller
 * falls back to the JavaScript kernel, which gives the same bits.
 */
export const AGGREGATE_WASM_URL = new URL(AGGREGATE_WASM_FILE, import.meta.url);

/** P&L rows of at least this many scenarios are copied into the module by TypedArray.set, shorter ones by element. */
const COPY_BY_SET = 256;

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

/**
 * Compiles the module from its bytes.
 * @throws Error when the runtime has no WebAssembly or rejects the module (no SIMD).
 */
export function compileAggregateWasm(bytes: Uint8Array): object {
  return compileWasm(bytes, 'aggregate wasm');
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
  /** how many calls took the matrix's rows as they are (usedRows; for tests) */
  rowsKept = 0;

  constructor(module: object) {
    const exports = instantiateWasm(module, 'aggregate wasm');
    this.memory = exports.memory as WasmMemory;
    this.block = exports.aggregateBlock as AggregateBlock;
  }

  /** Reduces groups [g0, g1) of `c` into its output columns: {@link aggregateGroups}'s contract and bits. */
  run(c: AggregateColumns, g0: number, g1: number, scenarioBlock: number): void {
    const S = c.scenarios;
    const B = c.buckets;
    const K = c.topLosses !== null ? c.topK : 0;
    const nG = g1 - g0;
    if (nG <= 0) return;
    // The wasm path needs 32-bit addresses and bucket masks as the reference computes them; anything
    // outside (≥ 2 GiB of memory, a non-integer size) goes to the reference itself.
    const SB = Math.max(1, Math.min(scenarioBlock, S));
    const E0 = c.groupStart[g0]!;
    const nE = c.groupStart[g1]! - E0;
    if (S === 0 || nE < 0 || !Number.isInteger(B) || B < 1) {
      aggregateGroups(c, g0, g1, scenarioBlock);
      return;
    }
    const rows = this.usedRows(c, E0, E0 + nE, SB);
    const L = rows === null ? null : layout(rows.used.length, SB + (SB & 1), pilotScenarios(S, K), S, B, nG, nE, K);
    if (rows === null || L === null || L.end > 0x7fff0000) {
      aggregateGroups(c, g0, g1, scenarioBlock);
      return;
    }
    const { used } = rows;
    growTo(this.memory, L.end);
    const every = this.load(c, L, g0, g1, rows.entryRows);
    if (K > 0 && L.P > 0) this.pilotPass(c, L, used, every);
    this.mainPass(c, L, used, SB, every);
    const buf = this.memory.buffer;
    c.worstLoss.set(new Float64Array(buf, L.worst, nG), g0);
    c.worstScenario.set(new Int32Array(buf, L.at, nG), g0);
    if (c.topLosses !== null && K > 0) {
      c.topLosses.set(new Float64Array(buf, L.top, nG * K), g0 * K);
      sortTopLosses(c.topLosses, K, g0, g1);
    }
  }

  /**
   * The rows entries [E0, E1) use, numbered in order of first use (rowMap holds each one's number until
   * this returns; it is reset for the next call), and each entry's row number among them; null when an entry's
   * row or bucket is out of range (the backend checks GroupBooks, checkGroupBook: the module must never address
   * outside).
   *
   * Every row of the matrix, numbered as it is (the entries' rows go into the module unchanged), when the whole
   * matrix is one block (`SB`) that holds no more values than the call has entries: copying the few unused rows
   * costs less than numbering a million entries. The intraday run's two
   * aggregations (1.0 and 1.1 M entries over ~3,200 rows of 35 and 16 scenarios) spent 10–17 ms each in the
   * numbering (traces of the pool's thread), on the main thread's path for span's; the range check alone, ~2 ms.
   * The kernel reads the same values either way (only their addresses differ): the same bits.
   */
  private usedRows(
    c: AggregateColumns,
    E0: number,
    E1: number,
    SB: number,
  ): { used: number[]; entryRows: Int32Array } | null {
    const S = c.scenarios;
    const R = Math.floor(c.pnl.length / S);
    if (S <= SB && R * (S + (S & 1)) <= E1 - E0) {
      if (!rowsInRange(c.row, c.bucket, c.buckets, E0, E1, R)) return null;
      this.rowsKept++;
      const all: number[] = [];
      for (let r = 0; r < R; r++) all.push(r);
      return { used: all, entryRows: c.row.subarray(E0, E1) };
    }
    if (this.rowMap.length < R) this.rowMap = new Int32Array(R).fill(-1);
    const rowMap = this.rowMap;
    const used: number[] = [];
    if (this.entryRows.length < E1 - E0) this.entryRows = new Int32Array(E1 - E0);
    const valid = numberRows(c.row, c.bucket, c.buckets, E0, E1, R, rowMap, used, this.entryRows);
    for (const r of used) rowMap[r] = -1;
    return valid ? { used, entryRows: this.entryRows.subarray(0, E1 - E0) } : null;
  }

  /** Each entry's row number among the rows of the current call (usedRows; grown, kept between calls). */
  private entryRows = new Int32Array(0);

  /**
   * Copies the call's entries (`entryRows`: their row numbers, usedRows), group starts and transposed weights into
   * the module's memory and clears its accumulators, worst losses and heaps; returns aggregateGroups' `every`
   * (combine every bucket when a weight or pnlOffset is not finite).
   */
  private load(c: AggregateColumns, L: Layout, g0: number, g1: number, entryRows: Int32Array): number {
    const { scenarios: S, buckets: B, weight } = c;
    const nG = g1 - g0;
    const E0 = c.groupStart[g0]!;
    const nE = c.groupStart[g1]! - E0;
    const buf = this.memory.buffer;
    const f64 = (at: number, n: number) => new Float64Array(buf, at, n);
    const i32 = (at: number, n: number) => new Int32Array(buf, at, n);
    i32(L.row, nE).set(entryRows);
    f64(L.qty, nE).set(c.qty.subarray(E0, E0 + nE));
    i32(L.bucket, nE).set(c.bucket.subarray(E0, E0 + nE));
    relativeStarts(c.groupStart, g0, i32(L.start, nG + 1));
    transpose(weight, S, B, f64(L.weight, S * B));
    f64(L.acc, L.accLength).fill(0);
    f64(L.worst, nG).fill(-Infinity);
    i32(L.at, nG).fill(-1);
    if (L.K > 0) f64(L.top, nG * L.K).fill(-Infinity);
    new Uint8Array(buf, L.skip, S + 1).fill(0);
    const off = c.pnlOffset;
    const canMask = B <= 30 && off - off === 0 && allFinite(weight);
    return canMask ? 0 : B <= 30 ? (1 << B) - 1 : -1;
  }

  /**
   * The pilot: the P scenarios with the largest P&L columns, offered to every group's heap first, so the
   * heaps start near their final k and later scenarios seldom beat the root. The main pass then skips them
   * for the heap (skip) but not for the worst loss, which keeps its first-scenario order; it passes a pair
   * unless a loss beats min(worst, root) (the root can start above the worst). The same k largest, so the
   * same sorted top losses: the pilot computes each loss as the main pass does.
   */
  private pilotPass(c: AggregateColumns, L: Layout, used: number[], every: number): void {
    const { scenarios: S, buckets: B, pnl, weight } = c;
    const P = L.P;
    const buf = this.memory.buffer;
    const Ru = used.length;
    const pil = extremeScenarios(pnl, S, used, P);
    const pb = new Float64Array(buf, L.pilot, Ru * P);
    for (let k = 0; k < Ru; k++) {
      const a = used[k]! * S;
      for (let j = 0; j < P; j++) pb[k * P + j] = pnl[a + pil[j]!]!;
    }
    const pw = new Float64Array(buf, L.pilotWeight, P * B);
    for (let b = 0; b < B; b++) for (let j = 0; j < P; j++) pw[b * P + j] = weight[pil[j]! * B + b]!;
    new Float64Array(buf, L.pilotWorst, L.nG).fill(Infinity); // no loss beats it: the pilot leaves the worst alone
    new Int32Array(buf, L.pilotAt, L.nG).fill(0);
    // prettier-ignore
    this.block(L.nG, P, P, 0, B, c.pnlOffset, L.K, every, L.pilot, L.start, L.row, L.qty, L.bucket, L.pilotWeight,
      P * 8, L.acc, L.pilotWorst, L.pilotAt, L.top, L.skip);
    const skip = new Uint8Array(buf, L.skip, S + 1);
    for (let j = 0; j < P; j++) skip[pil[j]!] = 1;
    this.pilots++;
  }

  /** Every scenario block in turn: the block's columns of the used rows copied contiguous, then the kernel. */
  private mainPass(c: AggregateColumns, L: Layout, used: number[], SB: number, every: number): void {
    const { scenarios: S, buckets: B, pnl } = c;
    const Ru = used.length;
    const blk = new Float64Array(this.memory.buffer, L.pnl, Ru * L.stride);
    for (let s0 = 0; s0 < S; s0 += SB) {
      const n = Math.min(SB, S - s0);
      for (let k = 0; k < Ru; k++) {
        const a = used[k]! * S + s0;
        const to = k * L.stride;
        // a short row (the distance search's 16–35 scenarios) element by element: a subarray view per row
        // allocated more than the copy cost
        if (n >= COPY_BY_SET) blk.set(pnl.subarray(a, a + n), to);
        else for (let s = 0; s < n; s++) blk[to + s] = pnl[a + s]!;
        if (n & 1) blk[to + n] = 0;
      }
      // prettier-ignore
      this.block(L.nG, n, L.stride, s0, B, c.pnlOffset, L.K, every, L.pnl, L.start, L.row, L.qty, L.bucket, L.weight,
        S * 8, L.acc, L.worst, L.at, L.top, L.skip);
    }
  }
}

// The loops of a call's set-up, each a function of its own: a method of several loops that runs once per pool
// task was optimised by V8 at its first loop (OSR), again at the next whose code had not run, then whole; the
// pool's thread did that compiling while the main thread waited for its aggregation.

/**
 * Numbers the rows entries [e0, e1) use in order of first use (rowMap[r]: its number; `used`: the rows) and
 * writes each entry's row number to out[e − e0], in one pass over the entries (two passes, numbering then
 * writing, took ~10 ms more of the pool's thread per intraday model, which the main thread waited for); false,
 * at the first entry whose row (< R) or bucket (< buckets) is out of range (`out` then partly written).
 */
function numberRows(
  row: Int32Array,
  bucket: Int32Array,
  buckets: number,
  e0: number,
  e1: number,
  R: number,
  rowMap: Int32Array,
  used: number[],
  out: Int32Array,
): boolean {
  for (let e = e0; e < e1; e++) {
    const r = row[e]!;
    const b = bucket[e]!;
    if (!(r >= 0 && r < R && b >= 0 && b < buckets)) return false;
    let k = rowMap[r]!;
    if (k < 0) {
      k = used.length;
      rowMap[r] = k;
      used.push(r);
    }
    out[e - e0] = k;
  }
  return true;
}

/** Whether every entry of [e0, e1) has a row < R and a bucket < buckets (both ≥ 0). */
function rowsInRange(row: Int32Array, bucket: Int32Array, buckets: number, e0: number, e1: number, R: number): boolean {
  for (let e = e0; e < e1; e++) {
    const r = row[e]!;
    const b = bucket[e]!;
    if (!(r >= 0 && r < R && b >= 0 && b < buckets)) return false;
  }
  return true;
}

/** out[g] = groupStart[g0 + g] − groupStart[g0], for g < out.length. */
function relativeStarts(groupStart: Int32Array, g0: number, out: Int32Array): void {
  const e0 = groupStart[g0]!;
  for (let g = 0; g < out.length; g++) out[g] = groupStart[g0 + g]! - e0;
}

/** out[b·S + s] = w[s·B + b]: the S × B weights, bucket-major. */
function transpose(w: Float64Array, S: number, B: number, out: Float64Array): void {
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) out[b * S + s] = w[s * B + b]!;
}

/** Whether every value is finite. */
function allFinite(x: Float64Array): boolean {
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    if (v - v !== 0) return false;
  }
  return true;
}

/** Byte addresses of one call's regions in the module's memory (each 16-byte aligned), and its sizes. */
interface Layout {
  nG: number;
  /** the pilot's scenarios (0: no pilot pass) */
  P: number;
  K: number;
  stride: number;
  accLength: number;
  pnl: number;
  acc: number;
  weight: number;
  start: number;
  row: number;
  qty: number;
  bucket: number;
  worst: number;
  at: number;
  top: number;
  /** the pilot pass: its block of P scenarios and their weights, and worst-loss slots it writes for nothing */
  pilot: number;
  pilotWeight: number;
  /** a byte per scenario (1: the pilot has offered it to the heaps; all 0 during the pilot's own call) */
  skip: number;
  pilotWorst: number;
  pilotAt: number;
  /** the bytes the call needs */
  end: number;
}

/** The memory layout of a call over Ru rows, nG groups, nE entries, blocks of `stride`, a pilot of P. */
function layout(
  Ru: number,
  stride: number,
  P: number,
  S: number,
  B: number,
  nG: number,
  nE: number,
  K: number,
): Layout {
  let p = 0;
  const take = (bytes: number) => {
    const at = p;
    p = align16(p + bytes + 16); // 16 bytes between regions: a pair's second lane may read past a column
    return at;
  };
  const accLength = B * Math.max(stride, P); // the pilot's block is P wide
  const pnl = take(Ru * stride * 8);
  const acc = take(accLength * 8);
  const weight = take(S * B * 8 + 16); // transposed, [b * S + s]; the last pair reads one past the end
  const start = take((nG + 1) * 4);
  const row = take(nE * 4);
  const qty = take(nE * 8);
  const bucket = take(nE * 4);
  const worst = take(nG * 8);
  const at = take(nG * 4);
  const top = take(nG * K * 8);
  const pilot = take(Ru * P * 8);
  const pilotWeight = take(P * B * 8 + 16);
  const skip = take(S + 1);
  const pilotWorst = take(P > 0 ? nG * 8 : 0);
  const pilotAt = take(P > 0 ? nG * 4 : 0);
  return {
    nG,
    P,
    K,
    stride,
    accLength,
    pnl,
    acc,
    weight,
    start,
    row,
    qty,
    bucket,
    worst,
    at,
    top,
    pilot,
    pilotWeight,
    skip,
    pilotWorst,
    pilotAt,
    end: p,
  };
}
