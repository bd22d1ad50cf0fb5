/**
 * What-if (docs/methodology.md §10) on the bundled sample book: for random trades on random accounts the
 * incremental answer equals a full run of the whole book with the trades added (built here independently:
 * every position as a row plus the trade rows through the loader's merge, the premiums taken from the
 * balances, every model recomputed over the whole book with the reference aggregator) to 1e-12 relative;
 * trades commute; Δq then −Δq gives back the original bits; nothing stored changes.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { buildPositionBook } from '../../src/io/buildBook.js';
import { loadBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import { buildRunTables, type RunTables } from '../../src/margin/runTables.js';
import { standardRows } from '../../src/margin/standard.js';
import { accountSummary } from '../../src/margin/summary.js';
import { STATUS_NAMES, type MarginRows } from '../../src/margin/types.js';
import { WhatIfBook, type Trade, type WhatIfAnswer } from '../../src/margin/whatif.js';
import type { PnlMatrix } from '../../src/engine/types.js';
import { KIND_OPTION, SETTLE_INVERSE, type Market } from '../../src/model/market.js';
import { defaultParams, type Params } from '../../src/params/params.js';
import type { ScenarioSet } from '../../src/scenarios/types.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { deribitPmSet, jointSet, pinnedJointMoves, revalue, spanSet } from './fixtures.js';

const root = new URL('../../data/sample/', import.meta.url).pathname;
const MODELS: ScenarioModelName[] = ['deribit-pm', 'span', 'var-hs'];
let market: Market;
let params: Params;
let base: RunTables;
let state: WhatIfBook;
const sets = new Map<ScenarioModelName, { scenarios: ScenarioSet; pnl: PnlMatrix }>();

beforeAll(async () => {
  ({ market } = await loadMarket(`${root}market`));
  const { book, balances } = await loadBook(market, `${root}book/positions.arrow`, `${root}book/balances.arrow`);
  params = defaultParams();
  base = buildRunTables(book, balances, market, params);
  const moves = pinnedJointMoves(market);
  const built: Record<ScenarioModelName, ScenarioSet> = {
    'deribit-pm': deribitPmSet(market, params),
    span: spanSet(market, params),
    'var-hs': jointSet('historical', market, moves),
    'var-mc': jointSet('monte-carlo', market, moves),
  };
  for (const m of MODELS) sets.set(m, { scenarios: built[m], pnl: revalue(market, built[m], params) });
  state = new WhatIfBook(base, sets);
});

/** The whole book with `trades` added to account `a` as rows of their own, premiums from the balances. */
function fullRun(a: number, trades: Trade[]): RunTables {
  const { book, balances } = base;
  const ins = market.instruments;
  const P = book.instrumentId.length;
  const n = P + trades.length;
  const account = new Int32Array(n);
  for (let b = 0; b < book.accountCount; b++) account.fill(b, book.accountStart[b], book.accountStart[b + 1]);
  const instrument = new Int32Array(n);
  const quantity = new Float64Array(n);
  const entryPrice = new Float64Array(n);
  instrument.set(book.instrumentId);
  quantity.set(book.quantity);
  entryPrice.set(book.entryPrice);
  const amount = Float64Array.from(balances.amount);
  const C = balances.currencies.length;
  trades.forEach((t, j) => {
    account[P + j] = a;
    instrument[P + j] = t.instrument;
    quantity[P + j] = t.quantity;
    const option = ins.kind[t.instrument] === KIND_OPTION;
    entryPrice[P + j] = option ? NaN : t.price;
    if (option) {
      const inverse = ins.settlement[t.instrument] === SETTLE_INVERSE;
      const value = inverse
        ? base.optionValuesUsd[t.instrument] / ins.forward[t.instrument]
        : base.optionValuesUsd[t.instrument];
      const cur = inverse ? market.underlyings[ins.underlying[t.instrument]] : 'USDC';
      amount[a * C + balances.currencies.indexOf(cur)] -= t.quantity * (Number.isNaN(t.price) ? value : t.price);
    }
  });
  const full = buildPositionBook(
    market,
    [{ account, instrument, quantity, entryPrice }],
    book.accountKey,
    book.accountKeyType,
  ).book;
  return buildRunTables(full, { currencies: balances.currencies, amount }, market, params);
}

function randomTrades(rand: () => number, legs: number): Trade[] {
  const ins = market.instruments;
  return Array.from({ length: legs }, () => {
    const i = Math.floor(rand() * ins.count);
    const lot = market.underlyings[ins.underlying[i]] === 'BTC' ? 0.1 : 1;
    const q = (1 + Math.floor(rand() * 30)) * lot * (rand() < 0.5 ? -1 : 1);
    let price = NaN;
    if (rand() < 0.6) {
      const option = ins.kind[i] === KIND_OPTION;
      const mid = option
        ? ins.settlement[i] === SETTLE_INVERSE
          ? base.optionValuesUsd[i] / ins.forward[i]
          : base.optionValuesUsd[i]
        : ins.forward[i];
      price = mid * (0.9 + 0.2 * rand());
    }
    return { instrument: i, quantity: q, price };
  });
}

