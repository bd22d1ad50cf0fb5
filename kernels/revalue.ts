/**
 * Scenario revaluation of instruments under scenarios (docs/methodology.md §1–2), every form side by side.
 * Results are per unit of underlying; kind codes are src/model/market.ts KIND_* (0 option, 1 future,
 * 2 perpetual), vol rule codes src/scenarios/types.ts VOL_* (0 up … 5 mult; see {@link shockedVol}).
 *
 * | form      | precision | functions                                                        | runs on            |
 * | --------- | --------- | ---------------------------------------------------------------- | ------------------ |
 * | reference | float64   | revalueNormalised, revalueCoin (one instrument × one scenario)    | tests, fixtures    |
 * | cpu       | float64   | revalueTile (a tile of instruments × scenarios)                  | the cpu pool       |
 * | cpu, SIMD | float64   | revalueTile's option cells in kernels/revalue.wat (OptionCells)   | the cpu pool       |
 * | device    | float32   | movedValueKernel / movedValue32, with host packing and assembly  | gpu.js gl, webgpu  |
 *
 * The cpu form is the reference's arithmetic, reordered only by hoisting: the base term v0 =
 * {@link optionBaseValue} does not depend on the scenario, so it is computed once per instrument
 * (RevalueColumns.v0) and per cell only the moved term is evaluated, the same operations in the same
 * order. Its USD row is F·revalueNormalised to the bit; its coin row (norm + v0)/(1+m) − v0 is
 * revalueCoin within a few ulps of the forward (test/kernels/parity.test.ts checks both). Its option cells
 * without a surface also run as WebAssembly SIMD (kernels/revalue.wat through kernels/revalueWasm.ts, two
 * scenarios a step, fdlibm's log and exp written out as V8 has them): the same bits as its JavaScript loop
 * (test/kernels/revalueWasm.test.ts), which stays the reference.
 *
 * The device form evaluates only the moved value w = (1+m)·e^{−rT'}·black76Norm32(k/(1+m), σ'√T') in
 * float32 (one Black-76 per cell instead of two); the host keeps v0 in float64 and forms the rows with
 * {@link assembleMovedRow}. Its error bound is docs/methodology.md "Precision". Futures, perpetuals
 * ({@link deltaOneRows}) and spot rows ({@link spotRowValues}) are host work, float64, on every backend.
 * shockedVol is shared: the cpu form calls it per cell, the device form's host packing per instrument.
 *
 * Vol surfaces (docs/methodology.md §11c): with RevalueColumns.surface set (sticky moneyness, or a stress
 * set's surface shocks) the option's vol is first moved by the surface (kernels/svi.ts stickyMoneynessVol),
 * then shocked by the rule. Reference revalueNormalisedSticky, cpu form revalueTile (the same per-cell
 * arithmetic), device form movedValueSurfaceKernel / movedValueSurface32 (slice parameters packed per
 * instrument by packSurfaceTable); shocked surfaces (RevalueColumns.shockedSurface) are evaluated by the
 * float64 form on every backend. Without `surface` every form is exactly what it was.
 */
import { black76Norm, black76Norm32 } from './black76.js';
import { stickyMoneynessVol } from './svi.js';

/** src/model/market.ts KIND_OPTION (kernels/ import nothing; test/kernels/parity.test.ts checks they agree). */
export const KIND_OPTION_CODE = 0;

/**
 * Shocked implied vol σ' of docs/methodology.md §2 (decimal per year).
 *
 * d = 365·T is the days to expiry of the *base* T (before any time step), f(d) = (30/max(d, 1))^p with
 * p = shortTermVegaPower when d < 30, else longTermVegaPower.
 * - VOL_UP (0):       σ + max(σ, minVolForShockUp) · volRangeUp · f(d)
 * - VOL_NONE (1):     σ
 * - VOL_DOWN (2):     max(σ · (1 − volRangeDown · f(d)), 0.01)
 * - VOL_REL_UP (3):   max(σ · (1 + volParam), 0.01)      (volParam = SPAN's vsr)
 * - VOL_REL_DOWN (4): max(σ · (1 − volParam), 0.01)
 * - VOL_MULT (5):     σ · volParam                        (volParam = g, the scenario's multiplier)
 * Any other code leaves σ unchanged.
 */
export function shockedVol(
  sigma: number,
  tYears: number,
  volRule: number,
  volParam: number,
  volRangeUp: number,
  volRangeDown: number,
  minVolForShockUp: number,
  shortTermVegaPower: number,
  longTermVegaPower: number,
): number {
  const days = 365.0 * tYears;
  let power = longTermVegaPower;
  if (days < 30.0) {
    power = shortTermVegaPower;
  }
  const f = Math.pow(30.0 / Math.max(days, 1.0), power);
  let shocked = sigma;
  if (volRule < 0.5) {
    shocked = sigma + Math.max(sigma, minVolForShockUp) * volRangeUp * f;
  } else if (volRule < 1.5) {
    shocked = sigma;
  } else if (volRule < 2.5) {
    shocked = Math.max(sigma * (1.0 - volRangeDown * f), 0.01);
  } else if (volRule < 3.5) {
    shocked = Math.max(sigma * (1.0 + volParam), 0.01);
  } else if (volRule < 4.5) {
    shocked = Math.max(sigma * (1.0 - volParam), 0.01);
  } else if (volRule < 5.5) {
    shocked = sigma * volParam;
  }
  return shocked;
}

