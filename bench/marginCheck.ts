/**
 * Every end-to-end timing is also a correctness check: the float64 `cpu` run writes its margins (per
 * model: account, unit, IM, MM, status, worst scenario) to a reference file; every other backend's run
 * is compared with it, row by row, against docs/architecture.md's precision bound
 *   |MM − MM₆₄| ≤ 1e-5 · |MM₆₄| + 5e-7 · Σ|q|·v
 * (IM likewise), v the value of one unit of underlying in the row's currency: 1 in a coin unit of
 * deribit-pm / standard, the index price (USD) in a USDC unit, in a span unit (its underlying's positions
 * and coin collateral, which span aggregates as spot rows) and in var's 'ALL' unit (every position and
 * the coin collateral).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { serialize, deserialize } from 'node:v8';
import type { MarginRows } from '../src/margin/types.js';
import type { Balances, PositionBook } from '../src/model/book.js';
import type { Market } from '../src/model/market.js';

interface RefModel {
  model: string;
  count: number;
  account: Int32Array;
  unit: Int32Array;
  unitNames: string[];
  im: Float64Array;
  mm: Float64Array;
  status: Uint8Array;
  worstScenario: Int32Array;
}

/** Writes the margins of a run as the float64 reference (v8-serialised typed arrays). */
export function writeReference(file: string, margin: MarginRows[]): void {
  const models: RefModel[] = margin.map((m) => ({
    model: m.model,
    count: m.count,
    account: m.account,
    unit: m.unit,
    unitNames: m.unitNames,
    im: m.im,
    mm: m.mm,
    status: m.status,
    worstScenario: m.worstScenario,
  }));
  writeFileSync(file, serialize(models));
}

/** Per-model result of the comparison. */
export interface ModelCheck {
  model: string;
  rows: number;
  /** rows of this run not found in the reference (or the other way round) */
  unmatchedRows: number;
  /** largest |ΔMM| / bound and |ΔIM| / bound over the rows (≤ 1 passes) */
  maxMmErrOverBound: number;
  maxImErrOverBound: number;
  /** rows whose MM or IM is outside the bound */
  rowsOutsideBound: number;
  /** largest |ΔMM| / |MM₆₄| over rows with MM₆₄ ≠ 0, and the row's MM₆₄ and gross Σ|q|·v */
  maxRelMmDiff: number;
  maxRelMmAt: { account: number; unit: string; mm64: number; mm: number; gross: number } | null;
  /** rows whose status (ok / margin call / liquidation) differs, and whose worst scenario id differs */
  statusDiffers: number;
  worstScenarioDiffers: number;
  ok: boolean;
}

/**
 * Compares a run's margins with the reference file written by the cpu run of the same workload.
 * Rows are matched by (account, unit name).
 */
