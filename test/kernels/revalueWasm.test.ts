/**
 * The WebAssembly SIMD option cells (kernels/revalue.wat through kernels/revalueWasm.ts) against revalueTile's own
 * JavaScript loop (kernels/revalue.ts): the same bits in every cell of both rows, a NaN where the JavaScript has a
 * NaN (its sign and payload are the compiler's).
 * - Its Math.exp, Math.log and normCdf one by one against V8's and kernels/normal.ts's, on random values of every
 *   range (and random bit patterns: subnormals, ±∞, NaN) and the edges of each branch.
 * - Whole tiles of the real chain (data/full/market, 1,606 instruments) under every scenario family: deribit-pm
 *   and span (the keyed path), historical and monte-carlo (more keys than revalueTile keeps: the per-cell path).
 * - Tiles of the engine's fixture market under its 71 scenarios, cut at odd and even sizes and offsets, with and
 *   without coin rows; and random columns with every vol rule, T = 0 (the intrinsic value), zero and huge vols,
 *   deep in- and out-of-the-money strikes (both tails of the normal CDF) and NaN.
 * The module is compiled here from the text source (scripts/build-wasm.mjs compileWat), and the built
 * dist/kernels/revalue.wasm must be that module.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileWat } from '../../scripts/build-wasm.mjs';
import { EXP_HALF_SQUARE, normCdf } from '../../kernels/normal.js';
import { revalueTile, type RevalueColumns } from '../../kernels/revalue.js';
import { compileRevalueWasm, REVALUE_WASM_FILE, WasmOptionCells } from '../../kernels/revalueWasm.js';
import { revalueColumns } from '../../src/engine/revalueColumns.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadHistory } from '../../src/history/loadHistory.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { defaultParams } from '../../src/params/params.js';
import { KIND_OPTION } from '../../src/model/market.js';
import { VOL_DOWN, VOL_MULT, VOL_NONE, VOL_REL_DOWN, VOL_REL_UP, VOL_UP } from '../../src/scenarios/types.js';
import { VOL_DOWN_CODE, VOL_UP_CODE } from '../../kernels/revalue.js';
import { sampleMarket, sampleScenarios } from '../engine/sampleMarket.js';
import { Prng } from '../../src/generate/prng.js';

/** A seeded uniform [0, 1) source. */
const uniform = (seed: number) => {
  const p = new Prng(seed);
  return () => p.nextUniform();
};

const watUrl = new URL('../../kernels/revalue.wat', import.meta.url);
const builtUrl = new URL(`../../dist/kernels/${REVALUE_WASM_FILE}`, import.meta.url);
const root = new URL('../../', import.meta.url).pathname;

let bytes: Uint8Array;
let module: object;
let cells: WasmOptionCells;
beforeAll(async () => {
  bytes = await compileWat(readFileSync(watUrl, 'utf8'), 'revalue.wat');
  module = compileRevalueWasm(bytes);
  cells = new WasmOptionCells(module);
});

/** The first index where a and b differ (Object.is, any NaN equal to any NaN), or −1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return i;
  }
  return -1;
}

function expectSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const i = firstDifference(a, b);
  expect(i, `${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
}

/** revalueTile over [i0, i1) × [s0, s1) with and without the module's cells, into fresh copies of `c.out`. */
function bothForms(c: RevalueColumns, i0: number, i1: number, s0: number, s1: number, w = cells) {
  const js = { ...c, out: new Float64Array(c.out.length).fill(-7) };
  const wasm = { ...c, out: new Float64Array(c.out.length).fill(-7) };
  revalueTile(js, i0, i1, s0, s1);
  revalueTile(wasm, i0, i1, s0, s1, w);
  return { js: js.out, wasm: wasm.out };
}

describe('the module', () => {
  test('the built dist/kernels/revalue.wasm is the text source compiled', () => {
    expect(Buffer.from(readFileSync(builtUrl)).equals(Buffer.from(bytes))).toBe(true);
  });

  test('its vol rule codes are the scenario sets’', () => {
    expect([VOL_UP_CODE, VOL_DOWN_CODE]).toEqual([VOL_UP, VOL_DOWN]);
  });

  test('agrees with this runtime’s Math.exp, Math.log and normCdf; a module off by one ulp does not', async () => {
    expect(cells.agrees()).toBe(true);
    // exp's P1 one ulp up: 1.66666666666666019037e-01 is 0x3FC555555555553E, 1.66666666666666047e-01 is …553F
    const source = readFileSync(watUrl, 'utf8');
    const changed = source.replaceAll('1.66666666666666019037e-01', '1.66666666666666047e-01');
    expect(changed).not.toBe(source);
    const other = new WasmOptionCells(compileRevalueWasm(await compileWat(changed, 'changed.wat')));
    expect(other.agrees()).toBe(false);
  });
});

