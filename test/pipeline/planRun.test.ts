/**
 * planRun (src/pipeline/planRun.ts) is a pure function of the options, the scenario sets' sizes and the
 * cores: the models' families, the history rule, which standard rows the report stores, the pool's size
 * and whether every aggregation goes to the pool up front (src/engine/tuning.ts, REPORT_CORE_MAX_SCENARIOS).
 */
import { describe, expect, test } from 'vitest';
import { planRun } from '../../src/pipeline/planRun.js';
import type { ModelName } from '../../src/margin/types.js';
import type { Family } from '../../src/scenarios/types.js';
import { REPORT_CORE_MAX_SCENARIOS } from '../../src/engine/tuning.js';

const sizes = (o: Partial<Record<Family, number>>) => new Map(Object.entries(o) as Array<[Family, number]>);

describe('planRun', () => {
  test('intraday (deribit-pm, span; 51 scenarios) on 2 cores with a report: one pool worker, one model at a time', () => {
    const plan = planRun({
      models: ['deribit-pm', 'span'],
      instruments: 1606,
      scenarios: sizes({ 'deribit-pm': 35, span: 16 }),
      writesReport: true,
      cores: 2,
    });
    expect(plan).toMatchObject({
      models: ['deribit-pm', 'span'],
      family: ['deribit-pm', 'span'],
      families: ['deribit-pm', 'span'],
      needsHistory: false,
      usesHistory: true,
      storesStandard: false,
      work: { evaluations: 1606 * 51, scenarios: 51 },
      workers: 1,
      handOverAll: false,
    });
  });

  test('eod (every model; 11,051 scenarios): every core, every aggregation up front, standard derived', () => {
    const plan = planRun({
      models: ['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard'],
      instruments: 1606,
      scenarios: sizes({ 'deribit-pm': 35, span: 16, historical: 1000, 'monte-carlo': 10000 }),
      writesReport: true,
      cores: 2,
    });
    expect(plan.models).toEqual(['deribit-pm', 'span', 'var-hs', 'var-mc']);
    expect(plan.family).toEqual(['deribit-pm', 'span', 'historical', 'monte-carlo']);
    expect([plan.needsHistory, plan.workers, plan.handOverAll, plan.storesStandard]).toEqual([
      true,
      undefined,
      true,
      false,
    ]);
    expect(plan.work).toEqual({ evaluations: 1606 * 11051, scenarios: 11051 });
  });

  test.each<[string, ModelName[], boolean]>([
    ['without deribit-pm the report stores the standard rows', ['span'], true],
    ['standard alone', ['standard'], true],
    ['with deribit-pm it derives them', ['var-hs', 'deribit-pm'], false],
  ])('%s', (_, models, stores) => {
    const plan = planRun({ models, instruments: 10, scenarios: sizes({}), writesReport: true, cores: 4 });
    expect(plan.storesStandard).toBe(stores);
  });

  test('the pool size: --workers wins; no report, one core, more than the bound, or --distance: every core', () => {
    const base = { models: ['span'] as ModelName[], instruments: 10, cores: 4 };
    const small = sizes({ span: 16 });
    const big = sizes({ span: REPORT_CORE_MAX_SCENARIOS + 1 });
    expect(planRun({ ...base, scenarios: small, writesReport: true }).workers).toBe(3);
    expect(planRun({ ...base, scenarios: small, writesReport: true, workers: 7 }).workers).toBe(7);
    // the distance search runs on the pool's threads and outlasts the rest: every core
    expect(planRun({ ...base, scenarios: small, writesReport: true, distance: true }).workers).toBeUndefined();
    expect(planRun({ ...base, scenarios: small, writesReport: true, distance: true, workers: 1 }).workers).toBe(1);
    expect(planRun({ ...base, scenarios: small, writesReport: false }).workers).toBeUndefined();
    expect(planRun({ ...base, scenarios: small, writesReport: true, cores: 1 }).workers).toBeUndefined();
    expect(planRun({ ...base, scenarios: big, writesReport: true }).workers).toBeUndefined();
    expect(planRun({ ...base, scenarios: big, writesReport: true }).handOverAll).toBe(true);
  });

  test('a family two models share is revalued once', () => {
    const plan = planRun({
      models: ['var-hs', 'var-hs'],
      instruments: 100,
      scenarios: sizes({ historical: 500 }),
      writesReport: false,
      cores: 2,
    });
    expect(plan.families).toEqual(['historical']);
    expect(plan.work).toEqual({ evaluations: 50_000, scenarios: 500 });
  });
});
