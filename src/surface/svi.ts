/**
 * Raw SVI slices (docs/methodology.md §11): the quasi-explicit fit (§11a), Gatheral & Jacquier's g-function
 * and butterfly check, the SVI-JW parametrisation and its repair, the calendar check and its repair, and
 * total-variance interpolation across expiries (§11b). Pure float64 functions of numbers; no I/O (the fit's
 * inner problem runs in a WebAssembly module where the caller installed one: {@link useSviWasm}, sviWasmLoad.ts).
 *
 * Notation: x = ln(K/F_T) the log-moneyness, w(x) = σ_imp²·T the total implied variance,
 *   w(x) = a + b·(ρ·(x − m) + √((x − m)² + σ²)).
 */
import { sviTotalVariance } from '../../kernels/svi.js';
import { WasmSviInner } from '../../kernels/sviWasm.js';

export interface SviParams {
  a: number;
  b: number;
  rho: number;
  m: number;
  sigma: number;
}

/** SVI-JW parameters of a slice at expiry t (Gatheral & Jacquier 2014, §3.3). */
export interface SviJw {
  /** ATM variance w(0)/t */
  v: number;
  /** ATM skew */
  psi: number;
  /** slope of the left (put) wing */
  p: number;
  /** slope of the right (call) wing */
  c: number;
  /** minimum variance min w / t */
  vTilde: number;
}

/** One quote of a slice: log-moneyness, total variance, weight (> 0). */
export interface SlicePoint {
  x: number;
  w: number;
  weight: number;
}

/** The grid every arbitrage check runs on: x = −3 … 3 in steps of 0.01 (601 points). */
export const CHECK_GRID_HALF_WIDTH = 3;
export const CHECK_GRID_STEP = 0.01;
/** g below −G_TOLERANCE is a butterfly violation (g ≈ 0 at a fit on a constraint is not). */
export const G_TOLERANCE = 1e-9;
/** w(x, T₁) − w(x, T₂) above this is a calendar violation. */
export const CALENDAR_TOLERANCE = 1e-10;

const CHECK_GRID = (() => {
  const n = Math.round((2 * CHECK_GRID_HALF_WIDTH) / CHECK_GRID_STEP) + 1;
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) g[i] = -CHECK_GRID_HALF_WIDTH + i * CHECK_GRID_STEP;
  return g;
})();

/** The check grid (one shared array: read it, do not write it). */
export function checkGrid(): Float64Array {
  return CHECK_GRID;
}

/**
 * A copy of `p` (with `a` replaced when given), made as the fit makes its parameters, field by field in one
 * order: V8 gives an object made by spreading ({ ...p }) another shape, and code optimised for one shape is
 * thrown away on meeting the other (sviW and the checks were optimised again and again in every cold fit).
 */
export function copySvi(p: SviParams, a = p.a): SviParams {
  return { a, b: p.b, rho: p.rho, m: p.m, sigma: p.sigma };
}

export function sviW(p: SviParams, x: number): number {
  return sviTotalVariance(p.a, p.b, p.rho, p.m, p.sigma, x);
}

/** w'(x) = b·(ρ + (x − m)/√((x − m)² + σ²)). */
export function sviW1(p: SviParams, x: number): number {
  const d = x - p.m;
  return p.b * (p.rho + d / Math.sqrt(d * d + p.sigma * p.sigma));
}

/** w''(x) = b·σ²/((x − m)² + σ²)^{3/2}. */
export function sviW2(p: SviParams, x: number): number {
  const d = x - p.m;
  const r = d * d + p.sigma * p.sigma;
  return (p.b * p.sigma * p.sigma) / (r * Math.sqrt(r));
}

/**
 * Gatheral & Jacquier's g (2014, Lemma 2.2): g(x) = (1 − x·w'/(2w))² − (w'²/4)(1/w + 1/4) + w''/2. A slice
 * is free of butterfly arbitrage where g ≥ 0 (and w > 0). −∞ where w ≤ 0.
 */
export function gFunction(p: SviParams, x: number): number {
  const w = sviW(p, x);
  if (!(w > 0)) return -Infinity;
  const w1 = sviW1(p, x);
  const w2 = sviW2(p, x);
  const t = 1 - (x * w1) / (2 * w);
  return t * t - ((w1 * w1) / 4) * (1 / w + 1 / 4) + w2 / 2;
}

/** The minimum of g over |x| ≤ 3: the grid's, refined by golden-section search between its neighbours. */
export function gMinimum(p: SviParams): { g: number; x: number } {
  const grid = checkGrid();
  let best = 0;
  let bestG = Infinity;
  for (let i = 0; i < grid.length; i++) {
    const g = gFunction(p, grid[i]!);
    if (g < bestG) {
      bestG = g;
      best = i;
    }
  }
  if (!Number.isFinite(bestG)) return { g: bestG, x: grid[best]! };
  let lo = grid[Math.max(best - 1, 0)]!;
  let hi = grid[Math.min(best + 1, grid.length - 1)]!;
  const r = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - r * (hi - lo);
  let x2 = lo + r * (hi - lo);
  let f1 = gFunction(p, x1);
  let f2 = gFunction(p, x2);
  for (let it = 0; it < 100 && hi - lo > 1e-12; it++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - r * (hi - lo);
      f1 = gFunction(p, x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + r * (hi - lo);
      f2 = gFunction(p, x2);
    }
  }
  const xm = (lo + hi) / 2;
  const gm = gFunction(p, xm);
  return gm < bestG ? { g: gm, x: xm } : { g: bestG, x: grid[best]! };
}

