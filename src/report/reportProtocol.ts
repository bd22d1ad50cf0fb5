/**
 * Messages between reportSession.ts (main thread) and reportWorker.ts (the report's thread). Typed
 * arrays travel by structured clone: copied, or shared without a copy when they live in a
 * SharedArrayBuffer (margin rows do, see src/margin/rows.ts).
 */
import type { Violation } from '../errors.js';
import type { Attribution } from '../margin/attribution.js';
import type { MarginRows } from '../margin/types.js';
import type { DistanceRows } from '../margin/distance.js';
import type { AccountKeyList, RejectedRow } from '../model/book.js';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { VolSurface } from '../surface/surface.js';
import type { RunMeta } from './writer.js';

/**
 * The worker's start-up data; a prestarted worker (prestart.ts) gets null and this as its first message.
 */
export interface ReportWorkerData {
  dbFile: string;
  engineVersion: string;
  /** the process's creation gate (src/util/partialFiles.ts): a new report's file is created inside it */
  gate: Int32Array;
  /**
   * whether the thread lowers its priority once the file is open (reportWorker.ts): a run whose report thread has
   * time to spare until the models' rows, not one that writes while every core still computes (--distance)
   */
  lowerPriority: boolean;
}

/** One RunWriter call; `id` > 0 (the reply to the worker's own open has id 0). */
export type ReportRequest = { id: number } & (
  | { op: 'scenarios'; set: ScenarioSet }
  | { op: 'instruments'; market: Market; modelValue: Float64Array }
  | { op: 'rejected'; rows: RejectedRow[] }
  | { op: 'accounts'; accountKey: AccountKeyList; equityUsd: Float64Array }
  | { op: 'margin'; rows: MarginRows; standardFromDeribitPm: boolean }
  | { op: 'attribution'; attribution: Attribution; rows: MarginRows }
  | { op: 'distance'; rows: DistanceRows }
  | { op: 'volSurface'; surface: VolSurface | null; filled: Int32Array | null }
  | { op: 'symbols' }
  | { op: 'runRow'; meta: RunMeta }
  | { op: 'hash'; files: string[] }
  | { op: 'commit' }
  | { op: 'abort' }
);

/** An error as it crosses the thread boundary (an InputError keeps its violations). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  violations?: Violation[];
}

/**
 * The answer to request `id`: `value` = rows written (the run id for `commit` and for the open,
 * id 0), `hashes` the SHA-256 of each file of a `hash` request; `busyMs` = the worker's time on it.
 */
export type ReportReply =
  | {
      id: number;
      ok: true;
      value: number;
      busyMs: number;
      /** rows the request appended (0 for open, hash, commit, abort) */
      rows: number;
      hashes?: string[];
      /** the open's reply (id 0), for a new report: the temporary file the run is built in */
      partial?: string;
    }
  | { id: number; ok: false; error: SerializedError; busyMs: number };
