/**
 * Synthetic markets whose option vols come from known SVI slices (docs/methodology.md §11): per slice an
 * underlying, days to expiry, forward, parameters and strikes (as ln(K/F)); each strike gets a call and a
 * put whose mark_iv is √(w(x)/T). A future per expiry and a perpetual per underlying come along.
 */
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
import { sviW, type SviParams } from '../../src/surface/svi.js';

export const SNAPSHOT_MS = Date.UTC(2026, 1, 1, 8);

export interface SliceSpec {
  underlying: number;
  days: number;
  forward: number;
  params: SviParams;
  xs: readonly number[];
}

export function sviMarket(specs: readonly SliceSpec[], underlyings = ['BTC', 'ETH']): Market {
  const rows: { name: string; u: number; kind: number; opt: number; K: number; exp: number; iv: number; F: number }[] =
    [];
  for (const s of specs) {
    const exp = SNAPSHOT_MS + s.days * 86_400_000;
    const t = (exp - SNAPSHOT_MS) / MS_PER_YEAR;
    const tag = `${underlyings[s.underlying]}-${s.days}D`;
    for (const x of s.xs) {
      const K = s.forward * Math.exp(x);
      const iv = Math.sqrt(sviW(s.params, x) / t);
      for (const opt of [OPTION_CALL, OPTION_PUT])
        rows.push({
          name: `${tag}-${K.toFixed(4)}-${opt === OPTION_CALL ? 'C' : 'P'}`,
          u: s.underlying,
          kind: KIND_OPTION,
          opt,
          K,
          exp,
          iv,
          F: s.forward,
        });
    }
    rows.push({ name: tag, u: s.underlying, kind: KIND_FUTURE, opt: OPTION_NONE, K: NaN, exp, iv: NaN, F: s.forward });
  }
  underlyings.forEach((u, j) =>
    rows.push({ name: `${u}-PERP`, u: j, kind: KIND_PERPETUAL, opt: OPTION_NONE, K: NaN, exp: NaN, iv: NaN, F: 1000 }),
  );
  const n = rows.length;
  const f64 = (fn: (r: (typeof rows)[number]) => number) => Float64Array.from(rows, fn);
  return {
    snapshotTimeMs: SNAPSHOT_MS,
    underlyings,
    underlyingId: new Map(underlyings.map((u, j) => [u, j])),
    indexPrice: Float64Array.from(underlyings, () => 1000),
    rate: new Float64Array(underlyings.length),
    instruments: {
      count: n,
      name: rows.map((r) => r.name),
      id: new Map(rows.map((r, i) => [r.name, i])),
      underlying: Int32Array.from(rows, (r) => r.u),
      kind: Uint8Array.from(rows, (r) => r.kind),
      optionType: Uint8Array.from(rows, (r) => r.opt),
      settlement: new Uint8Array(n).fill(SETTLE_INVERSE),
      strike: f64((r) => r.K),
      expiryMs: f64((r) => r.exp),
      tYears: f64((r) => (Number.isNaN(r.exp) ? 0 : (r.exp - SNAPSHOT_MS) / MS_PER_YEAR)),
      markPrice: f64(() => 0.01),
      markIv: f64((r) => r.iv),
      forward: f64((r) => r.F),
      bidPrice: f64(() => NaN),
      askPrice: f64(() => NaN),
      openInterest: f64(() => NaN),
    },
  };
}

export const XS = [-0.6, -0.45, -0.3, -0.2, -0.12, -0.06, 0, 0.05, 0.1, 0.18, 0.27, 0.4, 0.55];
