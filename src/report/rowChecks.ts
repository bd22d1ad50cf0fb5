/**
 * The checks of the margin rows a report does not store in full (schema 4 and 5): every value a model's
 * table leaves out must be what the account_margin view gives back for it (checkDerived), and standard
 * rows left to the view must be what it derives from the run's deribit-pm rows (checkStandardFromPm).
 * RowChecks applies them to a run's blocks in the order they are written. They need no database: a
 * RunWriter runs them as its blocks arrive, or leaves them to its caller (ReportSession runs them on
 * the main thread while the report thread appends, before it lets the run commit).
 */
import { STATUS_NAMES, type MarginRows } from '../margin/types.js';
import { marginRatio, marginStatus } from '../margin/status.js';
import { MODEL_STORAGE, PM_IM, availableSql, nanToNull, ratioSql, statusSql } from './schema.js';

/** account_margin value column -> its MarginRows field (saving and scenario_set have none: always derived). */
export const FIELD_OF: Readonly<Record<string, keyof MarginRows>> = {
  im: 'im',
  mm: 'mm',
  equity: 'equity',
  margin_ratio: 'marginRatio',
  available: 'available',
  status: 'status',
  worst_scenario: 'worstScenario',
  worst_case: 'worstCase',
  roll_shock: 'rollShock',
  delta_shock: 'deltaShock',
  risk_matrix_margin: 'riskMatrixMargin',
  scan_risk: 'scanRisk',
  som: 'som',
  var: 'var',
  es: 'es',
  liquidity_addon: 'liquidityAddon',
  standard_im: 'standardIm',
  standard_mm: 'standardMm',
};

/** x and y are the same number, NaN included (what SQL NULL = NULL would not say). */
const same = (x: number, y: number) => x === y || (x !== x && y !== y);

/** deribit-pm's IM as the engine computes it: the risk matrix margin (worst_case + roll_shock) plus the add-on. */
const pmIm = (m: MarginRows, r: number) => m.worstCase[r]! + m.rollShock[r]! + m.liquidityAddon[r]!;

/**
 * A derived column given by a formula: the value the view gives row r (as the engine computes it), the first row that
 * differs (−1: none), how a refusal names it.
 */
interface Formula {
  what: string;
  value(m: MarginRows, r: number): number;
  firstDiffering(m: MarginRows): number;
}

/**
 * The derived columns given by a formula (MODEL_STORAGE), by their SQL. Each has its own loop (this runs
 * over every row of every block: one monomorphic loop per formula, not a call per row).
 */
const FORMULAS: ReadonlyMap<string, Formula> = new Map<string, Formula>([
  [
    nanToNull('m.worst_case + m.roll_shock'),
    {
      what: 'worst_case + roll_shock',
      value: (m, r) => m.worstCase[r]! + m.rollShock[r]!,
      firstDiffering: ({ count: n, riskMatrixMargin: x, worstCase: wc, rollShock: rs }) => {
        for (let r = 0; r < n; r++) {
          const a = x[r]!;
          const b = wc[r]! + rs[r]!;
          if (a !== b && (a === a || b === b)) return r;
        }
        return -1;
      },
    },
  ],
  [
    PM_IM,
    {
      what: '(worst_case + roll_shock) + liquidity_addon',
      value: pmIm,
      firstDiffering: ({ count: n, im: x, worstCase: wc, rollShock: rs, liquidityAddon: liq }) => {
        for (let r = 0; r < n; r++) {
          const a = x[r]!;
          const b = wc[r]! + rs[r]! + liq[r]!;
          if (a !== b && (a === a || b === b)) return r;
        }
        return -1;
      },
    },
  ],
  [
    ratioSql('m.mm', 'm.equity'),
    {
      what: 'mm / equity (+inf when equity ≤ 0)',
      value: (m, r) => marginRatio(m.mm[r]!, m.equity[r]!),
      firstDiffering: ({ count: n, marginRatio: x, mm, equity }) => {
        for (let r = 0; r < n; r++) {
          const a = x[r]!;
          const b = marginRatio(mm[r]!, equity[r]!);
          if (a !== b && (a === a || b === b)) return r;
        }
        return -1;
      },
    },
  ],
  [
    availableSql('m.equity', PM_IM),
    {
      what: 'equity − im',
      value: (m, r) => m.equity[r]! - pmIm(m, r),
      firstDiffering: ({ count: n, available: x, equity, worstCase: wc, rollShock: rs, liquidityAddon: liq }) => {
        for (let r = 0; r < n; r++) {
          const a = x[r]!;
          const b = equity[r]! - (wc[r]! + rs[r]! + liq[r]!);
          if (a !== b && (a === a || b === b)) return r;
        }
        return -1;
      },
    },
  ],
  [
    statusSql('m.equity', PM_IM, 'm.mm'),
    {
      what: 'the status of equity against mm and im',
      value: (m, r) => marginStatus(m.equity[r]!, pmIm(m, r), m.mm[r]!),
      firstDiffering: ({ count: n, status: x, equity, mm, worstCase: wc, rollShock: rs, liquidityAddon: liq }) => {
        for (let r = 0; r < n; r++) if (x[r] !== marginStatus(equity[r]!, wc[r]! + rs[r]! + liq[r]!, mm[r]!)) return r;
        return -1;
      },
    },
  ],
]);

