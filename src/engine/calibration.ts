/**
 * Synthetic, deterministic workloads for auto's per-phase measurement (createBackend.ts) and the
 * benchmarks: a market of `I` options/futures on two underlyings with a scenario grid, and a GroupBook.
 * No randomness: values come from fixed arithmetic sequences.
 */
import {
  KIND_FUTURE,
  KIND_OPTION,
  OPTION_CALL,
  OPTION_NONE,
  OPTION_PUT,
  SETTLE_INVERSE,
  type Market,
} from '../model/market.js';
import { VOL_DOWN, VOL_MULT, VOL_NONE, VOL_UP, type ScenarioSet } from '../scenarios/types.js';
import type { GroupBook, PnlMatrix } from './types.js';

/**
 * `I` instruments (every 16th a future, the rest calls and puts, k 0.6–1.6, 2 days to 1 year) × `S` scenarios (moves
 * ±30 %, all vol rules).
 */
export function calibrationMarket(I: number, S: number): { market: Market; scenarios: ScenarioSet } {
  const F = [80000, 2400];
  const und = Int32Array.from({ length: I }, (_, i) => i % 2);
  const kind = Uint8Array.from({ length: I }, (_, i) => (i % 16 === 15 ? KIND_FUTURE : KIND_OPTION));
  const opt = Uint8Array.from({ length: I }, (_, i) =>
    kind[i] !== KIND_OPTION ? OPTION_NONE : i % 3 === 0 ? OPTION_PUT : OPTION_CALL,
  );
  const fwd = Float64Array.from({ length: I }, (_, i) => F[i % 2]! * (1 + 0.0001 * (i % 97)));
  const strike = Float64Array.from({ length: I }, (_, i) =>
    kind[i] === KIND_OPTION ? fwd[i]! * (0.6 + ((i * 37) % 101) / 100) : NaN,
  );
  const t = Float64Array.from({ length: I }, (_, i) => 2 / 365 + ((i * 13) % 50) / 50);
  const iv = Float64Array.from({ length: I }, (_, i) => (kind[i] === KIND_OPTION ? 0.35 + ((i * 7) % 40) / 100 : NaN));
  const market: Market = {
    snapshotTimeMs: 0,
    underlyings: ['BTC', 'ETH'],
    underlyingId: new Map([
      ['BTC', 0],
      ['ETH', 1],
    ]),
    indexPrice: Float64Array.from(F),
    rate: new Float64Array(2),
    instruments: {
      count: I,
      name: Array.from({ length: I }, (_, i) => `cal-${i}`),
      id: new Map(Array.from({ length: I }, (_, i) => [`cal-${i}`, i])),
      underlying: und,
      kind,
      optionType: opt,
      settlement: new Uint8Array(I).fill(SETTLE_INVERSE),
      strike,
      expiryMs: Float64Array.from(t, (x) => x * 365 * 86_400_000),
      tYears: t,
      markPrice: fwd,
      markIv: iv,
      forward: fwd,
      bidPrice: new Float64Array(I).fill(NaN),
      askPrice: new Float64Array(I).fill(NaN),
      openInterest: new Float64Array(I).fill(NaN),
    },
  };
  const rules = [VOL_UP, VOL_NONE, VOL_DOWN, VOL_MULT];
  const move = Float64Array.from({ length: S * 2 }, (_, j) => Math.sin((j >> 1) * 0.7 + (j & 1)) * 0.3);
  const scenarios: ScenarioSet = {
    family: 'stress',
    count: S,
    underlyings: ['BTC', 'ETH'],
    id: Int32Array.from({ length: S }, (_, s) => s),
    label: Array.from({ length: S }, (_, s) => `cal-${s}`),
    weight: new Float64Array(S * 2).fill(1),
    dtDays: new Float64Array(S),
    move,
    deltaOneMove: move,
    volRule: Uint8Array.from({ length: S * 2 }, (_, j) => rules[(j >> 1) % 4]!),
    volParam: Float64Array.from({ length: S * 2 }, (_, j) => 1 + 0.2 * Math.cos(j)),
    meta: {},
  };
  return { market, scenarios };
}

/** A `G` groups × `E` entries GroupBook (one bucket, pnlOffset 1) over a 500-row × `S` matrix. */
export function calibrationAggregate(
  G: number,
  E: number,
  S: number,
): { pnl: PnlMatrix; groups: GroupBook; madds: number } {
  const rows = 500;
  // P&L in ±1000 from a multiplicative hash of the cell's index: a plain loop, as this runs on the main thread
  // during the book's load (Float32Array.from with Math.sin took 188 ms at 500 × 8,192)
  const data = new Float32Array(rows * S);
  for (let j = 0; j < data.length; j++) data[j] = (Math.imul(j + 1, 0x9e3779b1) >>> 0) * (2000 / 2 ** 32) - 1000;
  const groupStart = Int32Array.from({ length: G + 1 }, (_, g) => g * E);
  const groups: GroupBook = {
    groupCount: G,
    groupStart,
    row: Int32Array.from({ length: G * E }, (_, e) => (e * 131) % rows),
    qty: Float64Array.from({ length: G * E }, (_, e) => ((e % 7) - 3) * 0.5 || 1),
    bucket: new Int32Array(G * E),
    buckets: 1,
    weight: new Float64Array(S).fill(1),
    pnlOffset: 1,
  };
  return { pnl: { rows, scenarios: S, data }, groups, madds: G * E * S };
}