// ---------------------------------------------------------------------------------------------------------
// reference form (float64, scalar)
// ---------------------------------------------------------------------------------------------------------

/**
 * The discounted normalised base value v = e^{−r·T}·black76Norm(k, σ√T) of an option (units of the
 * forward): the scenario-independent term of {@link revalueNormalised} and {@link revalueCoin}, and
 * RevalueColumns.v0 (computed once per instrument by src/engine/revalueColumns.ts).
 */
export function optionBaseValue(isCall: number, k: number, tYears: number, sigma: number, rate: number): number {
  return Math.exp(-rate * tYears) * black76Norm(isCall, k, sigma * Math.sqrt(Math.max(tYears, 0.0)));
}

/**
 * P&L per unit of underlying in USD divided by the instrument's base forward F (so multiply by F on the host).
 *
 * Option: (1+m)·v(k/(1+m), T', σ') − v(k, T, σ), v the discounted normalised Black-76 value
 * e^{−r·T}·black76Norm(k, σ√T), T' = max(T − Δt, 0), σ' = {@link shockedVol} (f(d) on the base T).
 * Future, perpetual: deltaOneMove (the USD P&L F·m divided by F). The zero scenario (m = 0, VOL_NONE,
 * Δt = 0) gives exactly 0. Sign: positive is a gain to a long position of one unit.
 */
export function revalueNormalised(
  kind: number,
  isCall: number,
  k: number,
  tYears: number,
  sigma: number,
  rate: number,
  move: number,
  deltaOneMove: number,
  volRule: number,
  volParam: number,
  dtYears: number,
  volRangeUp: number,
  volRangeDown: number,
  minVolForShockUp: number,
  shortTermVegaPower: number,
  longTermVegaPower: number,
): number {
  let pnl = deltaOneMove;
  if (kind < 0.5) {
    const shocked = shockedVol(
      sigma,
      tYears,
      volRule,
      volParam,
      volRangeUp,
      volRangeDown,
      minVolForShockUp,
      shortTermVegaPower,
      longTermVegaPower,
    );
    const t1 = Math.max(tYears - dtYears, 0.0);
    const growth = 1.0 + move;
    const base = optionBaseValue(isCall, k, tYears, sigma, rate);
    const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / growth, shocked * Math.sqrt(t1));
    pnl = growth * moved - base;
  }
  return pnl;
}

/**
 * Coin P&L per unit of underlying (inverse instruments, docs/methodology.md §1): option
 * v(k/(1+m), T', σ') − v(k, T, σ) (= V'/F' − V/F); future, perpetual 1 − 1/(1 + deltaOneMove).
 * Same arguments as {@link revalueNormalised}; in coin, no host scaling.
 */
export function revalueCoin(
  kind: number,
  isCall: number,
  k: number,
  tYears: number,
  sigma: number,
  rate: number,
  move: number,
  deltaOneMove: number,
  volRule: number,
  volParam: number,
  dtYears: number,
  volRangeUp: number,
  volRangeDown: number,
  minVolForShockUp: number,
  shortTermVegaPower: number,
  longTermVegaPower: number,
): number {
  let pnl = 1.0 - 1.0 / (1.0 + deltaOneMove);
  if (kind < 0.5) {
    const shocked = shockedVol(
      sigma,
      tYears,
      volRule,
      volParam,
      volRangeUp,
      volRangeDown,
      minVolForShockUp,
      shortTermVegaPower,
      longTermVegaPower,
    );
    const t1 = Math.max(tYears - dtYears, 0.0);
    const base = optionBaseValue(isCall, k, tYears, sigma, rate);
    const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / (1.0 + move), shocked * Math.sqrt(t1));
    pnl = moved - base;
  }
  return pnl;
}

// ---------------------------------------------------------------------------------------------------------
// cpu form (float64)
// ---------------------------------------------------------------------------------------------------------

/**
 * The flat inputs of revaluation (built once per run in float64 by src/engine/revalueColumns.ts; the cpu
 * pool reads them from SharedArrayBuffers, the device form's host packing from the same columns).
 * `out` (when set) is the whole P&L matrix, 2I + U rows × S, [row * scenarios + s]: rows [0, I) USD,
 * [I, 2I) coin, [2I, 2I + U) spot (src/engine/types.ts).
 */
