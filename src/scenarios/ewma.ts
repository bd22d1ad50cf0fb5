/**
 * EWMA (RiskMetrics) variance and covariance of daily log returns (docs/methodology.md §3c, 3d).
 */

/**
 * EWMA variance of the daily log returns d[i] = ln(P[i]/P[i−1]) (i ≥ 1) of a gap-free series of closes:
 * v[seed] = mean(d[1..seed]²), then v[i] = λ·v[i−1] + (1−λ)·d[i]². Returns v aligned with the closes
 * (NaN for i < seed). Units: squared daily log return.
 */
export function ewmaVariance(close: Float64Array, lambda: number, seedDays: number): Float64Array {
  const n = close.length;
  const v = new Float64Array(n).fill(NaN);
  if (n <= seedDays) return v;
  let sum = 0;
  for (let i = 1; i <= seedDays; i++) {
    const d = Math.log(close[i]! / close[i - 1]!);
    sum += d * d;
  }
  v[seedDays] = sum / seedDays;
  for (let i = seedDays + 1; i < n; i++) {
    const d = Math.log(close[i]! / close[i - 1]!);
    v[i] = lambda * v[i - 1]! + (1 - lambda) * d * d;
  }
  return v;
}

/**
 * EWMA covariance of daily log returns of U series on common days: `returns` is day-major [t·U + u]
 * (T days). C = mean of the first `seedDays` outer products, then C = λ·C + (1−λ)·d dᵀ for each later day.
 * Returns the U×U matrix (row-major) at the last day. Units: squared daily log return.
 * @throws Error when T < seedDays.
 */
export function ewmaCovariance(returns: Float64Array, U: number, lambda: number, seedDays: number): Float64Array {
  const T = returns.length / U;
  if (T < seedDays) throw new Error(`EWMA covariance needs ${seedDays} returns, has ${T}`);
  const c = new Float64Array(U * U);
  for (let t = 0; t < seedDays; t++) {
    for (let a = 0; a < U; a++) for (let b = 0; b < U; b++) c[a * U + b] += returns[t * U + a]! * returns[t * U + b]!;
  }
  for (let k = 0; k < U * U; k++) c[k] /= seedDays;
  for (let t = seedDays; t < T; t++) {
    for (let a = 0; a < U; a++)
      for (let b = 0; b < U; b++) {
        c[a * U + b] = lambda * c[a * U + b]! + (1 - lambda) * returns[t * U + a]! * returns[t * U + b]!;
      }
  }
  return c;
}
