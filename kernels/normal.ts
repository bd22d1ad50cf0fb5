/**
 * The standard normal distribution: density and cumulative distribution function, in the scalar subset
 * gpu.js transpiles (plain function declarations, numeric arguments, no arrays, no objects).
 *
 * - `normCdf` is the float64 reference: W. J. Cody's rational Chebyshev approximations ("Rational
 *   Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631–637; the coefficients of
 *   his ANORM routine, SPECFUN / TOMS Algorithm 715, as used by R's `pnorm`), relative error ~1e-16 on
 *   both tails. Each tail is computed directly (never 1 − N(x) for the small side).
 * - `normCdf32` is the float32-safe device form: Numerical Recipes' Chebyshev fit `erfcc` (Press et al.,
 *   Numerical Recipes in C, 2nd ed., §6.2), fractional error < 1.2e-7 everywhere, branch-free apart
 *   from the sign; the lower tail is computed directly.
 */

/** Standard normal density φ(x) = e^{−x²/2}/√(2π). Dimensionless. */
export function normPdf(x: number): number {
  return 0.3989422804014327 * Math.exp(-0.5 * x * x);
}

/**
 * e^{−s²/2} at s = j/16 for j = 0 … 640 (s up to 40, past N's underflow at ≈ 38.5): {@link normCdf}'s first tail
 * factor, each entry the expression normCdf evaluated per call, so reading it gives the same bits with one
 * Math.exp fewer per call (test/kernels/normal.test.ts). Host memory, read by the float64 form only (normCdf is
 * never handed to gpu.js: kernels/source.ts).
 */
export const EXP_HALF_SQUARE = Float64Array.from({ length: 641 }, (_, j) => {
  const s = j / 16.0;
  return Math.exp(-0.5 * s * s);
});

/**
 * Standard normal CDF N(x), float64-accurate (Cody 1969 / TOMS 715 ANORM, ~1e-16 relative on both tails).
 * Dimensionless, in [0, 1]; N(x) underflows to 0 below x ≈ −38.5.
 */
export function normCdf(x: number): number {
  const y = Math.abs(x);
  let lower = 0.5;
  if (y <= 0.67448975) {
    // |x| small: N(x) = 1/2 + x·R(x²)
    const xsq = x * x;
    let xnum = 0.065682337918207449113 * xsq;
    let xden = xsq;
    xnum = (xnum + 2.2352520354606839287) * xsq;
    xden = (xden + 47.20258190468824187) * xsq;
    xnum = (xnum + 161.02823106855587881) * xsq;
    xden = (xden + 976.09855173777669322) * xsq;
    xnum = (xnum + 1067.6894854603709582) * xsq;
    xden = (xden + 10260.932208618978205) * xsq;
    const temp = (x * (xnum + 18154.981253343561249)) / (xden + 45507.789335026729956);
    lower = 0.5 + temp;
  } else {
    let tail = 0.0 * y;
    if (y <= 5.656854249492380195) {
      // 0.674 < |x| ≤ √32: tail = e^{−x²/2}·R(|x|)
      let xnum = 1.0765576773720192317e-8 * y;
      let xden = y;
      xnum = (xnum + 0.39894151208813466764) * y;
      xden = (xden + 22.266688044328115691) * y;
      xnum = (xnum + 8.8831497943883759412) * y;
      xden = (xden + 235.38790178262499861) * y;
      xnum = (xnum + 93.506656132177855979) * y;
      xden = (xden + 1519.377599407554805) * y;
      xnum = (xnum + 597.27027639480026226) * y;
      xden = (xden + 6485.558298266760755) * y;
      xnum = (xnum + 2494.5375852903726711) * y;
      xden = (xden + 18615.571640885098091) * y;
      xnum = (xnum + 6848.1904505362823326) * y;
      xden = (xden + 34900.952721145977266) * y;
      xnum = (xnum + 11602.651437647350124) * y;
      xden = (xden + 38912.003286093271411) * y;
      const r = (xnum + 9842.7148383839780218) / (xden + 19685.429676859990727);
      // e^{−y²/2} split as e^{−s²/2}·e^{−(y−s)(y+s)/2}, s = y rounded down to 1/16, to keep every digit
      const j = Math.floor(y * 16.0);
      const s = j / 16.0;
      const del = (y - s) * (y + s);
      tail = EXP_HALF_SQUARE[j]! * Math.exp(-0.5 * del) * r;
    } else {
      // |x| > √32: asymptotic form tail = e^{−x²/2}/|x| · (1/√(2π) − R(1/x²)/x²)
      const xsq = 1.0 / (y * y);
      let xnum = 0.02307344176494017303 * xsq;
      let xden = xsq;
      xnum = (xnum + 0.21589853405795699) * xsq;
      xden = (xden + 1.28426009614491121) * xsq;
      xnum = (xnum + 0.1274011611602473639) * xsq;
      xden = (xden + 0.468238212480865118) * xsq;
      xnum = (xnum + 0.022235277870649807) * xsq;
      xden = (xden + 0.0659881378689285515) * xsq;
      xnum = (xnum + 0.001421619193227893466) * xsq;
      xden = (xden + 0.00378239633202758244) * xsq;
      const r = (xsq * (xnum + 2.9112874951168792e-5)) / (xden + 7.29751555083966205e-5);
      const j = Math.floor(y * 16.0);
      const s = j / 16.0;
      const del = (y - s) * (y + s);
      const first = j < EXP_HALF_SQUARE.length ? EXP_HALF_SQUARE[j]! : Math.exp(-0.5 * s * s);
      tail = first * Math.exp(-0.5 * del) * ((0.3989422804014327 - r) / y);
    }
    if (x > 0.0) {
      lower = 1.0 - tail;
    } else {
      lower = tail;
    }
  }
  return lower;
}

/**
 * Standard normal CDF N(x) in a float32-safe form (Numerical Recipes `erfcc`, fractional error < 1.2e-7
 * of the smaller tail, i.e. absolute error < 1.2e-7). N(x) = erfc(−x/√2)/2; for x < 0 the tail is the
 * direct Chebyshev value, never 1 − N(|x|). Dimensionless.
 */
export function normCdf32(x: number): number {
  const z = Math.abs(x) * 0.7071067811865476;
  const t = 1.0 / (1.0 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const tail = 0.5 * t * Math.exp(poly - z * z);
  let lower = tail;
  if (x > 0.0) {
    lower = 1.0 - tail;
  }
  return lower;
}
