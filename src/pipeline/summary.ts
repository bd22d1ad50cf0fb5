/**
 * The readable summary of a run (stdout) and its machine-readable twin (--json): accounts by status,
 * total IM/MM by model and unit, the capital efficiency of each model (IM and MM against the standard
 * margin of the same positions, the saving, the liquidity add-on's share: the report's
 * capital_efficiency view gives the same numbers), the backend that ran each phase and the time of each
 * phase.
 */
import { reasonFor } from '../engine/unavailableReason.js';
import { usdRates, type AccountSummary } from '../margin/summary.js';
import { accountsWithin } from '../margin/distance.js';
import { STATUS_NAMES, type MarginRows } from '../margin/types.js';
import type { RunOutcome } from './runMargin.js';
import type { Market } from '../model/market.js';
// Intl's text for the numbers, without Intl: the summary is the last thing a run writes, and a process's first
// Intl call loads ICU's data (~10 ms, after the COMMIT)
import { formatFixed, groupDigits } from '../util/groupDigits.js';

export interface RunSummary {
  runId: number | null;
  db: string | null;
  snapshotTime: string;
  accounts: number;
  positions: number;
  instruments: number;
  mergedRows: number;
  droppedZeroRows: number;
  rejectedRows: number;
  warnings: string[];
  paramsHash: string;
  scenarioSets: Array<{ family: string; scenarios: number; meta: Record<string, unknown> }>;
  /** per model: accounts by status (account level, USD) */
  statusByModel: Record<string, Record<string, number>>;
  /** per model and unit: totals in the unit's currency */
  totals: Array<{ model: string; unit: string; currency: string; rows: number; im: number; mm: number }>;
  /** per model: Σ IM in USD, Σ standard IM in USD, and the saving (standard − model) */
  savingUsd: Array<{ model: string; imUsd: number; standardImUsd: number; savingUsd: number; savingPct: number }>;
  /**
   * per model, per unit (in the unit's currency) then 'TOTAL' (USD, every account): IM, MM, the standard
   * margin of the same positions (null where the model's units are not the standard's: span, var), the
   * saving standard IM − IM and its % of standard IM, the liquidity add-on and its % of IM
   */
  capitalEfficiency: CapitalEfficiencyRow[];
  /**
   * `run --distance`: per model, how many accounts' nearest joint move to liquidation (either direction,
   * over the account's units; docs/methodology.md §7) lies within 1 %, 2 %, 5 % and 10 %; null otherwise
   */
  distance: Array<{ model: string; accounts: number; within: Record<string, number> }> | null;
  backends: RunOutcome['backends'];
  backendDetail: RunOutcome['backendReport'];
  timingsMs: Record<string, number>;
}

export interface CapitalEfficiencyRow {
  model: string;
  unit: string;
  currency: string;
  /** (account, unit) rows; accounts for 'TOTAL' */
  units: number;
  im: number;
  mm: number;
  standardIm: number | null;
  standardMm: number | null;
  saving: number | null;
  savingPct: number | null;
  liquidityAddon: number;
  addonPct: number | null;
}

/** The summary's distance thresholds (issue 16): 1 %, 2 %, 5 %, 10 % joint move. */
const DISTANCE_THRESHOLDS = [0.01, 0.02, 0.05, 0.1];

const pctOf = (x: number | null, of: number | null) =>
  x === null || of === null || !(of !== 0) ? null : (100 * x) / of;

/** One (unit, currency) of a model's rows: its row count and sums (NaN amounts left out). */
interface UnitTotals {
  unit: string;
  currency: string;
  rows: number;
  im: number;
  mm: number;
  /** null when no row has a finite standard margin (span, var) */
  standardIm: number | null;
  standardMm: number | null;
  liquidityAddon: number;
}

/** Per block of rows, its unitTotals (computed once: summarize and capitalEfficiency both need them). */
const totalsCache = new WeakMap<MarginRows, { units: UnitTotals[]; addonUsd: number }>();

/**
 * Sums of a model's rows per (unit name, currency name), in the order of each pair's first row, and the
 * liquidity add-on of every row in USD. One pass of typed-array arithmetic over small integer keys: the
 * command runs it once, cold, over 437,775 rows (intraday), where a Map of string keys and objects
 * built per row cost ~0.2–0.3 s. Each sum adds its rows in row order, as before (the same doubles).
 */
