/**
 * span (docs/methodology.md §3b, 4b): the 16 scenarios in the classic SPAN order (golden
 * test/golden/span_risk_arrays_mcmillan.json, McMillan pp. 668-670) and the PSR from history
 * (nearest-rank quantile of |2-day overlapping log returns|, hand-computed below).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { defaultParams } from '../../src/params/params.js';
import { buildSpan } from '../../src/scenarios/span.js';
import { nearestRank, psrFromHistory } from '../../src/scenarios/psr.js';
import { VOL_NONE, VOL_REL_DOWN, VOL_REL_UP } from '../../src/scenarios/types.js';
import { InputError } from '../../src/errors.js';
import { expectClose } from '../helpers/expectClose.js';
import { day, historyOf, marketOf, priceSeries } from './fixtures.js';

const golden = JSON.parse(
  readFileSync(new URL('../golden/span_risk_arrays_mcmillan.json', import.meta.url), 'utf8'),
) as {
  risk_arrays: { long_future: number[] };
};

describe('span order and sizes', () => {
  // McMillan: price scan range $10,000, long future; his array is rounded to $10. Index 100,000 × PSR 0.1.
  const p = defaultParams();
  p.span.psr = { X: 0.1, other: 0.2 };
  const set = buildSpan(marketOf(['X'], '2026-02-01T00:00:00Z', [100_000]), p);
  test.each(golden.risk_arrays.long_future.map((g, s) => ({ s, g })))(
    'scenario $s: long future P&L × weight = McMillan $g (rounded to tens: tolerance 3.34)',
    ({ s, g }) => {
      expectClose(100_000 * set.move[s]! * set.weight[s]!, g, 3.34, { s, move: set.move[s], weight: set.weight[s] });
    },
  );

  const VOL = [VOL_REL_UP, VOL_REL_DOWN];
  const expectedRule = [...Array.from({ length: 14 }, (_, s) => VOL[s % 2]!), VOL_NONE, VOL_NONE];
  test.each(expectedRule.map((r, s) => ({ s, r })))('scenario $s vol rule $r (relative by VSR 0.25)', ({ s, r }) => {
    expect(set.volRule[s]).toBe(r);
    expect(set.volParam[s]).toBe(r === VOL_NONE ? 1 : 0.25);
  });

  test('extremes: 2 × PSR, weight 0.35; others weight 1; labels', () => {
    expectClose(set.move[14]!, 0.2, 1e-15);
    expectClose(set.move[15]!, -0.2, 1e-15);
    expect(Array.from(set.weight)).toEqual([...Array(14).fill(1), 0.35, 0.35]);
    expect(set.label[0]).toBe('1 unchanged, vol up');
    expect(set.label[12]).toBe('13 down 3/3, vol up');
    expect(set.label[15]).toBe('16 down extreme');
  });

  test('several underlyings move together in the same 16 rows, each by its own PSR (defaults BTC 0.12, ETH 0.15, other 0.20)', () => {
    const s2 = buildSpan(marketOf(['BTC', 'ETH', 'SOL']), defaultParams());
    expect(s2.count).toBe(16);
    const psr = [0.12, 0.15, 0.2];
    for (let u = 0; u < 3; u++) {
      expectClose(s2.move[10 * 3 + u]!, psr[u]!, 1e-15, { u });
      expectClose(s2.move[4 * 3 + u]!, -psr[u]! / 3, 1e-15, { u });
      expectClose(s2.move[14 * 3 + u]!, 2 * psr[u]!, 1e-15, { u });
    }
    expect(s2.meta.psr).toEqual({ BTC: 0.12, ETH: 0.15, SOL: 0.2 });
  });
});

describe('PSR from history', () => {
  // Closes on 2026-01-25..2026-02-02; the snapshot (2026-02-01 09:23) sees the closes up to 2026-02-01.
  // Window of 6 closes: 110, 99, 120, 90, 100, 105. 2-day |log returns|: ln(120/110)=0.0870,
  // ln(99/90)=0.0953, ln(105/90)=0.1542, ln(120/100)=0.1823 (sorted), n = 4.
  const series = priceSeries('X', '2026-01-25', [50, 100, 110, 99, 120, 90, 100, 105, 400]);
  const snap = day('2026-02-01');
  test.each([
    { q: 0.99, rank: 4, psr: 120 / 100 - 1 },
    { q: 0.75, rank: 3, psr: 105 / 90 - 1 },
    { q: 0.5, rank: 2, psr: 99 / 90 - 1 },
    { q: 0.25, rank: 1, psr: 120 / 110 - 1 },
    { q: 0.26, rank: 2, psr: 99 / 90 - 1 },
  ])('quantile $q: rank $rank, PSR $psr', ({ q, rank, psr }) => {
    const c = psrFromHistory(series, snap, q, 2, 6);
    expect(c.n).toBe(4);
    expect(c.rank).toBe(rank);
    expectClose(c.psr, psr, 1e-14, { q });
    expect([c.firstDate, c.lastDate]).toEqual(['2026-01-27', '2026-02-01']);
  });

  test('nearest rank is exact at integer products: 0.07 × 100 is rank 7', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(v, 0.07)).toEqual({ value: 7, rank: 7 });
    expect(nearestRank(v, 0.99)).toEqual({ value: 99, rank: 99 });
    expect(nearestRank(v, 0.991)).toEqual({ value: 100, rank: 100 });
  });

  test('buildSpan uses it and records it', () => {
    const p = defaultParams();
    p.span.psrWindowDays = 6;
    const set = buildSpan(marketOf(['X']), p, historyOf([series]));
    expectClose(set.move[10]!, 0.2, 1e-14);
    expectClose(set.move[14]!, 0.4, 1e-14);
    expectClose((set.meta.psr as Record<string, number>).X!, 0.2, 1e-14);
  });

  test('a history shorter than the window names the file and the count', () => {
    expect(() => psrFromHistory(series, snap, 0.99, 2, 9)).toThrow(InputError);
    expect(() => psrFromHistory(series, snap, 0.99, 2, 9)).toThrow(
      /X-USD_1d\.csv: does not reach back far enough.*needs 9 daily closes on or before 2026-02-01, the file has 8 \(2026-01-25 to 2026-02-01\)/,
    );
  });
});
