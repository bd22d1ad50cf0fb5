/**
 * The start-up self-check: a few instruments × scenarios revalued, and a small GroupBook aggregated, on a
 * backend and on the float64 path on the calling thread; a backend that disagrees beyond its bound is
 * refused. Bounds: float64 backends must agree to the bit; float32 devices within 5e-6 × F per USD value
 * and 5e-6 coin per coin value (issue 3's gl bound), and aggregation within
 * 1e-5·|loss| + 5e-7·Σ|q|·max|pnl row| (docs/methodology.md "Precision", v taken as the row's largest value).
 */
import {
  KIND_FUTURE,
  KIND_OPTION,
  KIND_PERPETUAL,
  OPTION_CALL,
  OPTION_NONE,
  OPTION_PUT,
  SETTLE_INVERSE,
  type Market,
} from '../model/market.js';
import { VOL_DOWN, VOL_MULT, VOL_NONE, VOL_REL_UP, VOL_UP, type ScenarioSet } from '../scenarios/types.js';
import { defaultParams } from '../params/params.js';
import type { GroupBook, PnlMatrix } from './types.js';
import type { Backend } from './backend.js';
import { revalueColumns } from './revalueColumns.js';
import { revalueTile } from '../../kernels/revalue.js';
import { writeSpotRows } from './spotRows.js';
import { aggregateGroups } from '../../kernels/aggregate.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK } from './tuning.js';

/** Outcome: `worst` is the largest error in units of the bound (≤ 1 passes); `detail` names where. */
export interface SelfCheckResult {
  ok: boolean;
  worst: number;
  detail: string;
}

/**
 * A fixed small market: 2 underlyings, 12 options (calls and puts, k 0.7–1.4, 2 days to 1 year), a future and a
 * perpetual.
 */
export function selfCheckMarket(): Market {
  const und: number[] = [],
    kind: number[] = [],
    opt: number[] = [],
    strike: number[] = [],
    t: number[] = [],
    iv: number[] = [],
    fwd: number[] = [];
  const F = [80000, 2400];
  const ks = [0.7, 0.95, 1, 1.05, 1.4, 1.2];
  for (let j = 0; j < 12; j++) {
    const u = j % 2;
    und.push(u);
    kind.push(KIND_OPTION);
    opt.push(j % 3 === 0 ? OPTION_PUT : OPTION_CALL);
    strike.push(F[u]! * ks[j % ks.length]!);
    t.push([2 / 365, 0.1, 1][j % 3]!);
    iv.push(0.4 + 0.05 * (j % 5));
    fwd.push(F[u]! * (1 + 0.002 * j));
  }
  und.push(0, 1);
  kind.push(KIND_FUTURE, KIND_PERPETUAL);
  opt.push(OPTION_NONE, OPTION_NONE);
  strike.push(NaN, NaN);
  t.push(0.25, 0);
  iv.push(NaN, NaN);
  fwd.push(80500, 2401);
  const n = und.length;
  return {
    snapshotTimeMs: 0,
    underlyings: ['BTC', 'ETH'],
    underlyingId: new Map([
      ['BTC', 0],
      ['ETH', 1],
    ]),
    indexPrice: Float64Array.from(F),
    rate: Float64Array.from([0, 0.01]),
    instruments: {
      count: n,
      name: und.map((_, i) => `check-${i}`),
      id: new Map(und.map((_, i) => [`check-${i}`, i])),
      underlying: Int32Array.from(und),
      kind: Uint8Array.from(kind),
      optionType: Uint8Array.from(opt),
      settlement: new Uint8Array(n).fill(SETTLE_INVERSE),
      strike: Float64Array.from(strike),
      expiryMs: Float64Array.from(t, (x) => x * 365 * 86_400_000),
      tYears: Float64Array.from(t),
      markPrice: Float64Array.from(fwd),
      markIv: Float64Array.from(iv),
      forward: Float64Array.from(fwd),
      bidPrice: new Float64Array(n).fill(NaN),
      askPrice: new Float64Array(n).fill(NaN),
      openInterest: new Float64Array(n).fill(NaN),
    },
  };
}

/** 10 scenarios covering every vol rule, a time step and a large extended move. */
export function selfCheckScenarios(): ScenarioSet {
  const m = [-0.2, -0.1, 0, 0, 0.1, 0.2, 0.5, -0.66, 0.05, -0.05];
  const rule = [VOL_UP, VOL_DOWN, VOL_NONE, VOL_UP, VOL_NONE, VOL_DOWN, VOL_UP, VOL_UP, VOL_REL_UP, VOL_MULT];
  const param = [1, 1, 1, 1, 1, 1, 1, 1, 0.25, 1.3];
  const S = m.length;
  const two = (f: (s: number) => number) =>
    Float64Array.from({ length: 2 * S }, (_, j) => f(j >> 1) * (j % 2 === 0 ? 1 : 1.1));
  return {
    family: 'stress',
    count: S,
    underlyings: ['BTC', 'ETH'],
    id: Int32Array.from({ length: S }, (_, s) => s),
    label: m.map((_, s) => `check-${s}`),
    weight: new Float64Array(2 * S).fill(1),
    dtDays: Float64Array.from({ length: S }, (_, s) => (s === 4 ? 2 : 0)),
    move: two((s) => m[s]!),
    deltaOneMove: two((s) => m[s]!),
    volRule: Uint8Array.from({ length: 2 * S }, (_, j) => rule[j >> 1]!),
    volParam: Float64Array.from({ length: 2 * S }, (_, j) => param[j >> 1]!),
    meta: {},
  };
}

