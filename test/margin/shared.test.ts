/**
 * The per-run MarginShared (src/margin/shared.ts) changes no result: on the bundled sample (data/sample,
 * see data/README.md) every model's rows and every account summary are bit-identical whether each
 * model computes its own option values, units, equity and tables or one shared object serves the
 * whole run in runMargin's order (scenario models, then standard, then the summaries).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import type { MarginInput } from '../../src/margin/plan.js';
import { createMarginShared, sharedFor } from '../../src/margin/shared.js';
import { standardByUnit, standardRows, standardTable } from '../../src/margin/standard.js';
import { accountEquityUsd, unitEquity } from '../../src/margin/equity.js';
import { liquidityTable, unitLiquidityAddon } from '../../src/margin/liquidity.js';
import { optionValuesUsd } from '../../src/margin/optionValue.js';
import { settlementUnits } from '../../src/margin/settlementUnits.js';
import { accountSummary, type AccountSummary } from '../../src/margin/summary.js';
import type { MarginRows, ModelName } from '../../src/margin/types.js';
import { defaultParams } from '../../src/params/params.js';
import type { PnlMatrix } from '../../src/engine/types.js';
import type { ScenarioSet } from '../../src/scenarios/types.js';
import { deribitPmSet, jointSet, pinnedJointMoves, revalue, spanSet } from './fixtures.js';

const root = new URL('../../data/sample/', import.meta.url).pathname;
const SCENARIO_MODELS = ['deribit-pm', 'span', 'var-hs', 'var-mc'] as const satisfies readonly ScenarioModelName[];
const ALL: ModelName[] = [...SCENARIO_MODELS, 'standard'];

let base: Omit<MarginInput, 'scenarios'>;
const sets: Partial<Record<ScenarioModelName, ScenarioSet>> = {};
const pnl: Partial<Record<ScenarioModelName, PnlMatrix>> = {};
const alone: Partial<Record<ModelName, MarginRows>> = {};
const withShared: Partial<Record<ModelName, MarginRows>> = {};
const sumAlone: Partial<Record<ModelName, AccountSummary>> = {};
const sumShared: Partial<Record<ModelName, AccountSummary>> = {};

/** Bytes of a typed array (bit-identical means equal bytes: NaN payloads and −0 included). */
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every typed-array column of `a` and `b` byte for byte, the other fields by value. */
function expectIdentical(a: object, b: object, what: string): void {
  if (ArrayBuffer.isView(a)) {
    expect(ArrayBuffer.isView(b) && bytes(b).equals(bytes(a)), `${what} differs`).toBe(true);
    return;
  }
  const ka = Object.keys(a).sort();
  expect(Object.keys(b).sort(), what).toEqual(ka);
  for (const k of ka) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (ArrayBuffer.isView(x)) {
      expect(ArrayBuffer.isView(y), `${what}.${k}`).toBe(true);
      expect(bytes(y as ArrayBufferView).equals(bytes(x)), `${what}.${k} differs`).toBe(true);
    } else {
      expect(y, `${what}.${k}`).toEqual(x);
    }
  }
}

beforeAll(async () => {
  const { market } = await loadMarket(`${root}market`);
  const { book, balances } = await loadBook(market, `${root}book/positions.arrow`, `${root}book/balances.arrow`);
  const params = defaultParams();
  base = { market, book, balances, params };
  const moves = pinnedJointMoves(market); // the same for var-hs and var-mc
  sets['deribit-pm'] = deribitPmSet(market, params);
  sets.span = spanSet(market, params);
  sets['var-hs'] = jointSet('historical', market, moves);
  sets['var-mc'] = jointSet('monte-carlo', market, moves);
  for (const m of SCENARIO_MODELS) pnl[m] = revalue(market, sets[m]!, params);

  // each model on its own
  for (const m of SCENARIO_MODELS)
    alone[m] = await computeMargin(MARGIN_MODELS[m], { ...base, scenarios: sets[m]! }, pnl[m]!);
  alone.standard = standardRows(book, balances, market, params);
  for (const m of ALL) sumAlone[m] = accountSummary(alone[m]!, alone.standard, book, balances, market);

  // one shared object for the whole run, in runMargin's order
  const shared = createMarginShared(book, balances, market, params);
  for (const m of SCENARIO_MODELS)
    withShared[m] = await computeMargin(MARGIN_MODELS[m], { ...base, scenarios: sets[m]!, shared }, pnl[m]!);
  withShared.standard = standardRows(book, balances, market, params, shared);
  for (const m of ALL)
    sumShared[m] = accountSummary(withShared[m]!, withShared.standard, book, balances, market, shared);
});

