/**
 * Black-76 on a forward, in the scalar subset gpu.js transpiles (docs/methodology.md §1).
 *
 * Normalised units: forward 1, moneyness k = K/F, total standard deviation sd = σ√T; a normalised price is
 * a fraction of the forward (multiply by F for USD; it is itself the coin price of an inverse option).
 * The out-of-the-money side is computed directly and the in-the-money one by put–call parity
 * (C − P = 1 − k), so a float32 device keeps ~7 significant digits of the forward on both sides.
 * At sd < 1e-12 (T = 0) the value is the intrinsic value.
 *
 * `isCall` is numeric: 1 call, 0 put (anything > 0.5 is a call).
 *
 * | form           | precision | functions                                                 | runs on           |
 * | -------------- | --------- | --------------------------------------------------------- | ----------------- |
 * | reference, cpu | float64   | black76Norm, black76DeltaNorm, black76GammaNorm, …VegaNorm | in-process, pool  |
 * | device         | float32   | black76Norm32, black76DeltaNorm32 (+ GammaNorm, VegaNorm)  | gpu.js gl, webgpu |
 *
 * The reference IS the cpu form (src/pricing/priceBatch.ts `cpu`, kernels/revalue.ts). The device forms
 * differ only in the normal CDF (kernels/normal.ts normCdf32, float32-safe); gamma and vega need no twin
 * (φ has no cancellation). The dollar forms at the end (black76Price, …) are float64 host helpers.
 */
import { normCdf, normCdf32, normPdf } from './normal.js';

/**
 * Undiscounted normalised Black-76 price (float64): C/F or P/F for forward 1, moneyness k = K/F, total std
 * sd = σ√T. Intrinsic value max(±(1 − k), 0) when sd < 1e-12. Non-negative, in units of the forward.
 */
export function black76Norm(isCall: number, k: number, sd: number): number {
  let price = 0.0 * k;
  if (sd < 1e-12) {
    if (isCall > 0.5) {
      price = Math.max(1.0 - k, 0.0);
    } else {
      price = Math.max(k - 1.0, 0.0);
    }
  } else {
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    const d2 = d1 - sd;
    let otm = 0.0 * k;
    if (k >= 1.0) {
      // out-of-the-money call
      otm = normCdf(d1) - k * normCdf(d2);
    } else {
      // out-of-the-money put
      otm = k * normCdf(-d2) - normCdf(-d1);
    }
    otm = Math.max(otm, 0.0);
    if (isCall > 0.5) {
      price = otm + Math.max(1.0 - k, 0.0);
    } else {
      price = otm + Math.max(k - 1.0, 0.0);
    }
  }
  return price;
}

/**
 * float32-safe twin of {@link black76Norm}; same units and conventions. N(x) is Numerical Recipes' erfcc
 * (as {@link normCdf32}) written inline, so this function calls no other: gpu.js (issue #207) re-orders a
 * callee reached on two paths (e.g. from revalueNormalised32 and revalueCoin32 in one kernel) without its
 * own callees, so every device function that may be shared is kept a leaf.
 */
export function black76Norm32(isCall: number, k: number, sd: number): number {
  let price = 0.0 * k;
  if (sd < 1e-12) {
    if (isCall > 0.5) {
      price = Math.max(1.0 - k, 0.0);
    } else {
      price = Math.max(k - 1.0, 0.0);
    }
  } else {
    let d1 = -Math.log(k) / sd + 0.5 * sd;
    let d2 = d1 - sd;
    if (k < 1.0) {
      // out-of-the-money put: k·N(−d2) − N(−d1)
      d1 = -d1;
      d2 = -d2;
    }
    // N(d1), N(d2) by erfcc: tail = erfc(|x|/√2)/2, N(x) = tail for x ≤ 0, 1 − tail otherwise
    const z1 = Math.abs(d1) * 0.7071067811865476;
    const t1 = 1.0 / (1.0 + 0.5 * z1);
    const tail1 =
      0.5 *
      t1 *
      Math.exp(
        -z1 * z1 -
          1.26551223 +
          t1 *
            (1.00002368 +
              t1 *
                (0.37409196 +
                  t1 *
                    (0.09678418 +
                      t1 *
                        (-0.18628806 +
                          t1 *
                            (0.27886807 +
                              t1 * (-1.13520398 + t1 * (1.48851587 + t1 * (-0.82215223 + t1 * 0.17087277)))))))),
      );
    const z2 = Math.abs(d2) * 0.7071067811865476;
    const t2 = 1.0 / (1.0 + 0.5 * z2);
    const tail2 =
      0.5 *
      t2 *
      Math.exp(
        -z2 * z2 -
          1.26551223 +
          t2 *
            (1.00002368 +
              t2 *
                (0.37409196 +
                  t2 *
                    (0.09678418 +
                      t2 *
                        (-0.18628806 +
                          t2 *
                            (0.27886807 +
                              t2 * (-1.13520398 + t2 * (1.48851587 + t2 * (-0.82215223 + t2 * 0.17087277)))))))),
      );
    let n1 = tail1;
    if (d1 > 0.0) {
      n1 = 1.0 - tail1;
    }
    let n2 = tail2;
    if (d2 > 0.0) {
      n2 = 1.0 - tail2;
    }
    let otm = n1 - k * n2;
    if (k < 1.0) {
      otm = k * n2 - n1;
    }
    otm = Math.max(otm, 0.0);
    if (isCall > 0.5) {
      price = otm + Math.max(1.0 - k, 0.0);
    } else {
      price = otm + Math.max(k - 1.0, 0.0);
    }
  }
  return price;
}

