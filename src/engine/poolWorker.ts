/**
 * The Piscina worker of the cpu backend: one entry, two tasks over shared memory. Each task names its
 * SharedArrayBuffers; the worker builds typed-array views on them (no copies) and writes its results into
 * the shared output arrays. Loaded from dist only (see workerPath.ts).
 */
import { CPU_AGGREGATE_SCENARIO_BLOCK } from './tuning.js';
import type { RevalueColumns } from '../../kernels/revalue.js';
import { AGGREGATE_KERNEL_NAME, aggregateKernel as aggregate } from './hostAggregate.js';
import { revalueKernelName, revalueTileHere } from './hostRevalue.js';
import type { AggregateTask, RevalueTask } from './poolTasks.js';
import { TRACING, traceSpan } from '../util/trace.js';

/**
 * JIT warm-up, once per worker as it starts (while the run still loads its inputs): a small synthetic
 * aggregation (300 groups of 0–8 entries over two buckets, both P&L offsets) through the same path as
 * the real tasks, so that V8 has optimised the aggregation (the wasm form's driver, or aggregateGroups where
 * it runs) before the first real task. Measured with aggregateGroups on the
 * 2-core machine: about 9 ms here, and the first intraday aggregation (155,149 groups, 35 scenarios)
 * then takes 55–66 ms instead of 66–118 ms cold. It writes only its own buffers.
 */
function warmUp(): void {
  const S = 35,
    B = 2,
    R = 64,
    G = 300;
  const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
  const pnl = sab(8 * R * S);
  const p = new Float64Array(pnl);
  for (let k = 0; k < p.length; k++) p[k] = Math.sin(k) * 100;
  const starts: number[] = [0],
    rows: number[] = [],
    qtys: number[] = [],
    buckets: number[] = [];
  for (let g = 0; g < G; g++) {
    const n = g % 9;
    for (let k = 0; k < n; k++) {
      rows.push((g * 7 + k) % R);
      qtys.push(1 + k / 2);
      buckets.push(g % 3 === 0 ? (k >> 1) & 1 : g & 1);
    }
    starts.push(rows.length);
  }
  const filled = <T extends Int32Array | Float64Array>(
    make: (b: SharedArrayBuffer) => T,
    bytes: number,
    values: number[],
  ) => {
    const b = sab(bytes * values.length);
    make(b).set(values);
    return b;
  };
  const weight = sab(8 * S * B);
  new Float64Array(weight).fill(1);
  for (const pnlOffset of [0, 1]) {
    runTask({
      op: 'aggregate',
      pnl,
      pnlFloat32: false,
      scenarios: S,
      groupStart: filled((b) => new Int32Array(b), 4, starts),
      row: filled((b) => new Int32Array(b), 4, rows),
      qty: filled((b) => new Float64Array(b), 8, qtys),
      bucket: filled((b) => new Int32Array(b), 4, buckets),
      buckets: B,
      weight,
      pnlOffset,
      topK: 0,
      worstLoss: sab(8 * G),
      worstScenario: sab(4 * G),
      topLosses: null,
      g0: 0,
      g1: G,
      scenarioBlock: CPU_AGGREGATE_SCENARIO_BLOCK,
    });
  }
  // the revaluation's WebAssembly module read, compiled and checked now, while the run still loads
  revalueKernelName();
}
warmUp();

/** Runs one task; resolves to the number of values written (for accounting). */
export default function run(task: AggregateTask | RevalueTask): number {
  if (!TRACING) return runTask(task);
  const t0 = performance.now();
  try {
    return runTask(task);
  } finally {
    // the aggregation names its kernel: a build that cannot find its WebAssembly module runs the reference
    traceSpan(
      'pool',
      task.op === 'aggregate' ? `aggregate (${AGGREGATE_KERNEL_NAME})` : `${task.op} (${revalueKernelName()})`,
      t0,
    );
  }
}

function runTask(task: AggregateTask | RevalueTask): number {
  if (task.op === 'aggregate') {
    const pnl = task.pnlFloat32 ? new Float32Array(task.pnl) : new Float64Array(task.pnl);
    aggregate(
      {
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
      },
      task.g0,
      task.g1,
      task.scenarioBlock,
    );
    return task.g1 - task.g0;
  }
  const c: RevalueColumns = viewRevalue(task);
  revalueTileHere(c, task.i0, task.i1, task.s0, task.s1);
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
    coinRows: t.coinRows,
    ...(t.surface ? { surface: new Float64Array(t.surface), stickyMoneyness: t.stickyMoneyness === true } : {}),
    ...(t.shockedSurface ? { shockedSurface: new Float64Array(t.shockedSurface) } : {}),
  };
}
