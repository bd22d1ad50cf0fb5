/**
 * The derived columns of src/margin/derived.ts: each formula's JavaScript form and its SQL form give the
 * same value on the same row, DuckDB evaluating the SQL (NaN stored as NULL, as the report stores it),
 * over rows that reach every branch (equity positive, zero, negative, NaN, infinite; IM and MM around
 * it); and a model's rows filled by fillDerived hold exactly those values. docs/methodology.md §4a, §5.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AVAILABLE,
  DERIVED,
  PM_IM,
  RATIO,
  RISK_MATRIX_MARGIN,
  SAVING,
  STATUS,
  copyOf,
  derivedSql,
  FIELD_OF,
  fillDerived,
  notApplicable,
  type Formula,
} from '../../src/margin/derived.js';
import { allocMarginRows } from '../../src/margin/rows.js';
import { STATUS_NAMES, type MarginRows, type ModelName } from '../../src/margin/types.js';

const VALUES = [2, 1, 0.5, 0, -0, -1, NaN, Infinity, -Infinity];
/** Every (x, y, z) of VALUES³: 729 rows. */
const GRID = VALUES.flatMap((x) => VALUES.flatMap((y) => VALUES.map((z) => [x, y, z] as const)));

let inst: DuckDBInstance;
let sql: (q: string) => Promise<unknown[]>;

beforeAll(async () => {
  inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  await c.run(`CREATE TYPE margin_status AS ENUM ('ok', 'margin_call', 'liquidation')`);
  const lit = (x: number) =>
    Number.isNaN(x)
      ? 'NULL::DOUBLE'
      : x === Infinity
        ? "'Infinity'::DOUBLE"
        : x === -Infinity
          ? "'-Infinity'::DOUBLE"
          : Object.is(x, -0)
            ? "'-0.0'::DOUBLE"
            : `${x}::DOUBLE`;
  await c.run(
    `CREATE TABLE m AS SELECT * FROM (VALUES ${GRID.map(([a, b, d], k) => `(${k}, ${lit(a)}, ${lit(b)}, ${lit(d)})`).join(', ')}) t(k, a, b, c)`,
  );
  sql = async (expr: string) => {
    const r = await c.runAndReadAll(`SELECT (${expr})::VARCHAR AS v FROM m ORDER BY k`);
    return r.getRowObjectsJS().map((o) => o.v);
  };
});
afterAll(() => inst?.closeSync());

/** The SQL's text of a JS value as the report would give it: NaN is NULL, statuses by name. */
function asSql(x: number, status: boolean): unknown {
  if (status) return STATUS_NAMES[x];
  if (Number.isNaN(x)) return null;
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return Object.is(x, -0) ? '-0' : String(x);
}

describe.each<[string, Formula, boolean]>([
  ['margin ratio', RATIO, false],
  ['available', AVAILABLE, false],
  ['status', STATUS, true],
  ['saving', SAVING, false],
  ['risk matrix margin', RISK_MATRIX_MARGIN, false],
  ['deribit-pm IM', PM_IM, false],
  ['a copy', copyOf('x'), false],
])('%s: the JavaScript and the SQL form agree on 729 rows', (_, f, isStatus) => {
  test('value by value', async () => {
    const cols = ['a', 'b', 'c'].slice(0, f.inputs.length);
    const inputs = cols.map((_, i) => Float64Array.from(GRID, (row) => row[i]!));
    const out = isStatus ? new Uint8Array(GRID.length) : new Float64Array(GRID.length);
    f.fill(out, GRID.length, ...inputs);
    const got = await sql(f.sql(...cols.map((c) => `m.${c}`)));
    const want = Array.from(out, (x) => asSql(x, isStatus));
    // DuckDB prints doubles its own way: compare numerically where both are numbers
    const norm = (v: unknown) => (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);
    for (let r = 0; r < GRID.length; r++)
      expect(norm(got[r]), `row ${r} ${JSON.stringify(GRID[r])}`).toEqual(norm(want[r]));
  });
});

