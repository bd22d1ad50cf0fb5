/**
 * The messages the cpu backend sends its Piscina workers: plain objects of numbers and
 * SharedArrayBuffers (structured clone shares, never copies, a SharedArrayBuffer).
 */

/** Reduce groups [g0, g1) of a GroupBook (see kernels/aggregate.ts aggregateGroups); outputs are written in place. */
export interface AggregateTask {
  op: 'aggregate';
  pnl: SharedArrayBuffer;
  pnlFloat32: boolean;
  scenarios: number;
  groupStart: SharedArrayBuffer;
  row: SharedArrayBuffer;
  qty: SharedArrayBuffer;
  bucket: SharedArrayBuffer;
  buckets: number;
  weight: SharedArrayBuffer;
  pnlOffset: number;
  topK: number;
  worstLoss: SharedArrayBuffer;
  worstScenario: SharedArrayBuffer;
  topLosses: SharedArrayBuffer | null;
  g0: number;
  g1: number;
  scenarioBlock: number;
}

/** Revalue instruments [i0, i1) × scenarios [s0, s1) (kernels/revalue.ts revalueTile) into the shared `out`. */
export interface RevalueTask {
  op: 'revalue';
  instruments: number;
  scenarios: number;
  underlyings: number;
  kind: SharedArrayBuffer;
  isCall: SharedArrayBuffer;
  underlying: SharedArrayBuffer;
  k: SharedArrayBuffer;
  tYears: SharedArrayBuffer;
  sigma: SharedArrayBuffer;
  rate: SharedArrayBuffer;
  forward: SharedArrayBuffer;
  v0: SharedArrayBuffer;
  volRangeUp: SharedArrayBuffer;
  move: SharedArrayBuffer;
  deltaOneMove: SharedArrayBuffer;
  volRule: SharedArrayBuffer;
  volParam: SharedArrayBuffer;
  dtYears: SharedArrayBuffer;
  volRangeDown: number;
  minVolForShockUp: number;
  shortTermVegaPower: number;
  longTermVegaPower: number;
  out: SharedArrayBuffer;
  /** false: leave the coin rows unwritten (RevalueColumns.coinRows) */
  coinRows: boolean;
  /** RevalueColumns.surface (sticky moneyness), absent under sticky strike */
  surface?: SharedArrayBuffer;
  stickyMoneyness?: boolean;
  /** RevalueColumns.shockedSurface (surface stress), absent otherwise */
  shockedSurface?: SharedArrayBuffer;
  i0: number;
  i1: number;
  s0: number;
  s1: number;
}
