// The margins the generator sizes collateral against (src/generate/unitMargins.ts) are the engine's:
// deribit-pm (docs/methodology.md §4a: worst weighted loss over the 35-scenario grid + roll shock, MM =
// 0.8·rmm, IM = rmm + liquidity add-on of 4e) and standard (4d), per settlement unit. Checked by hand on
// one perpetual, and against src/margin's computeMargin (scalar float64 kernels, reference aggregator)
// and standardRows on every unit of a generated book.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateBook } from '../../src/generate/book.js';
import { UnitMarginAccount, pmMarginTable } from '../../src/generate/unitMargins.js';
import { writeBook } from '../../src/generate/writeBook.js';
import { loadBook, type LoadedBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { standardRows } from '../../src/margin/standard.js';
import { buildRunTables, marginInput } from '../../src/margin/runTables.js';
import type { MarginRows } from '../../src/margin/types.js';
import { KIND_OPTION, type Market } from '../../src/model/market.js';
import { defaultParams } from '../../src/params/params.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { expectClose } from '../helpers/expectClose.js';
import { revalue } from '../margin/fixtures.js';

const SAMPLE = 'data/sample/market'; // the real 2026-02-01 Deribit chain, 3 BTC + 3 ETH expiries (data/README.md)
const tmp = mkdtempSync(join(tmpdir(), 'me-unitmargins-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let market: Market;
beforeAll(async () => {
  market = (await loadMarket(SAMPLE)).market;
});

describe('one BTC-PERPETUAL, by hand (BTC: R = 0.16, min_annualised_move 0.01, mm_factor 0.8)', () => {
  // coin P&L of +1 unit of an inverse perpetual at move m: 1 − 1/(1 + m); worst at the standard grid's
  // edge (−16% long, +16% short); extended moves use the edge ±R at weight R/|m| < 1, never worse
  test.each([
    ['long', 1, 1 / 0.84 - 1],
    ['short', -1, 1 - 1 / 1.16],
    ['long 2.5', 2.5, 2.5 * (1 / 0.84 - 1)],
  ])(
    '%s: IM = worst + roll + |q|·0.0005 (no quotes: default_half_spread), MM = 0.8·(worst + roll); standard (0.02 + 0.00005|q|)|q|',
    (_name, q, worst) => {
      const i = market.instruments.id.get('BTC-PERPETUAL')!;
      const ins = market.instruments;
      const acc = new UnitMarginAccount(pmMarginTable(market, defaultParams()));
      acc.reset();
      acc.add(i, q, ins.forward[i]!, ins.underlying[i]!, false);
      acc.finish();
      const c = ins.underlying[i]!;
      const a = Math.abs(q);
      const roll = 0.01 * a;
      expect(ins.bidPrice[i]).toBeNaN(); // the Deribit import has no perpetual quotes (data/README.md)
      const addon = a * 0.0005; // docs/methodology.md §4e: default_half_spread × 1 coin; |q| far below 5% of OI
      expectClose(acc.mm[c]!, 0.8 * (worst + roll), 1e-12, { q });
      expectClose(acc.im[c]!, worst + roll + addon, 1e-12, { q });
      expectClose(acc.stdIm[c]!, (0.02 + 0.00005 * a) * a, 1e-15, { q });
      expectClose(acc.stdMm[c]!, (0.01 + 0.00005 * a) * a, 1e-15, { q });
      expect(acc.value[c]).toBe(0); // entry at the forward: no unrealised P&L
      expect(Array.from(acc.held)).toEqual(market.underlyings.map((_, u) => (u === c ? 1 : 0)).concat([0]));
    },
  );
});

describe('every unit of a generated 400-account book equals the engine', () => {
  let loaded: LoadedBook;
  let pm: MarginRows;
  let std: MarginRows;
  beforeAll(async () => {
    const book = generateBook(market, { accounts: 400, seed: 9 });
    const dir = join(tmp, 'b');
    writeBook(dir, book, market.instruments.name);
    loaded = await loadBook(market, join(dir, 'positions.arrow'), join(dir, 'balances.arrow'));
    const params = defaultParams();
    const scenarios = buildScenarios('deribit-pm', market, params);
    pm = await computeMargin(
      MARGIN_MODELS['deribit-pm'],
      marginInput({ book: loaded.book, balances: loaded.balances, market, scenarios, params }),
      revalue(market, scenarios, params),
    );
    std = standardRows(buildRunTables(loaded.book, loaded.balances, market, params));
  });
  test('IM, MM, standard IM and MM per (account, unit) within 1e-9 relative; equity = balance + value of the positions', () => {
    const acc = new UnitMarginAccount(pmMarginTable(market, defaultParams()));
    const b = loaded.book,
      ins = market.instruments;
    const C = loaded.balances.currencies;
    let r = 0;
    let checked = 0;
    for (let a = 0; a < b.accountCount; a++) {
      acc.reset();
      for (let p = b.accountStart[a]!; p < b.accountStart[a + 1]!; p++) {
        const i = b.instrumentId[p]!;
        acc.add(i, b.quantity[p]!, b.entryPrice[p]!, ins.underlying[i]!, ins.kind[i] === KIND_OPTION);
      }
      acc.finish();
      for (; r < pm.count && pm.account[r] === a; r++) {
        const c = pm.unit[r]!;
        if (!acc.held[c]) continue; // a unit holding only collateral (extra USDC): no margin
        const where = { account: b.accountKey[a], unit: pm.unitNames[c] };
        const tol = (x: number) => 1e-9 * Math.max(1e-6, Math.abs(x));
        expectClose(acc.im[c]!, pm.im[r]!, tol(pm.im[r]!), where);
        expectClose(acc.mm[c]!, pm.mm[r]!, tol(pm.mm[r]!), where);
        expectClose(acc.stdIm[c]!, std.im[r]!, tol(std.im[r]!), where);
        expectClose(acc.stdMm[c]!, std.mm[r]!, tol(std.mm[r]!), where);
        const balance = loaded.balances.amount[a * C.length + C.indexOf(pm.unitNames[c]!)]!;
        expectClose(balance + acc.value[c]!, pm.equity[r]!, tol(pm.equity[r]!), where);
        checked++;
      }
    }
    expect(r).toBe(pm.count);
    expect(checked).toBeGreaterThan(400);
  });
});