export interface RevalueColumns {
  instruments: number;
  scenarios: number;
  underlyings: number;
  /** KIND_* */
  kind: Uint8Array;
  /** 1 call, 0 put or not an option */
  isCall: Uint8Array;
  underlying: Int32Array;
  /** moneyness K/F (0 when not an option) */
  k: Float64Array;
  /** years */
  tYears: Float64Array;
  /** mark IV, decimal per year (0 when not an option) */
  sigma: Float64Array;
  /** continuously compounded rate of the instrument's underlying */
  rate: Float64Array;
  /** USD forward F */
  forward: Float64Array;
  /** base value V/F = optionBaseValue(…), discounted, in units of the forward (0 when not an option) */
  v0: Float64Array;
  /** Params.deribitPm.volRangeUp of the instrument's underlying */
  volRangeUp: Float64Array;
  /** [s * U + u] */
  move: Float64Array;
  deltaOneMove: Float64Array;
  volRule: Uint8Array;
  volParam: Float64Array;
  /** [s], years */
  dtYears: Float64Array;
  volRangeDown: number;
  minVolForShockUp: number;
  shortTermVegaPower: number;
  longTermVegaPower: number;
  out: Float64Array;
  /**
   * false: the coin rows [I, 2I) are left as they are (the zeros of a new matrix): a scenario set whose
   * models read only USD and spot rows (MarginModel.readsCoinRows), which saves a division and a store per
   * cell and leaves half the matrix's pages untouched. Absent or true: every row.
   */
  coinRows?: boolean;
  /**
   * Sticky moneyness (docs/methodology.md §11c), absent under sticky strike: per instrument
   * [a, b, ρ, m, σ, x0, vol0] ({@link SURFACE_ROW} columns), the raw SVI slice of its expiry, its base
   * log-moneyness x0 = ln(K/F) and the slice's vol there, vol0 = sviVol(x0) (kernels/svi.ts). A flat
   * slice (b = 0) leaves the option's vol unchanged.
   */
  surface?: Float64Array;
  /** with `surface`: true under sticky moneyness (the slice is read at x0 − ln(1+m)), false: at x0 */
  stickyMoneyness?: boolean;
  /**
   * Surface stress (docs/methodology.md §11c; stress sets with surface shocks only): the shocked slice
   * [a, b, ρ, m, σ] per (scenario, instrument), [(s·I + i)·5 + j], checked for butterfly arbitrage on the
   * host (src/engine/revalueColumns.ts). The option's vol is then σ + vol_shocked(x) − vol0. Evaluated by
   * the float64 forms on every backend (stress sets are tens of scenarios).
   */
  shockedSurface?: Float64Array;
}

/** Columns of a RevalueColumns.surface row: a, b, ρ, m, σ, x0, vol0. */
export const SURFACE_ROW = 7;

/**
 * The reference form under sticky moneyness (docs/methodology.md §11c), USD per unit divided by F: as
 * {@link revalueNormalised}, but the scenario's vol rule applies to σ_m = stickyMoneynessVol(σ, slice, x0,
 * vol0, T, 1+m) (kernels/svi.ts) instead of σ; the base value keeps σ. With a flat slice it IS
 * revalueNormalised (σ_m = σ exactly).
 */
export function revalueNormalisedSticky(
  kind: number,
  isCall: number,
  k: number,
  tYears: number,
  sigma: number,
  rate: number,
  move: number,
  deltaOneMove: number,
  volRule: number,
  volParam: number,
  dtYears: number,
  volRangeUp: number,
  volRangeDown: number,
  minVolForShockUp: number,
  shortTermVegaPower: number,
  longTermVegaPower: number,
  slice: readonly number[],
): number {
  let pnl = deltaOneMove;
  if (kind < 0.5) {
    const [a, b, rho, m, sig, x0, vol0] = slice as [number, number, number, number, number, number, number];
    const growth = 1.0 + move;
    const sm = stickyMoneynessVol(sigma, a, b, rho, m, sig, x0, vol0, tYears, growth);
    const shocked = shockedVol(
      sm,
      tYears,
      volRule,
      volParam,
      volRangeUp,
      volRangeDown,
      minVolForShockUp,
      shortTermVegaPower,
      longTermVegaPower,
    );
    const t1 = Math.max(tYears - dtYears, 0.0);
    const base = optionBaseValue(isCall, k, tYears, sigma, rate);
    const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / growth, shocked * Math.sqrt(t1));
    pnl = growth * moved - base;
  }
  return pnl;
}

/**
 * The delta-one rows of one future or perpetual over scenarios [s0, s1), in float64: USD F·m' at
 * out[usd + s], coin 1 − 1/(1+m') at out[coin + s] (m' = deltaOneMove[s·U + u]; docs/methodology.md §1);
 * coin < 0: the USD row only. Shared by the cpu form and the device form's host side.
 */
export function deltaOneRows(
  deltaOneMove: Float64Array,
  u: number,
  U: number,
  F: number,
  s0: number,
  s1: number,
  out: Float64Array | Float32Array,
  usd: number,
  coin: number,
): void {
  for (let s = s0; s < s1; s++) {
    const m1 = deltaOneMove[s * U + u]!;
    out[usd + s] = F * m1;
    if (coin >= 0) out[coin + s] = 1 - 1 / (1 + m1);
  }
}

/**
 * The spot row of underlying u (USD P&L of one coin held as collateral, S_u · m[s, u]; gain positive)
 * into out[base + s] for every scenario s < S, in float64 on every backend.
 */
export function spotRowValues(
  spot: number,
  move: Float64Array,
  u: number,
  U: number,
  S: number,
  out: Float64Array | Float32Array,
  base: number,
): void {
  for (let s = 0; s < S; s++) out[base + s] = spot * move[s * U + u]!;
}

/** {@link shockedVol}'s rules without a parameter (VOL_UP, VOL_DOWN), whose σ' {@link OptionCells.cells} is given. */
export const VOL_UP_CODE = 0;
export const VOL_DOWN_CODE = 2;