function unitTotals(rows: MarginRows, market: Market): { units: UnitTotals[]; addonUsd: number } {
  const cached = totalsCache.get(rows);
  if (cached) return cached;
  // rows of equal names get equal keys (an index's first occurrence stands for its name)
  const unitId = Int32Array.from(rows.unitNames, (n) => rows.unitNames.indexOf(n));
  const currencyId = Int32Array.from(rows.currencyNames, (n) => rows.currencyNames.indexOf(n));
  const nc = Math.max(1, rows.currencyNames.length);
  const nk = Math.max(1, rows.unitNames.length) * nc;
  const first = new Int32Array(nk).fill(-1);
  const count = new Float64Array(nk);
  const im = new Float64Array(nk);
  const mm = new Float64Array(nk);
  const std = new Float64Array(nk);
  const stdMm = new Float64Array(nk);
  const hasStd = new Uint8Array(nk);
  const hasStdMm = new Uint8Array(nk);
  const addon = new Float64Array(nk);
  // the row's add-on in USD: 1 for USD rows, else the currency's rate (usdRates)
  const rate = usdRates(rows.currencyNames, market);
  const toUsd = Float64Array.from(rows.currencyNames, (n, c) => (n === 'USD' ? 1 : rate[c]!));
  let addonUsd = 0;
  const { unit, currency } = rows;
  for (let r = 0; r < rows.count; r++) {
    const c = currency[r]!;
    const k = unitId[unit[r]!]! * nc + currencyId[c]!;
    if (first[k]! < 0) first[k] = r;
    count[k]!++;
    const i = rows.im[r]!;
    if (i - i === 0) im[k]! += i;
    const m = rows.mm[r]!;
    if (m - m === 0) mm[k]! += m;
    const si = rows.standardIm[r]!;
    if (si - si === 0) {
      std[k]! += si;
      hasStd[k] = 1;
    }
    const sm = rows.standardMm[r]!;
    if (sm - sm === 0) {
      stdMm[k]! += sm;
      hasStdMm[k] = 1;
    }
    const a = rows.liquidityAddon[r]!;
    if (a - a === 0) {
      addon[k]! += a;
      addonUsd += a * toUsd[c]!;
    }
  }
  const keys = [...first.keys()].filter((k) => first[k]! >= 0).sort((x, y) => first[x]! - first[y]!);
  const units = keys.map((k) => {
    const r = first[k]!;
    return {
      unit: rows.unitNames[rows.unit[r]!]!,
      currency: rows.currencyNames[rows.currency[r]!]!,
      rows: count[k]!,
      im: im[k]!,
      mm: mm[k]!,
      standardIm: hasStd[k] ? std[k]! : null,
      standardMm: hasStdMm[k] ? stdMm[k]! : null,
      liquidityAddon: addon[k]!,
    };
  });
  const out = { units, addonUsd };
  totalsCache.set(rows, out);
  return out;
}

/** Per account summary, its accounts by status and its sums in USD (computed once, see unitTotals). */
const accountCache = new WeakMap<
  AccountSummary,
  { status: Float64Array; im: number; mm: number; standardIm: number; standardMm: number }
>();

/**
 * An account summary's accounts per status (index: STATUS_*) and the sums of its finite IM, MM, standard
 * IM and standard MM in USD, in account order (the same doubles as separate loops), in one pass.
 */
function accountTotals(s: AccountSummary) {
  const cached = accountCache.get(s);
  if (cached) return cached;
  const status = new Float64Array(STATUS_NAMES.length);
  let im = 0,
    mm = 0,
    standardIm = 0,
    standardMm = 0;
  for (let a = 0; a < s.count; a++) {
    status[s.status[a]!]!++;
    const i = s.imUsd[a]!;
    if (i - i === 0) im += i;
    const m = s.mmUsd[a]!;
    if (m - m === 0) mm += m;
    const si = s.standardImUsd[a]!;
    if (si - si === 0) standardIm += si;
    const sm = s.standardMmUsd[a]!;
    if (sm - sm === 0) standardMm += sm;
  }
  const out = { status, im, mm, standardIm, standardMm };
  accountCache.set(s, out);
  return out;
}

/**
 * The capital-efficiency rows of a run (see RunSummary.capitalEfficiency), from its margin rows and
 * account summaries; NaN amounts (does not apply) are left out of the sums, as SQL's sum leaves NULLs.
 */
