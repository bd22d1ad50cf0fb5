/**
 * The SVI fit's inner problem in WebAssembly (kernels/svi.wat through kernels/sviWasm.ts) against its
 * reference, src/surface/svi.ts's JavaScript: the same bits in every solution (a, b, ρ) and error, on random
 * slices with and without the calendar repair's floors, at points where the active-set method does not converge
 * (both then enumerate: the same counts), with NaN and ±∞ in the quotes, and for the fit of the whole bundled
 * chain (the digest test/surface/surface.test.ts pins). The module is compiled here from the text source
 * (scripts/build-wasm.mjs compileWat), and the built dist/kernels/svi.wasm must be that module.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileSviWasm, SVI_WASM_FILE } from '../../kernels/sviWasm.js';
import { compileWat } from '../../scripts/build-wasm.mjs';
import { loadMarket } from '../../src/io/loadMarket.js';
import { fitSurface } from '../../src/surface/surface.js';
import {
  fitSvi,
  innerStats,
  solveInner,
  sviInnerKind,
  useSviWasm,
  type Floor,
  type SlicePoint,
} from '../../src/surface/svi.js';
import { mulberry32 } from '../helpers/mulberry32.js';

const watUrl = new URL('../../kernels/svi.wat', import.meta.url);
const builtUrl = new URL(`../../dist/kernels/${SVI_WASM_FILE}`, import.meta.url);

let bytes: Uint8Array;
let module: object;
beforeAll(async () => {
  bytes = await compileWat(readFileSync(watUrl, 'utf8'), 'svi.wat');
  module = compileSviWasm(bytes);
  // a thread's first fit solves a few problems of its own first (svi.ts warmRarePaths): done here, so that
  // the counts below are the compared runs' alone
  fitSvi(randomSlice(mulberry32(1), 5));
});
afterAll(() => useSviWasm(null));

/** Runs `f` with the JavaScript inner solver, then with the module: both results and the inner counts. */
function both<T>(f: () => T): { js: T; wasm: T; jsStats: typeof innerStats; wasmStats: typeof innerStats } {
  useSviWasm(null);
  const s0 = { ...innerStats };
  const js = f();
  const s1 = { ...innerStats };
  useSviWasm(module);
  const wasm = f();
  const s2 = { ...innerStats };
  useSviWasm(null);
  return {
    js,
    wasm,
    jsStats: { activeSet: s1.activeSet - s0.activeSet, enumerated: s1.enumerated - s0.enumerated },
    wasmStats: { activeSet: s2.activeSet - s1.activeSet, enumerated: s2.enumerated - s1.enumerated },
  };
}

/** Every number of `v` (nested), in order, as its bits (−0, NaN and ±∞ included). */
function bits(v: unknown): string {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x === 'number') out.push(Buffer.from(new Float64Array([x]).buffer).toString('hex'));
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') for (const k of Object.keys(x).sort()) walk((x as Record<string, unknown>)[k]);
    else out.push(String(x));
  };
  walk(v);
  return out.join(' ');
}

function randomSlice(rnd: () => number, n: number): SlicePoint[] {
  const points: SlicePoint[] = [];
  for (let i = 0; i < n; i++) {
    const x = -0.6 + 1.2 * rnd();
    points.push({ x, w: 0.002 + 0.3 * (rnd() - 0.3) * Math.abs(x) + 0.01 * rnd(), weight: 0.1 + rnd() });
  }
  return points;
}

/**
 * `trials` random inner problems (seeded): a random slice of 3 + [0, extraPoints) quotes, floors on every
 * `floorsEvery`-th (1 to maxFloors of them), m in [−0.8, 0.8], σ = 10^(log10Sigma[0] + log10Sigma[1]·u).
 */
function randomCases(
  seed: number,
  trials: number,
  o: { extraPoints: number; floorsEvery: number; maxFloors: number; log10Sigma: [number, number] },
): { points: SlicePoint[]; m: number; sigma: number; floors: Floor[] }[] {
  const rnd = mulberry32(seed);
  const cases: { points: SlicePoint[]; m: number; sigma: number; floors: Floor[] }[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const points = randomSlice(rnd, 3 + Math.floor(rnd() * o.extraPoints));
    const floors: Floor[] =
      trial % o.floorsEvery === 0
        ? Array.from({ length: 1 + Math.floor(rnd() * o.maxFloors) }, () => ({ x: -3 + 6 * rnd(), w: 0.5 * rnd() }))
        : [];
    cases.push({ points, m: -0.8 + 1.6 * rnd(), sigma: 10 ** (o.log10Sigma[0] + o.log10Sigma[1] * rnd()), floors });
  }
  return cases;
}

