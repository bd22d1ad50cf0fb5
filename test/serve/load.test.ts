/**
 * A new market snapshot of the same instruments keeps the loaded book (src/serve/load.ts): the state is
 * bit for bit the one a fresh load of the same files gives, and the book is kept only when the market
 * cannot change it (sameBookMarket).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as A from 'apache-arrow';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWhatIf, sameBookMarket, type LoadedWhatIf, type WhatIfLoadOptions } from '../../src/serve/load.js';
import type { Market } from '../../src/model/market.js';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');
const LOAD: WhatIfLoadOptions = {
  marketDir: MARKET,
  positions: join(ROOT, 'data/sample/book/positions.arrow'),
  balances: join(ROOT, 'data/sample/book/balances.arrow'),
  models: ['deribit-pm', 'span'],
  onInvalid: 'fail',
};

let dir: string;
let first: LoadedWhatIf;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-load-'));
  // a moved market: every index 7 % higher, every forward 3 % lower, the same instruments
  cpSync(MARKET, dir, { recursive: true });
  for (const [f, column, k] of [
    ['underlyings.arrow', 'index_price', 1.07],
    ['instruments.arrow', 'forward', 0.97],
  ] as const) {
    const t = A.tableFromIPC(readFileSync(join(MARKET, f)));
    const cols: Record<string, A.Vector> = {};
    for (const field of t.schema.fields) {
      const v = t.getChild(field.name)!;
      const values = Array.from({ length: v.length }, (_, r) =>
        field.name === column ? (v.get(r) as number) * k : v.get(r),
      );
      cols[field.name] = A.vectorFromArray(values as never[], field.type as never);
    }
    writeFileSync(join(dir, f), A.tableToIPC(new A.Table(cols), 'file'));
  }
  first = await loadWhatIf(LOAD, true);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

/** Every account's summary per model, and the state's what-if and account views of a few accounts. */
function expectSameBits(a: LoadedWhatIf, b: LoadedWhatIf): void {
  expect([...a.accountId]).toEqual([...b.accountId]);
  expect([...a.summaries.keys()]).toEqual([...b.summaries.keys()]);
  for (const [model, sa] of a.summaries) {
    const sb = b.summaries.get(model)!;
    for (const k of Object.keys(sa) as Array<keyof typeof sa>) {
      const x = sa[k];
      if (ArrayBuffer.isView(x)) expect(bytes(x).equals(bytes(sb[k] as ArrayBufferView)), `${model} ${k}`).toBe(true);
      else expect(x).toBe(sb[k]);
    }
  }
  for (const key of ['A000007', 'A000123', 'A000999']) {
    const i = a.accountId.get(key)!;
    const trades = [{ instrument: a.market.instruments.id.get('BTC-PERPETUAL')!, quantity: 0.3, price: NaN }];
    expect(JSON.stringify(a.state.whatIf(i, trades))).toBe(JSON.stringify(b.state.whatIf(i, trades)));
    expect(JSON.stringify(a.state.account(i, a.state.modelNames, 5))).toBe(
      JSON.stringify(b.state.account(i, b.state.modelNames, 5)),
    );
  }
}

describe('a new snapshot of the same instruments keeps the book', () => {
  test('the same snapshot: the book kept, every answer the same bits', async () => {
    const again = await loadWhatIf(LOAD, true, first);
    expect(again.bookKept).toBe(true);
    expect(again.state.tables.book).toBe(first.state.tables.book);
    expectSameBits(again, first);
  });

  test('a moved snapshot: the book kept, the same bits as a fresh load of it', async () => {
    const kept = await loadWhatIf({ ...LOAD, marketDir: dir }, true, first);
    const fresh = await loadWhatIf({ ...LOAD, marketDir: dir }, true);
    expect(kept.bookKept).toBe(true);
    expect(fresh.bookKept).toBe(false);
    expect(fresh.summaries.get('deribit-pm')!.imUsd).not.toEqual(first.summaries.get('deribit-pm')!.imUsd);
    expectSameBits(kept, fresh);
  });
});

describe('sameBookMarket', () => {
  const with_ = (m: Market, change: (ins: Market['instruments'], u: string[]) => void): Market => {
    const ins = {
      ...m.instruments,
      name: [...m.instruments.name],
      underlying: m.instruments.underlying.slice(),
      settlement: m.instruments.settlement.slice(),
      forward: m.instruments.forward.slice(),
    };
    const u = [...m.underlyings];
    change(ins, u);
    return { ...m, underlyings: u, instruments: ins };
  };

  test('only names, order, underlying and settlement count; forwards too when an entry came from one', () => {
    const m = first.market;
    expect(
      sameBookMarket(
        m,
        with_(m, () => {}),
        0,
      ),
    ).toBe(true);
    const moved = with_(m, (ins) => ins.forward.forEach((f, i) => (ins.forward[i] = f * 1.01)));
    expect(sameBookMarket(m, moved, 0)).toBe(true);
    expect(sameBookMarket(m, moved, 1)).toBe(false);
    expect(
      sameBookMarket(
        m,
        with_(m, (ins) => (ins.name[3] = 'OTHER')),
        0,
      ),
    ).toBe(false);
    expect(
      sameBookMarket(
        m,
        with_(m, (ins) => ins.name.reverse()),
        0,
      ),
    ).toBe(false);
    expect(
      sameBookMarket(
        m,
        with_(m, (ins) => (ins.settlement[3] = 1 - ins.settlement[3]!)),
        0,
      ),
    ).toBe(false);
    expect(
      sameBookMarket(
        m,
        with_(m, (ins) => (ins.underlying[3] = 1 - ins.underlying[3]!)),
        0,
      ),
    ).toBe(false);
    expect(
      sameBookMarket(
        m,
        with_(m, (_ins, u) => u.reverse()),
        0,
      ),
    ).toBe(false);
    const fewer = { ...m, instruments: { ...m.instruments, count: m.instruments.count - 1 } };
    expect(sameBookMarket(m, fewer, 0)).toBe(false);
  });
});