export function capitalEfficiency(o: Pick<RunOutcome, 'margin' | 'summaries' | 'market'>): CapitalEfficiencyRow[] {
  const out: CapitalEfficiencyRow[] = [];
  for (const rows of o.margin) {
    const { units, addonUsd } = unitTotals(rows, o.market);
    for (const t of [...units].sort((x, y) => (x.unit < y.unit ? -1 : x.unit > y.unit ? 1 : 0))) {
      const saving = t.standardIm === null ? null : t.standardIm - t.im;
      out.push({
        model: rows.model,
        unit: t.unit,
        currency: t.currency,
        units: t.rows,
        im: t.im,
        mm: t.mm,
        standardIm: t.standardIm,
        standardMm: t.standardMm,
        saving,
        savingPct: pctOf(saving, t.standardIm),
        liquidityAddon: t.liquidityAddon,
        addonPct: pctOf(t.liquidityAddon, t.im),
      });
    }
    const s = o.summaries.find((x) => x.model === rows.model);
    if (!s) continue;
    const { im, mm, standardIm: std, standardMm: stdMm } = accountTotals(s);
    out.push({
      model: rows.model,
      unit: 'TOTAL',
      currency: 'USD',
      units: s.count,
      im,
      mm,
      standardIm: std,
      standardMm: stdMm,
      saving: std - im,
      savingPct: pctOf(std - im, std),
      liquidityAddon: addonUsd,
      addonPct: pctOf(addonUsd, im),
    });
  }
  return out;
}

export function summarize(o: RunOutcome): RunSummary {
  return completeSummary(summarizeRows(o), o);
}

/**
 * {@link summarize} but for what is known only once the run is committed (`runId`, and `timingsMs`, which the
 * report phase ends): the part worth building while the COMMIT runs (RunOptions.whileCommitting).
 */
export function summarizeRows(o: RunOutcome): RunSummary {
  const statusByModel: RunSummary['statusByModel'] = {};
  const savingUsd: RunSummary['savingUsd'] = [];
  for (const s of o.summaries) {
    const t = accountTotals(s);
    statusByModel[s.model] = Object.fromEntries(STATUS_NAMES.map((n, k) => [n, t.status[k]!]));
    const im = t.im;
    const std = t.standardIm;
    savingUsd.push({
      model: s.model,
      imUsd: im,
      standardImUsd: std,
      savingUsd: std - im,
      savingPct: std > 0 ? (100 * (std - im)) / std : 0,
    });
  }
  const totals: RunSummary['totals'] = [];
  for (const rows of o.margin)
    for (const t of unitTotals(rows, o.market).units)
      totals.push({ model: rows.model, unit: t.unit, currency: t.currency, rows: t.rows, im: t.im, mm: t.mm });
  return {
    runId: null,
    db: o.db,
    snapshotTime: new Date(o.market.snapshotTimeMs).toISOString(),
    accounts: o.book.accountCount,
    positions: o.book.quantity.length,
    instruments: o.market.instruments.count,
    mergedRows: o.stats.mergedPositionRows,
    droppedZeroRows: o.stats.droppedZeroRows,
    rejectedRows: o.rejected.length,
    warnings: o.warnings.concat(o.stats.warnings),
    paramsHash: o.paramsHash,
    scenarioSets: o.scenarioSets.map((s) => ({ family: s.family, scenarios: s.count, meta: s.meta })),
    statusByModel,
    totals,
    savingUsd,
    capitalEfficiency: capitalEfficiency(o),
    distance:
      o.distances?.map((d) => {
        const n = accountsWithin(d, DISTANCE_THRESHOLDS);
        return {
          model: d.model,
          accounts: new Set(d.account).size,
          within: Object.fromEntries(DISTANCE_THRESHOLDS.map((t, k) => [`${t * 100}%`, n[k]!])),
        };
      }) ?? null,
    backends: o.backends,
    backendDetail: o.backendReport,
    timingsMs: {},
  };
}

/** `s` (summarizeRows) with the run's id and its phases' times, as the run ended. */
export function completeSummary(s: RunSummary, o: RunOutcome): RunSummary {
  return {
    ...s,
    runId: o.runId,
    timingsMs: Object.fromEntries(Object.entries(o.timingsMs).map(([k, v]) => [k, Math.round(v * 10) / 10])),
  };
}