describe('the inner problem in WebAssembly is svi.ts’s JavaScript bit for bit', () => {
  test('the built module is the text source compiled', () => {
    expect(Buffer.from(readFileSync(builtUrl)).equals(Buffer.from(bytes))).toBe(true);
  });

  test('random slices and (m, σ), with and without floors: the same solutions and errors', () => {
    const cases = randomCases(21, 3000, { extraPoints: 40, floorsEvery: 3, maxFloors: 4, log10Sigma: [-4, 5] });
    const r = both(() => cases.map((c) => solveInner(c.points, c.m, c.sigma, c.floors)));
    expect(r.wasmStats).toEqual(r.jsStats);
    expect(r.jsStats.activeSet).toBeGreaterThan(2900);
    expect(bits(r.wasm)).toBe(bits(r.js));
  });

  test('where the active-set method does not converge both enumerate: the same counts and bits', () => {
    // (m, σ) far from the quotes (m outside them at a tiny σ, or a σ of several units): nearly collinear or
    // singular KKT systems, where the method gives up and the active sets are enumerated
    const rnd = mulberry32(5);
    const cases: { points: SlicePoint[]; m: number; sigma: number }[] = [];
    for (let trial = 0; trial < 600; trial++) {
      const points = Array.from({ length: 10 }, () => {
        const x = -0.5 + rnd();
        return { x, w: 0.01 + 0.05 * x * x, weight: 1 };
      });
      if (trial % 2 === 0) cases.push({ points, m: 5 + 5 * rnd(), sigma: 1e-4 });
      else cases.push({ points, m: 0, sigma: 5 + 5 * rnd() });
    }
    const r = both(() => cases.map((c) => solveInner(c.points, c.m, c.sigma)));
    expect(r.wasmStats).toEqual(r.jsStats);
    expect(r.jsStats.enumerated).toBeGreaterThan(300);
    expect(bits(r.wasm)).toBe(bits(r.js));
  });

  test('the enumeration asked for (every active set, in order), with and without floors: the same counts and bits', () => {
    const cases = randomCases(33, 400, { extraPoints: 20, floorsEvery: 2, maxFloors: 3, log10Sigma: [-3, 3] });
    const r = both(() => cases.map((c) => solveInner(c.points, c.m, c.sigma, c.floors, 'enumerate')));
    expect(r.wasmStats).toEqual(r.jsStats);
    expect(r.jsStats.enumerated).toBeGreaterThan(390);
    expect(bits(r.wasm)).toBe(bits(r.js));
  });

  test('NaN and ±∞ in the quotes: the same bits', () => {
    const base = randomSlice(mulberry32(9), 12);
    const cases = [
      base.map((p, i) => (i === 3 ? { ...p, w: NaN } : p)),
      base.map((p, i) => (i === 0 ? { ...p, weight: Infinity } : p)),
      base.map((p, i) => (i === 5 ? { ...p, x: -Infinity } : p)),
      base.map((p) => ({ ...p, w: -p.w })),
    ];
    const r = both(() => cases.map((points) => solveInner(points, 0.05, 0.2)));
    expect(r.wasmStats).toEqual(r.jsStats);
    expect(bits(r.wasm)).toBe(bits(r.js));
  });

  test('fits of random slices, with the calendar repair’s floors and starts: the same fits', () => {
    const rnd = mulberry32(33);
    const slices = Array.from({ length: 12 }, () => randomSlice(rnd, 8 + Math.floor(rnd() * 25)));
    const r = both(() =>
      slices.map((points, j) => {
        const fit = fitSvi(points);
        const floors = j % 2 === 0 ? [{ x: 0.1, w: fit.params.a + 0.01 }] : [];
        return [fit, fitSvi(points, { floors, start: fit.params, startsOnly: true })];
      }),
    );
    expect(r.wasmStats).toEqual(r.jsStats);
    expect(bits(r.wasm)).toBe(bits(r.js));
  });

  test('the fit of the bundled chain through the module is the pinned surface', async () => {
    const { market } = await loadMarket('data/full/market');
    useSviWasm(module);
    try {
      const surface = fitSurface(market);
      expect(sviInnerKind()).toBe('wasm');
      const digest = createHash('sha256').update(JSON.stringify(surface)).digest('hex');
      // test/surface/surface.test.ts pins the same digest for the JavaScript
      expect(digest).toBe('fe51c9d43aa3c2edf9cb4d2013e81e969a04278c58b52eb4bafd692a95bd4d5b');
    } finally {
      useSviWasm(null);
    }
  });
});
