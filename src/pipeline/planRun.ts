/**
 * What a run will do, decided before it does anything: the scenario models in order and the family
 * each aggregates over, whether the history is needed, which rows the report stores, and how the
 * cpu pool is sized and fed. Pure: a function of the options, the scenario sets' sizes and the cores.
 */
import { MARGIN_MODELS, needsHistory, usesHistory, type ScenarioModelName } from '../margin/models.js';
import type { ModelName } from '../margin/types.js';
import { REPORT_CORE_MAX_SCENARIOS } from '../engine/tuning.js';
import { storesStandardRows } from '../report/schema.js';
import type { Family } from '../scenarios/types.js';

export interface RunPlan {
  /** the scenario models, in the order asked (standard is always computed besides) */
  models: ScenarioModelName[];
  /** per model: its family */
  family: Family[];
  /** the distinct families, in the order of first use */
  families: Family[];
  /** the families whose P&L matrices need their coin rows (a model of the family reads them) */
  coinRowFamilies: Family[];
  /** var-hs or var-mc: the history (or a scenario file of their family) is required */
  needsHistory: boolean;
  /** span calibrates from the history when one is given */
  usesHistory: boolean;
  /**
   * The report stores the standard rows (they go right after the first model's), or derives them from
   * deribit-pm's (they are computed after the last model, and only checked before COMMIT).
   */
  storesStandard: boolean;
  /** revaluation work: instrument-scenario evaluations and scenarios, over every family */
  work: { evaluations: number; scenarios: number };
  /**
   * The cpu pool's size when --workers is not given (undefined: every core): a report-writing run with at
   * most REPORT_CORE_MAX_SCENARIOS scenarios leaves the report thread a core (src/engine/tuning.ts), unless it
   * also searches the distances to liquidation (--distance): that search outlasts the rest of the run many
   * times over, on the pool's threads (src/margin/distance.ts), while the report thread waits for its rows.
   */
  workers: number | undefined;
  /**
   * An aggregation-bound run (more than REPORT_CORE_MAX_SCENARIOS scenarios): every model's aggregation
   * goes to a pool up front, so that the pool always has work queued; otherwise one model at a time, so
   * that the first model's rows reach the report as early as they can.
   */
  handOverAll: boolean;
}

/** The models' part of the plan (before any scenario set exists). */
export function planModels(
  models: readonly ModelName[],
): Pick<
  RunPlan,
  'models' | 'family' | 'families' | 'coinRowFamilies' | 'needsHistory' | 'usesHistory' | 'storesStandard'
> {
  const scenarioModels = models.filter((m): m is ScenarioModelName => m !== 'standard');
  const family = scenarioModels.map((m) => MARGIN_MODELS[m].family);
  return {
    models: scenarioModels,
    family,
    families: [...new Set(family)],
    coinRowFamilies: [
      ...new Set(scenarioModels.filter((m) => MARGIN_MODELS[m].readsCoinRows).map((m) => MARGIN_MODELS[m].family)),
    ],
    needsHistory: needsHistory(scenarioModels),
    usesHistory: usesHistory(scenarioModels),
    storesStandard: storesStandardRows(scenarioModels),
  };
}

/**
 * The plan of a run of `models` whose scenario sets hold `scenarios[f]` scenarios per family, over
 * `instruments` instruments, on a machine of `cores` cores; `writesReport`: the run has --db;
 * `workers`: --workers, when given; `distance`: the run searches the distances to liquidation.
 */
export function planRun(o: {
  models: readonly ModelName[];
  instruments: number;
  scenarios: ReadonlyMap<Family, number>;
  writesReport: boolean;
  cores: number;
  workers?: number;
  distance?: boolean;
}): RunPlan {
  const m = planModels(o.models);
  let evaluations = 0;
  let scenarios = 0;
  for (const f of m.families) {
    const n = o.scenarios.get(f) ?? 0;
    evaluations += o.instruments * n;
    scenarios += n;
  }
  const small = scenarios <= REPORT_CORE_MAX_SCENARIOS;
  return {
    ...m,
    work: { evaluations, scenarios },
    workers: o.workers ?? (o.writesReport && o.cores > 1 && small && o.distance !== true ? o.cores - 1 : undefined),
    handOverAll: !small,
  };
}