/** The float64 reference matrix of the self-check market, computed on the calling thread. */
export function referenceMatrix(market: Market, scenarios: ScenarioSet): PnlMatrix {
  const c = revalueColumns(market, scenarios, defaultParams(), true);
  revalueTile(c, 0, c.instruments, 0, c.scenarios);
  writeSpotRows(market, scenarios, c.out);
  return { rows: 2 * c.instruments + c.underlyings, scenarios: c.scenarios, data: c.out };
}

/** A fixed small GroupBook over a matrix of `rows` rows and `S` scenarios (2 buckets, pnlOffset 0). */
export function selfCheckGroups(rows: number, S: number): GroupBook {
  const G = 9;
  const groupStart = new Int32Array(G + 1);
  const row: number[] = [],
    qty: number[] = [],
    bucket: number[] = [];
  for (let g = 0; g < G; g++) {
    for (let e = 0; e < 1 + (g % 5); e++) {
      row.push((g * 7 + e * 3) % rows);
      qty.push(((g + e) % 2 === 0 ? 1 : -1) * (1 + e + g / 3));
      bucket.push((g + e) % 2);
    }
    groupStart[g + 1] = row.length;
  }
  const weight = Float64Array.from({ length: S * 2 }, (_, j) => (j % 5 === 0 ? 0.5 : 1));
  return {
    groupCount: G,
    groupStart,
    row: Int32Array.from(row),
    qty: Float64Array.from(qty),
    bucket: Int32Array.from(bucket),
    buckets: 2,
    weight,
    pnlOffset: 0,
  };
}

/**
 * Runs the self-check on `backend`: revaluation of the fixed market and aggregation of the fixed book,
 * against float64. `exact`: the backend is float64 and must agree to the bit.
 */
export async function selfCheck(backend: Backend, exact: boolean, params = defaultParams()): Promise<SelfCheckResult> {
  const market = selfCheckMarket();
  const scenarios = selfCheckScenarios();
  const ref = referenceMatrix(market, scenarios);
  const got = await backend.revalue(market, scenarios, params);
  const I = market.instruments.count;
  const S = scenarios.count;
  let worst = 0;
  let detail = 'none';
  const note = (ratio: number, where: string) => {
    if (!(ratio <= worst)) {
      worst = ratio;
      detail = where;
    }
  };
  for (let r = 0; r < ref.rows; r++) {
    const i = r < I ? r : r - I;
    const scale = r < I ? market.instruments.forward[i]! : r < 2 * I ? 1 : market.indexPrice[r - 2 * I]!;
    for (let s = 0; s < S; s++) {
      const a = got.data[r * S + s]!;
      const b = ref.data[r * S + s]!;
      const err = Math.abs(a - b);
      const ratio = exact ? (Object.is(a, b) ? 0 : Infinity) : err / (5e-6 * scale);
      note(Number.isNaN(ratio) ? Infinity : ratio, `revaluation row ${r} scenario ${s}: ${a} vs float64 ${b}`);
    }
  }
  const groups = selfCheckGroups(ref.rows, S);
  const red = await backend.aggregate(got, groups, { topK: 2 });
  const worstLoss = new Float64Array(groups.groupCount);
  const worstScenario = new Int32Array(groups.groupCount);
  aggregateGroups(
    { ...groups, pnl: ref.data, scenarios: S, topK: 0, worstLoss, worstScenario, topLosses: null },
    0,
    groups.groupCount,
    CPU_AGGREGATE_SCENARIO_BLOCK,
  );
  for (let g = 0; g < groups.groupCount; g++) {
    let gross = 0;
    for (let e = groups.groupStart[g]!; e < groups.groupStart[g + 1]!; e++) {
      let v = 0;
      for (let s = 0; s < S; s++) v = Math.max(v, Math.abs(ref.data[groups.row[e]! * S + s]!));
      gross += Math.abs(groups.qty[e]!) * v;
    }
    const a = red.worstLoss[g]!;
    const b = worstLoss[g]!;
    const ratio = exact
      ? Object.is(a, b) && red.worstScenario[g] === worstScenario[g]
        ? 0
        : Infinity
      : Math.abs(a - b) / (1e-5 * Math.abs(b) + 5e-7 * gross);
    note(
      Number.isNaN(ratio) ? Infinity : ratio,
      `aggregation group ${g}: worst loss ${a} (scenario ${red.worstScenario[g]}) vs float64 ${b} (scenario ${worstScenario[g]})`,
    );
  }
  return { ok: worst <= 1, worst, detail };
}
