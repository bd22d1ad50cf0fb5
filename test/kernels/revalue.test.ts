/**
 * Scenario revaluation (docs/methodology.md §1–2): every vol rule of shockedVol against a hand computation
 * (values worked out with Python from the formulas of docs/methodology.md §2, Deribit default parameters of
 * src/params/params.ts: vol_range_up 0.5, vol_range_down 0.25, short/long vega power 0.3/0.13,
 * min_vol_for_shock_up 0.5), the option P&L against the USD formula V(F',K,T',σ') − V(F,K,T,σ), the
 * delta-one and coin forms, the time step, and the zero scenario (exactly 0).
 */
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { shockedVol, revalueNormalised, revalueCoin } from '../../kernels/revalue.js';
import { black76Price, discountFactor } from '../../kernels/black76.js';
import { VOL_UP, VOL_NONE, VOL_DOWN, VOL_REL_UP, VOL_REL_DOWN, VOL_MULT } from '../../src/scenarios/types.js';
import { KIND_OPTION, KIND_FUTURE, KIND_PERPETUAL } from '../../src/model/market.js';
import { expectClose } from '../helpers/expectClose.js';
import { readCsv } from './readCsv.js';

const UP = 0.5,
  DOWN = 0.25,
  MINUP = 0.5,
  SHORT = 0.3,
  LONG = 0.13;
const Y = 365;

describe('shockedVol: every rule against a hand computation', () => {
  test.each([
    // [case, σ, days, rule, param, expected σ']
    ['up, short term (d=7.3 < 30), σ below min_vol_for_shock_up', 0.4, 7.3, VOL_UP, 1, 0.7820142180402526],
    ['up, long term (d=90), σ above the minimum', 0.8, 90, VOL_UP, 1, 1.1467641790313015],
    ['up, d < 1 day uses max(d, 1) = 1', 0.3, 0.25, VOL_UP, 1, 0.9935477786680453],
    ['up, d = 30 exactly takes the long-term power (f = 1)', 0.6, 30, VOL_UP, 1, 0.8999999999999999],
    ['down, short term', 0.4, 7.3, VOL_DOWN, 1, 0.24719431278389897],
    ['down, d = 30 (f = 1)', 0.4, 30, VOL_DOWN, 1, 0.30000000000000004],
    ['down, floored at 0.01', 0.02, 0.2, VOL_DOWN, 1, 0.01],
    ['none', 0.55, 12, VOL_NONE, 1.7, 0.55],
    ['relative up (vsr 0.3)', 0.5, 12, VOL_REL_UP, 0.3, 0.65],
    ['relative down (vsr 0.3)', 0.5, 12, VOL_REL_DOWN, 0.3, 0.35],
    ['relative down floored at 0.01', 0.5, 12, VOL_REL_DOWN, 0.99, 0.01],
    ['multiplier g = 1.7', 0.5, 200, VOL_MULT, 1.7, 0.85],
    ['multiplier g = 0.5', 0.5, 2, VOL_MULT, 0.5, 0.25],
  ])('%s', (_name, sigma, days, rule, param, expected) => {
    expectClose(shockedVol(sigma, days / Y, rule, param, UP, DOWN, MINUP, SHORT, LONG), expected, 1e-15, {
      sigma,
      days,
      rule,
      param,
    });
  });
});

/** V(F', K, T', σ') − V(F, K, T, σ) in USD, written from docs/methodology.md §1 with the USD wrapper. */
function usdPnl(
  isCall: number,
  F: number,
  K: number,
  T: number,
  sigma: number,
  r: number,
  m: number,
  sigma1: number,
  dt: number,
): number {
  const T1 = Math.max(T - dt, 0);
  return (
    black76Price(isCall, F * (1 + m), K, T1, sigma1, discountFactor(r, T1)) -
    black76Price(isCall, F, K, T, sigma, discountFactor(r, T))
  );
}