/**
 * Checks that every value a model's table leaves out is what the account_margin view gives back for it
 * (MODEL_STORAGE): NULL columns hold NaN (worst_scenario −1), constants and copies hold exactly that
 * value, `risk_matrix_margin` is exactly `worst_case + roll_shock`, and the currency is the unit's name
 * or USD. A model that starts producing a value its table does not store fails here, loudly, rather
 * than losing it.
 * @throws Error naming the model, row, column and both values
 */
export function checkDerived(m: MarginRows): void {
  const spec = MODEL_STORAGE[m.model];
  const n = m.count;
  const fail = (r: number, col: string, found: unknown, expected: string): never => {
    throw new Error(
      `MarginRows(${m.model}) row ${r}: ${col} is ${String(found)}, but the report stores only ${spec.stored.join(', ')} for this model and gives ${col} as ${expected}`,
    );
  };
  // monomorphic loops (one array type each): this runs over every row of every model
  const firstNotNaN = (a: Float64Array): number => {
    for (let r = 0; r < n; r++) {
      const x = a[r]!;
      if (x === x) return r;
    }
    return -1;
  };
  const firstNot = (a: Float64Array, v: number): number => {
    for (let r = 0; r < n; r++) if (!Object.is(a[r], v)) return r;
    return -1;
  };
  const firstDiffering = (a: Float64Array, b: Float64Array): number => {
    for (let r = 0; r < n; r++) {
      const x = a[r]!;
      const y = b[r]!;
      if (x !== y && (x === x || y === y)) return r;
    }
    return -1;
  };
  for (const [col, sql] of Object.entries(spec.derived)) {
    const field = FIELD_OF[col];
    if (!field) continue; // saving, scenario_set: not carried by MarginRows
    let r: number;
    if (col === 'worst_scenario') {
      const ws = m.worstScenario;
      r = -1;
      for (let i = 0; i < n; i++)
        if (ws[i]! >= 0) {
          r = i;
          break;
        }
      if (r >= 0) fail(r, col, ws[r], 'NULL');
      continue;
    }
    const formula = FORMULAS.get(sql);
    if (formula) {
      r = formula.firstDiffering(m);
      if (r >= 0) {
        const e = formula.value(m, r);
        fail(
          r,
          col,
          (m[field] as Float64Array | Uint8Array)[r],
          `${formula.what} (${col === 'status' ? STATUS_NAMES[e] : e})`,
        );
      }
      continue;
    }
    const v = m[field] as Float64Array;
    if (sql.startsWith('NULL::')) r = firstNotNaN(v);
    else if (sql === '0.0::DOUBLE') r = firstNot(v, 0);
    else if (/^m\.[a-z_]+$/.test(sql)) r = firstDiffering(v, m[FIELD_OF[sql.slice(2)]!] as Float64Array);
    else throw new Error(`MODEL_STORAGE(${m.model}).${col}: no check for ${sql}`);
    if (r >= 0) fail(r, col, v[r], sql.startsWith('NULL::') ? 'NULL' : sql.replace(/m\./g, ''));
  }
  // the currency of each row: the unit's own name, or USD
  const byCode = Int32Array.from(m.currencyNames, (name) =>
    spec.currency === 'USD' ? (name === 'USD' ? -2 : -3) : m.unitNames.indexOf(name),
  );
  const unit = m.unit;
  const currency = m.currency;
  for (let r = 0; r < n; r++) {
    const c = byCode[currency[r]!];
    if (spec.currency === 'USD' ? c !== -2 : c !== unit[r])
      fail(r, 'currency', m.currencyNames[currency[r]!], spec.currency === 'USD' ? "'USD'" : 'the unit');
  }
}

