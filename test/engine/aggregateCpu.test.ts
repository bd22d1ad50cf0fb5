/**
 * cpu aggregation (aggregateGroups on the Piscina pool) against the naive float64 reduction of the
 * contract in src/engine/types.ts, on seeded random GroupBooks; and 1 vs N workers bit for bit.
 * Source of truth: the GroupBook/Reduced documentation in src/engine/types.ts and docs/methodology.md §4a
 * (pnl_offset, tie rule: the first scenario attaining the maximum).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CpuBackend, groupBlocks } from '../../src/engine/cpuBackend.js';
import { aggregateGroups } from '../../kernels/aggregate.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK } from '../../src/engine/tuning.js';
import { expectClose } from '../helpers/expectClose.js';
import { naiveReduce, seededBook, type BookSpec } from './seededBook.js';
import type { GroupBook, PnlMatrix } from '../../src/engine/types.js';

const CASES: Array<[string, BookSpec, number]> = [
  [
    'one bucket, offset 1, top 5',
    { seed: 1, rows: 40, scenarios: 35, groups: 60, maxEntries: 12, buckets: 1, pnlOffset: 1 },
    5,
  ],
  [
    'two buckets, offset 0, weights, top 3',
    { seed: 2, rows: 50, scenarios: 1100, groups: 40, maxEntries: 8, buckets: 2, pnlOffset: 0, weights: true },
    3,
  ],
  [
    'three buckets, offset 0.5, no top',
    { seed: 3, rows: 30, scenarios: 16, groups: 80, maxEntries: 6, buckets: 3, pnlOffset: 0.5, weights: true },
    0,
  ],
  [
    'integer ties, first index wins',
    { seed: 4, rows: 10, scenarios: 600, groups: 100, maxEntries: 3, buckets: 1, pnlOffset: 1, ties: true },
    4,
  ],
  [
    'integer ties, two buckets, offset 0',
    { seed: 5, rows: 10, scenarios: 27, groups: 100, maxEntries: 4, buckets: 2, pnlOffset: 0, ties: true },
    2,
  ],
  [
    'float32 matrix',
    { seed: 6, rows: 30, scenarios: 700, groups: 30, maxEntries: 10, buckets: 2, pnlOffset: 1, float32: true },
    3,
  ],
  [
    'top k above scenario count',
    { seed: 7, rows: 5, scenarios: 3, groups: 7, maxEntries: 3, buckets: 1, pnlOffset: 1 },
    5,
  ],
];

let one: CpuBackend;
let many: CpuBackend;
beforeAll(() => {
  one = new CpuBackend(1);
  many = new CpuBackend(3);
});
afterAll(async () => {
  await one.close();
  await many.close();
});

describe('cpu aggregation vs naive float64 reference', () => {
  test.each(CASES)('%s', async (_name, spec, topK) => {
    const { pnl, groups } = seededBook(spec);
    const ref = naiveReduce(pnl, groups, topK);
    const got = await many.aggregate(pnl, groups, { topK });
    for (let g = 0; g < groups.groupCount; g++) {
      const inputs = { case: _name, group: g, entries: groups.groupStart[g + 1]! - groups.groupStart[g]! };
      expectClose(got.worstLoss[g]!, ref.worst[g]!, 1e-12 * (1 + Math.abs(ref.worst[g]!)), inputs);
      expect(got.worstScenario[g], `worst scenario of group ${g}`).toBe(ref.at[g]);
      for (let j = 0; j < topK; j++) {
        const want = j < ref.top[g]!.length ? ref.top[g]![j]! : -Infinity;
        const have = got.topLosses![g * topK + j]!;
        if (want === -Infinity) expect(have).toBe(-Infinity);
        else expectClose(have, want, 1e-12 * (1 + Math.abs(want)), { ...inputs, rank: j });
      }
    }
    if (topK === 0) expect(got.topLosses).toBeUndefined();
  });
});

describe('cpu aggregation is bit-identical for 1 and N workers and any scenario block', () => {
  test.each(CASES)('%s', async (_name, spec, topK) => {
    const { pnl, groups } = seededBook(spec);
    const a = await one.aggregate(pnl, groups, { topK });
    const b = await many.aggregate(pnl, groups, { topK });
    expect(Buffer.from(b.worstLoss.buffer).equals(Buffer.from(a.worstLoss.buffer))).toBe(true);
    expect(Array.from(b.worstScenario)).toEqual(Array.from(a.worstScenario));
    if (topK > 0) expect(Buffer.from(b.topLosses!.buffer).equals(Buffer.from(a.topLosses!.buffer))).toBe(true);
    // on the calling thread with a small scenario block: the same bits again
    const worstLoss = new Float64Array(groups.groupCount);
    const worstScenario = new Int32Array(groups.groupCount);
    aggregateGroups(
      { ...groups, pnl: pnl.data, scenarios: pnl.scenarios, topK: 0, worstLoss, worstScenario, topLosses: null },
      0,
      groups.groupCount,
      7,
    );
    expect(Buffer.from(worstLoss.buffer).equals(Buffer.from(a.worstLoss.buffer))).toBe(true);
    expect(Array.from(worstScenario)).toEqual(Array.from(a.worstScenario));
  });
});

describe('groupBlocks', () => {
  test.each([
    [[0, 5, 5, 100, 101, 200], 5, 3],
    [[0, 0, 0, 0], 3, 8],
    [[0, 10], 1, 4],
  ])('start %j (%i groups) in about %i parts covers every group once, in order', (start, G, parts) => {
    const blocks = groupBlocks(Int32Array.from(start), G, parts);
    let next = 0;
    for (const [g0, g1] of blocks) {
      expect(g0).toBe(next);
      expect(g1).toBeGreaterThan(g0);
      next = g1;
    }
    expect(next).toBe(G);
  });
});

test('a GroupBook that does not fit the matrix is refused with the field named', async () => {
  const { pnl, groups } = seededBook(CASES[0]![1]);
  await expect(one.aggregate(pnl, { ...groups, row: groups.row.map(() => 999) }, { topK: 0 })).rejects.toThrow(
    /GroupBook.row\[\d+\] = 999 outside/,
  );
  await expect(one.aggregate(pnl, { ...groups, weight: new Float64Array(3) }, { topK: 0 })).rejects.toThrow(
    /GroupBook.weight has 3 values/,
  );
});

describe('buckets a group has no entries in', () => {
  /** The same book with `extra` more buckets that no entry uses (weight 1): the sums must not change. */
  const padded = (groups: GroupBook, S: number, extra: number): GroupBook => {
    const B = groups.buckets + extra;
    const weight = new Float64Array(S * B).fill(1);
    for (let s = 0; s < S; s++)
      for (let b = 0; b < groups.buckets; b++) weight[s * B + b] = groups.weight[s * groups.buckets + b]!;
    return { ...groups, buckets: B, weight };
  };
  const run = (pnl: PnlMatrix, groups: GroupBook, topK: number) => {
    const G = groups.groupCount;
    const out = {
      worstLoss: new Float64Array(G),
      worstScenario: new Int32Array(G),
      topLosses: topK > 0 ? new Float64Array(G * topK) : null,
    };
    aggregateGroups(
      { ...groups, pnl: pnl.data, scenarios: pnl.scenarios, topK, ...out },
      0,
      G,
      CPU_AGGREGATE_SCENARIO_BLOCK,
    );
    return out;
  };

  test('add nothing: the same bits as combining every bucket (31 buckets combine them all), -0, NaN and ±∞ in the matrix included', () => {
    for (const [, spec, topK] of CASES) {
      const { pnl, groups } = seededBook(spec);
      if (!spec.float32) {
        // edge values in the matrix: entries that read them make ±∞, NaN or −0 sums
        const d = pnl.data;
        d[0] = -0;
        d[1] = Infinity;
        d[2 * pnl.scenarios] = NaN;
        d[3 * pnl.scenarios + 1] = -Infinity;
        d[4 * pnl.scenarios] = 5e-324;
      }
      const a = run(pnl, groups, topK);
      const b = run(pnl, padded(groups, pnl.scenarios, 31 - groups.buckets), topK);
      expect(
        Buffer.from(b.worstLoss.buffer).equals(Buffer.from(a.worstLoss.buffer)),
        `${spec.seed}: worst losses`,
      ).toBe(true);
      expect(Array.from(b.worstScenario)).toEqual(Array.from(a.worstScenario));
      if (topK > 0) expect(Buffer.from(b.topLosses!.buffer).equals(Buffer.from(a.topLosses!.buffer))).toBe(true);
    }
  });

  test('with a pnlOffset that is not finite, every bucket is combined too (the same bits as the kernel always gave)', () => {
    const { pnl, groups } = seededBook({
      seed: 12,
      rows: 12,
      scenarios: 9,
      groups: 30,
      maxEntries: 4,
      buckets: 1,
      pnlOffset: 1,
    });
    // bucket 1: no entries; its ∞ · (1 · 0) is NaN
    const g2 = { ...padded(groups, pnl.scenarios, 1), pnlOffset: Infinity };
    const ref = naiveReduce(pnl, g2, 0);
    const got = run(pnl, g2, 0);
    for (let g = 0; g < groups.groupCount; g++) {
      expect(
        Object.is(got.worstLoss[g], ref.worst[g]) ||
          Math.abs(got.worstLoss[g]! - ref.worst[g]!) <= 1e-9 * Math.abs(ref.worst[g]!),
        `group ${g}: ${got.worstLoss[g]} vs ${ref.worst[g]}`,
      ).toBe(true);
      expect(got.worstScenario[g]).toBe(ref.at[g]);
    }
    expect(Array.from(got.worstLoss).every((x) => Number.isNaN(x))).toBe(true);
  });

  test('with a weight that is not finite (never from a built or validated scenario set), every bucket is combined, as the kernel always did: ∞ · 0 makes that loss NaN', () => {
    const { pnl, groups } = seededBook({
      seed: 11,
      rows: 12,
      scenarios: 9,
      groups: 30,
      maxEntries: 4,
      buckets: 1,
      pnlOffset: 1,
    });
    const g2 = padded(groups, pnl.scenarios, 1); // bucket 1: no entries
    // scenario 0, bucket 1: its loss is NaN in every group, and a NaN first scenario stays the worst (no loss compares
    // above it)
    g2.weight[0 * 2 + 1] = Infinity;
    const ref = naiveReduce(pnl, g2, 0);
    const got = run(pnl, g2, 0);
    for (let g = 0; g < groups.groupCount; g++) {
      expect(ref.worst[g]).toBeNaN();
      expect(got.worstLoss[g], `group ${g}`).toBeNaN();
      expect(got.worstScenario[g]).toBe(0);
    }
    // a finite weight there changes nothing: the plain book's bits
    g2.weight[1] = 7;
    const plain = run(pnl, groups, 0);
    const again = run(pnl, g2, 0);
    expect(Buffer.from(again.worstLoss.buffer).equals(Buffer.from(plain.worstLoss.buffer))).toBe(true);
  });
});

test('handedOver: a task queued behind an answer this thread has not handled yet reaches the worker', async () => {
  const { pnl, groups } = seededBook(CASES[0]![1]);
  const queue = () => (one as unknown as { pool: { queueSize: number } }).pool.queueSize;
  await one.aggregate(pnl, groups, { topK: 0 }); // the worker up and warm (this test may run alone)
  const first = one.aggregate(pnl, groups, { topK: 0 }); // to the idle worker at once
  const t0 = performance.now();
  while (performance.now() - t0 < 300) {
    /* this thread busy: the worker answers, unheard */
  }
  const second = one.aggregate(pnl, groups, { topK: 0 });
  try {
    expect(queue()).toBe(1); // the worker still counts as busy
    await one.handedOver();
    expect(queue()).toBe(0);
  } finally {
    await Promise.all([first, second]);
  }
});
