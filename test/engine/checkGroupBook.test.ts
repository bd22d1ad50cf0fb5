/**
 * checkGroupBook (src/engine/backend.ts): a GroupBook whose entries leave the P&L matrix is refused before
 * any backend reads it, naming the first entry that does: checked on hand-made cases and, on random books,
 * against the entry-by-entry rule written out here (a faster form of the check must refuse exactly the
 * same books with the same message).
 */
import { describe, expect, test } from 'vitest';
import { checkGroupBook } from '../../src/engine/backend.js';
import type { GroupBook, PnlMatrix } from '../../src/engine/types.js';

const ROWS = 40;
const SCENARIOS = 3;

function matrix(unwritten?: [number, number]): PnlMatrix {
  return {
    rows: ROWS,
    scenarios: SCENARIOS,
    data: new Float64Array(ROWS * SCENARIOS),
    ...(unwritten ? { unwritten } : {}),
  } as PnlMatrix;
}

function book(row: number[], bucket: number[], buckets = 2): GroupBook {
  return {
    groupCount: 1,
    groupStart: Int32Array.of(0, row.length),
    row: Int32Array.from(row),
    qty: new Float64Array(row.length).fill(1),
    bucket: Int32Array.from(bucket),
    buckets,
    weight: new Float64Array(SCENARIOS * buckets).fill(1),
    pnlOffset: 1,
  };
}

/** The rule entry by entry: the message for the first entry that breaks it, or null. */
function firstBreak(pnl: PnlMatrix, g: GroupBook): string | null {
  const [u0, u1] = pnl.unwritten ?? [0, 0];
  for (let e = 0; e < g.groupStart[g.groupCount]!; e++) {
    const r = g.row[e]!;
    const b = g.bucket[e]!;
    if (!(r >= 0 && r < pnl.rows)) return `GroupBook.row[${e}] = ${r} outside the matrix's ${pnl.rows} rows`;
    if (r >= u0 && r < u1) return `GroupBook.row[${e}] = ${r} is one of the rows ${u0}..${u1 - 1}`;
    if (!(b >= 0 && b < g.buckets)) return `GroupBook.bucket[${e}] = ${b} outside 0..${g.buckets - 1}`;
  }
  return null;
}

function outcome(pnl: PnlMatrix, g: GroupBook): string | null {
  try {
    checkGroupBook(pnl, g);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('checkGroupBook', () => {
  test('a book inside the matrix passes, the unwritten rows unread', () => {
    expect(outcome(matrix([10, 20]), book([0, 9, 20, 39], [0, 1, 1, 0]))).toBeNull();
    expect(outcome(matrix(), book([], []))).toBeNull();
  });

  test.each([
    [[3, -1, 5], [0, 0, 0], undefined, "GroupBook.row[1] = -1 outside the matrix's 40 rows"],
    [[3, 5, 40], [0, 0, 0], undefined, "GroupBook.row[2] = 40 outside the matrix's 40 rows"],
    [[3, 5, 7], [0, 2, 0], undefined, 'GroupBook.bucket[1] = 2 outside 0..1'],
    [[3, 5, 7], [0, 0, -1], undefined, 'GroupBook.bucket[2] = -1 outside 0..1'],
    [[3, 15, 7], [0, 0, 0], [10, 20] as [number, number], 'GroupBook.row[1] = 15 is one of the rows 10..19'],
    // the first entry that breaks a rule is named, whichever rule a later one breaks
    [[3, 12, -4], [5, 0, 0], [10, 20] as [number, number], 'GroupBook.bucket[0] = 5 outside 0..1'],
  ])('rows %j, buckets %j, unwritten %j: refused, naming the first entry', (row, bucket, unwritten, message) => {
    const got = outcome(matrix(unwritten), book(row, bucket));
    expect(got).toContain(message);
  });

  test('random books: refused exactly when the entry-by-entry rule refuses, naming the same entry', () => {
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let refused = 0;
    for (let k = 0; k < 2000; k++) {
      const n = 1 + next(12);
      // mostly valid entries, now and then one just outside (rows −1 or 40, bucket −1 or 2)
      const row = Array.from({ length: n }, () => (next(25) === 0 ? [-1, ROWS][next(2)]! : next(ROWS)));
      const bucket = Array.from({ length: n }, () => (next(25) === 0 ? [-1, 2][next(2)]! : next(2)));
      const u0 = next(ROWS);
      const unwritten: [number, number] | undefined = next(2) === 0 ? [u0, u0 + next(6)] : undefined;
      const pnl = matrix(unwritten);
      const g = book(row, bucket);
      const want = firstBreak(pnl, g);
      const got = outcome(pnl, g);
      if (want === null) expect(got, JSON.stringify({ row, bucket, unwritten })).toBeNull();
      else {
        refused++;
        expect(got, JSON.stringify({ row, bucket, unwritten })).toContain(want);
      }
    }
    expect(refused).toBeGreaterThan(300); // both outcomes are exercised
  });
});