/**
 * Another form of revalueTile's option cells without a surface (kernels/revalueWasm.ts, WebAssembly SIMD), the
 * same bits: revalueTile still computes what is per option (the discount and shocked vol per key; the shocked
 * vols of the rules without a parameter) and hands the cells of one option to {@link rows} (keyed) or
 * {@link cells} (per cell).
 */
export interface OptionCells {
  /**
   * Before a tile's options: its scenarios [s0, s1) and their keys (key[(s − s0)·U + u], scenarioKeys), or null
   * when the tile takes the per-cell path.
   */
  begin(c: RevalueColumns, s0: number, s1: number, key: Int32Array | null): void;
  /** e^{−r·T'} per key of the option about to be handed to {@link rows} (valid after begin) */
  readonly disc: Float64Array;
  /** σ'·√T' per key, likewise */
  readonly vol: Float64Array;
  /**
   * out[usd + s] = F·norm and, when coin ≥ 0, out[coin + s] = (norm + v0)/(1 + m) − v0 for s in [s0, s1), norm =
   * (1 + m)·disc[q]·black76Norm(isCall, k/(1 + m), vol[q]) − v0: revalueTile's keyed loop, bit for bit.
   */
  rows(u: number, isCall: number, k: number, F: number, v0: number, out: Float64Array, usd: number, coin: number): void;
  /**
   * The same rows with each cell's shocked vol σ' = shockedVol(σ, T, rule, param, …), T' = max(T − Δt, 0), its
   * discount e^{−rate·T'} and σ'·√T': revalueTile's per-cell loop without a surface, bit for bit. `vol.up` and
   * `vol.down` are shockedVol's values for the rules VOL_UP_CODE and VOL_DOWN_CODE.
   */
  cells(
    u: number,
    isCall: number,
    k: number,
    F: number,
    v0: number,
    vol: { sigma: number; t: number; rate: number; up: number; down: number },
    out: Float64Array,
    usd: number,
    coin: number,
  ): void;
}

/**
 * The cpu form: writes rows usdRow(i) and coinRow(i) for instruments [i0, i1) and scenarios [s0, s1) into
 * `c.out`: USD row F·norm (USD per unit of underlying), coin row (norm + v0)/(1+m) − v0 for options and
 * the {@link deltaOneRows} of futures and perpetuals, norm = revalueNormalised(…) to the bit (see the
 * module comment). Sign: gain to a long position of one unit. Each cell depends only on its own inputs,
 * so any tiling gives the same bits. `cells`: the option cells without a surface in another form (the same bits).
 */
export function revalueTile(
  c: RevalueColumns,
  i0: number,
  i1: number,
  s0: number,
  s1: number,
  cells?: OptionCells,
): void {
  const S = c.scenarios;
  const U = c.underlyings;
  const I = c.instruments;
  const out = c.out;
  const { volRangeDown, minVolForShockUp, shortTermVegaPower, longTermVegaPower } = c;
  // Without a surface an option's shocked vol, discount e^{−r·T'} and σ'·√T' depend on its own columns and on
  // the scenario's (vol rule, vol parameter, Δt) alone, and a scenario set has few distinct such keys (deribit-pm
  // 3, span 3, a history 1): they are computed once per instrument and key, the same expressions on the same
  // inputs (the same bits), instead of once per cell. Sets with more keys than KEYS_MAX take the cell path.
  const keyed = c.surface === undefined ? scenarioKeys(c, s0, s1) : null;
  const K = keyed ? keyed.count : 0;
  // the other form of the cells, where there is no surface (module comment)
  const other = c.surface === undefined ? cells : undefined;
  other?.begin(c, s0, s1, keyed ? keyed.key : null);
  const disc = other && keyed ? other.disc : new Float64Array(K);
  const vol = other && keyed ? other.vol : new Float64Array(K);
  for (let i = i0; i < i1; i++) {
    const u = c.underlying[i]!;
    const kind = c.kind[i]!;
    const isCall = c.isCall[i]!;
    const k = c.k[i]!;
    const t = c.tYears[i]!;
    const sigma = c.sigma[i]!;
    const rate = c.rate[i]!;
    const F = c.forward[i]!;
    const v0 = c.v0[i]!;
    const vru = c.volRangeUp[i]!;
    const surf = c.surface;
    const shockTable = c.shockedSurface;
    const sticky = c.stickyMoneyness === true;
    const sb = i * SURFACE_ROW;
    const usd = i * S;
    const coin = c.coinRows === false ? -1 : (I + i) * S;
    const option = kind === KIND_OPTION_CODE;
    if (!option) {
      deltaOneRows(c.deltaOneMove, u, U, F, s0, s1, out, usd, coin);
      continue;
    }
    if (keyed) {
      for (let q = 0; q < K; q++) {
        const shocked = shockedVol(
          sigma,
          t,
          keyed.rule[q]!,
          keyed.param[q]!,
          vru,
          volRangeDown,
          minVolForShockUp,
          shortTermVegaPower,
          longTermVegaPower,
        );
        const t1 = Math.max(t - keyed.dt[q]!, 0.0);
        disc[q] = Math.exp(-rate * t1);
        vol[q] = shocked * Math.sqrt(t1);
      }
      if (other) {
        other.rows(u, isCall, k, F, v0, out, usd, coin);
        continue;
      }
      for (let s = s0; s < s1; s++) {
        const j = s * U + u;
        const m = c.move[j]!;
        const q = keyed.key[j - s0 * U]!;
        const growth = 1.0 + m;
        const moved = disc[q]! * black76Norm(isCall, k / growth, vol[q]!);
        const norm = growth * moved - v0;
        out[usd + s] = F * norm;
        if (coin >= 0) out[coin + s] = (norm + v0) / (1 + m) - v0;
      }
      continue;
    }
    if (other) {
      const shocked = (rule: number) =>
        shockedVol(sigma, t, rule, 0, vru, volRangeDown, minVolForShockUp, shortTermVegaPower, longTermVegaPower);
      const vols = { sigma, t, rate, up: shocked(VOL_UP_CODE), down: shocked(VOL_DOWN_CODE) };
      other.cells(u, isCall, k, F, v0, vols, out, usd, coin);
      continue;
    }
    for (let s = s0; s < s1; s++) {
      const j = s * U + u;
      const m = c.move[j]!;
      // sticky moneyness: the option's vol moves with the surface at its moved log-moneyness; surface stress:
      // with the shocked slice of the scenario (at x0 under sticky strike)
      let sm = sigma;
      if (surf !== undefined) {
        const g = sticky ? 1.0 + m : 1.0;
        if (shockTable === undefined)
          sm = stickyMoneynessVol(
            sigma,
            surf[sb]!,
            surf[sb + 1]!,
            surf[sb + 2]!,
            surf[sb + 3]!,
            surf[sb + 4]!,
            surf[sb + 5]!,
            surf[sb + 6]!,
            t,
            g,
          );
        else {
          const q = (s * I + i) * 5;
          sm = stickyMoneynessVol(
            sigma,
            shockTable[q]!,
            shockTable[q + 1]!,
            shockTable[q + 2]!,
            shockTable[q + 3]!,
            shockTable[q + 4]!,
            surf[sb + 5]!,
            surf[sb + 6]!,
            t,
            g,
          );
        }
      }
      // = revalueNormalised(kind, isCall, k, t, sigma, rate, m, m1, volRule, volParam, dt, vru, …) to the bit
      // (revalueNormalisedSticky under sticky moneyness)
      const shocked = shockedVol(
        sm,
        t,
        c.volRule[j]!,
        c.volParam[j]!,
        vru,
        volRangeDown,
        minVolForShockUp,
        shortTermVegaPower,
        longTermVegaPower,
      );
      const t1 = Math.max(t - c.dtYears[s]!, 0.0);
      const growth = 1.0 + m;
      const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / growth, shocked * Math.sqrt(t1));
      const norm = growth * moved - v0;
      out[usd + s] = F * norm;
      if (coin >= 0) out[coin + s] = (norm + v0) / (1 + m) - v0;
    }
  }
}

