/**
 * Scenario files: a set written as `.csv` or `.arrow` (Arrow IPC file) and read back, validated.
 *
 * Columns, one row per scenario: `scenario` (id), `family`, `label`, `weight`, `dt_days`, then per
 * underlying U (in the set's order) `<U>_move` (relative), `<U>_vol_rule` (up|none|down|rel_up|rel_down|
 * mult) and `<U>_vol_mult` (the multiplier g for mult, 1 otherwise). Written only where needed:
 * `<U>_vol_shift` (the relative shift VSR of rel_up/rel_down rows; empty on other rows) when U has a
 * relative rule; `<U>_weight` for every U when the underlyings' weights differ on some row (deribit-pm
 * extended), and then `weight` is empty on those rows; `<U>_delta_one_move` when U's move for futures and
 * perpetuals differs from `<U>_move` on some row. Numbers are written in JavaScript's shortest round-trip
 * form, so every array reads back bit for bit. `meta` travels in the Arrow schema metadata
 * (`margin_engine.scenario_meta`, JSON); a CSV has no place for it and reads back with
 * `meta = { source: file }`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Float64,
  RecordBatch,
  Schema,
  Table,
  Utf8,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { InputError, fileError, showValue, type Violation } from '../errors.js';
import type { Market } from '../model/market.js';
import { allocateSet } from './allocate.js';
import { ARROW_EXPECTED, arrowFormatOf, arrowLibraryDetail, describeArrowProblem } from './arrowProblem.js';
import { csvField, parseCsv } from './csvText.js';
import { FAMILIES } from './build.js';
import { VOL_MULT, VOL_REL_DOWN, VOL_REL_UP, VOL_RULE_NAMES, type Family, type ScenarioSet } from './types.js';

/** Schema metadata key that holds the set's meta (JSON) in Arrow files. */
export const META_KEY = 'margin_engine.scenario_meta';

type Cell = string | number | null;
interface Column {
  name: string;
  kind: 'int' | 'float' | 'text';
  values: Cell[];
}

/** The set as named columns, in file order. */
function toColumns(set: ScenarioSet): Column[] {
  const { count: S, underlyings: us } = set;
  const U = us.length;
  const rows = Array.from({ length: S }, (_, s) => s);
  let weightsDiffer = false;
  for (let s = 0; s < S && !weightsDiffer; s++)
    for (let u = 1; u < U; u++)
      if (!Object.is(set.weight[s * U + u], set.weight[s * U])) {
        weightsDiffer = true;
        break;
      }
  const rowWeightCommon = (s: number) => {
    for (let u = 1; u < U; u++) if (!Object.is(set.weight[s * U + u], set.weight[s * U])) return false;
    return true;
  };
  const cols: Column[] = [
    { name: 'scenario', kind: 'int', values: rows.map((s) => set.id[s]!) },
    { name: 'family', kind: 'text', values: rows.map(() => set.family) },
    { name: 'label', kind: 'text', values: rows.map((s) => set.label[s]!) },
    {
      name: 'weight',
      kind: 'float',
      values: rows.map((s) => (U === 0 ? 1 : rowWeightCommon(s) ? set.weight[s * U]! : null)),
    },
    { name: 'dt_days', kind: 'float', values: rows.map((s) => set.dtDays[s]!) },
  ];
  us.forEach((name, u) => {
    const at = (s: number) => s * U + u;
    cols.push({ name: `${name}_move`, kind: 'float', values: rows.map((s) => set.move[at(s)]!) });
    cols.push({
      name: `${name}_vol_rule`,
      kind: 'text',
      values: rows.map((s) => VOL_RULE_NAMES[set.volRule[at(s)]!]!),
    });
    cols.push({
      name: `${name}_vol_mult`,
      kind: 'float',
      values: rows.map((s) => (set.volRule[at(s)] === VOL_MULT ? set.volParam[at(s)]! : 1)),
    });
    const isRel = (s: number) => set.volRule[at(s)] === VOL_REL_UP || set.volRule[at(s)] === VOL_REL_DOWN;
    if (rows.some(isRel))
      cols.push({
        name: `${name}_vol_shift`,
        kind: 'float',
        values: rows.map((s) => (isRel(s) ? set.volParam[at(s)]! : null)),
      });
    if (weightsDiffer)
      cols.push({ name: `${name}_weight`, kind: 'float', values: rows.map((s) => set.weight[at(s)]!) });
    if (rows.some((s) => !Object.is(set.deltaOneMove[at(s)], set.move[at(s)])))
      cols.push({ name: `${name}_delta_one_move`, kind: 'float', values: rows.map((s) => set.deltaOneMove[at(s)]!) });
  });
  return cols;
}