describe('Math.exp, Math.log and normCdf, value by value', () => {
  const N = 1 << 16;
  const P = 1 << 16; // byte address of the values (past the table, disc and vol)
  let map: (fn: 'mapExp' | 'mapLog' | 'mapNormCdf', xs: Float64Array) => Float64Array;
  beforeAll(() => {
    const exports = new WebAssembly.Instance(module as WebAssembly.Module, {}).exports as Record<string, unknown>;
    const memory = exports.memory as WebAssembly.Memory;
    memory.grow(Math.ceil((P + N * 8) / 65536));
    new Float64Array(memory.buffer).set(EXP_HALF_SQUARE, 0);
    map = (fn, xs) => {
      const view = new Float64Array(memory.buffer, P, xs.length);
      view.set(xs);
      (exports[fn] as (p: number, n: number) => void)(P, xs.length);
      return Float64Array.from(view);
    };
  });
  const rnd = uniform(20261203);
  const bits = () => {
    const b = new Uint32Array([Math.floor(rnd() * 2 ** 32), Math.floor(rnd() * 2 ** 32)]);
    return new Float64Array(b.buffer)[0]!;
  };
  const EDGES = [0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, 5e-324, -5e-324, 2.2250738585072014e-308];
  const values = (gens: Array<() => number>, extra: number[]) => {
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = i < extra.length ? extra[i]! : gens[i % gens.length]!();
    return xs;
  };
  test('Math.exp: k = 0, ±1 and beyond, tiny, overflow and underflow edges', () => {
    const LN2 = Math.LN2;
    const edges = [...EDGES, 0.5 * LN2, -0.5 * LN2, 1.5 * LN2, -1.5 * LN2, 2 ** -28, -(2 ** -28), 709.78, 709.79];
    edges.push(-745.13, -745.14, -708.39, -708.4, -720, 1e-300, 0.3465735902799726, 0.34657359027997264);
    const xs = values(
      [() => -rnd() * 0.4, () => (rnd() - 0.5) * 3, () => (rnd() - 0.5) * 1500, () => (rnd() - 0.5) * 1e-8, bits],
      edges,
    );
    expectSame(map('mapExp', xs), xs.map(Math.exp), 'exp');
  });
  test('Math.log: near 1 (f tiny), every mantissa range, subnormal, zero, negative, ∞', () => {
    const xs = values(
      [
        () => 0.5 + rnd(),
        () => 1 + (rnd() - 0.5) * 2e-6,
        () => Math.exp((rnd() - 0.5) * 1400),
        () => rnd() * 1e-310,
        bits,
      ],
      [...EDGES, 1 + 2 ** -52, 1 - 2 ** -53, 1.0000009536743164, 0.9999990463256836, Number.MAX_VALUE],
    );
    expectSame(map('mapLog', xs), xs.map(Math.log), 'log');
  });
  test('normCdf: the centre, both tails, beyond the table, NaN', () => {
    const xs = values(
      [() => (rnd() - 0.5) * 1.4, () => (rnd() - 0.5) * 12, () => (rnd() - 0.5) * 90, bits],
      [...EDGES, 0.67448975, -0.67448975, 5.656854249492380195, -5.656854249492381, 40, -40, 40.0625, -38.5],
    );
    expectSame(map('mapNormCdf', xs), xs.map(normCdf), 'normCdf');
  });
});

describe('whole tiles of the real chain', () => {
  const params = defaultParams();
  test.each(['deribit-pm', 'span', 'historical', 'monte-carlo'] as const)(
    '%s: every cell of both rows',
    async (family) => {
      const { market } = await loadMarket(`${root}data/full/market`);
      const history = await loadHistory(`${root}data/history`, market.underlyings);
      const set = buildScenarios(family, market, params, { history });
      const S = family === 'monte-carlo' ? 1001 : set.count; // an odd tile of the 10,000
      const c = revalueColumns(market, set, params, true);
      const { js, wasm } = bothForms(c, 0, c.instruments, 0, S);
      expectSame(wasm, js, family);
    },
    120_000,
  );
});

describe('tiles of the fixture market', () => {
  const market = sampleMarket();
  const scenarios = sampleScenarios();
  const params = defaultParams();
  test('cut at odd and even sizes and offsets, with and without coin rows, one instance throughout', () => {
    for (const coinRows of [true, false]) {
      const c = { ...revalueColumns(market, scenarios, params, true), coinRows };
      const S = c.scenarios;
      const I = c.instruments;
      for (const [i0, i1, s0, s1] of [
        [0, I, 0, S],
        [3, I - 2, 1, S],
        [0, I, 0, 1],
        [5, 9, 7, 8],
        [0, I, 2, S - 3],
        [1, I, 10, 45],
      ] as const) {
        const { js, wasm } = bothForms(c, i0, i1, s0, s1);
        expectSame(wasm, js, `coinRows ${coinRows} [${i0}, ${i1}) × [${s0}, ${s1})`);
      }
    }
  });
});

