/**
 * What a backend is to the rest of the engine: revaluation (market × scenarios → P&L matrix) and
 * aggregation (P&L matrix × GroupBook → Reduced), plus the report of what actually ran. Built by
 * createBackend.ts; the contract's data types live in types.ts.
 */
import { EnvironmentError } from '../errors.js';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { Params } from '../params/params.js';
import type {
  BackendName,
  BackendReport,
  GroupBook,
  PnlMatrix,
  Reduced,
  ReduceRequest,
  RevalueOptions,
  WorkerThreads,
} from './types.js';

export interface Backend {
  /** the backend that runs revaluation (see `report.phases` for aggregation) */
  readonly name: BackendName;
  readonly report: BackendReport;
  /**
   * The full P&L matrix of the row layout of types.ts (rows 2I + U × S): USD rows in USD per unit of
   * underlying, coin rows in coin per unit, spot rows in USD per coin; gain to a long position is positive.
   * Float64Array on cpu (on shared memory), Float32Array on the float32 devices (values computed on the
   * device in normalised units, scaled by F in float64 on the host, then stored as float32).
   */
  revalue(market: Market, scenarios: ScenarioSet, params: Params, opts?: RevalueOptions): Promise<PnlMatrix>;
  /**
   * GroupBook → Reduced as documented in types.ts: per group the worst loss (currency of rows × qty),
   * its first scenario index, and the `req.topK` largest losses, descending.
   * @throws Error when the GroupBook does not fit the matrix (rows, buckets, weights).
   */
  aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced>;
  /**
   * (Backends that compute on other threads; best effort.) Turns this thread's event loop until no task
   * handed over waits in a queue, or a few turns have passed: a pool hands a task to a free worker only
   * when this thread's event loop turns (and handles the worker's last answer), so a caller about to
   * compute for a while awaits this first. A worker still busy with an earlier task keeps the next one
   * queued; it is handed over at the next turn after that.
   */
  handedOver?(): Promise<void>;
  /**
   * (cpu, and auto when both phases run on cpu) the backend's float64 worker threads, for work cut coarser
   * than revalue and aggregate cut theirs (types.ts WorkerThreads; the distance search: one search a task)
   */
  readonly threads?: WorkerThreads;
  /** Releases workers and device contexts. */
  close(): Promise<void>;
}

/** Options of createBackend. */
export interface BackendOptions {
  /** cpu pool size (default: os.availableParallelism()) */
  workers?: number;
  /** skip the start-up self-check (tests of the self-check itself only) */
  skipSelfCheck?: boolean;
  /**
   * auto: skip the per-phase measurement and use the documented calibration (revaluation on the GPU backend,
   * aggregation on cpu)
   */
  noCalibration?: boolean;
  /**
   * auto: the run's work, when known — instrument-scenario evaluations and scenarios summed over its
   * scenario sets. A run too small to repay a device's start-up runs on cpu without starting one
   * (see DEVICE_MIN_WORK in createBackend.ts).
   */
  expectedWork?: { evaluations: number; scenarios: number };
  /**
   * auto: measure the phases once this settles, the devices started and self-checked before it (a run passes
   * its book's load: the measurement then neither slows the load on the main thread, where a device is
   * driven, nor runs the pool beside it, which made the pool measure up to 4× below its rate on 2 cores).
   */
  measureAfter?: Promise<unknown>;
}

/** A backend that could not start: `reason` says why (recorded in BackendReport.tried). */
export class BackendUnavailableError extends EnvironmentError {
  readonly backend: BackendName;
  readonly reason: string;
  constructor(backend: BackendName, reason: string) {
    super(`backend ${backend} is not available: ${reason}`);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
    this.reason = reason;
  }
}

/** Checks that a GroupBook fits a P&L matrix. @throws Error naming the first field that does not. */
export function checkGroupBook(pnl: PnlMatrix, g: GroupBook): void {
  const n = g.groupStart.length;
  if (n !== g.groupCount + 1)
    throw new Error(`GroupBook.groupStart has ${n} entries, expected groupCount + 1 = ${g.groupCount + 1}`);
  const entries = g.groupStart[g.groupCount]!;
  if (g.row.length < entries || g.qty.length < entries || g.bucket.length < entries) {
    throw new Error(`GroupBook entry columns shorter than groupStart[groupCount] = ${entries}`);
  }
  if (g.weight.length !== pnl.scenarios * g.buckets) {
    throw new Error(
      `GroupBook.weight has ${g.weight.length} values, expected scenarios × buckets = ${pnl.scenarios * g.buckets}`,
    );
  }
  if (pnl.data.length < pnl.rows * pnl.scenarios)
    throw new Error(
      `PnlMatrix.data has ${pnl.data.length} values, expected rows × scenarios = ${pnl.rows * pnl.scenarios}`,
    );
  const [u0, u1] = pnl.unwritten ?? [0, 0];
  const { row, bucket, buckets } = g;
  const rows = pnl.rows;
  // one test per entry, its message built apart (entryError): with the messages' template literals in the loop
  // V8 allocated on every entry (~16 ns and a heap number an entry against ~2 ns; the distance search's
  // aggregations check millions of entries)
  for (let e = 0; e < entries; e++) {
    const r = row[e]!;
    const b = bucket[e]!;
    if (!(r >= 0 && r < rows) || (r >= u0 && r < u1) || !(b >= 0 && b < buckets))
      throw entryError(e, r, b, rows, u0, u1, buckets);
  }
}

/** checkGroupBook's error for entry e (row r, bucket b), naming the first rule it breaks. */
function entryError(e: number, r: number, b: number, rows: number, u0: number, u1: number, buckets: number): Error {
  if (!(r >= 0 && r < rows)) return new Error(`GroupBook.row[${e}] = ${r} outside the matrix's ${rows} rows`);
  if (r >= u0 && r < u1)
    return new Error(
      `GroupBook.row[${e}] = ${r} is one of the rows ${u0}..${u1 - 1} this matrix was revalued without ` +
        '(a model that reads coin rows must say so: MarginModel.readsCoinRows)',
    );
  return new Error(`GroupBook.bucket[${e}] = ${b} outside 0..${buckets - 1}`);
}
