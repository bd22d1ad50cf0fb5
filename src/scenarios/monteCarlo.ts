/**
 * The `monte-carlo` scenario family (docs/methodology.md §3d): joint h-day log returns from a multivariate
 * Student-t fitted to the EWMA covariance at the last history date.
 */
import { InputError, fileError } from '../errors.js';
import { commonSpan } from '../history/commonSpan.js';
import { dayOfMs, formatDay } from '../history/dates.js';
import type { History } from '../history/types.js';
import type { Market } from '../model/market.js';
import { forUnderlying, type Params } from '../params/params.js';
import { allocateSet } from './allocate.js';
import { cholesky } from './cholesky.js';
import { ewmaCovariance } from './ewma.js';
import { Xoshiro128ss } from './prng.js';
import { VOL_MULT, type ScenarioSet } from './types.js';

/** The covariance a Monte Carlo set targets, and the day it is taken at. */
export interface McCalibration {
  /** U×U row-major: h × EWMA covariance of daily log returns (squared h-day log return) */
  covariance: Float64Array;
  /** the Cholesky factor of `covariance` */
  cholesky: Float64Array;
  firstDate: string;
  lastDate: string;
}

/**
 * The target covariance: daily log returns of every underlying on the days they all have closes (the
 * common, gap-free span, ending at the last one dated on or before the snapshot's UTC date); EWMA
 * covariance (λ = `ewmaLambda`) seeded by the mean of the first `ewmaSeedDays` outer products of that
 * common span; scaled by h = `horizonDays`.
 * @throws InputError when the common span has fewer than `ewmaSeedDays` returns, or the covariance is not
 *   positive definite.
 */
export function calibrateMonteCarlo(market: Market, params: Params, history: History): McCalibration {
  const vp = params.var;
  const us = market.underlyings;
  const U = us.length;
  const snapDay = dayOfMs(market.snapshotTimeMs);
  const { series, first: start, last: end, limiting } = commonSpan(history, us, snapDay, 0);
  const T = end - start; // returns on days start+1..end
  if (!(T >= vp.ewmaSeedDays)) {
    throw fileError(
      limiting.file,
      `does not reach back far enough: Monte Carlo needs ${vp.ewmaSeedDays + 1} common daily closes of ${us.join(', ')} on or before ${formatDay(snapDay)}, has ${Math.max(0, T + 1)}`,
    );
  }
  const d = new Float64Array(T * U);
  for (let u = 0; u < U; u++) {
    const s = series[u]!;
    for (let k = 0; k < T; k++) {
      const i = start + 1 + k - s.day[0]!;
      d[k * U + u] = Math.log(s.close[i]! / s.close[i - 1]!);
    }
  }
  const c = ewmaCovariance(d, U, vp.ewmaLambda, vp.ewmaSeedDays);
  for (let k = 0; k < U * U; k++) c[k] *= vp.horizonDays;
  const l = cholesky(c, U);
  if (!l)
    throw new InputError({
      file: history.dir,
      row: null,
      column: null,
      value: null,
      rule: `the EWMA covariance of ${us.join(', ')} at ${formatDay(end)} is not positive definite: Monte Carlo scenarios cannot be drawn`,
    });
  return { covariance: c, cholesky: l, firstDate: formatDay(start), lastDate: formatDay(end) };
}

/**
 * Builds N = `count` (default `mcScenarios`) scenarios with seed `seed` (default `mcSeed`):
 * r = sqrt((ν−2)/ν) · L z / sqrt(χ²_ν/ν), z ~ N(0, I_U), χ²_ν = a sum of ν squared standard normals
 * (ν = `mcDegreesOfFreedom`); move m = e^r − 1 (relative, options and delta-one alike); vol rule `mult`
 * with g = exp(β_u · r_u), β_u = `volPriceElasticity`. Draw order per scenario: the U normals of z, then
 * the ν normals of χ², from one {@link Xoshiro128ss} stream (single-threaded: bit-identical everywhere).
 * Weight 1, Δt = 0, label `mc <s>`. meta: seed, generator, covariance, dates.
 * @throws InputError as {@link calibrateMonteCarlo}.
 */
export function buildMonteCarlo(
  market: Market,
  params: Params,
  history: History,
  count?: number,
  seed?: number,
): ScenarioSet {
  const vp = params.var;
  const N = count ?? vp.mcScenarios;
  const sd = seed ?? vp.mcSeed;
  const nu = vp.mcDegreesOfFreedom;
  const us = market.underlyings;
  const U = us.length;
  const cal = calibrateMonteCarlo(market, params, history);
  const L = cal.cholesky;
  const beta = us.map((u) => forUnderlying(vp.volPriceElasticity, u));
  const rng = new Xoshiro128ss(sd);
  const set = allocateSet('monte-carlo', N, us);
  const z = new Float64Array(U);
  const scale0 = nu - 2;
  for (let s = 0; s < N; s++) {
    for (let u = 0; u < U; u++) z[u] = rng.nextNormal();
    let chi2 = 0;
    for (let k = 0; k < nu; k++) {
      const e = rng.nextNormal();
      chi2 += e * e;
    }
    const scale = Math.sqrt(scale0 / chi2);
    for (let a = 0; a < U; a++) {
      let lz = 0;
      for (let b = 0; b <= a; b++) lz += L[a * U + b]! * z[b]!;
      const r = scale * lz;
      const x = s * U + a;
      set.move[x] = Math.expm1(r);
      set.deltaOneMove[x] = set.move[x]!;
      set.volRule[x] = VOL_MULT;
      set.volParam[x] = Math.exp(beta[a]! * r);
    }
    set.label[s] = `mc ${s}`;
  }
  set.meta = {
    family: 'monte-carlo',
    seed: sd,
    generator: 'xoshiro128** seeded by SplitMix32; normals by Marsaglia polar; chi2 = sum of nu squared normals',
    degreesOfFreedom: nu,
    horizonDays: vp.horizonDays,
    ewmaLambda: vp.ewmaLambda,
    covariance: Array.from(cal.covariance),
    volPriceElasticity: Object.fromEntries(us.map((u, i) => [u, beta[i]])),
    firstDate: cal.firstDate,
    lastDate: cal.lastDate,
    historyDir: history.dir,
  };
  return set;
}