export function compareWithReference(
  file: string,
  margin: MarginRows[],
  book: PositionBook,
  balances: Balances,
  market: Market,
): { ok: boolean; models: ModelCheck[] } {
  const ref = deserialize(readFileSync(file)) as RefModel[];
  const gross = grossTerms(book, balances, market);
  const out: ModelCheck[] = [];
  for (const m of margin) {
    const r = ref.find((x) => x.model === m.model);
    if (!r) {
      out.push({
        model: m.model,
        rows: m.count,
        unmatchedRows: m.count,
        maxMmErrOverBound: NaN,
        maxImErrOverBound: NaN,
        rowsOutsideBound: 0,
        maxRelMmDiff: NaN,
        maxRelMmAt: null,
        statusDiffers: 0,
        worstScenarioDiffers: 0,
        ok: false,
      });
      continue;
    }
    const index = new Map<number, number>();
    const key = (account: number, unitName: string) => account * 64 + unitCode(unitName, market);
    for (let k = 0; k < r.count; k++) index.set(key(r.account[k]!, r.unitNames[r.unit[k]!]!), k);
    let unmatched = Math.abs(r.count - m.count);
    let mmWorst = 0;
    let imWorst = 0;
    let outside = 0;
    let rel = 0;
    let relAt: ModelCheck['maxRelMmAt'] = null;
    let statusDiffers = 0;
    let worstDiffers = 0;
    for (let k = 0; k < m.count; k++) {
      const a = m.account[k]!;
      const unitName = m.unitNames[m.unit[k]!]!;
      const j = index.get(key(a, unitName));
      if (j === undefined) {
        unmatched++;
        continue;
      }
      const g = gross(m.model, a, unitName);
      const mmBound = 1e-5 * Math.abs(r.mm[j]!) + 5e-7 * g;
      const imBound = 1e-5 * Math.abs(r.im[j]!) + 5e-7 * g;
      const dmm = diff(m.mm[k]!, r.mm[j]!);
      const dim = diff(m.im[k]!, r.im[j]!);
      const em = dmm === 0 ? 0 : dmm / mmBound;
      const ei = dim === 0 ? 0 : dim / imBound;
      mmWorst = Math.max(mmWorst, em);
      imWorst = Math.max(imWorst, ei);
      if (em > 1 || ei > 1) outside++;
      if (r.mm[j] !== 0 && Number.isFinite(r.mm[j]!)) {
        const x = dmm / Math.abs(r.mm[j]!);
        if (x > rel) {
          rel = x;
          relAt = { account: a, unit: unitName, mm64: r.mm[j]!, mm: m.mm[k]!, gross: g };
        }
      }
      if (m.status[k] !== r.status[j]) statusDiffers++;
      if (m.worstScenario[k] !== r.worstScenario[j]) worstDiffers++;
    }
    out.push({
      model: m.model,
      rows: m.count,
      unmatchedRows: unmatched,
      maxMmErrOverBound: mmWorst,
      maxImErrOverBound: imWorst,
      rowsOutsideBound: outside,
      maxRelMmDiff: rel,
      maxRelMmAt: relAt,
      statusDiffers,
      worstScenarioDiffers: worstDiffers,
      ok: unmatched === 0 && outside === 0,
    });
  }
  return { ok: out.every((c) => c.ok), models: out };
}

/** |a − b|, 0 when both are NaN (a null in both), +Infinity when only one is. */
function diff(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  const d = Math.abs(a - b);
  return Number.isNaN(d) ? Infinity : d;
}

/** Code of a unit name: underlying id, U for USDC, U + 1 for 'ALL'. */
function unitCode(name: string, market: Market): number {
  const u = market.underlyingId.get(name);
  if (u !== undefined) return u;
  return name === 'USDC' ? market.underlyings.length : market.underlyings.length + 1;
}

/**
 * Σ|q|·v per (model, account, unit name), from per-account sums over the book: positions per book unit
 * (coin units in coin, the USDC unit in USD), positions per underlying in USD, coin collateral in USD.
 */
function grossTerms(
  book: PositionBook,
  balances: Balances,
  market: Market,
): (model: string, account: number, unit: string) => number {
  const U = market.underlyings.length;
  const A = book.accountCount;
  const ins = market.instruments;
  const byUnit = new Float64Array(A * (U + 1));
  const byUnderlyingUsd = new Float64Array(A * U);
  const collateralUsd = new Float64Array(A * U);
  for (let k = 0; k < book.unitCount; k++) {
    const a = book.unitAccount[k]!;
    const c = book.unitCurrency[k]!;
    for (let p = book.unitStart[k]!; p < book.unitStart[k + 1]!; p++) {
      const i = book.instrumentId[p]!;
      const u = ins.underlying[i]!;
      const q = Math.abs(book.quantity[p]!);
      const usd = q * market.indexPrice[u]!;
      byUnit[a * (U + 1) + c] += c === U ? usd : q;
      byUnderlyingUsd[a * U + u] += usd;
    }
  }
  const C = balances.currencies.length;
  balances.currencies.forEach((name, j) => {
    const u = market.underlyingId.get(name);
    if (u === undefined) return;
    for (let a = 0; a < A && a * C + j < balances.amount.length; a++)
      collateralUsd[a * U + u] += Math.abs(balances.amount[a * C + j]!) * market.indexPrice[u]!;
  });
  return (model, a, unit) => {
    const code = unitCode(unit, market);
    if (model === 'deribit-pm' || model === 'standard') return code <= U ? byUnit[a * (U + 1) + code]! : 0;
    if (model === 'span') return code < U ? byUnderlyingUsd[a * U + code]! + collateralUsd[a * U + code]! : 0;
    let s = 0;
    for (let u = 0; u < U; u++) s += byUnderlyingUsd[a * U + u]! + collateralUsd[a * U + u]!;
    return s;
  };
}