describe('random columns', () => {
  const rnd = uniform(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  /** I options and futures on U underlyings under S scenarios; `keys` distinct (rule, param, Δt) or one a cell */
  function columns(I: number, S: number, U: number, keys: number): RevalueColumns {
    const c: RevalueColumns = {
      instruments: I,
      scenarios: S,
      underlyings: U,
      kind: Uint8Array.from({ length: I }, () => (rnd() < 0.9 ? KIND_OPTION : 1)),
      isCall: Uint8Array.from({ length: I }, () => (rnd() < 0.5 ? 1 : 0)),
      underlying: Int32Array.from({ length: I }, () => Math.floor(rnd() * U)),
      k: Float64Array.from({ length: I }, () => pick([Math.exp((rnd() - 0.5) * 3), 1, 0.05, 20, 1 + 1e-9])),
      tYears: Float64Array.from({ length: I }, () => pick([rnd() * 2, 0, 1 / 365, 1e-9, rnd() * 0.1])),
      sigma: Float64Array.from({ length: I }, () => pick([0.2 + rnd(), 0, 5, 0.01, NaN, rnd() * 0.3])),
      rate: Float64Array.from({ length: I }, () => pick([0, 0.05 * rnd(), -0.01])),
      forward: Float64Array.from({ length: I }, () => 100 + rnd() * 90_000),
      v0: Float64Array.from({ length: I }, () => rnd() * 0.3),
      volRangeUp: Float64Array.from({ length: I }, () => 0.5 + rnd()),
      move: Float64Array.from({ length: S * U }, () =>
        pick([(rnd() - 0.5) * 0.6, 0, -0.99, 3, (rnd() - 0.5) * 0.02, -1, -1.5]),
      ),
      deltaOneMove: Float64Array.from({ length: S * U }, () => (rnd() - 0.5) * 0.4),
      volRule: new Uint8Array(S * U),
      volParam: new Float64Array(S * U),
      dtYears: new Float64Array(S),
      volRangeDown: 0.3,
      minVolForShockUp: 0.4,
      shortTermVegaPower: 0.3,
      longTermVegaPower: 0.13,
      out: new Float64Array((2 * I + U) * S),
    };
    const rules = [VOL_UP, VOL_NONE, VOL_DOWN, VOL_REL_UP, VOL_REL_DOWN, VOL_MULT, 6];
    const table = Array.from({ length: keys }, () => ({
      rule: pick(rules),
      param: pick([rnd() * 2, 0.5, 1.5, 2, NaN, -0.5]),
      dt: pick([0, 1 / 365, rnd() * 0.05, 5]),
    }));
    for (let s = 0; s < S; s++) {
      const dt = keys > 0 ? pick(table).dt : pick([0, 1 / 365, rnd() * 0.05, 5]);
      c.dtYears[s] = dt;
      for (let u = 0; u < U; u++) {
        const key = keys > 0 ? pick(table.filter((t) => t.dt === dt)) : undefined;
        c.volRule[s * U + u] = key ? key.rule : pick(rules);
        c.volParam[s * U + u] = key ? key.param : pick([rnd() * 2, 0.3, NaN, -1, 1e-9]);
      }
    }
    return c;
  }
  test.each([
    ['keyed, 3 keys, 2 underlyings', 3],
    ['keyed, 16 keys (revalueTile keeps at most 16)', 16],
    ['per cell (one key a cell)', 0],
  ] as const)('%s: 300 instruments × 257 scenarios, and sub-tiles', (_name, keys) => {
    const c = columns(300, 257, 2, keys);
    for (const [s0, s1] of [
      [0, 257],
      [1, 256],
      [100, 101],
    ] as const) {
      const { js, wasm } = bothForms(c, 0, 300, s0, s1);
      expectSame(wasm, js, `keys ${keys} [${s0}, ${s1})`);
    }
  });
  test('a fresh instance growing its memory between tiles: a small keyed tile, then tiles past its first page', () => {
    const fresh = new WasmOptionCells(module);
    const small = columns(20, 35, 2, 3);
    const large = columns(40, 6001, 2, 3);
    const perCell = columns(40, 4001, 3, 0);
    for (const [c, S] of [
      [small, 35],
      [large, 6001],
      [small, 35],
      [perCell, 4001],
      [large, 6001],
    ] as const) {
      const { js, wasm } = bothForms(c, 0, c.instruments, 0, S, fresh);
      expectSame(wasm, js, `${c.instruments} × ${S}`);
    }
  });

  test('a second instance gives the same cells (nothing kept between instances)', () => {
    const c = columns(50, 33, 3, 0);
    const other = new WasmOptionCells(module);
    const a = bothForms(c, 0, 50, 0, 33, other);
    const b = bothForms(c, 0, 50, 0, 33);
    expectSame(a.wasm, b.wasm, 'instances');
    expectSame(a.wasm, a.js, 'against the loop');
  });
});
