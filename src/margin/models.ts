/**
 * The scenario-based margin models by name, and the groups → prepare → aggregate → assemble sequence
 * every caller runs. A model never knows which backend aggregated: it gets a Reduced.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from '../engine/types.js';
import { InputError } from '../errors.js';
import type { Family } from '../scenarios/types.js';
import {
  deribitPmAssemble,
  deribitPmGroups,
  deribitPmPrepare,
  deribitPmSlopeBound,
  type DeribitPmPlan,
  type DeribitPmPrepared,
} from './deribitPm.js';
import type { ModelPlan } from './plan.js';
import type { SlopeBound, SlopeInput } from './slope.js';
import { aggregateReference } from './referenceAggregate.js';
import { buildUnitTables, type MarginInput, type UnitTables } from './runTables.js';
import { spanAssemble, spanGroups, spanPrepare, spanSlopeBound, type SpanPrepared } from './span.js';
import type { MarginRows } from './types.js';
import { varAssemble, varGroups, varPrepare, varSlopeBound, type VarPrepared } from './var.js';

export type ScenarioModelName = 'deribit-pm' | 'span' | 'var-hs' | 'var-mc';

/** Whether the models need a history of daily closes: var-hs and var-mc build their scenario sets from it. */
export function needsHistory(models: readonly string[]): boolean {
  return models.some((m) => m === 'var-hs' || m === 'var-mc');
}

/** Whether the models read a history when one is given: those that need it, and span (its scan range). */
export function usesHistory(models: readonly string[]): boolean {
  return needsHistory(models) || models.includes('span');
}

/**
 * @throws InputError naming `--history` when the models need a history and the caller has none (a run
 * whose scenario sets all come from files has one: `hasScenarioFiles`).
 */
export function requireHistory(
  models: readonly string[],
  historyDir: string | undefined,
  hasScenarioFiles = false,
): void {
  if (!needsHistory(models) || historyDir || hasScenarioFiles) return;
  throw new InputError({
    file: '--history',
    row: null,
    column: null,
    value: null,
    rule: 'is required by var-hs and var-mc (a directory of daily closes <U>-USD_1d.csv)',
  });
}

/** What a model computed besides the losses, handed from its prepare to its assemble (opaque to callers). */
export type Prepared = unknown;

export interface MarginModel {
  name: ScenarioModelName;
  /** the scenario family the model aggregates over */
  family: Family;
  /**
   * Its groups read coin rows (types.ts coinRow): the run revalues its family with them; without, the cpu
   * pool leaves them out (engine RevalueOptions), and a group that reads one is refused (checkGroupBook).
   */
  readsCoinRows: boolean;
  /** the model's groups (one per result row) and what it asks of the backend's reduction */
  groups(input: MarginInput): ModelPlan;
  /** what assembly needs besides the reduced losses (add-ons, roll shock, the unit tables it reads) */
  prepare(input: MarginInput, plan: ModelPlan, unit: UnitTables): Prepared;
  /** the model's rows from the reduced losses and what prepare gave */
  assemble(input: MarginInput, plan: ModelPlan, prepared: Prepared, reduced: Reduced): MarginRows;
  /**
   * A bound on how fast each status unit's E − MM can fall under a move x of the underlyings flagged in `moved`,
   * going down and going up (slope.ts SlopeBound; per account for span and var, per book unit for deribit-pm): the
   * distance search skips grid points where it proves E − MM > 0 (distance.ts). Optional: a model without one is
   * scanned at every point.
   */
  slopeBound?(input: SlopeInput, moved: Uint8Array): SlopeBound;
}

export const MARGIN_MODELS: Record<ScenarioModelName, MarginModel> = {
  'deribit-pm': {
    name: 'deribit-pm',
    family: 'deribit-pm',
    readsCoinRows: true,
    groups: deribitPmGroups,
    prepare: (input, plan, unit) => deribitPmPrepare(input, plan as DeribitPmPlan, unit),
    assemble: (input, plan, prepared, reduced) =>
      deribitPmAssemble(input, plan as DeribitPmPlan, prepared as DeribitPmPrepared, reduced),
    slopeBound: deribitPmSlopeBound,
  },
  span: {
    name: 'span',
    family: 'span',
    readsCoinRows: false,
    groups: spanGroups,
    prepare: (input, plan) => spanPrepare(input, plan),
    assemble: (input, plan, prepared, reduced) => spanAssemble(input, plan, prepared as SpanPrepared, reduced),
    slopeBound: spanSlopeBound,
  },
  'var-hs': {
    name: 'var-hs',
    family: 'historical',
    readsCoinRows: false,
    groups: (input) => varGroups(input, 'var-hs'),
    prepare: (input, plan) => varPrepare(input, plan),
    assemble: (input, plan, prepared, reduced) => varAssemble(input, plan, reduced, prepared as VarPrepared),
    slopeBound: varSlopeBound,
  },
  'var-mc': {
    name: 'var-mc',
    family: 'monte-carlo',
    readsCoinRows: false,
    groups: (input) => varGroups(input, 'var-mc'),
    prepare: (input, plan) => varPrepare(input, plan),
    assemble: (input, plan, prepared, reduced) => varAssemble(input, plan, reduced, prepared as VarPrepared),
    slopeBound: varSlopeBound,
  },
};

/** A backend's aggregation: pnl × groups → Reduced (sync or async). */
export type Aggregate = (pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest) => Reduced | Promise<Reduced>;

/**
 * Runs one model end to end on a revalued P&L matrix (rows laid out as in src/engine/types.ts, over
 * `input.scenarios`): groups, preparation, aggregation (the float64 reference unless a backend's is
 * given), assembly. `unit`: the run's UnitTables of `input` (built here when not given).
 */
export async function computeMargin(
  model: MarginModel,
  input: MarginInput,
  pnl: PnlMatrix,
  aggregate: Aggregate = aggregateReference,
  unit: UnitTables = buildUnitTables(input),
): Promise<MarginRows> {
  const plan = model.groups(input);
  const prepared = model.prepare(input, plan, unit);
  const reduced = await aggregate(pnl, plan.groups, plan.request);
  return model.assemble(input, plan, prepared, reduced);
}
