/**
 * The run's tables (src/margin/runTables.ts) on the bundled sample (data/sample): RunTables holds
 * exactly what the free functions give; UnitTables' one pass over the book gives, unit by unit, the
 * sums of the per-position formulas (docs/methodology.md §4d standard margin, §4e liquidity add-on, §5
 * equity) computed independently here, position by position; both are frozen; and every model's rows
 * are the same bytes whichever order a run builds them in.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import {
  buildRunTables,
  buildUnitTables,
  lazyUnitTables,
  type RunTables,
  type UnitTables,
} from '../../src/margin/runTables.js';
import { standardPosition, standardTable } from '../../src/margin/standardFormulas.js';
import { standardRows } from '../../src/margin/standard.js';
import { accountEquityUsd, positionEquity } from '../../src/margin/equity.js';
import { liquidityAddonPosition, liquidityTable } from '../../src/margin/liquidity.js';
import { optionValuesUsd } from '../../src/margin/optionValue.js';
import { balanceUnitCodes, settlementUnits } from '../../src/margin/settlementUnits.js';
import { accountSummary } from '../../src/margin/summary.js';
import type { MarginRows } from '../../src/margin/types.js';
import { defaultParams } from '../../src/params/params.js';
import { expectClose } from '../helpers/expectClose.js';
import { deribitPmSet, jointSet, pinnedJointMoves, revalue, spanSet } from './fixtures.js';

const root = new URL('../../data/sample/', import.meta.url).pathname;
const SCENARIO_MODELS = ['deribit-pm', 'span', 'var-hs', 'var-mc'] as const satisfies readonly ScenarioModelName[];

let tables: RunTables;
let unit: UnitTables;

/** Bytes of a typed array (bit-identical means equal bytes: NaN payloads and −0 included). */
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every typed-array field of `a` and `b` byte for byte, the other fields by value. */
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
    if (ArrayBuffer.isView(x)) expect(bytes(y as ArrayBufferView).equals(bytes(x)), `${what}.${k} differs`).toBe(true);
    else expect(y, `${what}.${k}`).toEqual(x);
  }
}

beforeAll(async () => {
  const { market } = await loadMarket(`${root}market`);
  const { book, balances } = await loadBook(market, `${root}book/positions.arrow`, `${root}book/balances.arrow`);
  tables = buildRunTables(book, balances, market, defaultParams());
  unit = buildUnitTables(tables);
});

describe('RunTables on data/sample', () => {
  test("each table is its free function's result, byte for byte", () => {
    const { book, balances, market, params } = tables;
    const values = optionValuesUsd(market);
    expectIdentical(values, tables.optionValuesUsd, 'optionValuesUsd');
    expectIdentical(settlementUnits(book, balances, market), tables.units, 'settlementUnits');
    expectIdentical(accountEquityUsd(book, balances, market, values), tables.accountEquityUsd, 'accountEquityUsd');
    expectIdentical(liquidityTable(market, params), tables.liquidity, 'liquidityTable');
    expectIdentical(standardTable(market, params), tables.standard, 'standardTable');
  });

  test('lazyUnitTables: buildUnitTables’ columns byte for byte, built once and only when read', () => {
    const lazy = lazyUnitTables(tables);
    // nothing read, nothing built: the run tables' book is not walked (a frozen book would not tell; count reads)
    let reads = 0;
    const counted = lazyUnitTables(
      new Proxy(tables, {
        get: (t, k) => {
          reads++;
          return Reflect.get(t, k);
        },
      }),
    );
    expect(reads).toBe(0);
    expect(counted.equity).toBe(counted.equity); // one build: the same array on every read
    expect(reads).toBeGreaterThan(0);
    for (const k of ['equity', 'standardIm', 'standardMm', 'liquidityAddon'] as const)
      expect(bytes(lazy[k]).equals(bytes(unit[k])), k).toBe(true);
  });

  test('the tables are read-only', () => {
    expect(Object.isFrozen(tables)).toBe(true);
    expect(Object.isFrozen(unit)).toBe(true);
    expect(() => {
      (tables as { units: unknown }).units = null;
    }).toThrow(TypeError);
  });

  test('UnitTables: per unit, the sums of the per-position formulas (equity exact; margins within 1e-12)', () => {
    const { book, balances, market, params, units } = tables;
    const U = market.underlyings.length;
    const values = optionValuesUsd(market);
    const codes = balanceUnitCodes(balances, market);
    const C = balances.currencies.length;
    const out = new Float64Array(2);
    let withPositions = 0;
    for (let k = 0; k < units.count; k++) {
      const coin = units.currency[k]! < U;
      // balances of the unit's currency (USD, USDC and USDT all go to the USDC unit)
      let equity = 0;
      for (let j = 0; j < C; j++)
        if (codes[j] === units.currency[k]) equity += balances.amount[units.account[k]! * C + j]!;
      let im = 0;
      let mm = 0;
      let addon = 0;
      const bu = units.bookUnit[k]!;
      if (bu >= 0) {
        withPositions++;
        for (let p = book.unitStart[bu]!; p < book.unitStart[bu + 1]!; p++) {
          const i = book.instrumentId[p]!;
          const q = book.quantity[p]!;
          equity += positionEquity(market, values, i, q, book.entryPrice[p]!, coin);
          standardPosition(market, params, i, q, out);
          im += out[0]!;
          mm += out[1]!;
          addon += liquidityAddonPosition(market, params, i, q, coin);
        }
      }
      expectClose(unit.equity[k]!, equity, 1e-9 * Math.max(1, Math.abs(equity)), { k, what: 'equity' });
      expectClose(unit.standardIm[k]!, im, 1e-12 * Math.max(1, im), { k, what: 'standard IM' });
      expectClose(unit.standardMm[k]!, mm, 1e-12 * Math.max(1, mm), { k, what: 'standard MM' });
      expectClose(unit.liquidityAddon[k]!, addon, 1e-12 * Math.max(1, addon), { k, what: 'liquidity add-on' });
    }
    expect(withPositions).toBeGreaterThan(500);
    expect([unit.liquidityAddon.some((x) => x > 0), unit.standardIm.some((x) => x > 0)]).toEqual([true, true]);
  });
});