function close(x: number, y: number, what: string): void {
  if (x === y) return;
  const tol = 1e-12 * Math.max(Math.abs(x), Math.abs(y), 1);
  expect(Math.abs(x - y) <= tol, `${what}: ${x} vs ${y}`).toBe(true);
}

/** The account's rows of `rows` by unit name. */
function unitRows(rows: MarginRows, a: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let k = 0; k < rows.count; k++) if (rows.account[k] === a) out.set(rows.unitNames[rows.unit[k]], k);
  return out;
}

describe('what-if = a full run of the book with the trades added (§10)', () => {
  test('random trades on random accounts, every model, to 1e-12 relative', async () => {
    const rand = mulberry32(19);
    let changed = 0;
    for (let round = 0; round < 12; round++) {
      const a = Math.floor(rand() * base.book.accountCount);
      const trades = randomTrades(rand, 1 + Math.floor(rand() * 5));
      const answer = state.whatIf(a, trades);
      const full = fullRun(a, trades);
      const std = standardRows(full);
      const byModel = new Map(answer.models.map((m) => [m.model, m]));
      for (const name of [...MODELS, 'standard'] as const) {
        const rows =
          name === 'standard'
            ? std
            : await computeMargin(
                MARGIN_MODELS[name],
                { ...full, scenarios: sets.get(name)!.scenarios },
                sets.get(name)!.pnl,
              );
        const sum = accountSummary(rows, std, full);
        const m = byModel.get(name)!;
        const at = `round ${round} ${name} account ${a}`;
        close(m.after.im, sum.imUsd[a], `${at} IM`);
        close(m.after.mm, sum.mmUsd[a], `${at} MM`);
        close(m.after.equity, sum.equityUsd[a], `${at} equity`);
        close(m.after.available, sum.equityUsd[a] - sum.imUsd[a], `${at} available`);
        expect(m.after.status, at).toBe(STATUS_NAMES[sum.status[a]]);
        const units = unitRows(rows, a);
        for (const u of m.units) {
          const k = units.get(u.unit);
          if (u.after === null) {
            expect(k, `${at} unit ${u.unit} closed`).toBeUndefined();
            continue;
          }
          expect(k, `${at} unit ${u.unit}`).toBeDefined();
          close(u.after.im, rows.im[k!], `${at} unit ${u.unit} IM`);
          close(u.after.mm, rows.mm[k!], `${at} unit ${u.unit} MM`);
          close(u.after.equity, rows.equity[k!], `${at} unit ${u.unit} equity`);
        }
        expect(m.units.filter((u) => u.after !== null).length).toBe(units.size);
        if (m.deltaIm !== 0) changed++;
      }
    }
    expect(changed).toBeGreaterThan(20);
  });

  test('closing positions exactly (the row leaves the book) = the full run, every model', async () => {
    const rand = mulberry32(29);
    let closed = 0;
    for (let round = 0; round < 6; round++) {
      const a = Math.floor(rand() * base.book.accountCount);
      const p0 = base.book.accountStart[a];
      const p1 = base.book.accountStart[a + 1];
      if (p1 - p0 < 2) continue;
      // close the first position at its model value, and buy another instrument
      const p = p0 + Math.floor(rand() * (p1 - p0));
      const trades: Trade[] = [
        { instrument: base.book.instrumentId[p], quantity: -base.book.quantity[p], price: NaN },
        ...randomTrades(rand, 1),
      ];
      const answer = state.whatIf(a, trades);
      const full = fullRun(a, trades);
      expect(full.book.accountStart[a + 1] - full.book.accountStart[a]).toBeLessThanOrEqual(p1 - p0);
      closed++;
      const std = standardRows(full);
      for (const name of [...MODELS, 'standard'] as const) {
        const rows =
          name === 'standard'
            ? std
            : await computeMargin(
                MARGIN_MODELS[name],
                { ...full, scenarios: sets.get(name)!.scenarios },
                sets.get(name)!.pnl,
              );
        const sum = accountSummary(rows, std, full);
        const m = answer.models.find((x) => x.model === name)!;
        close(m.after.im, sum.imUsd[a], `close ${round} ${name} IM`);
        close(m.after.mm, sum.mmUsd[a], `close ${round} ${name} MM`);
        close(m.after.equity, sum.equityUsd[a], `close ${round} ${name} equity`);
      }
    }
    expect(closed).toBeGreaterThan(2);
  });

  test("the book's rows from the stored vectors = the model's full computation, every row", async () => {
    for (const name of MODELS) {
      const rows = await computeMargin(
        MARGIN_MODELS[name],
        { ...base, scenarios: sets.get(name)!.scenarios },
        sets.get(name)!.pnl,
      );
      for (const st of [state, new WhatIfBook(base, sets, 0)]) {
        const mine = st.bookRows(name);
        expect(mine.count).toBe(rows.count);
        for (let r = 0; r < rows.count; r++) {
          close(mine.im[r], rows.im[r], `${name} row ${r} IM`);
          close(mine.mm[r], rows.mm[r], `${name} row ${r} MM`);
          expect(mine.status[r]).toBe(rows.status[r]);
        }
      }
    }
  });

  test('before = the run of the book as it is (to 1e-12 relative)', async () => {
    const rand = mulberry32(7);
    for (const name of MODELS) {
      const rows = await computeMargin(
        MARGIN_MODELS[name],
        { ...base, scenarios: sets.get(name)!.scenarios },
        sets.get(name)!.pnl,
      );
      const std = standardRows(base);
      const sum = accountSummary(rows, std, base);
      for (let j = 0; j < 10; j++) {
        const a = Math.floor(rand() * base.book.accountCount);
        const m = state.whatIf(a, [], [name]).models[0];
        close(m.before.im, sum.imUsd[a], `${name} ${a} IM`);
        close(m.before.mm, sum.mmUsd[a], `${name} ${a} MM`);
        expect(m.after).toEqual(m.before);
      }
    }
  });
});