/** The most distinct (vol rule, vol parameter, Δt) keys revalueTile computes per instrument (else per cell). */
const KEYS_MAX = 16;

/**
 * The distinct (vol rule, vol parameter, Δt) of scenarios [s0, s1) over every underlying: `key[(s − s0)·U + u]`
 * indexes rule / param / dt; null when there are more than KEYS_MAX.
 */
function scenarioKeys(
  c: RevalueColumns,
  s0: number,
  s1: number,
): { count: number; key: Int32Array; rule: Float64Array; param: Float64Array; dt: Float64Array } | null {
  const U = c.underlyings;
  const key = new Int32Array((s1 - s0) * U);
  const rule = new Float64Array(KEYS_MAX);
  const param = new Float64Array(KEYS_MAX);
  const dt = new Float64Array(KEYS_MAX);
  let count = 0;
  for (let s = s0; s < s1; s++) {
    const d = c.dtYears[s]!;
    for (let u = 0; u < U; u++) {
      const j = s * U + u;
      const r = c.volRule[j]!;
      const g = c.volParam[j]!;
      let q = 0;
      // Object.is: a NaN parameter is its own key, and −0 is not +0 (shockedVol may tell them apart)
      while (q < count && !(rule[q] === r && Object.is(param[q], g) && Object.is(dt[q], d))) q++;
      if (q === count) {
        if (count === KEYS_MAX) return null;
        rule[q] = r;
        param[q] = g;
        dt[q] = d;
        count++;
      }
      key[j - s0 * U] = q;
    }
  }
  return { count, key, rule, param, dt };
}

