/**
 * The WebAssembly SIMD aggregation (kernels/aggregate.wat through kernels/aggregateWasm.ts) against its
 * reference, aggregateGroups (kernels/aggregate.ts): the same bits in every output (worst loss, its
 * scenario, the top k), -0 and ±∞ included; a NaN where the reference has a NaN (its sign and payload are
 * the compiler's, see sameValues). Cases: seeded books of 1–31 buckets
 * and offsets 0, 0.5, 1; odd and even scenario counts around the block boundaries (blocks of 1–8 and the
 * engine's own); empty groups and empty ranges; float32 matrices; ±∞, NaN, −0 and subnormals in the matrix,
 * the quantities and the weights; ranges of groups run one after another in one instance (memory reused).
 * The pilot pass (the heaps seeded with the scenarios of the largest P&L columns) runs in every book with a
 * top k of at most a quarter of its scenarios, and on books built so that it matters: the same bits.
 * The module is compiled here from the text source (scripts/build-wasm.mjs compileWat), and the built
 * dist/kernels/aggregate.wasm must be that module.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { aggregateGroups, type AggregateColumns } from '../../kernels/aggregate.js';
import {
  AGGREGATE_WASM_FILE,
  compileAggregateWasm,
  pilotScenarios,
  WasmAggregator,
} from '../../kernels/aggregateWasm.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK, CPU_AGGREGATE_WASM_SCENARIO_BLOCK } from '../../src/engine/tuning.js';
import { compileWat } from '../../scripts/build-wasm.mjs';
import { seededBook, type BookSpec } from '../engine/seededBook.js';
import type { GroupBook, PnlMatrix } from '../../src/engine/types.js';

const watUrl = new URL('../../kernels/aggregate.wat', import.meta.url);
const builtUrl = new URL(`../../dist/kernels/${AGGREGATE_WASM_FILE}`, import.meta.url);

let bytes: Uint8Array;
let wasm: WasmAggregator;
beforeAll(async () => {
  bytes = await compileWat(readFileSync(watUrl, 'utf8'), 'aggregate.wat');
  wasm = new WasmAggregator(compileAggregateWasm(bytes));
});

interface Out {
  worstLoss: Float64Array;
  worstScenario: Int32Array;
  topLosses: Float64Array | null;
}

function columns(pnl: PnlMatrix, g: GroupBook, topK: number, fill: number): AggregateColumns & Out {
  const G = g.groupCount;
  return {
    ...g,
    pnl: pnl.data,
    scenarios: pnl.scenarios,
    topK,
    worstLoss: new Float64Array(G).fill(fill),
    worstScenario: new Int32Array(G).fill(-7),
    topLosses: topK > 0 ? new Float64Array(G * topK).fill(fill) : null,
  };
}

const bytesOf = (a: Float64Array | Int32Array | null) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : null);

/** Runs both forms over the ranges given (each a [g0, g1)) and expects the same bytes everywhere. */
function same(pnl: PnlMatrix, g: GroupBook, topK: number, block: number, ranges?: Array<[number, number]>): void {
  const G = g.groupCount;
  const parts = ranges ?? [[0, G]];
  const ref = columns(pnl, g, topK, 12345);
  const got = columns(pnl, g, topK, 12345);
  for (const [g0, g1] of parts) {
    aggregateGroups(ref, g0, g1, block);
    wasm.run(got, g0, g1, block);
  }
  const where = `S=${pnl.scenarios} G=${G} B=${g.buckets} block=${block} topK=${topK}`;
  sameValues(got.worstLoss, ref.worstLoss, `${where} worst loss`);
  expect(Array.from(got.worstScenario), `${where} worst scenarios`).toEqual(Array.from(ref.worstScenario));
  if (topK > 0) sameValues(got.topLosses!, ref.topLosses!, `${where} top losses`);
}

/**
 * The same doubles: Object.is per value (+0 and −0 differ, NaN is NaN), which is the same bits except for the
 * sign and payload of a NaN. Those are not the kernel's to fix: where two NaNs meet in a sum, x86 keeps the
 * first operand's, and which operand comes first is the compiler's choice in both forms (V8 swaps the
 * operands of a JavaScript addition at will); the reference's own NaN bits can differ between V8's tiers.
 */
function sameValues(got: Float64Array, want: Float64Array, what: string): void {
  let bad = -1;
  for (let k = 0; k < want.length && bad < 0; k++) if (!Object.is(got[k], want[k])) bad = k;
  if (bad >= 0) expect(got[bad], `${what} [${bad}]`).toBe(want[bad]);
  const nan = (a: Float64Array) => Float64Array.from(a, (v) => (Number.isNaN(v) ? NaN : v));
  expect(bytesOf(nan(got))!.equals(bytesOf(nan(want))!), `${what}: bytes, NaNs canonical`).toBe(true);
}

