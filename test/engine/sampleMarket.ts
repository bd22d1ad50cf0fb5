/**
 * A small real Market for the engine tests, built from the rows in test/fixtures/engine (see its README):
 * 40 Deribit options, 14 futures and 2 perpetuals of BTC and ETH at 2026-02-01 09:23:23 UTC; and a
 * scenario set exercising every vol rule, time steps and the extended moves.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  KIND_FUTURE,
  KIND_OPTION,
  KIND_PERPETUAL,
  MS_PER_YEAR,
  OPTION_CALL,
  OPTION_NONE,
  OPTION_PUT,
  SETTLE_INVERSE,
  type Market,
} from '../../src/model/market.js';
import {
  VOL_DOWN,
  VOL_MULT,
  VOL_NONE,
  VOL_REL_DOWN,
  VOL_REL_UP,
  VOL_UP,
  type ScenarioSet,
} from '../../src/scenarios/types.js';

const DIR = fileURLToPath(new URL('../fixtures/engine/', import.meta.url));
/** 2026-02-01T09:23:23.513Z, the chain's snapshot time */
export const SNAPSHOT_MS = Date.UTC(2026, 1, 1, 9, 23, 23, 513);

function csv(name: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(DIR + name, 'utf8')
    .trim()
    .split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, j) => [cols[j]!, v])));
}

interface Row {
  name: string;
  u: number;
  kind: number;
  opt: number;
  strike: number;
  expiryMs: number;
  iv: number;
  fwd: number;
}

/** The fixture market: options first (file order), then futures, then perpetuals. */
export function sampleMarket(): Market {
  const underlyings = ['BTC', 'ETH'];
  const uid = new Map(underlyings.map((u, j) => [u, j]));
  const rows: Row[] = [];
  for (const r of csv('options_sample.csv')) {
    rows.push({
      name: r.instrument_name!,
      u: uid.get(r.currency!)!,
      kind: KIND_OPTION,
      opt: r.option_type === 'call' ? OPTION_CALL : OPTION_PUT,
      strike: Number(r.strike),
      expiryMs: Date.parse(r.expiry_datetime!),
      iv: Number(r.implied_volatility),
      fwd: Number(r.underlying),
    });
  }
  for (const r of csv('futures.csv')) {
    const code = r.futures_instrument_name!.split('-')[1]!;
    rows.push({
      name: r.futures_instrument_name!,
      u: uid.get(r.currency!)!,
      kind: KIND_FUTURE,
      opt: OPTION_NONE,
      strike: NaN,
      expiryMs: Date.parse(`${code.slice(0, -5)} ${code.slice(-5, -2)} 20${code.slice(-2)} 08:00:00 UTC`),
      iv: NaN,
      fwd: Number(r.snapshot_term_mark_price),
    });
  }
  for (const r of csv('perpetuals.csv')) {
    rows.push({
      name: r.instrument_name!,
      u: uid.get(r.coin!)!,
      kind: KIND_PERPETUAL,
      opt: OPTION_NONE,
      strike: NaN,
      expiryMs: NaN,
      iv: NaN,
      fwd: Number(r.perp_futures_mark_price),
    });
  }
  const n = rows.length;
  const f64 = (fn: (r: Row) => number) => Float64Array.from(rows, fn);
  return {
    snapshotTimeMs: SNAPSHOT_MS,
    underlyings,
    underlyingId: uid,
    indexPrice: Float64Array.from([78626.29, 2411.0]),
    rate: new Float64Array(2),
    instruments: {
      count: n,
      name: rows.map((r) => r.name),
      id: new Map(rows.map((r, i) => [r.name, i])),
      underlying: Int32Array.from(rows, (r) => r.u),
      kind: Uint8Array.from(rows, (r) => r.kind),
      optionType: Uint8Array.from(rows, (r) => r.opt),
      settlement: new Uint8Array(n).fill(SETTLE_INVERSE),
      strike: f64((r) => r.strike),
      expiryMs: f64((r) => r.expiryMs),
      tYears: f64((r) => (Number.isNaN(r.expiryMs) ? 0 : (r.expiryMs - SNAPSHOT_MS) / MS_PER_YEAR)),
      markPrice: f64((r) => r.fwd),
      markIv: f64((r) => r.iv),
      forward: f64((r) => r.fwd),
      bidPrice: f64(() => NaN),
      askPrice: f64(() => NaN),
      openInterest: f64(() => NaN),
    },
  };
}

/**
 * Scenarios over both underlyings: the deribit-pm grid (docs/methodology.md §3a, R = 0.16 BTC / 0.18 ETH: 27
 * standard + 8 extended with futures on the standard edge), SPAN-style relative vol (±25 %, 3b), and
 * vol multipliers with a 2-day time step (3c/3d), `extra` further seeded-looking but fixed moves.
 */
export function sampleScenarios(): ScenarioSet {
  const R = [0.16, 0.18];
  const U = 2;
  const move: number[] = [];
  const d1: number[] = [];
  const rule: number[] = [];
  const param: number[] = [];
  const dt: number[] = [];
  const add = (m: (u: number) => number, r: number, p: number, days: number, m1?: (u: number) => number) => {
    for (let u = 0; u < U; u++) {
      move.push(m(u));
      d1.push((m1 ?? m)(u));
      rule.push(r);
      param.push(p);
    }
    dt.push(days);
  };
  for (let j = -4; j <= 4; j++) for (const v of [VOL_UP, VOL_NONE, VOL_DOWN]) add((u) => (R[u]! * j) / 4, v, 1, 0);
  for (const m of [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5])
    add(
      () => m,
      VOL_UP,
      1,
      0,
      (u) => Math.sign(m) * R[u]!,
    );
  for (const f of [1 / 3, 2 / 3, 1, 2])
    for (const sgn of [1, -1]) {
      add((u) => sgn * f * R[u]!, VOL_REL_UP, 0.25, 0);
      add((u) => sgn * f * R[u]!, VOL_REL_DOWN, 0.25, 0);
    }
  for (let j = 0; j < 12; j++) {
    const m = Math.sin(j * 1.7) * 0.2;
    add((u) => m * (1 + u * 0.3), VOL_MULT, Math.exp(-m), 2);
  }
  const S = dt.length;
  return {
    family: 'stress',
    count: S,
    underlyings: ['BTC', 'ETH'],
    id: Int32Array.from({ length: S }, (_, s) => s),
    label: Array.from({ length: S }, (_, s) => `s${s}`),
    weight: new Float64Array(S * U).fill(1),
    dtDays: Float64Array.from(dt),
    move: Float64Array.from(move),
    deltaOneMove: Float64Array.from(d1),
    volRule: Uint8Array.from(rule),
    volParam: Float64Array.from(param),
    meta: {},
  };
}
