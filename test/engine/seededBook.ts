/**
 * Seeded random GroupBooks and P&L matrices for the engine tests (no Math.random: test/helpers/mulberry32.ts with a
 * pinned seed, so every run sees the same book).
 */
import type { GroupBook, PnlMatrix } from '../../src/engine/types.js';
import { mulberry32 } from '../helpers/mulberry32.js';

export interface BookSpec {
  seed: number;
  rows: number;
  scenarios: number;
  groups: number;
  /** entries per group drawn in [0, maxEntries] (heavy tail: a few groups get 10×) */
  maxEntries: number;
  buckets: number;
  pnlOffset: number;
  /** quantise P&L and quantities to small integers so ties between scenarios are frequent */
  ties?: boolean;
  float32?: boolean;
  /** weights other than 1 */
  weights?: boolean;
}

/** A P&L matrix and a GroupBook drawn from `spec`. */
export function seededBook(spec: BookSpec): { pnl: PnlMatrix; groups: GroupBook } {
  const r = mulberry32(spec.seed);
  const S = spec.scenarios;
  const data = spec.float32 ? new Float32Array(spec.rows * S) : new Float64Array(spec.rows * S);
  for (let j = 0; j < data.length; j++) data[j] = spec.ties ? Math.floor(r() * 7) - 3 : (r() - 0.5) * 2000 * (1 + r());
  const groupStart = new Int32Array(spec.groups + 1);
  const rows: number[] = [];
  const qty: number[] = [];
  const bucket: number[] = [];
  for (let g = 0; g < spec.groups; g++) {
    let n = Math.floor(r() * (spec.maxEntries + 1));
    if (r() < 0.05) n *= 10;
    for (let e = 0; e < n; e++) {
      rows.push(Math.floor(r() * spec.rows));
      qty.push(spec.ties ? Math.floor(r() * 5) - 2 : (r() - 0.5) * 100);
      bucket.push(Math.floor(r() * spec.buckets));
    }
    groupStart[g + 1] = rows.length;
  }
  const weight = new Float64Array(S * spec.buckets);
  for (let j = 0; j < weight.length; j++) weight[j] = spec.weights ? (r() < 0.3 ? 0.25 + r() : 1) : 1;
  return {
    pnl: { rows: spec.rows, scenarios: S, data },
    groups: {
      groupCount: spec.groups,
      groupStart,
      row: Int32Array.from(rows),
      qty: Float64Array.from(qty),
      bucket: Int32Array.from(bucket),
      buckets: spec.buckets,
      weight,
      pnlOffset: spec.pnlOffset,
    },
  };
}

/**
 * The naive float64 reduction, straight from the contract in src/engine/types.ts: the whole scenario
 * vector of each group, then max, first index, and a full sort for the top k.
 */
export function naiveReduce(
  pnl: PnlMatrix,
  g: GroupBook,
  topK: number,
): { worst: number[]; at: number[]; top: number[][] } {
  const S = pnl.scenarios;
  const worst: number[] = [];
  const at: number[] = [];
  const top: number[][] = [];
  for (let k = 0; k < g.groupCount; k++) {
    const pb = Array.from({ length: g.buckets }, () => new Float64Array(S));
    for (let e = g.groupStart[k]!; e < g.groupStart[k + 1]!; e++) {
      for (let s = 0; s < S; s++) pb[g.bucket[e]!]![s] += g.qty[e]! * pnl.data[g.row[e]! * S + s]!;
    }
    const loss: number[] = [];
    for (let s = 0; s < S; s++) {
      let p = 0;
      for (let b = 0; b < g.buckets; b++) {
        const x = g.weight[s * g.buckets + b]! * pb[b]![s]!;
        p += x < 0 ? x : g.pnlOffset * x;
      }
      loss.push(0 - p);
    }
    let w = -Infinity;
    let i = -1;
    for (let s = 0; s < S; s++)
      if (i < 0 || loss[s]! > w) {
        w = loss[s]!;
        i = s;
      }
    worst.push(w);
    at.push(i);
    top.push([...loss].sort((a, b) => b - a).slice(0, topK));
  }
  return { worst, at, top };
}