const SPECS: Array<[string, BookSpec, number]> = [
  [
    'one bucket, offset 1',
    { seed: 11, rows: 40, scenarios: 35, groups: 60, maxEntries: 12, buckets: 1, pnlOffset: 1 },
    5,
  ],
  [
    'two buckets, offset 0, weights',
    { seed: 12, rows: 50, scenarios: 1100, groups: 40, maxEntries: 9, buckets: 2, pnlOffset: 0, weights: true },
    3,
  ],
  [
    'three buckets, offset 0.5',
    { seed: 13, rows: 30, scenarios: 17, groups: 80, maxEntries: 6, buckets: 3, pnlOffset: 0.5, weights: true },
    0,
  ],
  [
    'integer ties (first scenario wins)',
    { seed: 14, rows: 10, scenarios: 601, groups: 100, maxEntries: 5, buckets: 1, pnlOffset: 1, ties: true },
    4,
  ],
  [
    'integer ties, two buckets',
    { seed: 15, rows: 10, scenarios: 27, groups: 100, maxEntries: 9, buckets: 2, pnlOffset: 0, ties: true },
    2,
  ],
  [
    'float32 matrix',
    { seed: 16, rows: 30, scenarios: 701, groups: 30, maxEntries: 10, buckets: 2, pnlOffset: 1, float32: true },
    3,
  ],
  [
    'top k above the scenario count',
    { seed: 17, rows: 5, scenarios: 3, groups: 7, maxEntries: 3, buckets: 1, pnlOffset: 1 },
    5,
  ],
  [
    'long runs of one bucket',
    { seed: 18, rows: 64, scenarios: 2049, groups: 25, maxEntries: 40, buckets: 1, pnlOffset: 1 },
    20,
  ],
  [
    '31 buckets (every bucket combined)',
    { seed: 19, rows: 20, scenarios: 9, groups: 30, maxEntries: 40, buckets: 31, pnlOffset: 0.25, weights: true },
    2,
  ],
  [
    'five buckets, many entries',
    { seed: 20, rows: 100, scenarios: 130, groups: 50, maxEntries: 60, buckets: 5, pnlOffset: 0, weights: true },
    7,
  ],
];

