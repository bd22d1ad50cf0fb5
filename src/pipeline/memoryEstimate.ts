/**
 * The memory a run will need, estimated before it builds anything, and the refusal of a run that will not
 * fit (exit 2, saying how much it needs and how much there is) rather than a crash of the V8 heap minutes
 * later. The estimate is dominated by the P&L matrices: one row per instrument and scenario, float64 on
 * the cpu pool plus a float32 copy where a device revalues, for each scenario family of the run.
 */
import { totalmem } from 'node:os';
import { InputError } from '../errors.js';
import type { Params } from '../params/params.js';
import type { Family } from '../scenarios/types.js';

/** Environment variable: the bytes a run may use (default: MEMORY_SHARE of the machine's memory). */
export const MEMORY_ENV = 'MARGIN_ENGINE_MEMORY_BYTES';
/** The share of the machine's (or the container's) memory a run may use when MEMORY_ENV is not set. */
export const MEMORY_SHARE = 0.75;
/** Bytes per instrument and scenario: a float64 P&L cell, a float32 device copy, one more float64 in flight. */
const BYTES_PER_CELL = 8 + 4 + 8;
/** Bytes per scenario and underlying of a scenario set (move, delta-one move, vol rule and parameter, weight, …). */
const BYTES_PER_SCENARIO_UNDERLYING = 64;
/** Bytes per position row of the book and per account, generously (ids, quantities, entry, units, margins). */
const BYTES_PER_POSITION = 128;
/** What a run needs besides: node, the engine's code, the pool's workers, DuckDB. */
const BASE_BYTES = 512 * 1024 * 1024;

/**
 * The scenarios a family will hold when built from `params` over `underlyings` underlyings (an upper
 * bound: historical is capped by the history's length too).
 */
export function expectedScenarios(family: Family, params: Params, underlyings: number): number {
  switch (family) {
    case 'deribit-pm':
      // the grid (2B + 1 moves × 3 vol rules) per underlying and jointly, and the extended moves
      return (
        (2 * params.deribitPm.bucketsCount + 1) * 3 * (underlyings + 1) + 2 * params.deribitPm.extendedMoves.length
      );
    case 'span':
      return 16 * (underlyings + 1);
    case 'historical':
      return params.var.lookbackDays;
    case 'monte-carlo':
      return params.var.mcScenarios;
    case 'stress':
      return 1000;
  }
}

/** The bytes a run of these scenario counts, over `instruments` instruments and `underlyings` underlyings, needs. */
export function estimateRunBytes(o: {
  scenarios: ReadonlyMap<Family, number>;
  instruments: number;
  underlyings: number;
  /** position rows of the positions file, when known (its size gives a bound) */
  positions?: number;
}): number {
  let bytes = BASE_BYTES + (o.positions ?? 0) * BYTES_PER_POSITION;
  for (const s of o.scenarios.values())
    bytes += s * (o.instruments * BYTES_PER_CELL + o.underlyings * BYTES_PER_SCENARIO_UNDERLYING);
  return bytes;
}

/** The bytes a run may use: MEMORY_ENV when set, else MEMORY_SHARE of the machine's (or container's) memory. */
export function memoryBudget(): { bytes: number; source: string } {
  const given = process.env[MEMORY_ENV];
  if (given !== undefined && given.trim() !== '') {
    const b = Number(given);
    if (!Number.isFinite(b) || b <= 0)
      throw new InputError({
        file: MEMORY_ENV,
        row: null,
        column: null,
        value: JSON.stringify(given),
        rule: 'is not a positive number of bytes',
      });
    return { bytes: b, source: `${MEMORY_ENV}=${given}` };
  }
  // a container's limit (cgroup), where node knows one
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  const total = limit > 0 && limit < totalmem() ? limit : totalmem();
  return { bytes: MEMORY_SHARE * total, source: `${Math.round(MEMORY_SHARE * 100)} % of ${gib(total)} of memory` };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;

/**
 * Refuses a run that will not fit in memory, before it builds its scenarios.
 * @throws InputError naming the families' scenario counts (the parameters that set them), the bytes
 *   needed and the bytes available
 */
export function checkRunFits(o: Parameters<typeof estimateRunBytes>[0]): void {
  const need = estimateRunBytes(o);
  const budget = memoryBudget();
  if (need <= budget.bytes) return;
  const sets = [...o.scenarios].map(([f, s]) => `${f} ${s.toLocaleString('en-US')}`).join(', ');
  throw new InputError({
    file: 'the run',
    row: null,
    column: null,
    value: null,
    rule: `needs about ${gib(need)} of memory (scenarios: ${sets}; ${o.instruments} instruments), more than the ${gib(budget.bytes)} it may use (${budget.source}); use fewer scenarios (var.mc_scenarios, var.lookback_days in --params), or set ${MEMORY_ENV}`,
  });
}
