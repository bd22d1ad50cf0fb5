/**
 * The naive aggregator (test/helpers/naiveAggregate.ts) is the contract of src/engine/types.ts written as
 * loops; these cases are computed by hand from that contract's formula, and hold for it and for the
 * in-process float64 aggregation (src/margin/referenceAggregate.ts over kernels/aggregate.ts) alike.
 */
import { describe, expect, test } from 'vitest';
import type { GroupBook, PnlMatrix } from '../../src/engine/types.js';
import { aggregateReference as aggregateInProcess } from '../../src/margin/referenceAggregate.js';
import { aggregateReference as aggregateNaive, groupPnlVector } from '../helpers/naiveAggregate.js';

// 3 rows × 4 scenarios
const pnl: PnlMatrix = {
  rows: 3,
  scenarios: 4,
  data: Float64Array.from([
    1,
    -2,
    3,
    0, // row 0
    -1,
    1,
    -1,
    2, // row 1
    2,
    2,
    -4,
    -4, // row 2
  ]),
};

function book(entries: Array<[number, number, number]>, starts: number[], opts: Partial<GroupBook> = {}): GroupBook {
  return {
    groupCount: starts.length - 1,
    groupStart: Int32Array.from(starts),
    row: Int32Array.from(entries, (e) => e[0]),
    qty: Float64Array.from(entries, (e) => e[1]),
    bucket: Int32Array.from(entries, (e) => e[2]),
    buckets: 1,
    weight: new Float64Array(4).fill(1),
    pnlOffset: 1,
    ...opts,
  };
}

describe.each([
  ['naive', aggregateNaive],
  ['in-process kernels/aggregate.ts', aggregateInProcess],
])('%s aggregation', (_name, aggregateReference) => {
  test.each([
    // p = 2·row0 + row1 = [1, −3, 5, 2]: loss [−1, 3, −5, −2]
    {
      name: 'one bucket',
      entries: [
        [0, 2, 0],
        [1, 1, 0],
      ],
      p: [1, -3, 5, 2],
      worst: 3,
      at: 1,
    },
    // p = −row2 = [−2, −2, 4, 4]: two scenarios tie at loss 2, the first wins
    { name: 'tie: first scenario', entries: [[2, -1, 0]], p: [-2, -2, 4, 4], worst: 2, at: 0 },
    // everything gains: worst loss is negative
    {
      name: 'gains everywhere',
      entries: [
        [1, 1, 0],
        [2, 0.5, 0],
        [0, 1, 0],
      ],
      p: [1, 0, 0, 0],
      worst: 0,
      at: 1,
    },
  ] as Array<{ name: string; entries: Array<[number, number, number]>; p: number[]; worst: number; at: number }>)(
    '$name',
    ({ entries, p, worst, at }) => {
      const g = book(entries, [0, entries.length]);
      expect(Array.from(groupPnlVector(pnl, g, 0))).toEqual(p);
      const r = aggregateReference(pnl, g, { topK: 0 });
      expect(r.worstLoss[0]).toBe(worst);
      expect(r.worstScenario[0]).toBe(at);
      expect(r.topLosses).toBeUndefined();
    },
  );

  test("buckets: weights per scenario per bucket, pnlOffset on each bucket's gain", () => {
    // bucket 0: row0 = [1, −2, 3, 0]; bucket 1: row2 = [2, 2, −4, −4]; weights [s*2+b]
    const weight = Float64Array.from([1, 1, 1, 1, 0.5, 1, 1, 0.25]);
    const g = book(
      [
        [0, 1, 0],
        [2, 1, 1],
      ],
      [0, 2],
      { buckets: 2, weight, pnlOffset: 0.5 },
    );
    // s0: adj(1)+adj(2) = 0.5+1 = 1.5; s1: −2 + 1 = −1; s2: adj(1.5) + (−4) = −3.25; s3: 0 + adj(−1) = −1
    expect(Array.from(groupPnlVector(pnl, g, 0))).toEqual([1.5, -1, -3.25, -1]);
    const r = aggregateReference(pnl, g, { topK: 3 });
    expect([r.worstLoss[0], r.worstScenario[0]]).toEqual([3.25, 2]);
    expect(Array.from(r.topLosses!)).toEqual([3.25, 1, 1]);
  });

  test('several groups, an empty group, top-k beyond the scenario count', () => {
    const g = book(
      [
        [0, 1, 0],
        [1, -1, 0],
      ],
      [0, 1, 1, 2],
    );
    const r = aggregateReference(pnl, g, { topK: 5 });
    // group 0: row0, loss [−1, 2, −3, 0]; group 1: empty; group 2: −row1 = [1, −1, 1, −2], loss [−1, 1, −1, 2]
    expect(Array.from(r.worstLoss)).toEqual([2, 0, 2]);
    expect(Array.from(r.worstScenario)).toEqual([1, 0, 3]);
    expect(Array.from(r.topLosses!.subarray(0, 5))).toEqual([2, 0, -1, -3, -Infinity]);
    expect(Array.from(r.topLosses!.subarray(5, 10))).toEqual([0, 0, 0, 0, -Infinity]);
    expect(Array.from(r.topLosses!.subarray(10, 15))).toEqual([2, 1, -1, -1, -Infinity]);
  });
});
