/**
 * The Piscina worker of the cpu backend: one entry, two tasks over shared memory. Each task names its
 * SharedArrayBuffers; the worker builds typed-array views on them (no copies) and writes its results into
 * the shared output arrays. Loaded from dist only (see workerPath.ts).
 */
import { aggregateGroups } from './aggregateGroups.js';
import { revalueTile, type RevalueColumns } from './revalueTile.js';
import type { AggregateTask, RevalueTask } from './poolTasks.js';
import { TRACING, traceSpan } from '../pipeline/trace.js';

/** Runs one task; resolves to the number of values written (for accounting). */
export default function run(task: AggregateTask | RevalueTask): number {
  if (!TRACING) return runTask(task);
  const t0 = performance.now();
  try { return runTask(task); } finally { traceSpan('pool', task.op, t0); }
}

function runTask(task: AggregateTask | RevalueTask): number {
  if (task.op === 'aggregate') {
    const pnl = task.pnlFloat32 ? new Float32Array(task.pnl) : new Float64Array(task.pnl);
    aggregateGroups({
      pnl,
      scenarios: task.scenarios,
      groupStart: new Int32Array(task.groupStart),
      row: new Int32Array(task.row),
      qty: new Float64Array(task.qty),
      bucket: new Int32Array(task.bucket),
      buckets: task.buckets,
      weight: new Float64Array(task.weight),
      pnlOffset: task.pnlOffset,
      topK: task.topK,
      worstLoss: new Float64Array(task.worstLoss),
      worstScenario: new Int32Array(task.worstScenario),
      topLosses: task.topLosses ? new Float64Array(task.topLosses) : null,
    }, task.g0, task.g1, task.scenarioBlock);
    return task.g1 - task.g0;
  }
  const c: RevalueColumns = viewRevalue(task);
  revalueTile(c, task.i0, task.i1, task.s0, task.s1);
  return (task.i1 - task.i0) * (task.s1 - task.s0);
}

function viewRevalue(t: RevalueTask): RevalueColumns {
  return {
    instruments: t.instruments,
    scenarios: t.scenarios,
    underlyings: t.underlyings,
    kind: new Uint8Array(t.kind),
    isCall: new Uint8Array(t.isCall),
    underlying: new Int32Array(t.underlying),
    k: new Float64Array(t.k),
    tYears: new Float64Array(t.tYears),
    sigma: new Float64Array(t.sigma),
    rate: new Float64Array(t.rate),
    forward: new Float64Array(t.forward),
    v0: new Float64Array(t.v0),
    volRangeUp: new Float64Array(t.volRangeUp),
    move: new Float64Array(t.move),
    deltaOneMove: new Float64Array(t.deltaOneMove),
    volRule: new Uint8Array(t.volRule),
    volParam: new Float64Array(t.volParam),
    dtYears: new Float64Array(t.dtYears),
    volRangeDown: t.volRangeDown,
    minVolForShockUp: t.minVolForShockUp,
    shortTermVegaPower: t.shortTermVegaPower,
    longTermVegaPower: t.longTermVegaPower,
    out: new Float64Array(t.out),
  };
}
