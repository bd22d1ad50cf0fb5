/**
 * Scenario revaluation of one instrument under one scenario (METHODOLOGY.md 1–2), in the scalar subset
 * gpu.js transpiles. Results are in units of the instrument's base forward F: the host multiplies by F
 * (USD rows) in float64. Vol rule codes are src/scenarios/types.ts VOL_*; kind codes src/model/market.ts
 * KIND_* (0 option, 1 future, 2 perpetual).
 *
 * `*32` twins call the float32-safe Black-76 and are what the device kernels use; the plain forms are the
 * float64 reference the CPU workers call.
 */
import { black76Norm, black76Norm32 } from './black76.js';

/**
 * Shocked implied vol σ' of METHODOLOGY.md 2 (decimal per year).
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
    const base = Math.exp(-rate * tYears) * black76Norm(isCall, k, sigma * Math.sqrt(Math.max(tYears, 0.0)));
    const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / growth, shocked * Math.sqrt(t1));
    pnl = growth * moved - base;
  }
  return pnl;
}

/** float32-safe twin of {@link revalueNormalised} (calls black76Norm32); same arguments, units and sign. */
export function revalueNormalised32(
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
    const base = Math.exp(-rate * tYears) * black76Norm32(isCall, k, sigma * Math.sqrt(Math.max(tYears, 0.0)));
    const moved = Math.exp(-rate * t1) * black76Norm32(isCall, k / growth, shocked * Math.sqrt(t1));
    pnl = growth * moved - base;
  }
  return pnl;
}

/**
 * Coin P&L per unit of underlying (inverse instruments, METHODOLOGY.md 1): option
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
    const base = Math.exp(-rate * tYears) * black76Norm(isCall, k, sigma * Math.sqrt(Math.max(tYears, 0.0)));
    const moved = Math.exp(-rate * t1) * black76Norm(isCall, k / (1.0 + move), shocked * Math.sqrt(t1));
    pnl = moved - base;
  }
  return pnl;
}

/** float32-safe twin of {@link revalueCoin} (calls black76Norm32); same arguments, units and sign. */
export function revalueCoin32(
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
    const base = Math.exp(-rate * tYears) * black76Norm32(isCall, k, sigma * Math.sqrt(Math.max(tYears, 0.0)));
    const moved = Math.exp(-rate * t1) * black76Norm32(isCall, k / (1.0 + move), shocked * Math.sqrt(t1));
    pnl = moved - base;
  }
  return pnl;
}
