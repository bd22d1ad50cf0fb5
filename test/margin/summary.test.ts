/**
 * The account summary (src/margin/summary.ts): per account across units, in USD; coin units converted
 * at the index price; deribit-pm status is the worst unit's, span/var status from the USD totals.
 */
import { describe, expect, test } from 'vitest';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { standardRows } from '../../src/margin/standard.js';
import { buildRunTables } from '../../src/margin/runTables.js';
import { accountSummary } from '../../src/margin/summary.js';
import { STATUS_LIQUIDATION, STATUS_OK } from '../../src/margin/types.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { deribitPmSet, makePortfolio, revalue, spanSet } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

const market = sampleMarket();
const params = defaultParams();
// 'rich-usdc': naked short BTC puts in the coin unit with no BTC, but a million USDC beside them
const positions = [...SAMPLE_POSITIONS, { account: 'rich-usdc', instrument: 'BTC-28JUN24-60000-P', qty: -10 }];
const balancesSpec = [...SAMPLE_BALANCES, { account: 'rich-usdc', currency: 'USDC', amount: 1_000_000 }];
const { book, balances } = makePortfolio(market, positions, balancesSpec);
const tables = buildRunTables(book, balances, market, params);
const std = standardRows(tables);

async function summaryOf(model: 'deribit-pm' | 'span') {
  const scenarios = model === 'span' ? spanSet(market, params) : deribitPmSet(market, params);
  const input = { ...tables, scenarios };
  const rows = await computeMargin(MARGIN_MODELS[model], input, revalue(market, scenarios, params));
  return { rows, sum: accountSummary(rows, std, tables) };
}

describe('accountSummary', () => {
  test('deribit-pm: USD sums of the units at the index price; saving against standard', async () => {
    const { rows, sum } = await summaryOf('deribit-pm');
    expect(sum.count).toBe(book.accountCount);
    const a = book.accountKey.indexOf('usdc');
    const rs = Array.from({ length: rows.count }, (_, r) => r).filter((r) => rows.account[r] === a);
    const usd = (r: number): number => (rows.unitNames[rows.unit[r]] === 'BTC' ? 66000 : 1);
    expect(rs.map((r) => rows.unitNames[rows.unit[r]])).toEqual(['BTC', 'USDC']);
    expectClose(
      sum.equityUsd[a],
      rs.reduce((s, r) => s + rows.equity[r] * usd(r), 0),
      1e-6,
      {},
    );
    expectClose(
      sum.imUsd[a],
      rs.reduce((s, r) => s + rows.im[r] * usd(r), 0),
      1e-6,
      {},
    );
    expectClose(
      sum.mmUsd[a],
      rs.reduce((s, r) => s + rows.mm[r] * usd(r), 0),
      1e-6,
      {},
    );
    expectClose(sum.marginRatio[a], sum.mmUsd[a] / sum.equityUsd[a], 1e-12, {});
    const ss = Array.from({ length: std.count }, (_, r) => r).filter((r) => std.account[r] === a);
    const stdUsd = ss.reduce((s, r) => s + std.im[r] * (std.unitNames[std.unit[r]] === 'BTC' ? 66000 : 1), 0);
    expectClose(sum.standardImUsd[a], stdUsd, 1e-6, {});
    expectClose(sum.savingUsd[a], stdUsd - sum.imUsd[a], 1e-6, {});
  });

  test('deribit-pm: a coin unit in liquidation puts the account in liquidation whatever its USDC; span decides on the totals', async () => {
    const a = book.accountKey.indexOf('rich-usdc');
    const pm = await summaryOf('deribit-pm');
    const btc = Array.from({ length: pm.rows.count }, (_, r) => r).find(
      (r) => pm.rows.account[r] === a && pm.rows.unitNames[pm.rows.unit[r]] === 'BTC',
    )!;
    expect(pm.rows.status[btc]).toBe(STATUS_LIQUIDATION);
    expect(pm.sum.status[a]).toBe(STATUS_LIQUIDATION);
    expect(pm.sum.equityUsd[a]).toBeGreaterThan(pm.sum.imUsd[a]);
    const sp = await summaryOf('span');
    expect(sp.sum.status[a]).toBe(STATUS_OK);
  });

  test("span: equity is the account's USD equity, IM and MM the sums of its rows; an account without rows has its cash", async () => {
    const { rows, sum } = await summaryOf('span');
    for (let a = 0; a < book.accountCount; a++) {
      const rs = Array.from({ length: rows.count }, (_, r) => r).filter((r) => rows.account[r] === a);
      expectClose(
        sum.imUsd[a],
        rs.reduce((s, r) => s + rows.im[r], 0),
        1e-9,
        { a },
      );
      if (rs.length > 0) expect(sum.equityUsd[a]).toBe(rows.equity[rs[0]]);
      expect(sum.status[a]).toBe(rs.length > 0 ? rows.status[rs[0]] : STATUS_OK);
    }
    const cash = book.accountKey.indexOf('cash-only');
    expect([sum.equityUsd[cash], sum.imUsd[cash], sum.mmUsd[cash], sum.marginRatio[cash]]).toEqual([1000, 0, 0, 0]);
  });
});