// ---------------------------------------------------------------------------------------------------------
// device form (float32, gpu.js)
// ---------------------------------------------------------------------------------------------------------
//
// One thread per (instrument, four scenarios) of a tile; src/engine/gpuRevalue.ts builds movedValueKernel
// into a gpu.js kernel with output [x = scenarios of the tile / 4, y = instruments of the tile] and slices
// the tiles. It returns the moved option value only, in units of the BASE forward F:
//   w = (1+m) · e^{−r·T'} · black76Norm32(k/(1+m), σ'·√T'),  T' = max(T − Δt, 0),  σ' = shockedVol(…)
// and the host forms, in float64 with v0 exact (assembleMovedRow):
//   USD row  F·(w − v0)     coin row  w/(1+m) − v0
//
// Texture reads dominate the cost on llvmpipe (each read, with gpu.js's index arithmetic, costs about a
// quarter of the whole Black-76 arithmetic), so the inputs are packed into two row tables the host
// prepares in float64 (packInstrumentTable, packScenarioTable), the vol shock's instrument-only parts
// precomputed there with shockedVol itself:
//   inst[i] = [±k (+ call, − put), T, r, σ'_up, σ, σ'_down, σ, u]   σ'_up/down = shockedVol(σ, T, VOL_UP/DOWN, …)
//   scen[s·U + u] = [1+m, Δt, col, g]
// and σ' = inst[i][col] for col 3 (VOL_UP) and 5 (VOL_DOWN, σ'_down already floored), σ·g for col 4
// (VOL_NONE and unknown rules g = 1, VOL_MULT g = volParam), max(σ·g, 0.01) for col 6 (VOL_REL_UP/DOWN,
// g = 1 ± volParam) — shockedVol's σ' for every rule, selected with weights instead of branches (a
// divergent branch costs more than a texture read on llvmpipe).
//
// Each thread computes FOUR scenarios of one instrument (Array(4) output), so the instrument's seven
// reads serve four cells: ≈ 5.75 reads per cell instead of 9–11. Threads past the last instrument or
// scenario compute a clamped duplicate, which the host ignores. Measured on llvmpipe (2 cores, one
// process, same tables, run and readback of 15.9 M cells): one value per thread with 9 reads 526 ms, this
// kernel 315 ms, bit-identical results.

/** Column of the packed instrument row the scenario row's σ' selects (see the module comment). */
export const SHOCK_UP = 3;
export const SHOCK_SCALED = 4;
export const SHOCK_DOWN = 5;
export const SHOCK_SCALED_FLOORED = 6;
/** Columns of a packed instrument row and of a packed scenario row. */
export const INSTRUMENT_ROW = 8;
export const SCENARIO_ROW = 4;

/**
 * Moved value w of one option under one scenario (units of the base forward), float32 device helper:
 * kc = ±k (+ call, − put), t = T, rate = r, sigUp/sigma/sigDown the instrument's σ'_up, σ, σ'_down, and the
 * scenario row (growth = 1+m, dt = Δt, col, g) of the module comment. σ' is selected without branches:
 * exactly one of the weights is 1 and the others 0, so σ' is exactly the selected value.
 */
export function movedValue32(
  kc: number,
  t: number,
  rate: number,
  sigUp: number,
  sigma: number,
  sigDown: number,
  growth: number,
  dt: number,
  col: number,
  g: number,
): number {
  const t1 = Math.max(t - dt, 0.0);
  const wUp = Math.max(1.0 - Math.abs(col - 3.0), 0.0);
  const wDown = Math.max(1.0 - Math.abs(col - 5.0), 0.0);
  const scaled = Math.max(sigma * g, 0.01 * Math.max(col - 5.0, 0.0));
  const shocked = wUp * sigUp + wDown * sigDown + (1.0 - wUp - wDown) * scaled;
  let isCall = 0.0;
  if (kc > 0.0) {
    isCall = 1.0;
  }
  return growth * Math.exp(-rate * t1) * black76Norm32(isCall, Math.abs(kc) / growth, shocked * Math.sqrt(t1));
}

/**
 * Moved values w of instrument i0 + thread.y under the four scenarios s0 + 4·thread.x + (0, 1, 2, 3)
 * (an Array(4) output: the instrument's row is read once for four cells). `inst` and `scen` are the
 * packed tables of the module comment; i0, s0 the tile origin. Scenarios past the last are clamped.
 */
export function movedValueKernel(
  this: { thread: { x: number; y: number } },
  inst: number[][],
  scen: number[][],
  i0: number,
  s0: number,
  instrumentCount: number,
  scenarioCount: number,
  underlyingCount: number,
): number[] {
  const i = Math.min(i0 + this.thread.y, instrumentCount - 1.0);
  const kc = inst[i][0];
  const t = inst[i][1];
  const rate = inst[i][2];
  const sigUp = inst[i][3];
  const sigma = inst[i][4];
  const sigDown = inst[i][5];
  const u = inst[i][7];
  const sa = s0 + 4.0 * this.thread.x;
  const last = scenarioCount - 1.0;
  const j0 = Math.min(sa, last) * underlyingCount + u;
  const j1 = Math.min(sa + 1.0, last) * underlyingCount + u;
  const j2 = Math.min(sa + 2.0, last) * underlyingCount + u;
  const j3 = Math.min(sa + 3.0, last) * underlyingCount + u;
  return [
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j0][0], scen[j0][1], scen[j0][2], scen[j0][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j1][0], scen[j1][1], scen[j1][2], scen[j1][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j2][0], scen[j2][1], scen[j2][2], scen[j2][3]),
    movedValue32(kc, t, rate, sigUp, sigma, sigDown, scen[j3][0], scen[j3][1], scen[j3][2], scen[j3][3]),
  ];
}

/**
 * The packed instrument table for the options `opts` (indices into `c`), flat [o · INSTRUMENT_ROW + col]:
 * [±k, T, r, σ'_up, σ, σ'_down, σ, u] per option, σ'_up/down = shockedVol(…, VOL_UP/VOL_DOWN, …) in float64.
 */
