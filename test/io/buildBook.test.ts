/**
 * The CSR position book (src/model/book.ts): sorted by account, then risk unit (underlying code for
 * inverse instruments, U = USDC for linear), then instrument id; unit ranges consistent with account
 * ranges. Checked on a small hand-built book with the expected arrays written out, and on a seeded
 * random book against a naive reference built with plain objects.
 */
import { describe, expect, test } from 'vitest';
import { buildPositionBook, unitCurrencyOf } from '../../src/io/buildBook.js';
import type { Market } from '../../src/model/market.js';
import type { PositionBook } from '../../src/model/book.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { writeMarket } from '../fixtures/io/arrowTables.js';
import { mulberry32 } from '../helpers/mulberry32.js';

// instruments of the fixture: 0 BTC-C inv, 1 BTC-P inv, 2 BTC fut inv, 3 BTC perp inv, 4 ETH-C inv,
// 5 ETH perp linear, 6 BTC put linear  → unit codes 0,0,0,0,1,2,2 (BTC=0, ETH=1, USDC=2)
const { market } = await loadMarket(writeMarket());

function rows(account: number[], instrument: number[], quantity: number[], entry?: number[]) {
  return [
    {
      account: Int32Array.from(account),
      instrument: Int32Array.from(instrument),
      quantity: Float64Array.from(quantity),
      entryPrice: Float64Array.from(entry ?? quantity.map(() => NaN)),
    },
  ];
}

/** The same rows cut into `k` chunks, as record batches would give them. */
function chunked(c: ReturnType<typeof rows>, k: number): ReturnType<typeof rows> {
  const [one] = c;
  const n = one!.account.length;
  const step = Math.ceil(n / k);
  const out: ReturnType<typeof rows> = [];
  for (let a = 0; a < n; a += step) {
    const b = Math.min(n, a + step);
    out.push({
      account: one!.account.subarray(a, b),
      instrument: one!.instrument.subarray(a, b),
      quantity: one!.quantity.subarray(a, b),
      entryPrice: one!.entryPrice.subarray(a, b),
    });
  }
  return out;
}

/** Asserts every invariant book.ts documents. */
function checkInvariants(m: Market, b: PositionBook): void {
  const unitOf = unitCurrencyOf(m);
  const P = b.instrumentId.length;
  expect(b.accountStart.length).toBe(b.accountCount + 1);
  expect(b.accountStart[0]).toBe(0);
  expect(b.accountStart[b.accountCount]).toBe(P);
  expect(b.unitStart.length).toBe(b.unitCount + 1);
  expect(b.unitStart[b.unitCount]).toBe(P);
  expect(b.accountUnitStart[b.accountCount]).toBe(b.unitCount);
  for (let a = 0; a < b.accountCount; a++) {
    const u0 = b.accountUnitStart[a]!;
    const u1 = b.accountUnitStart[a + 1]!;
    expect(b.unitStart[u0]).toBe(b.accountStart[a]); // the account's units tile its positions
    expect(u1 === u0 ? b.accountStart[a + 1] : b.unitStart[u1]).toBe(b.accountStart[a + 1]);
    for (let u = u0; u < u1; u++) {
      expect(b.unitAccount[u]).toBe(a);
      if (u > u0) expect(b.unitCurrency[u]!).toBeGreaterThan(b.unitCurrency[u - 1]!);
      expect(b.unitStart[u + 1]!).toBeGreaterThan(b.unitStart[u]!);
      for (let p = b.unitStart[u]!; p < b.unitStart[u + 1]!; p++) {
        expect(unitOf[b.instrumentId[p]!]).toBe(b.unitCurrency[u]);
        if (p > b.unitStart[u]!) expect(b.instrumentId[p]!).toBeGreaterThan(b.instrumentId[p - 1]!);
        expect(b.quantity[p]).not.toBe(0);
      }
    }
  }
}