/** The summary as text for people; `verbose`: the full reason a backend did not run, not its brief form. */
export function renderSummary(s: RunSummary, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`run ${s.runId ?? '(not written)'}${s.db ? ` → ${s.db}` : ''}`);
  out.push(
    `snapshot ${s.snapshotTime}: ${groupDigits(s.instruments)} instruments, ${groupDigits(s.accounts)} accounts, ${groupDigits(s.positions)} positions` +
      ` (${s.mergedRows} merged rows, ${s.droppedZeroRows} zero rows dropped, ${s.rejectedRows} rejected)`,
  );
  for (const w of s.warnings) out.push(`warning: ${w}`);
  out.push(
    `scenario sets: ${s.scenarioSets.map((x) => `${x.family} (${x.scenarios})`).join(', ') || 'none'}; parameters ${s.paramsHash.slice(0, 12)}`,
  );
  out.push('');
  out.push('accounts by status (account level, USD)');
  out.push(`  ${'model'.padEnd(12)}${STATUS_NAMES.map((n) => n.padStart(14)).join('')}`);
  for (const [m, c] of Object.entries(s.statusByModel))
    out.push(`  ${m.padEnd(12)}${STATUS_NAMES.map((n) => String(c[n] ?? 0).padStart(14)).join('')}`);
  out.push('');
  out.push('total margin by model and unit (in the unit currency)');
  out.push(
    `  ${'model'.padEnd(12)}${'unit'.padEnd(7)}${'currency'.padEnd(9)}${'rows'.padStart(9)}${'IM'.padStart(20)}${'MM'.padStart(20)}`,
  );
  for (const t of s.totals)
    out.push(
      `  ${t.model.padEnd(12)}${t.unit.padEnd(7)}${t.currency.padEnd(9)}${String(t.rows).padStart(9)}${formatFixed(t.im, 4).padStart(20)}${formatFixed(t.mm, 4).padStart(20)}`,
    );
  out.push('');
  out.push('capital efficiency: portfolio margin against the standard margin of the same positions');
  out.push(
    "  (per unit in its currency where the units are the standard's; TOTAL: every account, USD; add-on: liquidity)",
  );
  out.push(
    `  ${'model'.padEnd(12)}${'unit'.padEnd(6)}${'cur'.padEnd(5)}${'IM'.padStart(18)}${'MM'.padStart(18)}${'standard IM'.padStart(18)}${'saving'.padStart(18)}${'saving %'.padStart(10)}${'add-on % IM'.padStart(13)}`,
  );
  const num = (x: number | null, d: number) => (x === null ? '-' : formatFixed(x, d));
  const pct = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)}%`);
  for (const c of s.capitalEfficiency) {
    if (c.model === 'standard') continue;
    const d = c.currency === 'USD' || c.currency === 'USDC' ? 0 : 2;
    out.push(
      `  ${c.model.padEnd(12)}${c.unit.padEnd(6)}${c.currency.padEnd(5)}${num(c.im, d).padStart(18)}${num(c.mm, d).padStart(18)}${num(c.standardIm, d).padStart(18)}${num(c.saving, d).padStart(18)}${pct(c.savingPct).padStart(10)}${pct(c.addonPct).padStart(13)}`,
    );
  }
  out.push('');
  if (s.distance) {
    out.push('distance to liquidation: accounts whose nearest joint move (either way) to liquidation is within');
    const keys = DISTANCE_THRESHOLDS.map((t) => `${t * 100}%`);
    out.push(`  ${'model'.padEnd(12)}${'accounts'.padStart(10)}${keys.map((k) => `≤ ${k}`.padStart(10)).join('')}`);
    for (const d of s.distance)
      out.push(
        `  ${d.model.padEnd(12)}${String(d.accounts).padStart(10)}${keys.map((k) => String(d.within[k]).padStart(10)).join('')}`,
      );
    out.push('');
  }
  out.push(...renderBackends(s, opts.verbose === true));
  out.push(
    `time: ${Object.entries(s.timingsMs)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`)
      .join(', ')}; total ${(Object.values(s.timingsMs).reduce((a, b) => a + b, 0) / 1000).toFixed(2)} s`,
  );
  return out.join('\n') + '\n';
}

/** Which backend ran each phase (with the kernel class), what auto measured, and why others did not run. */
function renderBackends(s: RunSummary, verbose: boolean): string[] {
  const d = s.backendDetail;
  if (!d) return ['backends: none needed (no scenario model)'];
  const out: string[] = [];
  const phases = d.phases ?? { revalue: d.chosen, aggregate: d.chosen };
  const cls = d.phaseKernelClass ?? { revalue: d.kernelClass, aggregate: d.kernelClass };
  const rate = (x: number | undefined, unit: string) => (x === undefined ? '' : ` ${(x / 1e6).toFixed(1)} M ${unit}/s`);
  const measured = (phase: 'revalue' | 'aggregate', unit: string) => {
    const c = d.calibration?.[phase];
    if (!c) return '';
    return ` (measured:${Object.entries(c)
      .map(([n, x]) => ` ${n}${rate(x, unit)}`)
      .join(',')})`;
  };
  out.push(`revaluation ran on ${phases.revalue} [${cls.revalue}]${measured('revalue', 'evaluations')}`);
  out.push(`aggregation ran on ${phases.aggregate} [${cls.aggregate}]${measured('aggregate', 'multiply-adds')}`);
  // how auto chose from those rates (a device that measured faster may still not run: createBackend.ts)
  if (d.calibration) out.push(`  auto's rule: ${d.calibration.note}`);
  for (const [name, why] of Object.entries(d.tried))
    if (why !== 'ok') out.push(`  ${name} did not run: ${reasonFor(why, verbose)}`);
  return out;
}