/** True when g ≥ −G_TOLERANCE (and w > 0) on the whole check grid. */
export function butterflyFree(p: SviParams): boolean {
  return gMinimum(p).g >= -G_TOLERANCE;
}

/** Raw SVI → SVI-JW at expiry t (Gatheral & Jacquier 2014, eq. 3.5). */
export function rawToJw(p: SviParams, t: number): SviJw {
  const { a, b, rho, m, sigma } = p;
  const root = Math.sqrt(m * m + sigma * sigma);
  const w = a + b * (-rho * m + root);
  const sw = Math.sqrt(w);
  return {
    v: w / t,
    psi: (b / (2 * sw)) * (-m / root + rho),
    p: (b * (1 - rho)) / sw,
    c: (b * (1 + rho)) / sw,
    vTilde: (a + b * sigma * Math.sqrt(1 - rho * rho)) / t,
  };
}

/** SVI-JW → raw SVI at expiry t (Gatheral & Jacquier 2014, Lemma 3.2). */
export function jwToRaw(j: SviJw, t: number): SviParams {
  const w = j.v * t;
  const sw = Math.sqrt(w);
  const b = (sw / 2) * (j.c + j.p);
  const rho = 1 - (j.p * sw) / b;
  const beta = rho - (2 * j.psi * sw) / b;
  if (Math.abs(beta) >= 1) {
    throw new Error(`SVI-JW parameters give |β| = ${Math.abs(beta)} ≥ 1: no raw SVI slice`);
  }
  const sign = (x: number): number => (x < 0 ? -1 : 1);
  const alpha = sign(beta) * Math.sqrt(1 / (beta * beta) - 1);
  const m =
    ((j.v - j.vTilde) * t) /
    (b * (-rho + sign(alpha) * Math.sqrt(1 + alpha * alpha) - alpha * Math.sqrt(1 - rho * rho)));
  // m = 0 (β = 0: the minimum at the money): σ from the ATM variance instead of α·m
  const sigma = m === 0 ? (w - j.vTilde * t) / b / (1 - Math.sqrt(1 - rho * rho)) : alpha * m;
  const a = j.vTilde * t - b * sigma * Math.sqrt(1 - rho * rho);
  return { a, b, rho, m, sigma };
}

/**
 * Gatheral & Jacquier's butterfly repair (2014, §5.2): keep the ATM variance v, skew ψ and put wing p, and
 * replace the call wing and the minimum variance by c' = p + 2ψ, ṽ' = v·4pc'/(p + c')². The result is free
 * of butterfly arbitrage (their example; checked again by the caller). Returns null when c' ≤ 0 (no
 * repaired slice of this form).
 */
