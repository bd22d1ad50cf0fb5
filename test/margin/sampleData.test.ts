/**
 * Every model on the bundled sample (data/sample: the real Deribit chain of 2026-02-01, 3 BTC and 3 ETH
 * expiries; a generated 1,000-account book; see data/README.md), float64 revaluation and the reference
 * aggregator: invariants of docs/methodology.md §4–5 that must hold on real data.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import { buildRunTables, type RunTables } from '../../src/margin/runTables.js';
import { standardRows } from '../../src/margin/standard.js';
import { accountSummary } from '../../src/margin/summary.js';
import type { MarginRows } from '../../src/margin/types.js';
import { defaultParams } from '../../src/params/params.js';
import type { ScenarioSet } from '../../src/scenarios/types.js';
import { deribitPmSet, jointSet, pinnedJointMoves, revalue, spanSet } from './fixtures.js';

const root = new URL('../../data/sample/', import.meta.url).pathname;
let base: RunTables;
const sets: Partial<Record<ScenarioModelName, ScenarioSet>> = {};
const results: Partial<Record<ScenarioModelName, MarginRows>> = {};
let standard: MarginRows;

beforeAll(async () => {
  const { market } = await loadMarket(`${root}market`);
  const { book, balances } = await loadBook(market, `${root}book/positions.arrow`, `${root}book/balances.arrow`);
  const params = defaultParams();
  base = buildRunTables(book, balances, market, params);
  const moves = pinnedJointMoves(market);
  sets['deribit-pm'] = deribitPmSet(market, params);
  sets.span = spanSet(market, params);
  sets['var-hs'] = jointSet('historical', market, moves);
  for (const name of ['deribit-pm', 'span', 'var-hs'] as const) {
    const scenarios = sets[name]!;
    results[name] = await computeMargin(
      MARGIN_MODELS[name],
      { ...base, scenarios },
      revalue(market, scenarios, params),
    );
  }
  standard = standardRows(base);
});

describe('every model on data/sample', () => {
  test.each(['deribit-pm', 'span', 'var-hs', 'standard'] as const)(
    '%s: finite margins and equity, IM ≥ MM ≥ 0, status and ratio consistent',
    (name) => {
      const rows = name === 'standard' ? standard : results[name]!;
      expect(rows.count).toBeGreaterThan(500);
      for (let r = 0; r < rows.count; r++) {
        for (const col of ['im', 'mm', 'equity', 'available', 'liquidityAddon'] as const)
          expect(Number.isFinite(rows[col][r]), `${col}[${r}]`).toBe(true);
        expect(rows.mm[r]).toBeGreaterThanOrEqual(0);
        expect(rows.im[r]).toBeGreaterThanOrEqual(rows.mm[r]);
        if (rows.equity[r] <= 0) expect(rows.marginRatio[r]).toBe(Infinity);
        else expect(rows.marginRatio[r]).toBeGreaterThanOrEqual(0);
      }
    },
  );

  test('deribit-pm: every account has a row, worst scenarios are grid ids, standard margin filled', () => {
    const rows = results['deribit-pm']!;
    const seen = new Set(Array.from(rows.account));
    expect(seen.size).toBe(base.book.accountCount);
    for (let r = 0; r < rows.count; r++) {
      expect(rows.worstScenario[r]).toBeGreaterThanOrEqual(-1);
      expect(rows.worstScenario[r]).toBeLessThan(35);
      expect(rows.standardIm[r]).toBeGreaterThanOrEqual(0);
    }
  });

  test('the book holds accounts in each status, and the summaries cover every account', () => {
    for (const name of ['deribit-pm', 'span', 'var-hs'] as const) {
      const sum = accountSummary(results[name]!, standard, base);
      expect(sum.count).toBe(base.book.accountCount);
      expect(sum.equityUsd.every(Number.isFinite)).toBe(true);
      const counts = [0, 0, 0];
      sum.status.forEach((s) => counts[s]++);
      expect(counts[0], `${name}: ok accounts`).toBeGreaterThan(0);
    }
  });
});