/**
 * Undiscounted forward delta ∂(price/F)/∂F·F = ∂price/∂F (dimensionless): N(d1) for a call, −N(−d1) for a
 * put. At sd < 1e-12: the intrinsic slope (±1 in the money, 0 out, ±1/2 at the money).
 */
export function black76DeltaNorm(isCall: number, k: number, sd: number): number {
  let delta = 0.0 * k;
  if (sd < 1e-12) {
    let itm = 0.0 * k;
    if (k < 1.0) {
      itm = 1.0;
    } else if (k == 1.0) {
      itm = 0.5;
    }
    if (isCall > 0.5) {
      delta = itm;
    } else {
      delta = itm - 1.0;
    }
  } else {
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    if (isCall > 0.5) {
      delta = normCdf(d1);
    } else {
      delta = -normCdf(-d1);
    }
  }
  return delta;
}

/** float32-safe twin of {@link black76DeltaNorm} (uses normCdf32); same units and conventions. */
export function black76DeltaNorm32(isCall: number, k: number, sd: number): number {
  let delta = 0.0 * k;
  if (sd < 1e-12) {
    let itm = 0.0 * k;
    if (k < 1.0) {
      itm = 1.0;
    } else if (k == 1.0) {
      itm = 0.5;
    }
    if (isCall > 0.5) {
      delta = itm;
    } else {
      delta = itm - 1.0;
    }
  } else {
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    if (isCall > 0.5) {
      delta = normCdf32(d1);
    } else {
      delta = -normCdf32(-d1);
    }
  }
  return delta;
}

/**
 * Undiscounted normalised gamma: F · ∂²price/∂F² = φ(d1)/sd (same for calls and puts); divide by F for
 * the USD gamma per USD of forward. 0 when sd < 1e-12.
 */
export function black76GammaNorm(k: number, sd: number): number {
  let gamma = 0.0 * k;
  if (sd >= 1e-12) {
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    gamma = normPdf(d1) / sd;
  }
  return gamma;
}

/**
 * Undiscounted normalised vega per unit of total std: ∂(price/F)/∂sd = φ(d1) (calls and puts); multiply
 * by F·√T for the USD vega per 1.00 of vol. 0 when sd < 1e-12.
 */
export function black76VegaNorm(k: number, sd: number): number {
  let vega = 0.0 * k;
  if (sd >= 1e-12) {
    const d1 = -Math.log(k) / sd + 0.5 * sd;
    vega = normPdf(d1);
  }
  return vega;
}

/** Discount factor e^{−r·T} (r continuously compounded per year, T in years). */
export function discountFactor(rate: number, tYears: number): number {
  return Math.exp(-rate * tYears);
}

/**
 * Black-76 price in USD (float64) of one unit of underlying: discount · F · black76Norm(K/F, σ√T).
 * F, K in USD; T in years (≤ 0: intrinsic); σ per year (decimal); discount the factor applied (e^{−rT}).
 */
export function black76Price(isCall: number, F: number, K: number, T: number, sigma: number, discount: number): number {
  return discount * F * black76Norm(isCall, K / F, sigma * Math.sqrt(Math.max(T, 0.0)));
}

/** Coin price of an inverse option: black76Price / F, in coin per unit of underlying (discounted). */
export function black76PriceCoin(
  isCall: number,
  F: number,
  K: number,
  T: number,
  sigma: number,
  discount: number,
): number {
  return discount * black76Norm(isCall, K / F, sigma * Math.sqrt(Math.max(T, 0.0)));
}

/** Forward delta ∂price/∂F (USD per USD, discounted): discount · N(d1) (call) or −discount · N(−d1) (put). */
export function black76Delta(isCall: number, F: number, K: number, T: number, sigma: number, discount: number): number {
  return discount * black76DeltaNorm(isCall, K / F, sigma * Math.sqrt(Math.max(T, 0.0)));
}

/** Forward gamma ∂²price/∂F² (per USD, discounted): discount · φ(d1)/(F·σ√T); 0 at expiry. */
export function black76Gamma(F: number, K: number, T: number, sigma: number, discount: number): number {
  return (discount * black76GammaNorm(K / F, sigma * Math.sqrt(Math.max(T, 0.0)))) / F;
}

/** Vega ∂price/∂σ in USD per 1.00 (100 points) of vol, discounted: discount · F · φ(d1) · √T; 0 at expiry. */
export function black76Vega(F: number, K: number, T: number, sigma: number, discount: number): number {
  const rootT = Math.sqrt(Math.max(T, 0.0));
  return discount * F * black76VegaNorm(K / F, sigma * rootT) * rootT;
}