describe('fillDerived', () => {
  test("deribit-pm: IM, risk matrix margin, ratio, available and status from the row's stored columns", () => {
    const rows = allocMarginRows('deribit-pm', 3, ['BTC'], ['BTC']);
    rows.worstCase.set([1, 0, 2]);
    rows.rollShock.set([0.5, 0, 0.25]);
    rows.liquidityAddon.set([0.1, 0, 0.2]);
    rows.mm.set([1.2, 0, 1.8]);
    rows.equity.set([3, 0, 2]);
    fillDerived(rows);
    expect(Array.from(rows.riskMatrixMargin)).toEqual([1.5, 0, 2.25]);
    expect(Array.from(rows.im)).toEqual([1.5 + 0.1, 0, 2.25 + 0.2]);
    expect(Array.from(rows.available)).toEqual([3 - 1.6, 0, 2 - 2.45]);
    expect(Array.from(rows.marginRatio)).toEqual([1.2 / 3, Infinity, 0.9]);
    expect(Array.from(rows.status, (s) => STATUS_NAMES[s])).toEqual(['ok', 'ok', 'margin_call']);
    expect(Array.from(rows.deltaShock)).toEqual([0, 0, 0]);
    expect(Array.from(rows.scanRisk).every(Number.isNaN)).toBe(true);
  });

  test("the view's SQL of a derived column inlines a derived input (deribit-pm available reads the derived IM)", () => {
    expect(derivedSql('deribit-pm', 'available', 'm')).toBe(
      AVAILABLE.sql('m.equity', PM_IM.sql('m.worst_case', 'm.roll_shock', 'm.liquidity_addon')),
    );
    expect(derivedSql('span', 'worst_case', 'm')).toBe('m.scan_risk');
    expect(derivedSql('span', 'im', 'm')).toBe('m.im');
  });

  test.each(Object.keys(DERIVED))('%s: every formula reads only columns that exist before it is filled', (model) => {
    const seen = new Set(['im', 'mm', 'equity', 'worst_case', 'roll_shock', 'liquidity_addon', 'scan_risk']);
    for (const [col, d] of Object.entries(DERIVED[model as keyof typeof DERIVED])) {
      if (d.kind === 'formula')
        for (const i of d.formula.inputs)
          expect(seen.has(i) || !(i in DERIVED[model as keyof typeof DERIVED]), `${col} reads ${i}`).toBe(true);
      seen.add(col);
    }
  });

  test.each(Object.keys(DERIVED))(
    '%s: the columns it does not apply are one NaN array, NaN after fillDerived; the others their own',
    (name) => {
      const model = name as ModelName;
      const na = notApplicable(model);
      const expected = Object.entries(DERIVED[model])
        .filter(([c, d]) => d.kind === 'null' && FIELD_OF[c] && c !== 'worst_scenario')
        .map(([c]) => FIELD_OF[c]);
      expect([...na].sort()).toEqual(expected.sort());
      const rows = allocMarginRows(model, 5, ['BTC'], ['BTC']);
      const amounts = Object.values(FIELD_OF).filter((f) => f !== 'status' && f !== 'worstScenario');
      const arrays = new Set(amounts.map((f) => rows[f]));
      // one array for the not-applicable columns, one each for the others
      expect(arrays.size).toBe(amounts.length - Math.max(na.size - 1, 0));
      for (const f of na) {
        expect(rows[f]).toBe(rows[[...na][0]!]);
        expect(Array.from(rows[f] as Float64Array).every(Number.isNaN)).toBe(true);
      }
      // a model that wrote into one would change them all: fillDerived puts NaN back (as it filled them before)
      if (na.size > 0) (rows[[...na][0]!] as Float64Array)[2] = 7;
      fillDerived(rows);
      for (const f of na) expect(Array.from(rows[f] as Float64Array).every(Number.isNaN), f).toBe(true);
    },
  );

  test('a model cannot fill a column it does not apply', () => {
    expect(() => allocMarginRows('deribit-pm', 3, ['BTC'], ['BTC'], ['im', 'som'])).toThrow(
      /deribit-pm does not apply som/,
    );
    const rows: MarginRows = allocMarginRows('span', 3, ['BTC'], ['USD'], ['som', 'scanRisk']);
    expect(rows.som).not.toBe(rows.scanRisk);
  });

  test('given columns are taken as they are, once a column; one the model does not apply, or of another length, is refused', () => {
    const im = Float64Array.of(1, 2, 3);
    const account = Int32Array.of(0, 0, 1);
    const rows = allocMarginRows('standard', 3, ['BTC'], ['BTC'], ['marginRatio', 'available'], {
      account,
      im,
      standardIm: im,
    });
    expect(rows.account).toBe(account);
    expect(rows.im).toBe(im);
    expect(rows.standardIm).toBe(im);
    expect(rows.unit).not.toBe(account);
    // fillDerived leaves a copy that is its input's array as it is (standard_im = IM)
    rows.mm.fill(1);
    rows.equity.fill(5);
    fillDerived(rows);
    expect(Array.from(rows.standardIm)).toEqual([1, 2, 3]);
    expect(Array.from(rows.available)).toEqual([4, 3, 2]);
    expect(() => allocMarginRows('standard', 3, ['BTC'], ['BTC'], [], { som: im })).toThrow(
      /standard does not apply som/,
    );
    expect(() => allocMarginRows('standard', 4, ['BTC'], ['BTC'], [], { im })).toThrow(
      /standard rows: the given im has 3 values, not 4/,
    );
  });
});