/** Each scenario model's set on `market` (var's on the pinned joint moves). */
function scenarioSets(market: RunTables['market'], params: RunTables['params']) {
  const moves = pinnedJointMoves(market);
  return {
    'deribit-pm': deribitPmSet(market, params),
    span: spanSet(market, params),
    'var-hs': jointSet('historical', market, moves),
    'var-mc': jointSet('monte-carlo', market, moves),
  };
}

describe('models over the run tables', () => {
  test('every model gives the same bytes whether it runs first or last, and standard from its own unit tables', async () => {
    const { market, params } = tables;
    const sets = scenarioSets(market, params);
    const run = async (order: readonly ScenarioModelName[]) => {
      const t = buildRunTables(tables.book, tables.balances, market, params);
      const u = buildUnitTables(t);
      const rows: Partial<Record<string, MarginRows>> = {};
      for (const m of order) {
        const scenarios = sets[m];
        rows[m] = await computeMargin(
          MARGIN_MODELS[m],
          { ...t, scenarios },
          revalue(market, scenarios, params),
          undefined,
          u,
        );
      }
      rows.standard = standardRows(t, u);
      return rows;
    };
    const a = await run(SCENARIO_MODELS);
    const b = await run([...SCENARIO_MODELS].reverse());
    for (const m of [...SCENARIO_MODELS, 'standard']) {
      expect(a[m]!.count).toBeGreaterThan(500);
      expectIdentical(a[m]!, b[m]!, m);
    }
    expectIdentical(standardRows(tables), a.standard!, 'standard (unit tables built by standardRows)');
  });

  test('status only (the distance search): every model’s equity and MM the full tables’ bits, IM’s figures NaN', async () => {
    const { book, balances, market, params } = tables;
    const sets = scenarioSets(market, params);
    const status = buildRunTables(book, balances, market, params, undefined, undefined, undefined, true);
    expect(status.statusOnly).toBe(true);
    expect(tables.statusOnly).toBeUndefined();
    const statusUnit = buildUnitTables(status);
    expectIdentical(unit.equity, statusUnit.equity, 'unit equity');
    for (const c of [statusUnit.standardIm, statusUnit.standardMm, statusUnit.liquidityAddon])
      expect(Array.from(c).every(Number.isNaN)).toBe(true);
    for (const m of SCENARIO_MODELS) {
      const scenarios = sets[m];
      const pnl = revalue(market, scenarios, params);
      const full = await computeMargin(MARGIN_MODELS[m], { ...tables, scenarios }, pnl, undefined, unit);
      const only = await computeMargin(MARGIN_MODELS[m], { ...status, scenarios }, pnl, undefined, statusUnit);
      expect(only.count, m).toBe(full.count);
      expect(full.count, m).toBeGreaterThan(500);
      for (const c of [
        'account',
        'unit',
        'equity',
        'mm',
        'worstCase',
        'worstScenario',
        'scanRisk',
        'som',
        'var',
        'es',
      ] as const)
        expectIdentical(full[c], only[c], `${m} ${c}`);
      // the add-on is counted in IM: every row's (and standard margin's, in deribit-pm) is NaN
      expect(Array.from(only.im).every(Number.isNaN), m).toBe(true);
      expect(Array.from(only.liquidityAddon).every(Number.isNaN), m).toBe(true);
      expect(Array.from(full.im).some(Number.isNaN), m).toBe(false);
    }
  });

  test('summaries own their columns: span and var summaries do not alias each other or the run equity', async () => {
    const { market, params } = tables;
    const std = standardRows(tables, unit);
    const moves = pinnedJointMoves(market);
    const sum = async (m: 'span' | 'var-hs', scenarios: ReturnType<typeof spanSet>) =>
      accountSummary(
        await computeMargin(MARGIN_MODELS[m], { ...tables, scenarios }, revalue(market, scenarios, params)),
        std,
        tables,
      );
    const span = await sum('span', spanSet(market, params));
    const hs = await sum('var-hs', jointSet('historical', market, moves));
    expect(span.equityUsd.buffer).not.toBe(hs.equityUsd.buffer);
    expect(span.equityUsd.buffer).not.toBe(tables.accountEquityUsd.buffer);
  });
});
