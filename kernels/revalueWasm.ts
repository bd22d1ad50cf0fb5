/**
 * The cpu revaluation's option cells through WebAssembly SIMD (kernels/revalue.wat, built to
 * dist/kernels/revalue.wasm): a {@link OptionCells} for kernels/revalue.ts revalueTile, the same bits as
 * its JavaScript loop (test/kernels/revalueWasm.test.ts). The module's Math.log, Math.exp and normCdf are
 * V8's and kernels/normal.ts's, written out operation for operation; the lanes of an f64x2 are two scenarios.
 *
 * Per tile, {@link WasmOptionCells.begin} copies each underlying's column of moves and the scenarios' keys into
 * the module's memory (contiguous, a pair of scenarios a load); per option, revalueTile writes its discount
 * and shocked vol per key into {@link WasmOptionCells.disc} / {@link WasmOptionCells.vol} (views of that
 * memory), the module prices the option's cells and its two rows are copied out. One instance per thread
 * (calls must not overlap, which a worker's synchronous calls never do); memory grows to the largest tile.
 */
import { EXP_HALF_SQUARE, normCdf } from './normal.js';
import type { OptionCells, RevalueColumns } from './revalue.js';
import { align16, compileWasm, growTo, instantiateWasm, type WasmMemory } from './wasmApi.js';

/** The file the build writes beside the compiled kernels (dist/kernels/). */
export const REVALUE_WASM_FILE = 'revalue.wasm';

/** Where the compiled module is read (as kernels/aggregateWasm.ts AGGREGATE_WASM_URL). */
export const REVALUE_WASM_URL = new URL(REVALUE_WASM_FILE, import.meta.url);

/**
 * Compiles the module from its bytes.
 * @throws Error when the runtime has no WebAssembly or rejects the module (no SIMD).
 */
export function compileRevalueWasm(bytes: Uint8Array): object {
  return compileWasm(bytes, 'revalue wasm');
}

/** The module's row functions (kernels/revalue.wat optionRows and optionCells: their parameters in order). */
type RowsFn = (...args: number[]) => void;

/** Most keys per tile (kernels/revalue.ts KEYS_MAX; more take revalueTile's per-cell path, not this one). */
const KEYS = 16;
/** The table of e^{−s²/2} at byte 0, then disc and vol (KEYS each), then the tile's columns. */
const DISC = align16(EXP_HALF_SQUARE.length * 8);
const VOL = DISC + KEYS * 8;
const COLUMNS = VOL + KEYS * 8;
/** How many values {@link WasmOptionCells.agrees} compares per function (even; they fit in the first page). */
const PROBES = 512;
/** Rows of at least this many scenarios are copied out by TypedArray.set, shorter ones element by element. */
const COPY_BY_SET = 256;

export class WasmOptionCells implements OptionCells {
  private readonly memory: WasmMemory;
  private readonly optionRows: RowsFn;
  private readonly optionCells: RowsFn;
  private readonly map: Record<'mapExp' | 'mapLog' | 'mapNormCdf', (p: number, n: number) => void>;
  private f64: Float64Array;
  disc: Float64Array;
  vol: Float64Array;
  /**
   * the tile's scenario count and first scenario; per underlying the byte addresses of its moves and keys (the
   * keyed path) or vol rules and parameters (the per-cell path); the scenarios' Δt (per-cell path)
   */
  private n = 0;
  private s0 = 0;
  private mv: number[] = [];
  private key: number[] = [];
  private rule: number[] = [];
  private param: number[] = [];
  private dt = 0;
  private usd = 0;
  private coin = 0;

  constructor(module: object) {
    const exports = instantiateWasm(module, 'revalue wasm');
    this.memory = exports.memory as WasmMemory;
    this.optionRows = exports.optionRows as RowsFn;
    this.optionCells = exports.optionCells as RowsFn;
    this.map = {
      mapExp: exports.mapExp as (p: number, n: number) => void,
      mapLog: exports.mapLog as (p: number, n: number) => void,
      mapNormCdf: exports.mapNormCdf as (p: number, n: number) => void,
    };
    growTo(this.memory, COLUMNS);
    [this.f64, this.disc, this.vol] = this.views();
    this.f64.set(EXP_HALF_SQUARE, 0);
  }

  /** Views of the memory as it is now (a grow detaches the old ones): all of it, disc and vol. */
  private views(): [Float64Array, Float64Array, Float64Array] {
    const f64 = new Float64Array(this.memory.buffer);
    return [f64, f64.subarray(DISC / 8, DISC / 8 + KEYS), f64.subarray(VOL / 8, VOL / 8 + KEYS)];
  }

