/**
 * The engine's single entry point to scenario sets: one family, one market, one parameter set.
 */
import { InputError } from '../errors.js';
import type { History } from '../history/types.js';
import type { Market } from '../model/market.js';
import { paramsHash } from '../params/loadParams.js';
import type { Params } from '../params/params.js';
import { buildDeribitPm } from './deribitPm.js';
import { buildHistorical } from './historical.js';
import { buildMonteCarlo } from './monteCarlo.js';
import { buildSpan } from './span.js';
import { buildStress } from './stress.js';
import { readStressFile } from './stressEvent.js';
import { BUILTIN_STRESS_EVENTS, CRASH_WITH_SKEW_STEEPENING } from './stressLibrary.js';
import type { Family, ScenarioSet } from './types.js';

/** The five families, in docs/methodology.md order. */
export const FAMILIES: readonly Family[] = ['deribit-pm', 'span', 'historical', 'monte-carlo', 'stress'];

/** Options of {@link buildScenarios}. */
export interface BuildOptions {
  /** daily history: required by historical and monte-carlo; calibrates span's PSR when given */
  history?: History;
  /**
   * historical: number of dates (overrides var.lookbackDays); monte-carlo: number of scenarios (overrides
   * var.mcScenarios)
   */
  count?: number;
  /** monte-carlo seed (overrides var.mcSeed) */
  seed?: number;
  /** stress: a JSON file of events (without it, the built-in library) */
  stressFile?: string;
}

/** Narrows a user string to a family. @throws InputError naming the value and the known families. */
export function parseFamily(text: string, where = '--family'): Family {
  if ((FAMILIES as readonly string[]).includes(text)) return text as Family;
  throw new InputError(
    {
      file: where,
      row: null,
      column: null,
      value: JSON.stringify(text),
      rule: `is not a scenario family (one of ${FAMILIES.join(', ')})`,
    },
    `${where}: ${JSON.stringify(text)} is not a scenario family (one of ${FAMILIES.join(', ')})`,
  );
}

/**
 * Builds the scenario set of `family` for every underlying of `market`, in float64 on the CPU,
 * deterministically. `meta` gains `paramsHash` (sha256 of the canonical parameters) and, for families
 * that ignore them, nothing else changes.
 * @throws InputError when historical or monte-carlo get no history, when the history is too short, or
 *   when a stress file is invalid or names an underlying the market does not have (the built-in library's
 *   other underlyings are ignored, listed in meta.ignoredUnderlyings); `count`/`seed` given to a family that has no
 *   use for them.
 */
export function buildScenarios(family: Family, market: Market, params: Params, opts: BuildOptions = {}): ScenarioSet {
  const usage = (rule: string) =>
    new InputError(
      { file: `scenarios (${family})`, row: null, column: null, value: null, rule },
      `${family} scenarios: ${rule}`,
    );
  if (opts.count !== undefined && family !== 'historical' && family !== 'monte-carlo')
    throw usage('a count applies only to historical (dates) and monte-carlo (scenarios)');
  if (opts.count !== undefined && (!Number.isSafeInteger(opts.count) || opts.count < 1))
    throw usage(`count must be a positive integer, got ${opts.count}`);
  if (opts.seed !== undefined && family !== 'monte-carlo') throw usage('a seed applies only to monte-carlo');
  if (opts.stressFile !== undefined && family !== 'stress')
    throw usage('a stress file applies only to the stress family');
  let set: ScenarioSet;
  switch (family) {
    case 'deribit-pm':
      set = buildDeribitPm(market, params);
      break;
    case 'span':
      set = buildSpan(market, params, opts.history);
      break;
    case 'historical':
      if (!opts.history) throw usage('needs a history (--history DIR with <U>-USD_1d.csv for every underlying)');
      set = buildHistorical(market, params, opts.history, opts.count);
      break;
    case 'monte-carlo':
      if (!opts.history) throw usage('needs a history (--history DIR with <U>-USD_1d.csv for every underlying)');
      set = buildMonteCarlo(market, params, opts.history, opts.count, opts.seed);
      break;
    case 'stress':
      set =
        opts.stressFile !== undefined
          ? buildStress(market, readStressFile(opts.stressFile), opts.stressFile)
          : buildStress(
              market,
              [...BUILTIN_STRESS_EVENTS, CRASH_WITH_SKEW_STEEPENING],
              'built-in library (data/history)',
              'ignore',
            );
      break;
  }
  set.meta = { ...set.meta, paramsHash: paramsHash(params) };
  return set;
}