export function packInstrumentTable(c: RevalueColumns, opts: Int32Array): Float32Array {
  const t = new Float32Array(opts.length * INSTRUMENT_ROW);
  for (let o = 0; o < opts.length; o++) {
    const i = opts[o]!;
    const T = c.tYears[i]!;
    const sigma = c.sigma[i]!;
    const vu = c.volRangeUp[i]!;
    const b = o * INSTRUMENT_ROW;
    t[b] = c.isCall[i] === 1 ? c.k[i]! : -c.k[i]!;
    t[b + 1] = T;
    t[b + 2] = c.rate[i]!;
    t[b + 3] = shockedVol(
      sigma,
      T,
      0, // VOL_UP
      0,
      vu,
      c.volRangeDown,
      c.minVolForShockUp,
      c.shortTermVegaPower,
      c.longTermVegaPower,
    );
    t[b + 4] = sigma;
    t[b + 5] = shockedVol(
      sigma,
      T,
      2, // VOL_DOWN
      0,
      vu,
      c.volRangeDown,
      c.minVolForShockUp,
      c.shortTermVegaPower,
      c.longTermVegaPower,
    );
    t[b + 6] = sigma;
    t[b + 7] = c.underlying[i]!;
  }
  return t;
}

/**
 * The packed scenario table, flat [(s·U + u) · SCENARIO_ROW + col]: [1+m, Δt, σ' column, g] per scenario ×
 * underlying, the column and g chosen per vol rule as the section comment above says.
 */
export function packScenarioTable(c: RevalueColumns): Float32Array {
  const n = c.scenarios * c.underlyings;
  const t = new Float32Array(n * SCENARIO_ROW);
  for (let j = 0; j < n; j++) {
    const rule = c.volRule[j]!;
    const p = c.volParam[j]!;
    let code = SHOCK_SCALED;
    let g = 1;
    if (rule === 0)
      code = SHOCK_UP; // VOL_UP
    else if (rule === 2)
      code = SHOCK_DOWN; // VOL_DOWN
    else if (rule === 3) {
      // VOL_REL_UP
      code = SHOCK_SCALED_FLOORED;
      g = 1 + p;
    } else if (rule === 4) {
      // VOL_REL_DOWN
      code = SHOCK_SCALED_FLOORED;
      g = 1 - p;
    } else if (rule === 5) g = p; // VOL_MULT
    const b = j * SCENARIO_ROW;
    t[b] = 1 + c.move[j]!;
    t[b + 1] = c.dtYears[Math.floor(j / c.underlyings)]!;
    t[b + 2] = code;
    t[b + 3] = g;
  }
  return t;
}

/**
 * The host half of the device form: one option's USD and coin rows over `n` scenarios from its moved values
 * `w[w0 …]` (float32 from the device), in float64: out[usd + x] = F·(w − v0), out[coin + x] = w/(1+m) − v0
 * with 1+m = growth[g0 + x]. A function of its own so the hot loop stays monomorphic and optimised.
 */