/**
 * Writes a set to `file`: Arrow IPC file format when the name ends in `.arrow`, CSV when `.csv`.
 * @throws InputError for another extension; Error when the file cannot be written.
 */
export function writeScenarioFile(set: ScenarioSet, file: string): void {
  const cols = toColumns(set);
  if (/\.csv$/i.test(file)) {
    const lines = [cols.map((c) => csvField(c.name)).join(',')];
    for (let s = 0; s < set.count; s++)
      lines.push(
        cols
          .map((c) => {
            const v = c.values[s];
            return v === null || v === undefined ? '' : csvField(String(v));
          })
          .join(','),
      );
    writeFileSync(file, lines.join('\n') + '\n');
    return;
  }
  if (!/\.arrow$/i.test(file)) throw fileError(file, 'must end in .csv or .arrow');
  const vectors: Record<string, Vector> = {};
  for (const c of cols) {
    if (c.kind === 'int') vectors[c.name] = makeVector(Int32Array.from(c.values as number[]));
    else if (c.kind === 'text') vectors[c.name] = vectorFromArray(c.values as string[], new Utf8());
    else if (c.values.some((v) => v === null))
      vectors[c.name] = vectorFromArray(c.values as (number | null)[], new Float64());
    else vectors[c.name] = makeVector(Float64Array.from(c.values as number[]));
  }
  const t0 = new Table(vectors);
  const schema = new Schema(t0.schema.fields, new Map([[META_KEY, JSON.stringify(set.meta)]]));
  const table = new Table(
    schema,
    t0.batches.map((b) => new RecordBatch(schema, b.data)),
  );
  writeFileSync(file, tableToIPC(table, 'file'));
}

/** Columns of a scenario file as cells (numbers from Arrow, strings from CSV). */
interface RawTable {
  names: string[];
  rows: number;
  col(name: string): Cell[];
  meta: Record<string, unknown> | null;
}

/** A read failure of the file system as a rule: not found, permission denied, a directory, or the code. */
function describeReadError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'not found';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'EISDIR':
      return 'is a directory, not a scenario file (.csv or .arrow)';
    default:
      return `cannot be read (${e.code ?? e.message})`;
  }
}

