/**
 * deribit-pm grid (docs/methodology.md §3a): ids (j+B)·3+v, moves R_u·j/B, extended moves −0.66…+5 with weight
 * R_u/|m| and delta-one edge ±R_u. R_u from docs/methodology.md §6: BTC 0.16, ETH 0.18, other 0.25.
 */
import { describe, expect, test } from 'vitest';
import { buildDeribitPm } from '../../src/scenarios/deribitPm.js';
import { defaultParams } from '../../src/params/params.js';
import { VOL_DOWN, VOL_NONE, VOL_UP } from '../../src/scenarios/types.js';
import { expectClose } from '../helpers/expectClose.js';
import { marketOf } from './fixtures.js';

const R: Record<string, number> = { BTC: 0.16, ETH: 0.18, SOL: 0.25 };
const market = marketOf(['BTC', 'ETH', 'SOL']);
const set = buildDeribitPm(market, defaultParams());
const U = 3;

// Standard grid, written out by hand: id, j, vol rule.
const STANDARD: Array<[number, number, number]> = [
  [0, -4, VOL_UP],
  [1, -4, VOL_NONE],
  [2, -4, VOL_DOWN],
  [3, -3, VOL_UP],
  [5, -3, VOL_DOWN],
  [7, -2, VOL_NONE],
  [11, -1, VOL_DOWN],
  [12, 0, VOL_UP],
  [13, 0, VOL_NONE],
  [14, 0, VOL_DOWN],
  [16, 1, VOL_NONE],
  [20, 2, VOL_DOWN],
  [24, 4, VOL_UP],
  [25, 4, VOL_NONE],
  [26, 4, VOL_DOWN],
];
const EXTENDED: Array<[number, number]> = [
  [27, -0.66],
  [28, -0.33],
  [29, 0.5],
  [30, 1],
  [31, 2],
  [32, 3],
  [33, 4],
  [34, 5],
];

describe('deribit-pm grid', () => {
  test('35 scenarios, ids 0..34 in order', () => {
    expect(set.count).toBe(35);
    expect(Array.from(set.id)).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(set.family).toBe('deribit-pm');
    expect(Array.from(set.dtDays).every((x) => x === 0)).toBe(true);
  });

  test.each(STANDARD.flatMap(([id, j, v]) => ['BTC', 'ETH', 'SOL'].map((u, k) => ({ id, j, v, u, k }))))(
    'standard id $id (j=$j, vol $v) moves $u by R·j/4, weight 1',
    ({ id, j, v, u, k }) => {
      const x = id * U + k;
      expectClose(set.move[x]!, (R[u]! * j) / 4, 1e-15, { id, u });
      expect(set.deltaOneMove[x]).toBe(set.move[x]);
      expect(set.volRule[x]).toBe(v);
      expect(set.weight[x]).toBe(1);
      expect(set.label[id]).toBe(`std ${j}/4 ${['up', 'none', 'down'][v]}`);
    },
  );

  test.each(EXTENDED.flatMap(([id, m]) => ['BTC', 'ETH', 'SOL'].map((u, k) => ({ id, m, u, k }))))(
    'extended id $id moves $u by $m, vol up, weight R/|m|, delta-one ±R',
    ({ id, m, u, k }) => {
      const x = id * U + k;
      expect(set.move[x]).toBe(m);
      expect(set.volRule[x]).toBe(VOL_UP);
      expectClose(set.weight[x]!, R[u]! / Math.abs(m), 1e-15, { id, u, m });
      expect(set.deltaOneMove[x]).toBe(m < 0 ? -R[u]! : R[u]!);
    },
  );

  test('BTC extended weights by hand: 0.16/0.66, 0.16/0.33, 0.32, 0.16, 0.08, 0.16/3, 0.04, 0.032', () => {
    const w = EXTENDED.map(([id]) => set.weight[id * U]!);
    [0.16 / 0.66, 0.16 / 0.33, 0.32, 0.16, 0.08, 0.16 / 3, 0.04, 0.032].forEach((e, i) =>
      expectClose(w[i]!, e, 1e-15, { i }),
    );
  });

  test('extended_table_factor scales the extended weights only', () => {
    const p = defaultParams();
    p.deribitPm.extendedTableFactor = 2;
    const s2 = buildDeribitPm(market, p);
    for (let x = 0; x < 27 * U; x++) expect(s2.weight[x]).toBe(1);
    for (let x = 27 * U; x < 35 * U; x++) expectClose(s2.weight[x]!, 2 * set.weight[x]!, 1e-15, { x });
  });
});