describe('MarginShared on data/sample', () => {
  test.each(ALL)('%s: rows bit-identical with and without the shared object', (m) => {
    expect(alone[m]!.count).toBeGreaterThan(500);
    expectIdentical(alone[m]!, withShared[m]!, m);
  });

  test.each(ALL)('%s: account summary bit-identical with and without the shared object', (m) => {
    expectIdentical(sumAlone[m]!, sumShared[m]!, `${m} summary`);
  });

  test('summaries own their columns: span and var summaries do not alias each other or the shared equity', () => {
    expect(sumShared.span!.equityUsd).not.toBe(sumShared['var-hs']!.equityUsd);
    expect(sumShared.span!.equityUsd.buffer).not.toBe(sumShared['var-hs']!.equityUsd.buffer);
  });

  test("each accessor gives its free function's result, byte for byte", () => {
    const { book, balances, market, params } = base;
    const s = createMarginShared(book, balances, market, params);
    const units = settlementUnits(book, balances, market);
    const values = optionValuesUsd(market);
    expectIdentical(values, s.optionValuesUsd(), 'optionValuesUsd');
    expectIdentical(units, s.settlementUnits(), 'settlementUnits');
    expectIdentical(unitEquity(units, book, balances, market, values), s.unitEquity(s.settlementUnits()), 'unitEquity');
    expectIdentical(
      unitEquity(units, book, balances, market, values),
      s.unitEquity(units),
      'unitEquity (other units object)',
    );
    expectIdentical(accountEquityUsd(book, balances, market, values), s.accountEquityUsd(), 'accountEquityUsd');
    expectIdentical(
      standardByUnit(book, market, params, units),
      s.standardByUnit(s.settlementUnits()),
      'standardByUnit',
    );
    expectIdentical(liquidityTable(market, params), s.liquidityTable(), 'liquidityTable');
    expectIdentical(standardTable(market, params), s.standardTable(), 'standardTable');
  });

  test("the shared units' equity, standard IM/MM and add-on come from one pass (unitTotals), byte for byte the free functions' whichever is asked first", () => {
    const { book, balances, market, params } = base;
    const units = settlementUnits(book, balances, market);
    const values = optionValuesUsd(market);
    const want = {
      equity: unitEquity(units, book, balances, market, values),
      std: standardByUnit(book, market, params, units),
      addon: unitLiquidityAddon(units, book, market, liquidityTable(market, params)),
    };
    expect([want.addon.some((x) => x > 0), want.std[0].some((x) => x > 0), want.equity.some((x) => x !== 0)]).toEqual([
      true,
      true,
      true,
    ]);
    for (const first of ['equity', 'std', 'addon'] as const) {
      const s = createMarginShared(book, balances, market, params);
      const u = s.settlementUnits();
      const ask = {
        equity: () => s.unitEquity(u),
        std: () => s.standardByUnit(u),
        addon: () => s.unitLiquidityAddon(u),
      };
      ask[first]();
      expectIdentical(want.equity, ask.equity(), `unitEquity (${first} first)`);
      expectIdentical(want.std, ask.std(), `standardByUnit (${first} first)`);
      expectIdentical(want.addon, ask.addon(), `unitLiquidityAddon (${first} first)`);
    }
  });

  test('each quantity is computed once: the accessors return the same arrays', () => {
    const { book, balances, market, params } = base;
    const s = createMarginShared(book, balances, market, params);
    expect(s.optionValuesUsd()).toBe(s.optionValuesUsd());
    const units = s.settlementUnits();
    expect(s.settlementUnits()).toBe(units);
    expect(s.unitEquity(units)).toBe(s.unitEquity(units));
    expect(s.standardByUnit(units)).toBe(s.standardByUnit(units));
    expect(s.unitLiquidityAddon(units)).toBe(s.unitLiquidityAddon(units));
    expect(s.accountEquityUsd()).toBe(s.accountEquityUsd());
    expect(s.liquidityTable()).toBe(s.liquidityTable());
    expect(s.standardTable()).toBe(s.standardTable());
  });

  test("sharedFor: the input's own object when given, a fresh one when absent", () => {
    const { book, balances, market, params } = base;
    const s = createMarginShared(book, balances, market, params);
    expect(sharedFor({ ...base, shared: s })).toBe(s);
    const a = sharedFor(base);
    expect(a).not.toBe(s);
    expect(sharedFor(base)).not.toBe(a);
  });

  test.each(['book', 'balances', 'market', 'params'] as const)(
    'a shared object built over another %s is refused',
    (field) => {
      const { book, balances, market, params } = base;
      const other = { book, balances, market, params, [field]: { ...base[field] } };
      const s = createMarginShared(other.book, other.balances, other.market, other.params);
      expect(() => sharedFor({ ...base, shared: s })).toThrow(`another ${field}`);
      expect(() => standardRows(book, balances, market, params, s)).toThrow(`another ${field}`);
      if (field !== 'params')
        expect(() => accountSummary(alone.standard!, alone.standard!, book, balances, market, s)).toThrow(
          `another ${field}`,
        );
    },
  );
});