function readRaw(file: string): RawTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError(file, describeReadError(e as NodeJS.ErrnoException));
  }
  const format = arrowFormatOf(bytes);
  if (format !== null || /\.arrows?$/i.test(file)) {
    const problem = describeArrowProblem(bytes);
    if (problem !== null) throw fileError(file, problem);
    let t: Table;
    try {
      t = tableFromIPC(bytes);
    } catch (e) {
      throw fileError(
        file,
        `is corrupt or truncated: the Arrow IPC ${format ?? 'file'} cannot be read${arrowLibraryDetail(e)}; ${ARROW_EXPECTED}`,
      );
    }
    const m = t.schema.metadata.get(META_KEY);
    let meta: Record<string, unknown> | null = null;
    if (m !== undefined) {
      try {
        meta = JSON.parse(m) as Record<string, unknown>;
      } catch {
        meta = null;
      }
    }
    return {
      names: t.schema.fields.map((f) => f.name),
      rows: t.numRows,
      col: (name) => {
        const v = t.getChild(name)!;
        const out: Cell[] = new Array(t.numRows);
        for (let i = 0; i < t.numRows; i++) {
          const x: unknown = v.get(i);
          out[i] =
            x === null || x === undefined
              ? null
              : typeof x === 'bigint'
                ? Number(x)
                : typeof x === 'number' || typeof x === 'string'
                  ? x
                  : String(x);
        }
        return out;
      },
      meta,
    };
  }
  let records: string[][];
  try {
    records = parseCsv(bytes.toString('utf8'));
  } catch (e) {
    throw fileError(file, `is not valid CSV (${(e as Error).message})`);
  }
  if (records.length === 0) throw fileError(file, 'is empty: expected a header row');
  const names = records[0]!;
  const body = records.slice(1);
  body.forEach((r, i) => {
    if (r.length !== names.length)
      throw new InputError({
        file,
        row: i,
        column: null,
        value: String(r.length),
        rule: `fields, the header has ${names.length}`,
      });
  });
  return {
    names,
    rows: body.length,
    col: (name) => {
      const k = names.indexOf(name);
      return body.map((r) => (r[k] === '' ? null : r[k]!));
    },
    meta: null,
  };
}

/**
 * Reads a scenario file written by {@link writeScenarioFile} (or by hand) for `market`: the set's
 * underlyings are the market's, in the market's order; columns of other underlyings are ignored (listed
 * in meta.ignoredColumns).
 * A file that starts like Arrow IPC (magic ARROW1, or the stream continuation marker) or is named
 * `.arrow`/`.arrows` is read as Arrow; any other as CSV.
 * @throws InputError naming the file for one that is missing, unreadable, a directory, empty, not Arrow
 *   though named .arrow (its first bytes are quoted), truncated or corrupt (apache-arrow's own message
 *   never alone), or not valid CSV.
 * @throws InputError naming file, row (0-based), column, value and rule for every violation: a missing
 *   column, an unknown or mixed family, a scenario id that is not a non-negative integer or repeats,
 *   a weight or dt_days not finite or negative, a move not finite or ≤ −1, an unknown vol rule, a vol
 *   multiplier not > 0 (or not 1 when the rule is not mult), a missing or bad vol shift on a relative rule.
 */