describe('buildPositionBook', () => {
  test('a small hand-built book: sorted by account, unit, instrument; duplicates merged', () => {
    // rows: (account, instrument, q)
    const r = rows([1, 0, 1, 0, 0, 1, 2, 0], [5, 6, 0, 2, 4, 0, 3, 2], [1, 2, 3, 4, 5, 6, 7, -1]);
    const { book, mergedRows, netZeroPositions } = buildPositionBook(market, r, ['a', 'b', 'c'], 'utf8');
    expect(mergedRows).toBe(2);
    expect(netZeroPositions).toBe(0);
    expect(Array.from(book.accountStart)).toEqual([0, 3, 5, 6]);
    expect(Array.from(book.instrumentId)).toEqual([2, 4, 6, 0, 5, 3]);
    expect(Array.from(book.quantity)).toEqual([3, 5, 2, 9, 1, 7]);
    expect(book.unitCount).toBe(6);
    expect(Array.from(book.unitAccount)).toEqual([0, 0, 0, 1, 1, 2]);
    expect(Array.from(book.unitCurrency)).toEqual([0, 1, 2, 0, 2, 0]);
    expect(Array.from(book.unitStart)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(book.accountUnitStart)).toEqual([0, 3, 5, 6]);
    expect(book.unitCurrencies).toEqual(['BTC', 'ETH', 'USDC']);
    checkInvariants(market, book);
  });

  test('an account with no positions has an empty range', () => {
    const { book } = buildPositionBook(market, rows([2, 0], [1, 1], [1, 1]), ['a', 'b', 'c'], 'utf8');
    expect(Array.from(book.accountStart)).toEqual([0, 1, 1, 2]);
    expect(Array.from(book.accountUnitStart)).toEqual([0, 1, 1, 2]);
    checkInvariants(market, book);
  });

  test.each([
    ['many small accounts', 7, 400, 3000],
    ['a few large accounts (long runs take the keyed sort)', 11, 3, 3000],
  ])('%s: equals a naive reference (seed %i)', (_name, seed, accounts, n) => {
    const rnd = mulberry32(seed);
    const I = market.instruments.count;
    const acc: number[] = [];
    const ins: number[] = [];
    const q: number[] = [];
    const e: number[] = [];
    for (let k = 0; k < n; k++) {
      acc.push(Math.floor(accounts * rnd() ** 2));
      ins.push(rnd() < 0.02 ? -1 : Math.floor(I * rnd())); // some rows not in the book
      q.push(rnd() < 0.1 ? 1 : Math.round((rnd() - 0.5) * 8)); // zeros and exact cancellations happen
      e.push(rnd() < 0.3 ? NaN : 100 + Math.floor(rnd() * 10));
    }
    const keys = Array.from({ length: accounts }, (_, a) => `k${a}`);
    const { book, mergedRows, netZeroPositions, forwardEntries } = buildPositionBook(
      market,
      chunked(rows(acc, ins, q, e), 4),
      keys,
      'utf8',
    );
    checkInvariants(market, book);

    // reference: a Map of (account, instrument) -> sums, in row order
    const unitOf = unitCurrencyOf(market);
    const ref = new Map<
      string,
      { a: number; i: number; q: number; qe: number; qg: number; given: number; rows: number; last: number }
    >();
    let refMerged = 0;
    for (let k = 0; k < n; k++) {
      if (ins[k]! < 0) continue;
      const key = `${acc[k]}/${ins[k]}`;
      let s = ref.get(key);
      if (s) refMerged++;
      else ref.set(key, (s = { a: acc[k]!, i: ins[k]!, q: 0, qe: 0, qg: 0, given: 0, rows: 0, last: NaN }));
      s.q += q[k]!;
      s.rows++;
      if (!Number.isNaN(e[k]!)) {
        s.qe += q[k]! * e[k]!;
        s.qg += q[k]!;
        s.given++;
        s.last = e[k]!;
      }
    }
    const expected = [...ref.values()]
      .filter((s) => s.q !== 0)
      .sort((x, y) => x.a - y.a || unitOf[x.i]! - unitOf[y.i]! || x.i - y.i);
    expect(mergedRows).toBe(refMerged);
    expect(netZeroPositions).toBe(ref.size - expected.length);
    expect(Array.from(book.instrumentId)).toEqual(expected.map((s) => s.i));
    expect(Array.from(book.quantity)).toEqual(expected.map((s) => s.q));
    // the effective entry keeps the rows' unrealised P&L: exact average when every row is priced,
    // F − (F·Σq_priced − Σq·e) / q when only some are
    const F = market.instruments.forward;
    const refEntry = expected.map((s) =>
      s.given === 0
        ? NaN
        : s.rows === 1
          ? s.last
          : s.given === s.rows
            ? s.qe / s.qg
            : F[s.i]! - (F[s.i]! * s.qg - s.qe) / s.q,
    );
    expect(Array.from(book.entryPrice)).toEqual(refEntry);
    // the entries that depend on the market's forward are counted (a kept book must not hold any)
    const refForward = expected.filter((s) => s.given > 0 && s.rows > 1 && s.given !== s.rows).length;
    expect(forwardEntries).toBe(refForward);
    if (n >= 1000) expect(refForward).toBeGreaterThan(0);
    for (let a = 0; a < accounts; a++) {
      expect(book.accountStart[a + 1]! - book.accountStart[a]!).toBe(expected.filter((s) => s.a === a).length);
    }
  });
});