export function assembleMovedRow(
  w: Float32Array,
  w0: number,
  n: number,
  F: number,
  v0: number,
  growth: Float64Array,
  g0: number,
  out: Float32Array,
  usd: number,
  coin: number,
): void {
  for (let x = 0; x < n; x++) {
    const v = w[w0 + x]!;
    out[usd + x] = F * (v - v0);
    out[coin + x] = v / growth[g0 + x]! - v0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// device form under sticky moneyness (float32, gpu.js)
// ---------------------------------------------------------------------------------------------------------
//
// Sticky moneyness (docs/methodology.md §11c) makes σ depend on the scenario's move, so σ'_up and σ'_down
// cannot be precomputed per instrument: the kernel gets the slice parameters as inputs, in a second
// instrument table packed on the host (packSurfaceTable):
//   surf[i] = [a, b, ρ, m, σ_svi, x0, cu, cd]   cu = volRangeUp·f(d), cd = volRangeDown·f(d) (§2, base T)
// and per cell evaluates the slice at x0 and x0 − ln(1+m) (the SVI arithmetic inlined: gpu.js issue #207,
// see kernels/source.ts), σ_m = max(σ + vol(x0 − ln(1+m)) − vol(x0), 0.01) (σ itself when they are equal),
// then the rule of the scenario row's column on σ_m:
//   col 3 (up)  σ_m + max(σ_m, minVolForShockUp)·cu     col 5 (down)  max(σ_m·(1 − cd), 0.01)
//   col 4       σ_m·g                                   col 6         max(σ_m·g, 0.01)
// which is shockedVol(σ_m, …) of every rule. The instrument table is packInstrumentTable's (its σ'_up/down
// columns unused).

/** Columns of a packed surface row (packSurfaceTable). */
export const SURFACE_TABLE_ROW = 8;

/**
 * Moved value w of one option under one scenario with sticky moneyness (units of the base forward), float32
 * device helper: the instrument's ±k, T, r, σ, its slice (a, b, ρ, m, sig), x0 = ln k, cu, cd, the run's
 * minVolForShockUp and the scenario row (growth = 1+m, dt, col, g). See the section comment.
 */
export function movedValueSurface32(
  kc: number,
  t: number,
  rate: number,
  sigma: number,
  a: number,
  b: number,
  rho: number,
  m: number,
  sig: number,
  x0: number,
  cu: number,
  cd: number,
  minVol: number,
  growth: number,
  dt: number,
  col: number,
  g: number,
): number {
  const d0 = x0 - m;
  const d1 = x0 - Math.log(growth) - m;
  let vol0 = 0.0;
  let vol1 = 0.0;
  if (t > 0.0) {
    vol0 = Math.sqrt(Math.max(a + b * (rho * d0 + Math.sqrt(d0 * d0 + sig * sig)), 0.0) / t);
    vol1 = Math.sqrt(Math.max(a + b * (rho * d1 + Math.sqrt(d1 * d1 + sig * sig)), 0.0) / t);
  }
  let sm = sigma;
  if (vol1 != vol0) {
    sm = Math.max(sigma + (vol1 - vol0), 0.01);
  }
  const t1 = Math.max(t - dt, 0.0);
  const wUp = Math.max(1.0 - Math.abs(col - 3.0), 0.0);
  const wDown = Math.max(1.0 - Math.abs(col - 5.0), 0.0);
  const up = sm + Math.max(sm, minVol) * cu;
  const down = Math.max(sm * (1.0 - cd), 0.01);
  const scaled = Math.max(sm * g, 0.01 * Math.max(col - 5.0, 0.0));
  const shocked = wUp * up + wDown * down + (1.0 - wUp - wDown) * scaled;
  let isCall = 0.0;
  if (kc > 0.0) {
    isCall = 1.0;
  }
  return growth * Math.exp(-rate * t1) * black76Norm32(isCall, Math.abs(kc) / growth, shocked * Math.sqrt(t1));
}

/**
 * {@link movedValueKernel} under sticky moneyness: the moved values w of instrument i0 + thread.y under the
 * four scenarios s0 + 4·thread.x + (0, 1, 2, 3); `surf` the packed surface table, minVol the run's
 * minVolForShockUp.
 */
export function movedValueSurfaceKernel(
  this: { thread: { x: number; y: number } },
  inst: number[][],
  surf: number[][],
  scen: number[][],
  i0: number,
  s0: number,
  instrumentCount: number,
  scenarioCount: number,
  underlyingCount: number,
  minVol: number,
): number[] {
  const i = Math.min(i0 + this.thread.y, instrumentCount - 1.0);
  const kc = inst[i][0];
  const t = inst[i][1];
  const rate = inst[i][2];
  const sigma = inst[i][4];
  const u = inst[i][7];
  const a = surf[i][0];
  const b = surf[i][1];
  const rho = surf[i][2];
  const m = surf[i][3];
  const sig = surf[i][4];
  const x0 = surf[i][5];
  const cu = surf[i][6];
  const cd = surf[i][7];
  const sa = s0 + 4.0 * this.thread.x;
  const last = scenarioCount - 1.0;
  const j0 = Math.min(sa, last) * underlyingCount + u;
  const j1 = Math.min(sa + 1.0, last) * underlyingCount + u;
  const j2 = Math.min(sa + 2.0, last) * underlyingCount + u;
  const j3 = Math.min(sa + 3.0, last) * underlyingCount + u;
  return [
    movedValueSurface32(
      kc,
      t,
      rate,
      sigma,
      a,
      b,
      rho,
      m,
      sig,
      x0,
      cu,
      cd,
      minVol,
      scen[j0][0],
      scen[j0][1],
      scen[j0][2],
      scen[j0][3],
    ),
    movedValueSurface32(
      kc,
      t,
      rate,
      sigma,
      a,
      b,
      rho,
      m,
      sig,
      x0,
      cu,
      cd,
      minVol,
      scen[j1][0],
      scen[j1][1],
      scen[j1][2],
      scen[j1][3],
    ),
    movedValueSurface32(
      kc,
      t,
      rate,
      sigma,
      a,
      b,
      rho,
      m,
      sig,
      x0,
      cu,
      cd,
      minVol,
      scen[j2][0],
      scen[j2][1],
      scen[j2][2],
      scen[j2][3],
    ),
    movedValueSurface32(
      kc,
      t,
      rate,
      sigma,
      a,
      b,
      rho,
      m,
      sig,
      x0,
      cu,
      cd,
      minVol,
      scen[j3][0],
      scen[j3][1],
      scen[j3][2],
      scen[j3][3],
    ),
  ];
}

/**
 * The packed surface table for the options `opts`, flat [o · SURFACE_TABLE_ROW + col]: [a, b, ρ, m, σ_svi,
 * x0, cu, cd], cu = volRangeUp·f(d), cd = volRangeDown·f(d) in float64 (f of docs/methodology.md §2 on the
 * base T). Needs c.surface.
 */
export function packSurfaceTable(c: RevalueColumns, opts: Int32Array): Float32Array {
  const surf = c.surface!;
  const t = new Float32Array(opts.length * SURFACE_TABLE_ROW);
  for (let o = 0; o < opts.length; o++) {
    const i = opts[o]!;
    const days = 365.0 * c.tYears[i]!;
    const f = Math.pow(30.0 / Math.max(days, 1.0), days < 30.0 ? c.shortTermVegaPower : c.longTermVegaPower);
    const b = o * SURFACE_TABLE_ROW;
    const sb = i * SURFACE_ROW;
    for (let j = 0; j < 6; j++) t[b + j] = surf[sb + j]!;
    t[b + 6] = c.volRangeUp[i]! * f;
    t[b + 7] = c.volRangeDown * f;
  }
  return t;
}
