/**
 * The `cpu` backend: a Piscina pool (sized to the cores) running the float64 kernels over shared memory.
 * Revaluation: tiles of instruments × scenarios (kernels/revalue.ts revalueTile). Aggregation: blocks of
 * groups, each scenario-blocked (kernels/aggregate.ts aggregateGroups). Every value depends only on its own
 * inputs, never on the tiling, so 1 and N workers give identical bits.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { Params } from '../params/params.js';
import type {
  BackendReport,
  GroupBook,
  PnlMatrix,
  Reduced,
  ReduceRequest,
  RevalueOptions,
  WorkerThreads,
} from './types.js';
import { pnlRowCount } from './types.js';
import { checkGroupBook, type Backend } from './backend.js';
import { revalueColumns, sharedArray, type RevalueColumns } from './revalueColumns.js';
import { writeSpotRows } from './spotRows.js';
import { sharedBufferOf } from './sharedCopy.js';
import { resolveWorker } from '../util/workerPath.js';
import type { AggregateTask, RevalueTask } from './poolTasks.js';
import {
  CPU_AGGREGATE_SCENARIO_BLOCK,
  CPU_MIN_TASK_EVALUATIONS,
  CPU_MIN_TASK_MULTIPLY_ADDS,
  CPU_REVALUE_SCENARIO_TILE,
  CPU_TASKS_PER_WORKER,
} from './tuning.js';

/** The cpu backend; `workers` threads (default: the machine's available parallelism). */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly report: BackendReport;
  readonly workers: number;
  readonly threads: WorkerThreads;
  private readonly pool: Piscina;
  private closing = false;

  /** @throws Error when the built worker is missing (run npm run build) or `workers` is not a positive integer. */
  constructor(workers?: number) {
    const n = workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new Error(`cpu backend: workers must be a positive integer, got ${n}`);
    this.workers = n;
    this.pool = new Piscina({
      filename: resolveWorker('poolWorker', import.meta.url),
      minThreads: n,
      maxThreads: n,
      idleTimeout: 60_000,
      // Tasks in the order they were run. Piscina's default queue puts a task it cannot hand to a busy worker
      // behind the others, so a run's first models' small aggregation tasks finished with var-mc's last ones
      // and the report thread wrote every model's rows after the last aggregation, on one core while the
      // others idled (eod: ~385 ms of rows, then the COMMIT). In order, deribit-pm's, span's and var-hs's
      // rows are written while var-mc aggregates. eod as a process, 2 × 20 alternating rounds (session 13,
      // quiet host): wall B/A 0.976 and 0.990, CPU 0.968 and 0.977; intraday and the distance search
      // unchanged. Session 12 had measured 1.022 on its code (bench/README.md, "Session 13").
      stricterFIFO: true,
    });
    // Closing the pool while tasks are queued or running (a run that failed while the pool worked ahead
    // of it) makes Piscina report the workers' late answers as 'error' events; once closing they are
    // expected and dropped (the run's own error is what the caller reports). Any other is thrown, as an
    // unhandled 'error' event would be.
    this.pool.on('error', (e: unknown) => {
      if (!this.closing) throw e;
    });
    this.threads = { workers: n, run: (filename, task) => this.pool.run(task, { filename }) as Promise<unknown> };
    this.report = {
      chosen: 'cpu',
      kernelClass: 'piscina',
      tried: { cpu: 'ok' },
      phases: { revalue: 'cpu', aggregate: 'cpu' },
      phaseKernelClass: { revalue: 'piscina', aggregate: 'piscina' },
    };
  }

  async revalue(market: Market, scenarios: ScenarioSet, params: Params, opts?: RevalueOptions): Promise<PnlMatrix> {
    const c = revalueColumns(market, scenarios, params, true);
    const coinRows = opts?.coinRows !== false;
    c.coinRows = coinRows;
    await this.revalueColumns(c);
    writeSpotRows(market, scenarios, c.out);
    const rows = pnlRowCount(c.instruments, c.underlyings);
    const I = c.instruments;
    return { rows, scenarios: c.scenarios, data: c.out, ...(coinRows ? {} : { unwritten: [I, 2 * I] }) };
  }

  /** Fills rows [0, 2I) of `c.out` (which must be on shared memory) on the pool. */
  async revalueColumns(c: RevalueColumns): Promise<void> {
    const I = c.instruments;
    const S = c.scenarios;
    if (I === 0 || S === 0) return;
    const sTile = Math.min(S, CPU_REVALUE_SCENARIO_TILE);
    const sTiles = Math.ceil(S / sTile);
    const tasks = this.tasksFor((I * S) / CPU_MIN_TASK_EVALUATIONS);
    const iTiles = Math.max(1, Math.min(I, Math.ceil(tasks / sTiles)));
    const iTile = Math.ceil(I / iTiles);
    const sab = (a: { buffer: ArrayBufferLike }) => a.buffer as SharedArrayBuffer;
    const base: Omit<RevalueTask, 'i0' | 'i1' | 's0' | 's1'> = {
      op: 'revalue',
      instruments: I,
      scenarios: S,
      underlyings: c.underlyings,
      kind: sab(c.kind),
      isCall: sab(c.isCall),
      underlying: sab(c.underlying),
      k: sab(c.k),
      tYears: sab(c.tYears),
      sigma: sab(c.sigma),
      rate: sab(c.rate),
      forward: sab(c.forward),
      v0: sab(c.v0),
      volRangeUp: sab(c.volRangeUp),
      move: sab(c.move),
      deltaOneMove: sab(c.deltaOneMove),
      volRule: sab(c.volRule),
      volParam: sab(c.volParam),
      dtYears: sab(c.dtYears),
      volRangeDown: c.volRangeDown,
      minVolForShockUp: c.minVolForShockUp,
      shortTermVegaPower: c.shortTermVegaPower,
      longTermVegaPower: c.longTermVegaPower,
      out: sab(c.out),
      coinRows: c.coinRows !== false,
      ...(c.surface ? { surface: sab(c.surface), stickyMoneyness: c.stickyMoneyness === true } : {}),
      ...(c.shockedSurface ? { shockedSurface: sab(c.shockedSurface) } : {}),
    };
    const jobs: Promise<unknown>[] = [];
    for (let i0 = 0; i0 < I; i0 += iTile) {
      for (let s0 = 0; s0 < S; s0 += sTile) {
        jobs.push(this.pool.run({ ...base, i0, i1: Math.min(I, i0 + iTile), s0, s1: Math.min(S, s0 + sTile) }));
      }
    }
    await Promise.all(jobs);
  }

  async aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced> {
    checkGroupBook(pnl, groups);
    const G = groups.groupCount;
    const K = Math.max(0, req.topK | 0);
    const worstLoss = sharedArray(Float64Array, G);
    const worstScenario = sharedArray(Int32Array, G);
    const topLosses = K > 0 ? sharedArray(Float64Array, G * K) : null;
    const base: Omit<AggregateTask, 'g0' | 'g1'> = {
      op: 'aggregate',
      pnl: sharedBufferOf(pnl.data),
      pnlFloat32: pnl.data instanceof Float32Array,
      scenarios: pnl.scenarios,
      groupStart: sharedBufferOf(groups.groupStart),
      row: sharedBufferOf(groups.row),
      qty: sharedBufferOf(groups.qty),
      bucket: sharedBufferOf(groups.bucket),
      buckets: groups.buckets,
      weight: sharedBufferOf(groups.weight),
      pnlOffset: groups.pnlOffset,
      topK: K,
      worstLoss: sharedBufferOf(worstLoss),
      worstScenario: sharedBufferOf(worstScenario),
      topLosses: topLosses ? sharedBufferOf(topLosses) : null,
      scenarioBlock: CPU_AGGREGATE_SCENARIO_BLOCK,
    };
    const jobs: Promise<unknown>[] = [];
    let done = 0;
    const work = (groups.groupStart[G]! - groups.groupStart[0]!) * pnl.scenarios;
    for (const [g0, g1] of groupBlocks(groups.groupStart, G, this.tasksFor(work / CPU_MIN_TASK_MULTIPLY_ADDS))) {
      jobs.push(
        this.pool.run({ ...base, g0, g1 }).then(() => {
          done += g1 - g0;
          req.onProgress?.(done, G);
        }),
      );
    }
    await Promise.all(jobs);
    return topLosses ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
  }

  /**
   * Turns the event loop until Piscina's queue is empty (every task run so far is on a worker), at most
   * 64 times (well under a millisecond): a worker is free for the next task only after this thread has
   * handled its last answer. A pool still busy with earlier tasks keeps its queue; this does not wait
   * for them.
   */
  async handedOver(): Promise<void> {
    for (let k = 0; k < 64 && this.pool.queueSize > 0; k++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** How many tasks a job of `minTasks` minimum-sized tasks of work is cut into (tuning.ts). */
  private tasksFor(minTasks: number): number {
    const most = this.workers === 1 ? 1 : this.workers * CPU_TASKS_PER_WORKER;
    return Math.max(1, Math.min(most, Math.ceil(minTasks)));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool.destroy();
  }
}

/** Cuts groups [0, G) into about `parts` contiguous blocks of similar entry counts (each ≥ 1 group). */
export function groupBlocks(groupStart: Int32Array, G: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (G === 0) return out;
  const total = groupStart[G]! - groupStart[0]!;
  const target = Math.max(1, Math.ceil(total / Math.max(1, parts)));
  const maxGroups = Math.max(1, Math.ceil(G / Math.max(1, parts)));
  let g0 = 0;
  while (g0 < G) {
    let g1 = g0 + 1;
    while (g1 < G && groupStart[g1]! - groupStart[g0]! < target && g1 - g0 < maxGroups) g1++;
    out.push([g0, g1]);
    g0 = g1;
  }
  return out;
}
