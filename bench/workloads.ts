/**
 * Benchmark inputs: the full Deribit chain from data/full/market (loadMarket) — or, when it is absent, a
 * synthetic market of the same size — with a deterministic scenario set of any size, and GroupBooks
 * over its P&L matrix. No randomness: fixed arithmetic sequences.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Market } from '../src/model/market.js';
import { VOL_DOWN, VOL_MULT, VOL_NONE, VOL_UP, type ScenarioSet } from '../src/scenarios/types.js';
import type { GroupBook } from '../src/engine/types.js';
import { calibrationMarket } from '../src/engine/calibration.js';

/** The full chain's instrument count, for the synthetic stand-in. */
const FULL_CHAIN_SIZE = 1606;

export async function benchMarket(
  dir = join(process.cwd(), 'data', 'full', 'market'),
): Promise<{ market: Market; source: string }> {
  if (existsSync(join(dir, 'instruments.arrow'))) {
    const { loadMarket } = await import('../src/io/loadMarket.js');
    return { market: (await loadMarket(dir)).market, source: dir };
  }
  return {
    market: calibrationMarket(FULL_CHAIN_SIZE, 1).market,
    source: `synthetic (${FULL_CHAIN_SIZE} instruments; ${dir} not found)`,
  };
}

/**
 * `S` scenarios over the market's underlyings: moves within ±35 %, a quarter each vol up/none/down/multiplier, every
 * 10th with a 2-day step.
 */
export function benchScenarios(market: Market, S: number): ScenarioSet {
  const U = market.underlyings.length;
  const rules = [VOL_UP, VOL_NONE, VOL_DOWN, VOL_MULT];
  const move = Float64Array.from(
    { length: S * U },
    (_, j) => 0.35 * Math.sin(Math.floor(j / U) * 0.618 + (j % U) * 0.3),
  );
  return {
    family: 'monte-carlo',
    count: S,
    underlyings: [...market.underlyings],
    id: Int32Array.from({ length: S }, (_, s) => s),
    label: Array.from({ length: S }, (_, s) => `bench-${s}`),
    weight: new Float64Array(S * U).fill(1),
    dtDays: Float64Array.from({ length: S }, (_, s) => (s % 10 === 9 ? 2 : 0)),
    move,
    deltaOneMove: move,
    volRule: Uint8Array.from({ length: S * U }, (_, j) => rules[Math.floor(j / U) % 4]!),
    volParam: Float64Array.from({ length: S * U }, (_, j) => Math.exp(-move[j]!)),
    meta: { generator: 'bench/workloads.ts' },
  };
}

/**
 * `G` groups of 1–19 entries (mean ≈ 10, one group in 50 ten times larger) over `rows` rows, two buckets (contiguous,
 * as in a book sorted by instrument), pnlOffset 0.
 */
export function benchGroups(G: number, rows: number, S: number): GroupBook {
  const groupStart = new Int32Array(G + 1);
  const row: number[] = [];
  const qty: number[] = [];
  const bucket: number[] = [];
  for (let g = 0; g < G; g++) {
    const n = (1 + ((g * 7) % 19)) * (g % 50 === 49 ? 10 : 1);
    for (let e = 0; e < n; e++) {
      row.push((g * 131 + e * 977) % rows);
      qty.push((((g + e) % 9) - 4) * 0.75 || 0.5);
      bucket.push(2 * e >= n ? 1 : 0); // sorted by instrument: the first underlying's entries, then the second's
    }
    groupStart[g + 1] = row.length;
  }
  return {
    groupCount: G,
    groupStart,
    row: Int32Array.from(row),
    qty: Float64Array.from(qty),
    bucket: Int32Array.from(bucket),
    buckets: 2,
    weight: new Float64Array(S * 2).fill(1),
    pnlOffset: 0,
  };
}
