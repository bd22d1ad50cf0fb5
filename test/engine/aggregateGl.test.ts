/**
 * gl aggregation (kernels/aggregate.ts on gpu.js headlessgl, float32 with Kahan-compensated sums) against
 * the float64 cpu aggregation on seeded GroupBooks, within docs/architecture.md's precision bound per group:
 * |worst_gl − worst_64| ≤ 1e-5·|worst_64| + 5e-7·Σ|q|·v, v = the largest |P&L| of the entry's row.
 * The scenario gl reports must attain the worst loss within the same bound in float64; top-k likewise.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openGpu, type GpuInstance } from '../../src/engine/gpuDevice.js';
import { GpuAggregator } from '../../src/engine/gpuAggregate.js';
import { aggregateGroups } from '../../kernels/aggregate.js';
import { expectClose } from '../helpers/expectClose.js';
import { naiveReduce, seededBook, type BookSpec } from './seededBook.js';
import { GL_REQUIRED, glUnavailableReason } from './glAvailability.js';

const glReason = await glUnavailableReason();

const CASES: Array<[string, BookSpec, number]> = [
  [
    'one bucket, offset 1, top 4',
    { seed: 11, rows: 40, scenarios: 35, groups: 50, maxEntries: 12, buckets: 1, pnlOffset: 1, float32: true },
    4,
  ],
  [
    'two buckets, offset 0, weights, two scenario blocks',
    {
      seed: 12,
      rows: 60,
      scenarios: 1500,
      groups: 30,
      maxEntries: 10,
      buckets: 2,
      pnlOffset: 0,
      weights: true,
      float32: true,
    },
    2,
  ],
  [
    'three buckets, offset 0.5, long groups',
    {
      seed: 13,
      rows: 30,
      scenarios: 64,
      groups: 20,
      maxEntries: 60,
      buckets: 3,
      pnlOffset: 0.5,
      weights: true,
      float32: true,
    },
    0,
  ],
  [
    'integer ties: first index',
    {
      seed: 14,
      rows: 10,
      scenarios: 300,
      groups: 40,
      maxEntries: 3,
      buckets: 1,
      pnlOffset: 1,
      ties: true,
      float32: true,
    },
    3,
  ],
];

describe.skipIf(glReason !== null && !GL_REQUIRED)(
  `gl aggregation within the precision bound${glReason ? ` (gl unavailable here: ${glReason})` : ''}`,
  () => {
    let gpu: GpuInstance;
    let agg: GpuAggregator;
    beforeAll(async () => {
      gpu = await openGpu('gl');
      agg = new GpuAggregator(gpu, 'gl');
    });
    afterAll(() => {
      agg?.destroy();
      gpu?.destroy();
    });

    test.each(CASES)('%s', async (name, spec, topK) => {
      const { pnl, groups } = seededBook(spec);
      const got = await agg.aggregate(pnl, groups, { topK });
      expect(agg.kernelClass).toBe('HeadlessGLKernel');
      const ref = naiveReduce(pnl, groups, topK);
      const S = pnl.scenarios;
      for (let g = 0; g < groups.groupCount; g++) {
        let gross = 0;
        for (let e = groups.groupStart[g]!; e < groups.groupStart[g + 1]!; e++) {
          let v = 0;
          for (let s = 0; s < S; s++) v = Math.max(v, Math.abs(pnl.data[groups.row[e]! * S + s]!));
          gross += Math.abs(groups.qty[e]!) * v;
        }
        const tol = 1e-5 * Math.abs(ref.worst[g]!) + 5e-7 * gross;
        const inputs = { case: name, group: g, gross };
        expectClose(got.worstLoss[g]!, ref.worst[g]!, tol, inputs);
        // the reported scenario attains the worst loss (float64 loss at that scenario within the bound)
        const one = new Float64Array(groups.groupCount);
        const at = new Int32Array(groups.groupCount);
        const single = {
          ...groups,
          weight: groups.weight.slice(
            got.worstScenario[g]! * groups.buckets,
            (got.worstScenario[g]! + 1) * groups.buckets,
          ),
        };
        const col = new Float64Array(pnl.rows);
        for (let r = 0; r < pnl.rows; r++) col[r] = pnl.data[r * S + got.worstScenario[g]!]!;
        aggregateGroups(
          { ...single, pnl: col, scenarios: 1, topK: 0, worstLoss: one, worstScenario: at, topLosses: null },
          g,
          g + 1,
          1,
        );
        expectClose(one[g]!, ref.worst[g]!, tol, { ...inputs, scenario: got.worstScenario[g] });
        if (spec.ties) expect(got.worstScenario[g], `first index of group ${g}`).toBe(ref.at[g]);
        for (let j = 0; j < Math.min(topK, S); j++)
          expectClose(got.topLosses![g * topK + j]!, ref.top[g]![j]!, tol, { ...inputs, rank: j });
      }
    });
  },
);