export function readScenarioFile(file: string, market: Market): ScenarioSet {
  const raw = readRaw(file);
  const bad: Violation[] = [];
  const v = (row: number | null, column: string, value: Cell | undefined, rule: string) =>
    bad.push({ file, row, column, value: value === undefined ? null : showValue(value), rule });
  const has = new Set(raw.names);
  const us = market.underlyings;
  const need = [
    'scenario',
    'family',
    'label',
    'weight',
    'dt_days',
    ...us.flatMap((u) => [`${u}_move`, `${u}_vol_rule`, `${u}_vol_mult`]),
  ];
  for (const c of need)
    if (!has.has(c)) v(null, c, undefined, `is missing: a scenario file needs columns ${need.join(', ')}`);
  if (bad.length > 0) throw new InputError(bad, `${file}: not a scenario file for underlyings ${us.join(', ')}`);
  if (raw.rows === 0) throw fileError(file, 'has no scenarios');
  const S = raw.rows;
  const U = us.length;
  const num = (c: Cell): number => (c === null ? NaN : typeof c === 'number' ? c : c.trim() === '' ? NaN : Number(c));
  const numbers = (name: string, ok: (x: number) => boolean, rule: string, nullable = false): Float64Array => {
    const cells = raw.col(name);
    const out = new Float64Array(S);
    cells.forEach((c, r) => {
      if (c === null && nullable) {
        out[r] = NaN;
        return;
      }
      const x = num(c);
      if (!Number.isFinite(x)) v(r, name, c, 'is not a finite number');
      else if (!ok(x)) v(r, name, c, rule);
      out[r] = x;
    });
    return out;
  };
  const famCells = raw.col('family');
  const family = String(famCells[0]) as Family;
  famCells.forEach((c, r) => {
    if (!(FAMILIES as readonly string[]).includes(String(c)))
      v(r, 'family', c, `is not a scenario family (one of ${FAMILIES.join(', ')})`);
    else if (c !== family) v(r, 'family', c, `differs from row 0 (${showValue(family)}): a file holds one family`);
  });
  const set = allocateSet((FAMILIES as readonly string[]).includes(family) ? family : 'stress', S, us);
  const seen = new Map<number, number>();
  raw.col('scenario').forEach((c, r) => {
    const x = num(c);
    if (!Number.isSafeInteger(x) || x < 0 || x > 2147483647) {
      v(r, 'scenario', c, 'is not a non-negative integer');
      return;
    }
    const prev = seen.get(x);
    if (prev !== undefined) v(r, 'scenario', c, `repeats the id of row ${prev}`);
    seen.set(x, r);
    set.id[r] = x;
  });
  raw.col('label').forEach((c, r) => {
    set.label[r] = c === null ? '' : String(c);
  });
  const perUWeight = us.every((u) => has.has(`${u}_weight`));
  const weight = numbers('weight', (x) => x >= 0, 'must be ≥ 0', perUWeight);
  set.dtDays.set(numbers('dt_days', (x) => x >= 0, 'must be ≥ 0 (days)'));
  us.forEach((u, k) => {
    const move = numbers(`${u}_move`, (x) => x > -1, 'must be > −1 (a relative move)');
    const d1 = has.has(`${u}_delta_one_move`)
      ? numbers(`${u}_delta_one_move`, (x) => x > -1, 'must be > −1 (a relative move)')
      : move;
    const w = perUWeight ? numbers(`${u}_weight`, (x) => x >= 0, 'must be ≥ 0') : weight;
    const mult = numbers(`${u}_vol_mult`, (x) => x > 0, 'must be > 0');
    const shiftCol = `${u}_vol_shift`;
    const shift = has.has(shiftCol) ? raw.col(shiftCol) : null;
    raw.col(`${u}_vol_rule`).forEach((c, r) => {
      const x = r * U + k;
      set.move[x] = move[r]!;
      set.deltaOneMove[x] = d1[r]!;
      set.weight[x] = w[r]!;
      const rule = VOL_RULE_NAMES.indexOf(String(c) as (typeof VOL_RULE_NAMES)[number]);
      if (rule < 0) {
        v(r, `${u}_vol_rule`, c, `is not a vol rule (one of ${VOL_RULE_NAMES.join(', ')})`);
        return;
      }
      set.volRule[x] = rule;
      if (rule === VOL_MULT) set.volParam[x] = mult[r]!;
      else {
        if (Number.isFinite(mult[r]!) && mult[r] !== 1)
          v(
            r,
            `${u}_vol_mult`,
            mult[r]!,
            `must be 1 when the vol rule is ${String(c)} (a multiplier applies only to mult)`,
          );
        if (rule === VOL_REL_UP || rule === VOL_REL_DOWN) {
          const sv = shift ? num(shift[r] ?? null) : NaN;
          if (!shift) v(r, shiftCol, undefined, `is missing: vol rule ${String(c)} needs the relative shift`);
          else if (!Number.isFinite(sv) || sv < 0 || sv >= 1)
            v(r, shiftCol, shift[r] ?? null, 'must be a number in [0, 1) for a relative vol rule');
          set.volParam[x] = sv;
        }
      }
    });
  });
  if (bad.length > 0)
    throw new InputError(bad, `${file}: ${bad.length} problem${bad.length === 1 ? '' : 's'} in the scenario file`);
  const known = new Set(need.concat(us.flatMap((u) => [`${u}_vol_shift`, `${u}_weight`, `${u}_delta_one_move`])));
  const ignored = raw.names.filter((n) => !known.has(n));
  set.meta = raw.meta ?? { source: file };
  if (ignored.length > 0) set.meta = { ...set.meta, ignoredColumns: ignored };
  return set;
}
