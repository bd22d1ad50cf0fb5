/**
 * The input of one report run: everything `writeRun` puts into the DuckDB report, in columns. Nothing
 * here is per-row objects except the rejected input rows (few) and the run's metadata (one).
 */
import type { MarginRows, ModelName } from '../margin/types.js';
import type { Market } from '../model/market.js';
import type { RejectedRow } from '../model/book.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { VolSurface } from '../surface/surface.js';

/** One input file of a run, as recorded in `runs.inputs`. */
export interface RunInput {
  /** what the file is: 'instruments', 'underlyings', 'positions', 'balances', 'params', 'history', … */
  role: string;
  /** the path as given on the command line */
  path: string;
  /** lowercase hex SHA-256 of the file's bytes */
  sha256: string;
  /** rows read from the file (before any were rejected); null when not a table */
  rows: number | null;
}

/** The backend that ran one phase and why the others did not, as recorded in `runs.backends`. */
export interface PhaseBackend {
  /** 'webgpu' | 'gl' | 'cpu' | 'host' (work done on the CPU outside the backends) */
  used: string;
  /** backend name -> why it did not run (e.g. `gl: no context (…)`); empty when none was tried */
  skipped: Record<string, string>;
}

/**
 * One run as the report stores it. Times are ms since the epoch, UTC. Margin rows refer to
 * accounts by their dense PositionBook id; `accountKey[id]` is the key written to the report.
 */
export interface RunRecord {
  /** when the run started (ms since epoch, UTC) */
  startedAtMs: number;
  /** when the computation finished; defaults to the time the writer starts its transaction */
  finishedAtMs?: number;
  /** the market snapshot time (ms since epoch, UTC) */
  snapshotTimeMs: number;
  /** the models run, in the order given */
  models: ModelName[];
  /** the whole parameter set (JSON-serialisable) */
  params: unknown;
  /** its hash as computed by the params loader; when absent, SHA-256 of `JSON.stringify(params)` */
  paramsHash?: string;
  inputs: RunInput[];
  /** phase name ('revaluation', 'aggregation', …) -> backend that ran it */
  backends: Record<string, PhaseBackend>;
  /** phase name -> wall time in milliseconds */
  timingsMs: Record<string, number>;
  engineVersion: string;
  /** 'ok' (every input row used) or 'ok_with_rejected_rows'; default from `rejected.length` */
  status?: string;
  market: Market;
  /**
   * per instrument id: the model price at mark_iv in the mark's units (coin per unit of underlying for
   * inverse options, USD otherwise); NaN where not priced
   */
  modelValue: Float64Array;
  /** every scenario set the run used (one per family) */
  scenarioSets: ScenarioSet[];
  /** PositionBook.accountKey: account id -> key as given */
  accountKey: string[];
  /** one block of rows per model */
  margin: MarginRows[];
  /**
   * per account id: its equity in USD (accountEquityUsd, src/margin/equity.ts). The account summaries are
   * not written: the account_summary view derives them from this and the margin rows (schema 5).
   */
  accountEquityUsd: Float64Array;
  /** input rows left out under --on-invalid=skip */
  rejected: RejectedRow[];
  /** the run's implied-volatility surface (vol_surface); when absent the writer fits it from `market` */
  volSurface?: VolSurface;
  /** per slice of `volSurface`: options valued from the surface (`--fill-iv surface`) */
  volSurfaceFilled?: Int32Array;
}

/** Options of `writeRun`. */
export interface WriteOptions {
  /**
   * Called after each table's rows are appended (inside the transaction, before COMMIT): for progress.
   * Throwing from it aborts the run and rolls everything back.
   */
  onTableWritten?: (table: string, rows: number) => void;
}