export function repairButterfly(p: SviParams, t: number): { params: SviParams; jw: SviJw } | null {
  const jw = rawToJw(p, t);
  const c = jw.p + 2 * jw.psi;
  if (!(c > 0) || !(jw.p > 0)) return null;
  const repaired: SviJw = {
    v: jw.v,
    psi: jw.psi,
    p: jw.p,
    c,
    vTilde: (jw.v * 4 * jw.p * c) / ((jw.p + c) * (jw.p + c)),
  };
  try {
    return { params: jwToRaw(repaired, t), jw: repaired };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// the quasi-explicit fit (Zeliade 2009)
// ---------------------------------------------------------------------------------------------------------
//
// For fixed (m, σ), with y = (x − m)/σ: w = a + d·y + c·√(y² + 1), c = bσ, d = ρbσ — linear in (a, d, c).
// The constraints of §11a in (a, d, c), ρ = d/c:
//   |ρ| ≤ 1            c − d ≥ 0,  c + d ≥ 0        (so b ≥ 0)
//   b(1 + |ρ|) ≤ 2     2σ − c − d ≥ 0,  2σ − c + d ≥ 0   (Lee's wing bound)
//   min w ≥ 0          a + c·√(1 − ρ²) ≥ 0
// The last is concave in ρ; engine convention: it is replaced by a + c·h(ρ) ≥ 0, h the piecewise-linear
// interpolant of √(1 − ρ²) at RHO_NODES (h ≤ √(1 − ρ²), so the condition is sufficient), one linear
// constraint a + α_i·c + β_i·d ≥ 0 per chord. With the nodes −1, 0, 1 this is a + c − |d| ≥ 0: measured on
// the bundled chain, finer nodes (0, ±0.25, ±0.5, ±0.75, ±0.9, ±1) let 3 of 26 slices fit below the
// butterfly bound (g < 0, where the repair then cost up to 15 vol points), the coarse ones none. The
// convex quadratic problem in (a, d, c) is solved by a primal active-set method ({@link activeSetQp}), or,
// when that fails on degenerate data, by enumerating the active sets of at most three constraints. The
// calendar repair adds floors w(x) ≥ w at chosen points, linear in (a, d, c) too.

const RHO_NODES = [-1, 0, 1];

const CONSTRAINTS: readonly (readonly [number, number, number, number])[] = [
  // [ca, cd, cc, sigmaCoefficient]: ca·a + cd·d + cc·c + sigmaCoefficient·2σ ≥ 0
  [0, -1, 1, 0],
  [0, 1, 1, 0],
  [0, -1, -1, 1],
  [0, 1, -1, 1],
  ...RHO_NODES.slice(1).map((r2, i): [number, number, number, number] => {
    const r1 = RHO_NODES[i]!;
    const h1 = Math.sqrt(1 - r1 * r1);
    const h2 = Math.sqrt(1 - r2 * r2);
    const beta = (h2 - h1) / (r2 - r1);
    return [1, beta, h1 - beta * r1, 0];
  }),
];

/**
 * Every subset of at most three of n constraints (the active sets the inner problem tries), cached per n. Int32Arrays,
 * as the active-set method's working set is: kktStep then reads one kind of `set` (with two, its optimised code is
 * thrown away on meeting the second).
 */
const activeSetCache = new Map<number, Int32Array[]>();
function activeSets(n: number): Int32Array[] {
  let sets = activeSetCache.get(n);
  if (sets) return sets;
  sets = [new Int32Array(0)];
  for (let i = 0; i < n; i++) {
    sets.push(Int32Array.of(i));
    for (let j = i + 1; j < n; j++) {
      sets.push(Int32Array.of(i, j));
      for (let k = j + 1; k < n; k++) sets.push(Int32Array.of(i, j, k));
    }
  }
  activeSetCache.set(n, sets);
  return sets;
}

/** A floor w(x) ≥ w on the fitted slice (the calendar repair's constraints). */
export interface Floor {
  x: number;
  w: number;
}

/**
 * No floors, as an array of the kind the calendar repair's floors are (elements that are objects), where `[]`
 * would be an array of small integers: the inner problem's code, optimised on one kind, is thrown away on
 * meeting the other. Never written.
 */
const NO_FLOORS: readonly Floor[] = (() => {
  const a: Floor[] = [{ x: 0.5, w: 0.5 }];
  a.pop();
  return a;
})();

// The inner problem runs ~70,000 times per fit of the bundled chain (every run fits the surface for its
// vol_surface table): its arithmetic works on the fixed-size scratch arrays below, not on fresh arrays,
// in the same order of operations as the textbook form (the fitted bits are unchanged by this layout).

/** Largest KKT system: (a, d, c) and at most three active constraints. */
const KKT_MAX = 6;
/** Scratch of the inner problem (the fit runs on one thread and is not re-entrant). */
const kktA = new Float64Array(KKT_MAX * KKT_MAX);
const kktB = new Float64Array(KKT_MAX);
/** The last KKT solution: the step (or point) in 0..2, the multipliers μ after it. */
const kktX = new Float64Array(KKT_MAX);

/**
 * The record of the last {@link factor}: the row it swapped in at each column and the multiplier of each row
 * below (luF[col·KKT_MAX + r], r > col, by the rows' positions at that column), which {@link solveFactored}
 * applies to a right-hand side.
 */
const luPivot = new Int32Array(KKT_MAX);
const luF = new Float64Array(KKT_MAX * KKT_MAX);

/**
 * Gaussian elimination with partial pivoting of A (n × n, row-major with stride KKT_MAX), in place: A becomes its
 * upper triangle (the entries below the diagonal are left stale: no later step reads them), the swaps and
 * multipliers go to luPivot and luF; false when singular. A right-hand side takes no part in the elimination, so
 * eliminating A once and b afterwards ({@link solveFactored}) does on b exactly the operations, in the same order,
 * that eliminating them together would.
 */
function factor(A: Float64Array, n: number): boolean {
  const S = KKT_MAX;
  for (let col = 0; col < n; col++) {
    const co = col * S;
    let piv = col;
    let big = Math.abs(A[co + col]!);
    for (let r = col + 1; r < n; r++) {
      const v = Math.abs(A[r * S + col]!);
      if (v > big) {
        big = v;
        piv = r;
      }
    }
    luPivot[col] = piv;
    if (big < 1e-14) return false;
    if (piv !== col) {
      // columns left of col are no longer read
      const po = piv * S;
      for (let c = col; c < n; c++) {
        const t = A[po + c]!;
        A[po + c] = A[co + c]!;
        A[co + c] = t;
      }
    }
    const pv = A[co + col]!;
    for (let r = col + 1; r < n; r++) {
      const ro = r * S;
      const f = A[ro + col]! / pv;
      luF[co + r] = f;
      if (f === 0) continue;
      // A[r][col] becomes ~0 and is not read again
      for (let c = col + 1; c < n; c++) A[ro + c] = A[ro + c]! - f * A[co + c]!;
    }
  }
  return true;
}

/**
 * Solves A x = b into `x`, overwriting b, where A is the matrix of the last successful {@link factor} call (now
 * its upper triangle): its row swaps and multipliers applied to b, then back substitution.
 */
function solveFactored(A: Float64Array, b: Float64Array, n: number, x: Float64Array): void {
  const S = KKT_MAX;
  for (let col = 0; col < n; col++) {
    const piv = luPivot[col]!;
    if (piv !== col) {
      const t = b[piv]!;
      b[piv] = b[col]!;
      b[col] = t;
    }
    const co = col * S;
    const bc = b[col]!;
    for (let r = col + 1; r < n; r++) {
      const f = luF[co + r]!;
      if (f === 0) continue;
      b[r] = b[r]! - f * bc;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    const ro = r * S;
    let s = b[r]!;
    for (let c = r + 1; c < n; c++) s -= A[ro + c]! * x[c]!;
    x[r] = s / A[ro + r]!;
  }
}

/** The weighted moments of the inner problem for fixed (m, σ): H (3 × 3, row-major), g, and Σ weight·w². */
interface Moments {
  H: Float64Array;
  g: Float64Array;
  ww: number;
}

const momentH = new Float64Array(9);
const momentG = new Float64Array(3);
/** y = (x − m)/σ and z = √(y² + 1) of each point at the last moments() call (the error's loop reads them). */
let pointY = new Float64Array(64);
let pointZ = new Float64Array(64);

/** The moments into the scratch momentH and momentG (valid until the next call), and y, z into pointY/Z. */
function moments(points: readonly SlicePoint[], m: number, sigma: number): Moments {
  if (pointY.length < points.length) {
    pointY = new Float64Array(points.length);
    pointZ = new Float64Array(points.length);
  }
  let h00 = 0,
    h01 = 0,
    h02 = 0,
    h10 = 0,
    h11 = 0,
    h12 = 0,
    h20 = 0,
    h21 = 0,
    h22 = 0;
  let g0 = 0,
    g1 = 0,
    g2 = 0;
  let ww = 0;
  for (let i = 0; i < points.length; i++) {
    const pt = points[i]!;
    const y = (pt.x - m) / sigma;
    const z = Math.sqrt(y * y + 1);
    pointY[i] = y;
    pointZ[i] = z;
    const wt = pt.weight;
    const wtw = wt * pt.w;
    // v = (1, y, z); each term as weight·v_i·v_j, left to right
    g0 = g0 + wtw * 1;
    g1 = g1 + wtw * y;
    g2 = g2 + wtw * z;
    h00 = h00 + wt * 1 * 1;
    h01 = h01 + wt * 1 * y;
    h02 = h02 + wt * 1 * z;
    h10 = h10 + wt * y * 1;
    h11 = h11 + wt * y * y;
    h12 = h12 + wt * y * z;
    h20 = h20 + wt * z * 1;
    h21 = h21 + wt * z * y;
    h22 = h22 + wt * z * z;
    ww += wtw * pt.w;
  }
  const H = momentH;
  H[0] = h00;
  H[1] = h01;
  H[2] = h02;
  H[3] = h10;
  H[4] = h11;
  H[5] = h12;
  H[6] = h20;
  H[7] = h21;
  H[8] = h22;
  const g = momentG;
  g[0] = g0;
  g[1] = g1;
  g[2] = g2;
  return { H, g, ww };
}

/**
 * How often each method solved the inner problem: [1] the active-set method, [2] the enumeration (one typed array
 * indexed by the method, so that the fit's optimised code takes either without a deopt).
 */
const innerCounts = new Float64Array(3);
/** How often each method solved the inner problem (tests check that the active-set method carries it). */
export const innerStats = {
  get activeSet(): number {
    return innerCounts[1]!;
  },
  get enumerated(): number {
    return innerCounts[2]!;
  },
};

/**
 * The problem's constraint rows for fixed (m, σ), four numbers a row [ca, cd, cc, rhs]:
 * ca·a + cd·d + cc·c ≥ rhs.
 */
function constraintRows(m: number, sigma: number, floors: readonly Floor[]): Float64Array {
  const size = (CONSTRAINTS.length + floors.length) * 4;
  if (consScratch.length < size) consScratch = new Float64Array(size);
  const cons = consScratch.subarray(0, size);
  let o = 0;
  for (const c of CONSTRAINTS) {
    cons[o++] = c[0];
    cons[o++] = c[1];
    cons[o++] = c[2];
    cons[o++] = -c[3] * 2 * sigma;
  }
  for (const f of floors) {
    const y = (f.x - m) / sigma;
    cons[o++] = 1;
    cons[o++] = y;
    cons[o++] = Math.sqrt(y * y + 1);
    cons[o++] = f.w;
  }
  return cons;
}

/** Scratch of constraintRows, grown to the largest set of floors seen. */
let consScratch = new Float64Array(64);

/** Row i's slack at (x0, x1, x2). */
function slack(cons: Float64Array, i: number, x0: number, x1: number, x2: number): number {
  const o = i * 4;
  return cons[o]! * x0 + cons[o + 1]! * x1 + cons[o + 2]! * x2 - cons[o + 3]!;
}

/**
 * Solves the equality-constrained problem on the rows `set` (its first `k`) from x into kktX: the step p
 * from x, then the multipliers μ; false when singular. `sameMatrix`: H, the rows and `set` are those of the
 * last successful call, so only the right-hand side is new and the last elimination ({@link factor}) is reused
 * (the same bits as eliminating again).
 */
function kktStep(
  H: Float64Array,
  g: Float64Array,
  cons: Float64Array,
  set: Int32Array,
  k: number,
  x0: number,
  x1: number,
  x2: number,
  sameMatrix = false,
): boolean {
  const n = 3 + k;
  const S = KKT_MAX;
  for (let i = 0; i < 3; i++) {
    const hi0 = H[i * 3]!;
    const hi1 = H[i * 3 + 1]!;
    const hi2 = H[i * 3 + 2]!;
    if (!sameMatrix) {
      kktA[i * S] = hi0;
      kktA[i * S + 1] = hi1;
      kktA[i * S + 2] = hi2;
      for (let q = 0; q < k; q++) kktA[i * S + 3 + q] = cons[set[q]! * 4 + i]!;
    }
    kktB[i] = g[i]! - (hi0 * x0 + hi1 * x1 + hi2 * x2);
  }
  for (let q = 0; q < k; q++) {
    const o = set[q]! * 4;
    if (!sameMatrix) {
      const r = (3 + q) * S;
      kktA[r] = cons[o]!;
      kktA[r + 1] = cons[o + 1]!;
      kktA[r + 2] = cons[o + 2]!;
      for (let c = 3; c < n; c++) kktA[r + c] = 0;
    }
    kktB[3 + q] = cons[o + 3]! - (cons[o]! * x0 + cons[o + 1]! * x1 + cons[o + 2]! * x2);
  }
  if (!sameMatrix && !factor(kktA, n)) return false;
  solveFactored(kktA, kktB, n, kktX);
  return true;
}

/** The working set of activeSetQp (at most three rows). */
const qpWorking = new Int32Array(3);
/** The solution (a, d, c) of activeSetQp's last successful call. */
const qpX = new Float64Array(3);

/**
 * The primal active-set method (Nocedal & Wright, Algorithm 16.3) from the feasible point a = A large,
 * d = c = 0 (every constraint holds there), its solution into qpX. False when it does not converge
 * (degenerate data): the caller then enumerates active sets.
 */
function activeSetQp(H: Float64Array, g: Float64Array, cons: Float64Array, aStart: number): boolean {
  const nc = cons.length / 4;
  let x0 = aStart;
  let x1 = 0;
  let x2 = 0;
  const tol = 1e-12 * Math.max(1, Math.abs(aStart));
  const W = qpWorking;
  let wn = 0;
  for (let i = 0; i < nc; i++) if (Math.abs(slack(cons, i, x0, x1, x2)) <= tol && wn < 2) W[wn++] = i;
  // whether the working set is the one of the last KKT solve (its elimination is then reused)
  let sameSet = false;
  for (let it = 0; it < 200; it++) {
    if (!kktStep(H, g, cons, W, wn, x0, x1, x2, sameSet)) return false;
    sameSet = true;
    // the step from x: the solution of the shifted system is the full step p
    const p0 = kktX[0]!;
    const p1 = kktX[1]!;
    const p2 = kktX[2]!;
    const size = Math.abs(p0) + Math.abs(p1) + Math.abs(p2);
    if (size <= 1e-12 * (1 + Math.abs(x0) + Math.abs(x1) + Math.abs(x2))) {
      // multipliers λ = −μ; all ≥ 0: optimal; else drop the most negative
      let worst = -1;
      let worstMu = 1e-14;
      for (let q = 0; q < wn; q++) {
        if (kktX[3 + q]! > worstMu) {
          worstMu = kktX[3 + q]!;
          worst = q;
        }
      }
      if (worst < 0) {
        qpX[0] = x0;
        qpX[1] = x1;
        qpX[2] = x2;
        return true;
      }
      for (let q = worst; q < wn - 1; q++) W[q] = W[q + 1]!;
      wn--;
      sameSet = false;
      continue;
    }
    let alpha = 1;
    let blocking = -1;
    for (let i = 0; i < nc; i++) {
      let active = false;
      for (let q = 0; q < wn; q++) if (W[q] === i) active = true;
      if (active) continue;
      const o = i * 4;
      const cp = cons[o]! * p0 + cons[o + 1]! * p1 + cons[o + 2]! * p2;
      if (cp < -1e-300) {
        const step = Math.max(slack(cons, i, x0, x1, x2), 0) / -cp;
        if (step < alpha) {
          alpha = step;
          blocking = i;
        }
      }
    }
    x0 = x0 + alpha * p0;
    x1 = x1 + alpha * p1;
    x2 = x2 + alpha * p2;
    if (blocking >= 0) {
      if (wn >= 3) return false;
      W[wn++] = blocking;
      sameSet = false;
    }
  }
  return false;
}

/** The exhaustive solution: every active set of at most three rows, the best feasible KKT point. */
function enumerateQp(H: Float64Array, g: Float64Array, cons: Float64Array, ww: number, sigma: number): number[] | null {
  const nc = cons.length / 4;
  let best: number[] | null = null;
  let bestSse = Infinity;
  for (const set of activeSets(nc)) {
    const n = 3 + set.length;
    if (!kktStep(H, g, cons, set, set.length, 0, 0, 0)) continue;
    const x = [kktX[0]!, kktX[1]!, kktX[2]!];
    let feasible = true;
    const scale = Math.max(1e-12, Math.abs(x[0]!) + Math.abs(x[1]!) + Math.abs(x[2]!) + sigma) * 1e-12;
    for (let i = 0; i < nc; i++) {
      if (slack(cons, i, x[0]!, x[1]!, x[2]!) < -scale) {
        feasible = false;
        break;
      }
    }
    if (!feasible) continue;
    let quad = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) quad += x[i]! * H[i * 3 + j]! * x[j]!;
    const sse = Math.max(quad - 2 * (g[0]! * x[0]! + g[1]! * x[1]! + g[2]! * x[2]!) + ww, 0);
    if (sse < bestSse) {
      bestSse = sse;
      best = x;
    }
    // KKT: a feasible point whose multipliers λ = −μ are all ≥ 0 is the optimum of the convex problem
    let kkt = true;
    for (let q = 3; q < n; q++) if (kktX[q]! > 1e-13) kkt = false;
    if (kkt) {
      best = x;
      break;
    }
  }
  return best;
}

/**
 * The inner problem of the quasi-explicit method: for fixed (m, σ), the (a, b, ρ) minimising the weighted
 * squared error in total variance under the constraints above (and `floors`), and that error. Solved by
 * {@link activeSetQp}, or by enumeration when that does not converge (`method: 'enumerate'` forces it).
 * Null when neither gives a solution (degenerate data).
 */
export function solveInner(
  points: readonly SlicePoint[],
  m: number,
  sigma: number,
  floors: readonly Floor[] = NO_FLOORS,
  method: 'active-set' | 'enumerate' = 'active-set',
): { params: SviParams; sse: number } | null {
  const sse = innerError(points, m, sigma, floors, startA(points, floors), method);
  if (sse < 0) return null;
  const a = innerX[0]!;
  const d = innerX[1]!;
  const c = innerX[2]!;
  const b = Math.max(c, 0) / sigma;
  const rho = c > 0 ? Math.max(-1, Math.min(1, d / c)) : 0;
  return { params: { a, b, rho, m, sigma }, sse };
}

/** The active-set method's starting a: above twice every total variance the problem holds. */
function startA(points: readonly SlicePoint[], floors: readonly Floor[]): number {
  let aStart = 1;
  for (const pt of points) aStart = Math.max(aStart, 2 * Math.abs(pt.w) + 1);
  for (const f of floors) aStart = Math.max(aStart, 2 * Math.abs(f.w) + 1);
  return aStart;
}

/** The (a, d, c) of innerError's last solution. */
const innerX = new Float64Array(3);

/**
 * This thread's compiled inner problem (kernels/svi.wat through kernels/sviWasm.ts), null where none was installed
 * (useSviWasm; on Node sviWasmLoad.ts installs the built one before a fit) and the JavaScript above solves. Both
 * give the same bits (test/kernels/sviWasm.test.ts); measured on the bundled chain, a fit of every slice took
 * ~115 ms warm and ~175 ms cold in JavaScript, ~80 and ~130 with the module.
 */
let wasmInner: WasmSviInner | null = null;

/** The static constraint rows as the module reads them: (ca, cd, cc, k), the right-hand side k·σ. */
function staticRows(): Float64Array {
  // k as constraintRows multiplies σ by it: (−c₃·2)·σ
  return Float64Array.from(CONSTRAINTS.flatMap((c) => [c[0], c[1], c[2], -c[3] * 2]));
}

/**
 * Makes `module` (compiled from kernels/svi.wat: compileSviWasm) this thread's inner solver, or, null, the
 * JavaScript.
 */
export function useSviWasm(module: object | null): void {
  wasmInner = module === null ? null : new WasmSviInner(module, staticRows());
}

/** Which form solves the inner problem on this thread: 'wasm' or 'js'. */
export function sviInnerKind(): 'wasm' | 'js' {
  return wasmInner === null ? 'js' : 'wasm';
}

/**
 * The inner problem's weighted squared error at (m, σ), its solution (a, d, c) into innerX; −1 when there
 * is none. What {@link solveInner} computes, without its result objects: the fit's search calls this
 * ~70,000 times a chain and reads only the error. The whole problem (the active-set method, the enumeration where
 * it does not converge, the error) runs in this thread's WebAssembly module when it has one ({@link useSviWasm}:
 * the same bits), `loaded` when the caller loaded `points` and `floors` into it already; else the JavaScript below.
 */
function innerError(
  points: readonly SlicePoint[],
  m: number,
  sigma: number,
  floors: readonly Floor[],
  aStart: number,
  method: 'active-set' | 'enumerate',
  loaded = false,
): number {
  const w = wasmInner;
  if (w !== null) {
    if (!loaded) w.load(points, floors);
    const by = w.solve(m, sigma, aStart, method === 'enumerate');
    // none found (only ever by the enumeration): counted as the JavaScript counts it, an enumeration
    innerCounts[by === 0 ? 2 : by]++;
    if (by === 0) return -1;
    innerX[0] = w.a;
    innerX[1] = w.d;
    innerX[2] = w.c;
    return w.sse;
  }
  const { H, g, ww } = moments(points, m, sigma);
  const cons = constraintRows(m, sigma, floors);
  if (method === 'active-set' && activeSetQp(H, g, cons, aStart)) {
    innerCounts[1]++;
    innerX.set(qpX);
  } else {
    innerCounts[2]++;
    const best = enumerateQp(H, g, cons, ww, sigma);
    if (!best) return -1;
    innerX[0] = best[0]!;
    innerX[1] = best[1]!;
    innerX[2] = best[2]!;
  }
  const a = innerX[0]!;
  const d = innerX[1]!;
  const c = innerX[2]!;
  // the error recomputed from the residuals (y and z as moments() computed them): the moment form above
  // cancels near a perfect fit
  let sse = 0;
  for (let i = 0; i < points.length; i++) {
    const pt = points[i]!;
    const r = a + d * pointY[i]! + c * pointZ[i]! - pt.w;
    sse += pt.weight * r * r;
  }
  return sse;
}

/** Swaps vertices i and j (x, y, value) of a simplex held as nine numbers. */
function swapVertices(v: Float64Array, i: number, j: number): void {
  for (let k = 0; k < 3; k++) {
    const t = v[3 * i + k]!;
    v[3 * i + k] = v[3 * j + k]!;
    v[3 * j + k] = t;
  }
}

/**
 * Nelder–Mead on a function of two variables; returns the best vertex and its value. The simplex is nine numbers
 * (x, y, value of vertices 0, 1, 2; the search runs ~70,000 objective calls a chain, with no arrays made per
 * step), ordered best to worst at each step by a stable sort of three (a later vertex of equal value stays after
 * an earlier one).
 */
function nelderMead(
  f: (x: number, y: number) => number,
  x0: number,
  y0: number,
  step: number,
  maxIter: number,
): { x: number; y: number; f: number } {
  const v = new Float64Array(9);
  v[0] = x0;
  v[1] = y0;
  v[2] = f(x0, y0);
  v[3] = x0 + step;
  v[4] = y0;
  v[5] = f(x0 + step, y0);
  v[6] = x0;
  v[7] = y0 + step;
  v[8] = f(x0, y0 + step);
  for (let it = 0; ; it++) {
    // stable insertion sort of the three by value: 0 best, 1 middle, 2 worst
    if (v[2]! - v[5]! > 0) swapVertices(v, 0, 1);
    if (v[5]! - v[8]! > 0) {
      swapVertices(v, 1, 2);
      if (v[2]! - v[5]! > 0) swapVertices(v, 0, 1);
    }
    if (it >= maxIter) break;
    const ax = v[0]!,
      ay = v[1]!,
      af = v[2]!;
    const bx = v[3]!,
      by = v[4]!,
      bf = v[5]!;
    const cx = v[6]!,
      cy = v[7]!,
      cf = v[8]!;
    const size = Math.max(Math.abs(bx - ax) + Math.abs(by - ay), Math.abs(cx - ax) + Math.abs(cy - ay));
    if (size < 1e-13) break;
    const mx = (ax + bx) / 2;
    const my = (ay + by) / 2;
    const rx = mx + (mx - cx);
    const ry = my + (my - cy);
    const fr = f(rx, ry);
    let nx = rx,
      ny = ry,
      nf = fr;
    if (fr < af) {
      const ex = mx + 2 * (mx - cx);
      const ey = my + 2 * (my - cy);
      const fe = f(ex, ey);
      if (fe < fr) {
        nx = ex;
        ny = ey;
        nf = fe;
      }
    } else if (!(fr < bf)) {
      const outside = fr < cf;
      const kx = outside ? mx + 0.5 * (rx - mx) : mx + 0.5 * (cx - mx);
      const ky = outside ? my + 0.5 * (ry - my) : my + 0.5 * (cy - my);
      const fk = f(kx, ky);
      if (fk < (outside ? fr : cf)) {
        nx = kx;
        ny = ky;
        nf = fk;
      } else {
        // shrink towards the best: the middle vertex first, then the worst
        v[3] = ax + 0.5 * (bx - ax);
        v[4] = ay + 0.5 * (by - ay);
        v[5] = f(v[3], v[4]);
        nx = ax + 0.5 * (cx - ax);
        ny = ay + 0.5 * (cy - ay);
        nf = f(nx, ny);
      }
    }
    // the worst vertex replaced
    v[6] = nx;
    v[7] = ny;
    v[8] = nf;
  }
  return { x: v[0]!, y: v[1]!, f: v[2]! };
}

export interface FitResult {
  params: SviParams;
  /** weighted sum of squared errors in total variance */
  sse: number;
  /** objective evaluations the search used */
  evaluations: number;
}

/** σ of a fit stays in [SIGMA_MIN, SIGMA_MAX] (engine convention: σ → 0 is a kink, not a smile). */
export const SIGMA_MIN = 1e-4;
export const SIGMA_MAX = 10;

/**
 * Two paths of the fit's search are rare: the enumeration (~270 of ~74,000 inner problems of the bundled chain) and
 * the floors (the calendar repair only). When the search's code is optimised they have no type feedback yet, and
 * the first time one is taken that code is thrown away: a deopt and a second compile of the whole inlined search
 * (measured with --trace-deopt: nelderMead, its objective, innerError, constraintRows; ~12 ms for nelderMead's
 * compile alone, on the thread that fits). One small problem solved through both paths before a thread's first fit
 * gives them feedback first: sixteen times, since V8 gives a function its feedback vector only after its first few
 * calls (once measured no change). It is not part of any fit and changes no result (innerStats counts it). Done on
 * the first fit, not at import: a run's main thread imports this module and fits nothing. With the WebAssembly
 * module installed both paths are the module's (the enumeration too, since session 28: in JavaScript it and this
 * warm-up made TurboFan compile enumerateQp, kktStep, factor and moments, ~15 ms of the report's thread a run).
 */
let rarePathsWarmed = false;
function warmRarePaths(): void {
  rarePathsWarmed = true;
  for (let i = 0; i < 16; i++)
    solveInner(
      [
        { x: -0.1, w: 0.012, weight: 1 },
        { x: 0, w: 0.01, weight: 1 },
        { x: 0.1, w: 0.011, weight: 1 },
      ],
      0,
      0.1,
      [{ x: 0.5, w: 0.001 }],
      'enumerate',
    );
}

/**
 * The quasi-explicit fit of one slice (docs/methodology.md §11a): an outer Nelder–Mead search over
 * (m, ln σ) from nine starts (m at the quartiles of the quotes' x range × σ ∈ {0.05, 0.2, 0.5}), the best
 * polished by restarts until it no longer improves, each point solving the inner constrained problem
 * exactly ({@link solveInner}). m is kept within the quotes' range widened by 1 on each side.
 */
export function fitSvi(
  points: readonly SlicePoint[],
  opts: { floors?: readonly Floor[]; start?: SviParams; startsOnly?: boolean } = {},
): FitResult {
  if (!rarePathsWarmed) warmRarePaths();
  const floors = opts.floors ?? NO_FLOORS;
  if (points.length < 3) throw new Error(`an SVI fit needs at least 3 points, got ${points.length}`);
  let xmin = Infinity;
  let xmax = -Infinity;
  for (const p of points) {
    xmin = Math.min(xmin, p.x);
    xmax = Math.max(xmax, p.x);
  }
  const lo = xmin - 1;
  const hi = xmax + 1;
  let evaluations = 0;
  const aStart = startA(points, floors);
  // the slice into this thread's module once: every objective call below solves it
  wasmInner?.load(points, floors);
  const objective = (m: number, ls: number): number => {
    evaluations++;
    if (m < lo || m > hi || ls < Math.log(SIGMA_MIN) || ls > Math.log(SIGMA_MAX)) return Infinity;
    const sse = innerError(points, m, Math.exp(ls), floors, aStart, 'active-set', true);
    return sse < 0 ? Infinity : sse;
  };
  let best = { x: 0, y: 0, f: Infinity };
  const span = Math.max(xmax - xmin, 1e-3);
  const starts: [number, number][] = [];
  if (opts.start) starts.push([opts.start.m, Math.log(opts.start.sigma)]);
  if (!(opts.startsOnly && opts.start))
    for (const q of [0.25, 0.5, 0.75]) for (const s of [0.05, 0.2, 0.5]) starts.push([xmin + q * span, Math.log(s)]);
  for (const [m0, s0] of starts) {
    const r = nelderMead(objective, m0, s0, 0.1, 400);
    if (r.f < best.f) best = r;
  }
  for (let round = 0; round < 20; round++) {
    const r = nelderMead(objective, best.x, best.y, 0.01 / (round + 1), 2000);
    const improved = r.f < best.f * (1 - 1e-12) || (best.f > 0 && r.f === 0);
    if (r.f <= best.f) best = r;
    if (!improved) break;
  }
  const inner = solveInner(points, best.x, Math.exp(best.y), floors);
  if (!inner) throw new Error('the SVI fit found no feasible slice');
  return { params: inner.params, sse: inner.sse, evaluations };
}

// ---------------------------------------------------------------------------------------------------------
// calendar arbitrage and interpolation across expiries
// ---------------------------------------------------------------------------------------------------------

/** max over the check grid of w₁(x) − w₂(x) and where: positive when the later slice p2 lies below p1. */
export function calendarGapAt(p1: SviParams, p2: SviParams): { gap: number; x: number } {
  let gap = -Infinity;
  let at = 0;
  for (const x of checkGrid()) {
    const d = sviW(p1, x) - sviW(p2, x);
    if (d > gap) {
      gap = d;
      at = x;
    }
  }
  return { gap, x: at };
}

export function calendarGap(p1: SviParams, p2: SviParams): number {
  return calendarGapAt(p1, p2).gap;
}

/**
 * The calendar repair of a fitted slice (docs/methodology.md §11b, engine convention): the later slice is
 * refitted to its own quotes under floors w(x) ≥ w_prev(x), first at x = ±3, then at the worst grid point
 * of each round (at most `rounds` rounds), which raises it where it lay below the earlier slice while
 * keeping it close to its quotes; whatever gap remains is removed by raising a. Returns the parameters,
 * the floors used and the shift of a (0 when the refit sufficed).
 */
export function calendarRefit(
  points: readonly SlicePoint[],
  prev: SviParams,
  current: SviParams,
  rounds = 6,
): { params: SviParams; floors: Floor[]; shift: number } {
  const floors: Floor[] = [-CHECK_GRID_HALF_WIDTH, CHECK_GRID_HALF_WIDTH].map((x) => ({ x, w: sviW(prev, x) }));
  let params = current;
  for (let r = 0; r < rounds; r++) {
    try {
      params = fitSvi(points, { floors, start: params, startsOnly: true }).params;
    } catch {
      break;
    }
    const { gap, x } = calendarGapAt(prev, params);
    if (gap <= CALENDAR_TOLERANCE) return { params, floors, shift: 0 };
    floors.push({ x, w: sviW(prev, x) });
  }
  const gap = calendarGap(prev, params);
  const shift = gap > CALENDAR_TOLERANCE ? gap : 0;
  return { params: copySvi(params, params.a + shift), floors, shift };
}

/**
 * Calendar repair (docs/methodology.md §11b, engine convention): slices in increasing T; where slice j lies
 * below slice j − 1 somewhere on the grid (gap > CALENDAR_TOLERANCE), slice j is raised by the gap (its a
 * grows, its shape is kept). Returns the repaired parameters and, per slice, whether it was raised.
 */
export function repairCalendar(slices: readonly SviParams[]): { params: SviParams[]; raised: boolean[] } {
  const params = slices.map((p) => copySvi(p));
  const raised = params.map(() => false);
  for (let j = 1; j < params.length; j++) {
    const gap = calendarGap(params[j - 1]!, params[j]!);
    if (gap > CALENDAR_TOLERANCE) {
      params[j]!.a += gap;
      raised[j] = true;
    }
  }
  return { params, raised };
}

/**
 * Total variance at (x, T) from slices in increasing T (docs/methodology.md §11b): linear in T at fixed x
 * between slices; before the first, w₁(x)·T/T₁; after the last, w_n(x)·T/T_n.
 */
export function interpolateTotalVariance(
  slices: readonly { t: number; params: SviParams }[],
  x: number,
  t: number,
): number {
  const n = slices.length;
  if (n === 0) return NaN;
  const first = slices[0]!;
  if (t <= first.t) return (sviW(first.params, x) * t) / first.t;
  const last = slices[n - 1]!;
  if (t >= last.t) return (sviW(last.params, x) * t) / last.t;
  let j = 1;
  while (slices[j]!.t < t) j++;
  const s1 = slices[j - 1]!;
  const s2 = slices[j]!;
  const lambda = (t - s1.t) / (s2.t - s1.t);
  return (1 - lambda) * sviW(s1.params, x) + lambda * sviW(s2.params, x);
}
