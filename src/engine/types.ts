/**
 * The contract between the backends (src/engine) and everything that uses them.
 *
 * Revaluation gives P&L per unit of underlying of each instrument under each scenario. Aggregation
 * takes "groups" (a risk unit of some model: a list of (row, quantity, bucket) entries) and reduces
 * each group's scenario vector to the numbers a model needs, without materialising groups × scenarios.
 */
export type BackendName = 'cpu' | 'gl' | 'webgpu';
export type BackendChoice = BackendName | 'auto';

/** Why each backend did or did not run; recorded in the report. */
export interface BackendReport {
  chosen: BackendName;
  /** gpu.js kernel class that actually ran (e.g. 'HeadlessGLKernel'), or 'piscina' for cpu */
  kernelClass: string;
  /** per backend tried: 'ok' or the reason it was refused */
  tried: Partial<Record<BackendName, string>>;
  /** (additive) the backend that ran each phase; `chosen` is the revaluation one */
  phases?: { revalue: BackendName; aggregate: BackendName };
  /** (additive) kernel class that ran each phase ('piscina' for cpu) */
  phaseKernelClass?: { revalue: string; aggregate: string };
  /** (additive) auto's per-phase measurement: values per second by phase and backend, and how it decided */
  calibration?: {
    revalue: Partial<Record<BackendName, number>>;
    aggregate: Partial<Record<BackendName, number>>;
    note: string;
  };
  /** (additive) start-up self-check: largest error found per backend, in units of its bound (≤ 1 passes) */
  selfCheck?: Partial<Record<BackendName, number>>;
}

/** P&L matrix, row-major [row * scenarios + s]. */
export interface PnlMatrix {
  rows: number;
  scenarios: number;
  data: Float64Array | Float32Array;
  /**
   * Rows [from, to) that were not computed (the coin rows of a revaluation with RevalueOptions.coinRows
   * false): they hold zeros, and a GroupBook that reads one is refused (backend.ts checkGroupBook).
   */
  unwritten?: readonly [number, number];
}

/** What a revaluation may leave out (Backend.revalue). */
export interface RevalueOptions {
  /**
   * false: the coin rows are not needed (no model of the set reads them: MarginModel.readsCoinRows), and a
   * backend may leave them unwritten (the cpu pool does; the devices compute them anyway). Default true.
   */
  coinRows?: boolean;
}

/**
 * Groups to aggregate: for group g, entries [groupStart[g], groupStart[g+1]).
 * p_b[s] = Σ_{entries e of bucket b} qty[e] · pnl[row[e], s];
 * p[s]   = Σ_b adj(weight[s * buckets + b] · p_b[s]),  adj(x) = x if x < 0 else pnlOffset · x
 *          (with pnlOffset = 1 the buckets simply add up);
 * loss[s] = −p[s].
 */
export interface GroupBook {
  groupCount: number;
  groupStart: Int32Array;
  row: Int32Array;
  qty: Float64Array;
  /** bucket (underlying index) of each entry, 0..buckets-1 */
  bucket: Int32Array;
  buckets: number;
  /** [s * buckets + b] */
  weight: Float64Array;
  pnlOffset: number;
}

export interface ReduceRequest {
  /** how many of the largest losses to return per group (0: none) */
  topK: number;
  /** (optional) called as blocks of groups complete, with the groups done so far and the total: for progress */
  onProgress?: (doneGroups: number, totalGroups: number) => void;
}

/**
 * Per group: the worst loss (max_s loss[s], may be negative), its first scenario index, and optionally the k largest
 * losses (descending).
 */
export interface Reduced {
  worstLoss: Float64Array;
  worstScenario: Int32Array;
  /** [g * topK + j], descending; present when topK > 0 */
  topLosses?: Float64Array;
}

/**
 * Row layout of the revaluation matrix every model aggregates over (I instruments, U underlyings):
 *   rows [0, I)        USD P&L per unit of underlying of instrument i (option: V' − V; delta-one: F·m)
 *   rows [I, 2I)       coin P&L per unit of underlying of instrument i (inverse option: V'/F' − V/F;
 *                      delta-one: 1 − 1/(1+m)); defined for every instrument, used for inverse units
 *   rows [2I, 2I + U)  USD P&L of one coin of spot underlying u (collateral held in coin): S_u · m
 */
export function usdRow(instrument: number): number {
  return instrument;
}
export function coinRow(instrument: number, instrumentCount: number): number {
  return instrumentCount + instrument;
}
export function spotRow(underlying: number, instrumentCount: number): number {
  return 2 * instrumentCount + underlying;
}
export function pnlRowCount(instrumentCount: number, underlyingCount: number): number {
  return 2 * instrumentCount + underlyingCount;
}

/**
 * The float64 worker threads of a backend (the cpu backend's pool), lent for work coarser than its own
 * tasks: `run` runs the default export of the compiled module `filename` on one of the `workers` threads with
 * `task` (structured-cloned) and resolves to what it returns. The module computes on its thread with the cpu
 * kernels (hostPnl.ts, hostAggregate.ts), the same bits as the backend's revalue and aggregate.
 */
export interface WorkerThreads {
  readonly workers: number;
  run(filename: string, task: unknown): Promise<unknown>;
}
