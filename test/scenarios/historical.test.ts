/**
 * historical (docs/methodology.md §3c) on a hand-computable mini-history: λ = 0.5, seed 2 returns, h = 1,
 * lookback 3. Every expected number below is worked out by hand in the comments.
 */
import { describe, expect, test } from 'vitest';
import { loadHistory } from '../../src/history/loadHistory.js';
import { defaultParams, type Params } from '../../src/params/params.js';
import { ewmaVariance } from '../../src/scenarios/ewma.js';
import { buildHistorical } from '../../src/scenarios/historical.js';
import { VOL_MULT } from '../../src/scenarios/types.js';
import { expectClose } from '../helpers/expectClose.js';
import { closesFromLogReturns, historyOf, marketOf, priceSeries, volSeries } from './fixtures.js';

// A: closes on 2024-01-01..07 (days 0..6), daily log returns d[1..6] = 0.1, −0.1, 0.2, 0, −0.2, 0.1.
// EWMA (λ 0.5, seed 2): v[2] = (0.01+0.01)/2 = 0.01; v[3] = 0.5·0.01+0.5·0.04 = 0.025;
// v[4] = 0.0125; v[5] = 0.5·0.0125+0.5·0.04 = 0.02625; v[6] = 0.5·0.02625+0.5·0.01 = 0.018125.
const A = priceSeries('A', '2024-01-01', closesFromLogReturns([0.1, -0.1, 0.2, 0, -0.2, 0.1]));
// B: closes on 2024-01-02..07 (one day later), d[1..5] = 0.05, 0.05, −0.1, 0.1, 0.
// v[2] (2024-01-04) = 0.0025; v[3] (01-05) = 0.00625; v[4] (01-06) = 0.008125; v[5] (01-07) = 0.0040625.
const B = priceSeries('B', '2024-01-02', closesFromLogReturns([0.05, 0.05, -0.1, 0.1, 0]));
// DVOL-like index for A on 01-03, 01-05, 01-07 only (01-04 and 01-06 missing: last value on or before).
const IA = volSeries('A', [
  ['2024-01-03', 50],
  ['2024-01-05', 60],
  ['2024-01-07', 45],
]);

function params(filtered: boolean, lookback = 3): Params {
  const p = defaultParams();
  p.var = { ...p.var, ewmaLambda: 0.5, ewmaSeedDays: 2, horizonDays: 1, lookbackDays: lookback, filtered };
  return p;
}
const market = marketOf(['A', 'B'], '2024-01-09T12:00:00Z');
const history = historyOf([A, B], [IA]);

describe('EWMA seeding', () => {
  test('v = mean of the first 2 squared returns, then λ-recursion', () => {
    const v = ewmaVariance(A.close, 0.5, 2);
    expect(Number.isNaN(v[0]!) && Number.isNaN(v[1]!)).toBe(true);
    [0.01, 0.025, 0.0125, 0.02625, 0.018125].forEach((e, k) => expectClose(v[k + 2]!, e, 1e-15, { k: k + 2 }));
  });
});

describe('window dates', () => {
  // A is usable from t = day 0 + seed 2 + h 1 = 01-04; B from 01-05. Common: 01-05, 01-06, 01-07.
  test('the last 3 dates at which every underlying has closes at t, t−h and v at t−h', () => {
    const set = buildHistorical(market, params(false), history);
    expect(set.label).toEqual(['2024-01-05', '2024-01-06', '2024-01-07']);
    expect(set.meta.firstDate).toBe('2024-01-05');
    expect(set.meta.lastDate).toBe('2024-01-07');
  });
  test('ending on or before the snapshot date', () => {
    const set = buildHistorical(marketOf(['A', 'B'], '2024-01-06T08:00:00Z'), params(false, 2), history);
    expect(set.label).toEqual(['2024-01-05', '2024-01-06']);
  });
  test('too short: names the file that limits the window and what is missing', () => {
    expect(() => buildHistorical(market, params(false, 4), history)).toThrow(
      /B-USD_1d\.csv: does not reach back far enough: historical scenarios need 4 dates.*only 3 such dates exist \(2024-01-05 to 2024-01-07\)/,
    );
  });
});

describe('moves and vol multipliers', () => {
  // Unfiltered: A r = d[4], d[5], d[6] = 0, −0.2, 0.1; B r = d[3], d[4], d[5] = −0.1, 0.1, 0.
  // Filtered A: r·sqrt(v[6]/v[t−1]) with v[t−1] = v[3], v[4], v[5] = 0.025, 0.0125, 0.02625, v[6] = 0.018125.
  // Filtered B: v[t−1] = 0.0025, 0.00625, 0.008125, v[last] = 0.0040625.
  const cases = [
    { filtered: false, u: 0, r: [0, -0.2, 0.1] },
    { filtered: false, u: 1, r: [-0.1, 0.1, 0] },
    { filtered: true, u: 0, r: [0, -0.2 * Math.sqrt(0.018125 / 0.0125), 0.1 * Math.sqrt(0.018125 / 0.02625)] },
    { filtered: true, u: 1, r: [-0.1 * Math.sqrt(0.0040625 / 0.0025), 0.1 * Math.sqrt(0.0040625 / 0.00625), 0] },
  ];
  test.each(cases)('filtered=$filtered underlying $u: m = e^r − 1', ({ filtered, u, r }) => {
    const set = buildHistorical(market, params(filtered), history);
    r.forEach((x, k) => {
      expectClose(set.move[k * 2 + u]!, Math.expm1(x), 1e-14, { k, u, filtered });
      expect(set.deltaOneMove[k * 2 + u]).toBe(set.move[k * 2 + u]);
      expect(set.weight[k * 2 + u]).toBe(1);
    });
  });
  // g = I[t]/I[t−1] with last value on or before: 01-05: 60/I(01-04→01-03)=60/50; 01-06: I(→01-05)/60 = 1;
  // 01-07: 45/I(01-06→01-05) = 45/60. B has no index: g = 1.
  test('vol index ratio on missing days; 1 without an index', () => {
    const set = buildHistorical(market, params(true), history);
    [1.2, 1, 0.75].forEach((g, k) => {
      expectClose(set.volParam[k * 2]!, g, 1e-15, { k });
      expect(set.volRule[k * 2]).toBe(VOL_MULT);
      expect(set.volParam[k * 2 + 1]).toBe(1);
    });
    expect(set.meta.underlyingsWithVolIndex).toEqual(['A']);
  });
});

describe('on data/history (BTC, ETH, SOL closes; BTC DVOL)', async () => {
  const h = await loadHistory('data/history', ['BTC', 'ETH', 'SOL']);
  const set = buildHistorical(marketOf(['BTC', 'ETH', 'SOL']), defaultParams(), h);
  test('1000 dates ending 2025-02-19 (the last complete day on or before the 2026-02-01 snapshot)', () => {
    expect(set.count).toBe(1000);
    expect(set.meta.lastDate).toBe('2025-02-19');
    expect(set.meta.firstDate).toBe('2022-05-27');
    expect(set.label[999]).toBe('2025-02-19');
    expect(set.meta.underlyingsWithVolIndex).toEqual(['BTC']);
  });
  test('unfiltered moves are the close ratios on their dates', () => {
    const p = defaultParams();
    p.var.filtered = false;
    const s = buildHistorical(marketOf(['BTC', 'ETH', 'SOL']), p, h);
    const btc = h.prices.get('BTC')!;
    const i = btc.close.length - 1; // 2025-02-19
    expectClose(s.move[999 * 3]!, btc.close[i]! / btc.close[i - 2]! - 1, 1e-15);
  });
});