describe('revalueNormalised: option P&L per unit of underlying / F', () => {
  const F = 80000;
  test.each([
    // [isCall, K, days, σ, r, m, rule, param, dtDays, σ' by hand]
    [1, 90000, 7.3, 0.4, 0, -0.1, VOL_UP, 1, 0, 0.7820142180402526],
    [0, 70000, 7.3, 0.4, 0, 0.05, VOL_DOWN, 1, 0, 0.24719431278389897],
    [1, 80000, 12, 0.55, 0.03, 0.2, VOL_NONE, 1, 0, 0.55],
    [0, 85000, 12, 0.5, 0, -0.33, VOL_REL_UP, 0.3, 0, 0.65],
    [1, 60000, 12, 0.5, 0, 0.5, VOL_REL_DOWN, 0.3, 0, 0.35],
    [0, 100000, 200, 0.5, 0.05, -0.2, VOL_MULT, 1.7, 1, 0.85],
    [1, 78000, 3, 0.6, 0, 0.02, VOL_NONE, 1, 2, 0.6], // time step of 2 days
    [1, 72000, 1, 0.6, 0, 0.05, VOL_NONE, 1, 5, 0.6], // time step past expiry: intrinsic at F' = 84000
    [0, 72000, 1, 0.6, 0, 0.05, VOL_UP, 1, 5, 0.6 + 0.6 * 0.5 * 30 ** 0.3], // past expiry, OTM put: worth 0
  ])(
    'isCall=%i K=%f d=%f σ=%f r=%f m=%f rule=%i param=%f Δt=%f days',
    (isCall, K, days, sigma, r, m, rule, param, dtDays, sigma1) => {
      const T = days / Y;
      const dt = dtDays / Y;
      const got =
        F *
        revalueNormalised(KIND_OPTION, isCall, K / F, T, sigma, r, m, m, rule, param, dt, UP, DOWN, MINUP, SHORT, LONG);
      const expected = usdPnl(isCall, F, K, T, sigma, r, m, sigma1, dt);
      expectClose(got, expected, 1e-10 * F, { isCall, K, T, sigma, r, m, rule, param, dt, sigma1 });
      const coin = revalueCoin(
        KIND_OPTION,
        isCall,
        K / F,
        T,
        sigma,
        r,
        m,
        m,
        rule,
        param,
        dt,
        UP,
        DOWN,
        MINUP,
        SHORT,
        LONG,
      );
      const T1 = Math.max(T - dt, 0);
      const coinExpected =
        black76Price(isCall, F * (1 + m), K, T1, sigma1, discountFactor(r, T1)) / (F * (1 + m)) -
        black76Price(isCall, F, K, T, sigma, discountFactor(r, T)) / F;
      expectClose(coin, coinExpected, 1e-12, { isCall, K, T, sigma, r, m, rule, what: 'coin' });
    },
  );

  test("past expiry the moved value is the intrinsic value at F' (hand value)", () => {
    // call K = 72000, F' = 84000: 12000 USD; base value at d = 1, σ = 0.6 from the wrapper
    const base = black76Price(1, F, 72000, 1 / Y, 0.6, 1);
    expectClose(
      F *
        revalueNormalised(
          KIND_OPTION,
          1,
          0.9,
          1 / Y,
          0.6,
          0,
          0.05,
          0.05,
          VOL_NONE,
          1,
          5 / Y,
          UP,
          DOWN,
          MINUP,
          SHORT,
          LONG,
        ),
      12000 - base,
      1e-10 * F,
      {},
    );
  });
});

describe('delta-one instruments', () => {
  test.each([
    [KIND_FUTURE, 0.1],
    [KIND_FUTURE, -0.33],
    [KIND_PERPETUAL, 0.5],
    [KIND_PERPETUAL, -0.5],
    [KIND_FUTURE, 0],
  ])('kind %i, move %f: USD/F = m, coin = 1 − 1/(1+m)', (kind, m) => {
    // the option move is different on purpose: delta-one instruments take deltaOneMove (deribit-pm extended)
    expect(
      revalueNormalised(kind, 0, Number.NaN, 0.1, Number.NaN, 0, 3, m, VOL_UP, 1, 0, UP, DOWN, MINUP, SHORT, LONG),
    ).toBe(m);
    expectClose(
      revalueCoin(kind, 0, Number.NaN, 0.1, Number.NaN, 0, 3, m, VOL_UP, 1, 0, UP, DOWN, MINUP, SHORT, LONG),
      1 - 1 / (1 + m),
      1e-16,
      { kind, m },
    );
  });
});

const chain = readCsv(fileURLToPath(new URL('../fixtures/pricing/deribit_chain_sample.csv', import.meta.url))).map(
  (r) => ({
    name: r.instrument_name!,
    isCall: r.option_type === 'call' ? 1 : 0,
    k: +r.strike! / +r.futures_price!,
    T: +r.time_to_maturity!,
    sigma: +r.implied_volatility!,
  }),
);

describe('zero scenario (m = 0, vol none, Δt = 0) gives exactly 0 P&L', () => {
  test.each(chain)('$name', ({ isCall, k, T, sigma }) => {
    for (const fn of [revalueNormalised, revalueCoin]) {
      expect(fn(KIND_OPTION, isCall, k, T, sigma, 0.02, 0, 0, VOL_NONE, 1, 0, UP, DOWN, MINUP, SHORT, LONG)).toBe(0);
      expect(fn(KIND_OPTION, isCall, k, T, sigma, 0, 0, 0, VOL_MULT, 1, 0, UP, DOWN, MINUP, SHORT, LONG)).toBe(0);
    }
  });
});