describe('wasm aggregation is aggregateGroups bit for bit', () => {
  test('the built module is the text source compiled', () => {
    expect(Buffer.from(readFileSync(builtUrl)).equals(Buffer.from(bytes))).toBe(true);
  });

  test.each(SPECS)('%s, blocks of 1 to 8, the engine’s blocks and the whole set', (_name, spec, topK) => {
    const { pnl, groups } = seededBook(spec);
    for (const block of [1, 2, 3, 4, 5, 7, 8, CPU_AGGREGATE_WASM_SCENARIO_BLOCK, CPU_AGGREGATE_SCENARIO_BLOCK, 1 << 20])
      same(pnl, groups, topK, block);
  });

  test('odd and even scenario counts around the block boundary', () => {
    for (const S of [1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65]) {
      const { pnl, groups } = seededBook({
        seed: 100 + S,
        rows: 12,
        scenarios: S,
        groups: 40,
        maxEntries: 9,
        buckets: 2,
        pnlOffset: 1,
        weights: true,
      });
      for (const block of [16, 32, S, Math.max(1, S - 1)]) same(pnl, groups, 3, block);
    }
  });

  test('ranges: partitions of the groups, empty groups and empty ranges, one instance reused', () => {
    const { pnl, groups } = seededBook({
      seed: 31,
      rows: 25,
      scenarios: 77,
      groups: 90,
      maxEntries: 2,
      buckets: 2,
      pnlOffset: 0,
    });
    let empty = 0;
    for (let g = 0; g < groups.groupCount; g++) if (groups.groupStart[g + 1] === groups.groupStart[g]) empty++;
    expect(empty, 'the book has empty groups').toBeGreaterThan(5);
    same(pnl, groups, 4, 16, [
      [0, 0],
      [0, 1],
      [1, 40],
      [40, 40],
      [40, 89],
      [89, 90],
    ]);
    // a large range then a small one: the memory grown for the first is reused and re-initialised
    const big = seededBook({
      seed: 32,
      rows: 300,
      scenarios: 3000,
      groups: 200,
      maxEntries: 30,
      buckets: 3,
      pnlOffset: 1,
    });
    same(big.pnl, big.groups, 9, 1024);
    same(pnl, groups, 0, 5);
  });

  test('±∞, NaN, −0 and subnormals in the matrix, quantities, weights and offset propagate as in the reference', () => {
    for (const [, spec, topK] of SPECS) {
      if (spec.float32 || spec.buckets > 30) continue;
      const { pnl, groups } = seededBook(spec);
      const S = pnl.scenarios;
      const d = pnl.data;
      d[0] = -0;
      d[1] = Infinity;
      d[2 * S] = NaN;
      d[3 * S + 1] = -Infinity;
      d[4 * S] = 5e-324;
      d[4 * S + 2] = -5e-324;
      same(pnl, groups, topK, 8);
      same(pnl, groups, topK, CPU_AGGREGATE_WASM_SCENARIO_BLOCK);
      // a NaN and an infinite quantity, and a -0 one
      const qty = Float64Array.from(groups.qty);
      if (qty.length > 3) {
        qty[1] = NaN;
        qty[2] = -Infinity;
        qty[3] = -0;
      }
      same(pnl, { ...groups, qty }, topK, 8);
      // an infinite weight (every bucket combined: ∞ · 0 = NaN in the empty ones) and a NaN offset
      const weight = Float64Array.from(groups.weight);
      weight[weight.length - 1] = Infinity;
      same(pnl, { ...groups, weight }, topK, 8);
      same(pnl, { ...groups, pnlOffset: NaN }, topK, 8);
      same(pnl, { ...groups, pnlOffset: Infinity }, topK, 8);
    }
  });

  test('a NaN first scenario keeps its place as the reference does', () => {
    const { pnl, groups } = seededBook({
      seed: 41,
      rows: 6,
      scenarios: 19,
      groups: 12,
      maxEntries: 4,
      buckets: 1,
      pnlOffset: 1,
    });
    for (let r = 0; r < pnl.rows; r++) pnl.data[r * pnl.scenarios] = NaN;
    same(pnl, groups, 3, 4);
    same(pnl, groups, 3, 64);
  });

  test('the pilot pass: where it runs, and the same bits when the largest columns hold the worst losses', () => {
    expect([pilotScenarios(10_000, 100), pilotScenarios(1_000, 10), pilotScenarios(127, 10)]).toEqual([300, 32, 0]);
    expect([
      pilotScenarios(128, 10),
      pilotScenarios(136, 11),
      pilotScenarios(135, 11),
      pilotScenarios(10_000, 0),
    ]).toEqual([32, 34, 0, 0]);
    const spec: BookSpec = { seed: 51, rows: 40, scenarios: 900, groups: 60, maxEntries: 8, buckets: 2, pnlOffset: 1 };
    const { pnl, groups } = seededBook(spec);
    const S = pnl.scenarios;
    // every 29th column 40 times larger: the pilot's picks, and most groups' worst losses
    for (let r = 0; r < pnl.rows; r++) for (let s = 3; s < S; s += 29) pnl.data[r * S + s]! *= 40;
    // an earlier column equal to a picked one on every row but the first: ties between a scenario the
    // pilot offered and one it did not, which must keep the worst loss on the first of them
    for (let r = 1; r < pnl.rows; r++) pnl.data[r * S + 1] = pnl.data[r * S + 3 + 29 * 5]!;
    const before = wasm.pilots;
    for (const block of [1, 8, 64, CPU_AGGREGATE_WASM_SCENARIO_BLOCK]) same(pnl, groups, 10, block);
    expect(wasm.pilots - before, 'one pilot pass per call').toBe(4);
    same(pnl, groups, 0, 64); // no top k: no pilot
    same(pnl, groups, 300, 64); // 3·300 > 900 / 4: no pilot
    expect(wasm.pilots - before).toBe(4);
    // a NaN and an ∞ in a picked column
    pnl.data[2 * S + 3] = NaN;
    pnl.data[5 * S + 32] = Infinity;
    same(pnl, groups, 10, 64);
    expect(wasm.pilots - before).toBe(5);
  });

  test('the matrix rows kept as they are (one block, no larger than the entries) or numbered: the same bits', () => {
    // 12 rows × 35 scenarios (420 values with the pair's padding 432) under ~2,600 entries: kept whole; in blocks
    // of 16, or over a range of a few groups, numbered
    const spec: BookSpec = { seed: 61, rows: 12, scenarios: 35, groups: 400, maxEntries: 12, buckets: 2, pnlOffset: 0 };
    const { pnl, groups } = seededBook(spec);
    const entries = groups.groupStart[groups.groupCount]!;
    expect(entries).toBeGreaterThan(12 * 36);
    const before = wasm.rowsKept;
    same(pnl, groups, 0, CPU_AGGREGATE_WASM_SCENARIO_BLOCK);
    same(pnl, groups, 3, 35);
    same(pnl, groups, 0, 1 << 20, [
      [0, 200],
      [200, 400],
    ]);
    expect(wasm.rowsKept - before, 'three calls and two ranges with the rows as they are').toBe(4);
    same(pnl, groups, 3, 16); // two blocks and more: numbered
    same(pnl, groups, 0, 64, [
      [0, 3],
      [3, 400],
    ]); // the first range's few entries: numbered; the rest kept
    expect(wasm.rowsKept - before).toBe(5);
    // a row outside the matrix: no module call, the reference's own result (as when numbering finds it)
    const bad = { ...groups, row: Int32Array.from(groups.row) };
    bad.row[entries - 1] = pnl.rows;
    same(pnl, bad, 0, 64);
    expect(wasm.rowsKept - before).toBe(5);
    // float32 matrix, kept whole
    const f32 = seededBook({ ...spec, seed: 62, float32: true });
    same(f32.pnl, f32.groups, 2, 1024);
    expect(wasm.rowsKept - before).toBe(6);
  });
});
