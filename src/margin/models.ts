/**
 * The scenario-based margin models by name, and the plan → aggregate → assemble sequence every
 * caller runs. A model never knows which backend aggregated: it gets a Reduced.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from '../engine/types.js';
import type { Family } from '../scenarios/types.js';
import { deribitPmAssemble, deribitPmGroups, deribitPmPrepare, type DeribitPmPlan } from './deribitPm.js';
import type { MarginInput, ModelPlan } from './plan.js';
import { aggregateReference } from './referenceAggregate.js';
import { spanAssemble, spanGroups, spanPrepare } from './span.js';
import type { MarginRows } from './types.js';
import { varAssemble, varGroups } from './var.js';

export type ScenarioModelName = 'deribit-pm' | 'span' | 'var-hs' | 'var-mc';

export interface MarginModel {
  name: ScenarioModelName;
  /** the scenario family the model aggregates over */
  family: Family;
  groups(input: MarginInput): ModelPlan;
  /**
   * Computes, into the plan, what assembly needs besides the reduced losses (per-group add-ons, the
   * shared per-run tables); optional and idempotent: assemble does it when it was not done. runMargin
   * calls it while the backend aggregates.
   */
  prepare?(input: MarginInput, plan: ModelPlan): void;
  assemble(input: MarginInput, plan: ModelPlan, reduced: Reduced): MarginRows;
}

export const MARGIN_MODELS: Record<ScenarioModelName, MarginModel> = {
  'deribit-pm': {
    name: 'deribit-pm',
    family: 'deribit-pm',
    groups: deribitPmGroups,
    prepare: (input, plan) => {
      deribitPmPrepare(input, plan as DeribitPmPlan);
    },
    assemble: (input, plan, reduced) => deribitPmAssemble(input, plan as DeribitPmPlan, reduced),
  },
  span: {
    name: 'span',
    family: 'span',
    groups: spanGroups,
    prepare: (input, plan) => {
      spanPrepare(input, plan);
    },
    assemble: spanAssemble,
  },
  'var-hs': {
    name: 'var-hs',
    family: 'historical',
    groups: (input) => varGroups(input, 'var-hs'),
    assemble: varAssemble,
  },
  'var-mc': {
    name: 'var-mc',
    family: 'monte-carlo',
    groups: (input) => varGroups(input, 'var-mc'),
    assemble: varAssemble,
  },
};

/** A backend's aggregation: pnl × groups → Reduced (sync or async). */
export type Aggregate = (pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest) => Reduced | Promise<Reduced>;

/**
 * Runs one model end to end on a revalued P&L matrix (rows laid out as in src/engine/types.ts, over
 * `input.scenarios`): groups, aggregation (the float64 reference unless a backend's is given),
 * assembly.
 */
export async function computeMargin(
  model: MarginModel,
  input: MarginInput,
  pnl: PnlMatrix,
  aggregate: Aggregate = aggregateReference,
): Promise<MarginRows> {
  const plan = model.groups(input);
  const reduced = await aggregate(pnl, plan.groups, plan.request);
  return model.assemble(input, plan, reduced);
}