/** An answer with its trade lists in canonical order (the echo and contributions follow the input order). */
function canonical(x: WhatIfAnswer): WhatIfAnswer {
  const key = (t: { instrument: string; quantity: number; price: number | null }) =>
    `${t.instrument} ${t.quantity} ${t.price}`;
  return {
    ...x,
    trades: [...x.trades].sort((p, q) => key(p).localeCompare(key(q))),
    models: x.models.map((m) => ({ ...m, trades: [...m.trades].sort((p, q) => key(p).localeCompare(key(q))) })),
  };
}

describe('exactness', () => {
  test('trades commute: every order of the same trades gives the same bits', () => {
    const rand = mulberry32(5);
    for (let round = 0; round < 6; round++) {
      const a = Math.floor(rand() * base.book.accountCount);
      const trades = randomTrades(rand, 4);
      // two trades of one instrument too: netting in canonical order
      trades.push({ ...trades[0], quantity: trades[0].quantity * 0.3 });
      const one = canonical(state.whatIf(a, trades));
      const reversed = canonical(state.whatIf(a, [...trades].reverse()));
      const rotated = canonical(state.whatIf(a, [...trades.slice(2), ...trades.slice(0, 2)]));
      expect(reversed).toEqual(one);
      expect(rotated).toEqual(one);
    }
  });

  test('Δq then −Δq gives back the original bits, and no what-if changes the stored book', () => {
    const digest = () => {
      const h = createHash('sha256');
      for (const x of [base.book.quantity, base.book.entryPrice, base.book.instrumentId, base.balances.amount])
        h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      for (const m of MODELS) h.update(new Uint8Array(sets.get(m)!.pnl.data.buffer));
      return h.digest('hex');
    };
    const before = digest();
    const rand = mulberry32(11);
    for (let round = 0; round < 10; round++) {
      const a = Math.floor(rand() * base.book.accountCount);
      const [t] = randomTrades(rand, 1);
      const none = state.whatIf(a, []);
      const there = state.whatIf(a, [t]);
      const back = state.whatIf(a, [t, { ...t, quantity: -t.quantity }]);
      for (let k = 0; k < none.models.length; k++) {
        expect(back.models[k].after).toEqual(none.models[k].before);
        expect(back.models[k].units.map((u) => u.after)).toEqual(none.models[k].units.map((u) => u.before));
        expect(there.models[k].before).toEqual(none.models[k].before);
      }
    }
    expect(digest()).toBe(before);
  });

  test('a model whose vectors are not stored (over the memory budget) gives the same bits', () => {
    const lean = new WhatIfBook(base, sets, 0);
    for (const m of MODELS) {
      expect(state.storesVectors(m)).toBe(true);
      expect(lean.storesVectors(m)).toBe(false);
    }
    const rand = mulberry32(23);
    for (let round = 0; round < 5; round++) {
      const a = Math.floor(rand() * base.book.accountCount);
      const trades = randomTrades(rand, 3);
      expect(lean.whatIf(a, trades)).toEqual(state.whatIf(a, trades));
    }
  });

  test("each trade's contribution: the trades of a new position share its Euler contribution by quantity", () => {
    const ins = market.instruments;
    const a = 3;
    // an instrument the account does not hold
    const held = new Set(base.book.instrumentId.subarray(base.book.accountStart[a], base.book.accountStart[a + 1]));
    const i = [...Array(ins.count).keys()].find((j) => !held.has(j) && ins.kind[j] === KIND_OPTION)!;
    const t1: Trade = { instrument: i, quantity: -2, price: NaN };
    const t2: Trade = { instrument: i, quantity: -1, price: NaN };
    const one = state.whatIf(a, [{ ...t1, quantity: -3 }], ['deribit-pm']).models[0];
    const two = state.whatIf(a, [t1, t2], ['deribit-pm']).models[0];
    close(two.trades[0].im + two.trades[1].im, one.trades[0].im, 'sum of the parts');
    close(two.trades[0].im, 2 * two.trades[1].im, 'in proportion to Δq');
    expect(one.trades[0].im).not.toBe(0);
  });
});