  /**
   * Whether the module's exp, log and normCdf give this runtime's Math.exp, Math.log and normCdf's bits on
   * {@link PROBES} values across their branches. The module is fdlibm's as V8 had it when it was written (Node
   * 20); a runtime whose Math.exp or Math.log is another library's would make its cells differ from the
   * JavaScript loop's, and the caller then takes the loop (src/engine/hostRevalue.ts).
   */
  agrees(): boolean {
    const checks: Array<['mapExp' | 'mapLog' | 'mapNormCdf', (x: number) => number, (j: number) => number]> = [
      ['mapExp', Math.exp, (j) => -3.5 + j * 0.01379],
      ['mapLog', Math.log, (j) => Math.exp((j - PROBES / 2) * 0.05) * (1 + j * 1e-7)],
      ['mapNormCdf', normCdf, (j) => (j - PROBES / 2) * 0.31],
    ];
    for (const [fn, ref, value] of checks) {
      const xs = Float64Array.from({ length: PROBES }, (_, j) => value(j));
      const at = COLUMNS / 8;
      this.f64.set(xs, at);
      this.map[fn](COLUMNS, PROBES);
      for (let j = 0; j < PROBES; j++) if (!Object.is(this.f64[at + j], ref(xs[j]!))) return false;
    }
    return true;
  }

  begin(c: RevalueColumns, s0: number, s1: number, key: Int32Array | null): void {
    const U = c.underlyings;
    const n = s1 - s0;
    const pairs = n + (n & 1);
    // per underlying its moves (f64) and keys (i32) or vol rules (i64) and parameters (f64); the Δt (f64); the
    // two output rows
    let p = COLUMNS;
    const region = (bytes: number): number => {
      const at = p;
      p = align16(p + pairs * bytes);
      return at;
    };
    this.mv = [];
    this.key = [];
    this.rule = [];
    this.param = [];
    for (let u = 0; u < U; u++) {
      this.mv.push(region(8));
      if (key) this.key.push(region(4));
      else {
        this.rule.push(region(8));
        this.param.push(region(8));
      }
    }
    this.dt = key ? 0 : region(8);
    this.usd = region(8);
    this.coin = region(8);
    if (p > this.memory.buffer.byteLength) {
      growTo(this.memory, p);
      [this.f64, this.disc, this.vol] = this.views();
    }
    const f64 = this.f64;
    const i32 = new Int32Array(this.memory.buffer);
    // the second lane of an odd tile's last pair reads one past the end: a move of 0 at key 0 or rule 1 (σ),
    // Δt 0 (computed, never copied out)
    for (let u = 0; u < U; u++) {
      const m = this.mv[u]! / 8;
      for (let s = 0; s < n; s++) f64[m + s] = c.move[(s0 + s) * U + u]!;
      if (pairs > n) f64[m + n] = 0;
      if (key) {
        const q = this.key[u]! / 4;
        for (let s = 0; s < n; s++) i32[q + s] = key[s * U + u]! * 8; // a byte offset into disc and vol
        if (pairs > n) i32[q + n] = 0;
      } else {
        const r = this.rule[u]! / 4;
        const g = this.param[u]! / 8;
        for (let s = 0; s < n; s++) {
          i32[r + 2 * s] = c.volRule[(s0 + s) * U + u]!;
          i32[r + 2 * s + 1] = 0;
          f64[g + s] = c.volParam[(s0 + s) * U + u]!;
        }
        if (pairs > n) {
          i32[r + 2 * n] = 1;
          i32[r + 2 * n + 1] = 0;
          f64[g + n] = 0;
        }
      }
    }
    if (!key) {
      const d = this.dt / 8;
      for (let s = 0; s < n; s++) f64[d + s] = c.dtYears[s0 + s]!;
      if (pairs > n) f64[d + n] = 0;
    }
    this.n = n;
    this.s0 = s0;
  }

  rows(
    u: number,
    isCall: number,
    k: number,
    F: number,
    v0: number,
    out: Float64Array,
    usd: number,
    coin: number,
  ): void {
    const { n, usd: usdAt, coin: coinAt } = this;
    this.optionRows(isCall, k, F, v0, n, this.mv[u]!, this.key[u]!, DISC, VOL, usdAt, coinAt, +(coin >= 0));
    this.copyOut(out, usd, coin);
  }

  cells(...[u, isCall, k, F, v0, vol, out, usd, coin]: Parameters<OptionCells['cells']>): void {
    this.optionCells(
      isCall,
      k,
      F,
      v0,
      this.n,
      this.mv[u]!,
      this.rule[u]!,
      this.param[u]!,
      this.dt,
      vol.sigma,
      vol.t,
      vol.rate,
      vol.up,
      vol.down,
      this.usd,
      this.coin,
      +(coin >= 0),
    );
    this.copyOut(out, usd, coin);
  }

  /** the option's rows just computed, into out[usd + s0 …] and out[coin + s0 …] (coin < 0: none) */
  private copyOut(out: Float64Array, usd: number, coin: number): void {
    const n = this.n;
    const f64 = this.f64;
    const a = this.usd / 8;
    const b = this.coin / 8;
    const to = usd + this.s0;
    const toCoin = coin + this.s0;
    if (n >= COPY_BY_SET) {
      out.set(f64.subarray(a, a + n), to);
      if (coin >= 0) out.set(f64.subarray(b, b + n), toCoin);
      return;
    }
    // a short row (the distance search's refinements: 16 to 35 scenarios): two views and two set calls cost
    // more than the copy
    for (let s = 0; s < n; s++) out[to + s] = f64[a + s]!;
    if (coin >= 0) for (let s = 0; s < n; s++) out[toCoin + s] = f64[b + s]!;
  }
}