/**
 * Checks that `std` is exactly what the account_margin view derives from the deribit-pm rows `pm` of
 * the same run (STANDARD_FROM_PM): the same (account, unit) rows in the same order, IM and MM = pm's
 * standard_im and standard_mm, the same equity and liquidity add-on, and margin ratio, available and
 * status as src/margin/status.ts computes them from those.
 * @throws Error naming the row and the column that differ
 */
export function checkStandardFromPm(std: MarginRows, pm: MarginRows): void {
  const fail = (r: number, what: string, found: unknown, expected: unknown): never => {
    throw new Error(
      `MarginRows(standard) row ${r}: ${what} is ${String(found)}, but the report derives it from the run's deribit-pm rows as ${String(expected)}`,
    );
  };
  if (std.count !== pm.count) fail(0, 'the row count', std.count, pm.count);
  // the unit of a standard row's code, as a deribit-pm unit code (−1: a name deribit-pm has not)
  const pmCode = Int32Array.from(std.unitNames, (name) => pm.unitNames.indexOf(name));
  const n = std.count;
  // one pass over typed arrays; the message is built only for the first row that differs
  let bad = -1;
  for (let r = 0; r < n; r++) {
    const eq = pm.equity[r]!;
    const im = pm.standardIm[r]!;
    const mm = pm.standardMm[r]!;
    if (
      std.account[r] !== pm.account[r] ||
      pmCode[std.unit[r]!] !== pm.unit[r] ||
      !same(std.im[r]!, im) ||
      !same(std.mm[r]!, mm) ||
      !same(std.equity[r]!, eq) ||
      !same(std.liquidityAddon[r]!, pm.liquidityAddon[r]!) ||
      !same(std.marginRatio[r]!, marginRatio(mm, eq)) ||
      !same(std.available[r]!, eq - im) ||
      std.status[r] !== marginStatus(eq, im, mm)
    ) {
      bad = r;
      break;
    }
  }
  if (bad < 0) return;
  const r = bad;
  if (std.account[r] !== pm.account[r]) fail(r, 'account id', std.account[r], pm.account[r]);
  const su = std.unitNames[std.unit[r]!];
  const pu = pm.unitNames[pm.unit[r]!];
  if (su !== pu) fail(r, 'unit', su, pu);
  const eq = pm.equity[r]!;
  const im = pm.standardIm[r]!;
  const mm = pm.standardMm[r]!;
  if (!same(std.im[r]!, im)) fail(r, 'im', std.im[r], im);
  if (!same(std.mm[r]!, mm)) fail(r, 'mm', std.mm[r], mm);
  if (!same(std.equity[r]!, eq)) fail(r, 'equity', std.equity[r], eq);
  if (!same(std.liquidityAddon[r]!, pm.liquidityAddon[r]!))
    fail(r, 'liquidity_addon', std.liquidityAddon[r], pm.liquidityAddon[r]);
  if (!same(std.marginRatio[r]!, marginRatio(mm, eq))) fail(r, 'margin_ratio', std.marginRatio[r], marginRatio(mm, eq));
  if (!same(std.available[r]!, eq - im)) fail(r, 'available', std.available[r], eq - im);
  fail(r, 'status', std.status[r], marginStatus(eq, im, mm));
}

/**
 * The checks of one run's blocks, in the order the run writes them (RunWriter.margin): each block's
 * derived columns, and standard rows left to the view against the deribit-pm rows, whichever comes
 * first. @throws Error naming the model, row and column of the first value that differs
 */
export class RowChecks {
  private deribitPm: MarginRows | null = null;
  /** standard rows to be derived, waiting for the deribit-pm rows */
  private heldStandard: MarginRows | null = null;

  /** One block; `standardFromDeribitPm`: standard rows the report derives from the run's deribit-pm rows. */
  margin(m: MarginRows, standardFromDeribitPm: boolean): void {
    checkDerived(m);
    if (standardFromDeribitPm) {
      if (this.deribitPm) checkStandardFromPm(m, this.deribitPm);
      else this.heldStandard = m;
      return;
    }
    if (m.model === 'deribit-pm') {
      this.deribitPm = m;
      if (this.heldStandard) {
        checkStandardFromPm(this.heldStandard, m);
        this.heldStandard = null;
      }
    }
  }

  /**
   * After the run's last block. @throws Error when standard rows were to be derived from deribit-pm rows the run never
   * wrote
   */
  finish(dbFile: string): void {
    if (this.heldStandard)
      throw new Error(
        `${dbFile}: the standard rows were to be derived from the run's deribit-pm rows, but the run wrote none`,
      );
  }
}
