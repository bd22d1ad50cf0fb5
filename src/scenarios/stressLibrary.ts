/**
 * The engine's built-in crypto stress events, derived from the daily closes in data/history: for BTC and
 * ETH, the largest 1-day and 2-day fall and rise of the whole history, and again of the era in which every
 * underlying and the implied-vol index have data (from 2021-03-24: so those events carry SOL's move and
 * the DVOL ratio), with the moves of every other underlying on the same dates.
 * {@link deriveStressLibrary} computes them from a History; {@link BUILTIN_STRESS_EVENTS} is its output
 * on data/history, precomputed (a test re-derives it from the files and requires equality).
 */
import { formatDay } from '../history/dates.js';
import { priceIndex, volIndexOnOrBefore } from '../history/lookup.js';
import type { History } from '../history/types.js';
import type { StressEvent } from './stressEvent.js';

/**
 * Derives the events. For each `leader` present in the history, horizon h in `horizons`, direction and
 * era (the whole history; then the days t with t−h on or after the first day on which every underlying
 * and every vol index of the history has data, when there is a vol index): the date t maximising (rise)
 * or minimising (fall) P[t]/P[t−h] (the first such t on ties; an event already found in an earlier era is
 * not repeated); moves m_v = P_v[t]/P_v[t−h] − 1 for every underlying v of the history with both
 * closes; vol multiplier I[t]/I[t−h] for underlyings whose index has a value on or before t−h.
 */
export function deriveStressLibrary(
  history: History,
  leaders: string[] = ['BTC', 'ETH'],
  horizons: number[] = [1, 2],
): StressEvent[] {
  const out: StressEvent[] = [];
  let common = -Infinity;
  for (const p of history.prices.values()) common = Math.max(common, p.day[0]!);
  for (const v of history.volIndex.values()) common = Math.max(common, v.day[0]!);
  const eras: Array<{ from: number; tag: string }> = [{ from: -Infinity, tag: '' }];
  if (history.volIndex.size > 0) eras.push({ from: common, tag: ` since ${formatDay(common)}` });
  const seen = new Set<string>();
  for (const lead of leaders) {
    const s = history.prices.get(lead);
    if (!s) continue;
    for (const era of eras)
      for (const h of horizons) {
        for (const dir of ['fall', 'rise'] as const) {
          let best = -1,
            bestRatio = dir === 'fall' ? Infinity : -Infinity;
          const i0 = Math.max(h, Number.isFinite(era.from) ? era.from - s.day[0]! + h : h);
          for (let i = i0; i < s.close.length; i++) {
            const ratio = s.close[i]! / s.close[i - h]!;
            if (dir === 'fall' ? ratio < bestRatio : ratio > bestRatio) {
              bestRatio = ratio;
              best = i;
            }
          }
          if (best < 0) continue;
          const t = s.day[best]!;
          const key = `${lead} ${h} ${dir} ${t}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const moves: Record<string, number> = {};
          const volMultipliers: Record<string, number> = {};
          for (const v of history.underlyings) {
            const p = history.prices.get(v)!;
            const a = priceIndex(p, t),
              b = priceIndex(p, t - h);
            if (a >= 0 && b >= 0) moves[v] = p.close[a]! / p.close[b]! - 1;
            const vi = history.volIndex.get(v);
            if (vi) {
              const ia = volIndexOnOrBefore(vi, t),
                ib = volIndexOnOrBefore(vi, t - h);
              if (!Number.isNaN(ia) && !Number.isNaN(ib)) volMultipliers[v] = ia / ib;
            }
          }
          const ev: StressEvent = {
            name: `${lead} largest ${h}-day ${dir}${era.tag}: ${formatDay(t)}`,
            moves,
            from: formatDay(t - h),
            to: formatDay(t),
            note: `close-to-close ${formatDay(t - h)} to ${formatDay(t)} (data/history, Yahoo Finance)`,
          };
          if (Object.keys(volMultipliers).length > 0) ev.volMultipliers = volMultipliers;
          out.push(ev);
        }
      }
  }
  return out;
}

/** {@link deriveStressLibrary} on data/history (BTC, ETH, SOL closes; BTC DVOL), precomputed. */
export const BUILTIN_STRESS_EVENTS: readonly StressEvent[] = [
  {
    name: 'BTC largest 1-day fall: 2020-03-12',
    moves: { BTC: -0.37169538560117077, ETH: -0.42347221465293294 },
    from: '2020-03-11',
    to: '2020-03-12',
    note: 'close-to-close 2020-03-11 to 2020-03-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 1-day rise: 2017-12-07',
    moves: { BTC: 0.2524716942763181, ETH: 0.013579420408984078 },
    from: '2017-12-06',
    to: '2017-12-07',
    note: 'close-to-close 2017-12-06 to 2017-12-07 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 2-day fall: 2020-03-12',
    moves: { BTC: -0.3715602928207361, ETH: -0.44041109081509666 },
    from: '2020-03-10',
    to: '2020-03-12',
    note: 'close-to-close 2020-03-10 to 2020-03-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 2-day rise: 2017-12-07',
    moves: { BTC: 0.5020684355045657, ETH: -0.06232290120304662 },
    from: '2017-12-05',
    to: '2017-12-07',
    note: 'close-to-close 2017-12-05 to 2017-12-07 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 1-day fall since 2021-03-24: 2022-06-13',
    moves: { BTC: -0.15974726027617203, ETH: -0.16650362093294369, SOL: -0.08297454922123437 },
    volMultipliers: { BTC: 1.1277795510160655 },
    from: '2022-06-12',
    to: '2022-06-13',
    note: 'close-to-close 2022-06-12 to 2022-06-13 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 1-day rise since 2021-03-24: 2022-02-28',
    moves: { BTC: 0.1454118392886461, ETH: 0.1134332194172587, SOL: 0.1637213801970585 },
    volMultipliers: { BTC: 0.9605703657780532 },
    from: '2022-02-27',
    to: '2022-02-28',
    note: 'close-to-close 2022-02-27 to 2022-02-28 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 2-day fall since 2021-03-24: 2022-11-09',
    moves: { BTC: -0.22919371991200388, ETH: -0.29862559241706166, SOL: -0.5290465043303223 },
    volMultipliers: { BTC: 1.9287155346334903 },
    from: '2022-11-07',
    to: '2022-11-09',
    note: 'close-to-close 2022-11-07 to 2022-11-09 (data/history, Yahoo Finance)',
  },
  {
    name: 'BTC largest 2-day rise since 2021-03-24: 2022-03-01',
    moves: { BTC: 0.17621027367212894, ETH: 0.133756623117824, SOL: 0.15358573480083648 },
    volMultipliers: { BTC: 0.9546187228766273 },
    from: '2022-02-27',
    to: '2022-03-01',
    note: 'close-to-close 2022-02-27 to 2022-03-01 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 1-day fall: 2020-03-12',
    moves: { BTC: -0.37169538560117077, ETH: -0.42347221465293294 },
    from: '2020-03-11',
    to: '2020-03-12',
    note: 'close-to-close 2020-03-11 to 2020-03-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 1-day rise: 2017-12-12',
    moves: { BTC: 0.028257970059188287, ETH: 0.2645807079346558 },
    from: '2017-12-11',
    to: '2017-12-12',
    note: 'close-to-close 2017-12-11 to 2017-12-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 2-day fall: 2020-03-12',
    moves: { BTC: -0.3715602928207361, ETH: -0.44041109081509666 },
    from: '2020-03-10',
    to: '2020-03-12',
    note: 'close-to-close 2020-03-10 to 2020-03-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 2-day rise: 2017-12-12',
    moves: { BTC: 0.1268165139991395, ETH: 0.47475673113074657 },
    from: '2017-12-10',
    to: '2017-12-12',
    note: 'close-to-close 2017-12-10 to 2017-12-12 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 1-day fall since 2021-03-24: 2021-05-19',
    moves: { BTC: -0.13766122609163733, ETH: -0.2720034941722024, SOL: -0.37208767607875237 },
    volMultipliers: { BTC: 1.0668318947098538 },
    from: '2021-05-18',
    to: '2021-05-19',
    note: 'close-to-close 2021-05-18 to 2021-05-19 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 1-day rise since 2021-03-24: 2021-05-24',
    moves: { BTC: 0.11318183957815453, ETH: 0.2531362984543515, SOL: 0.2671186078754242 },
    volMultipliers: { BTC: 0.8010243277848913 },
    from: '2021-05-23',
    to: '2021-05-24',
    note: 'close-to-close 2021-05-23 to 2021-05-24 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 2-day fall since 2021-03-24: 2022-11-09',
    moves: { BTC: -0.22919371991200388, ETH: -0.29862559241706166, SOL: -0.5290465043303223 },
    volMultipliers: { BTC: 1.9287155346334903 },
    from: '2022-11-07',
    to: '2022-11-09',
    note: 'close-to-close 2022-11-07 to 2022-11-09 (data/history, Yahoo Finance)',
  },
  {
    name: 'ETH largest 2-day rise since 2021-03-24: 2021-05-25',
    moves: { BTC: 0.10444578183178144, ETH: 0.2830180032286216, SOL: 0.21501011973565531 },
    volMultipliers: { BTC: 0.8265685019206147 },
    from: '2021-05-23',
    to: '2021-05-25',
    note: 'close-to-close 2021-05-23 to 2021-05-25 (data/history, Yahoo Finance)',
  },
];

/**
 * The "crash with skew steepening" event (docs/methodology.md §11c), derived from the history: the largest
 * `h`-day fall of `leader` over the days on which every underlying and vol index has data (the era of
 * {@link deriveStressLibrary}'s "since" events), with
 * - moves m_v = P_v[t]/P_v[t−h] − 1 of every underlying v with both closes;
 * - surface level, for those underlyings, g² − 1 with g = I[t]/I[t−h] the leader's implied-vol index ratio
 *   (DVOL: ATM total variance × g², the ATM vol × g; data/history has no other index, so every underlying
 *   takes the leader's);
 * - surface skew ln(1 + m_v) (engine convention: ρ moves down by the log move, a fall of 23 % steepens the
 *   put skew by 0.26; data/history holds no skew series to derive it from);
 * - no vol multiplier (the surface shocks replace it) and no term shock.
 * Null when the history has no vol index for the leader.
 */
export function deriveCrashWithSkewSteepening(history: History, leader = 'BTC', h = 2): StressEvent | null {
  const vi = history.volIndex.get(leader);
  const s = history.prices.get(leader);
  if (!vi || !s) return null;
  let common = -Infinity;
  for (const p of history.prices.values()) common = Math.max(common, p.day[0]!);
  for (const v of history.volIndex.values()) common = Math.max(common, v.day[0]!);
  let best = -1;
  let bestRatio = Infinity;
  for (let i = Math.max(h, common - s.day[0]! + h); i < s.close.length; i++) {
    const ratio = s.close[i]! / s.close[i - h]!;
    if (ratio < bestRatio) {
      bestRatio = ratio;
      best = i;
    }
  }
  if (best < 0) return null;
  const t = s.day[best]!;
  const g = volIndexOnOrBefore(vi, t) / volIndexOnOrBefore(vi, t - h);
  const moves: Record<string, number> = {};
  const surfaceLevel: Record<string, number> = {};
  const surfaceSkew: Record<string, number> = {};
  for (const v of history.underlyings) {
    const p = history.prices.get(v)!;
    const a = priceIndex(p, t),
      b = priceIndex(p, t - h);
    if (a < 0 || b < 0) continue;
    moves[v] = p.close[a]! / p.close[b]! - 1;
    surfaceLevel[v] = g * g - 1;
    surfaceSkew[v] = Math.log(1 + moves[v]);
  }
  return {
    name: `${leader} crash with skew steepening: ${formatDay(t)}`,
    moves,
    surfaceLevel,
    surfaceSkew,
    from: formatDay(t - h),
    to: formatDay(t),
    note:
      `${leader}'s largest ${h}-day fall since ${formatDay(common)}, close-to-close ${formatDay(t - h)} to ` +
      `${formatDay(t)}; ATM variance × (DVOL ratio)², skew ρ + ln(1 + move) (data/history)`,
  };
}

/** {@link deriveCrashWithSkewSteepening} on data/history, precomputed (a test re-derives it). */
export const CRASH_WITH_SKEW_STEEPENING: StressEvent = {
  name: 'BTC crash with skew steepening: 2022-11-09',
  moves: { BTC: -0.22919371991200388, ETH: -0.29862559241706166, SOL: -0.5290465043303223 },
  surfaceLevel: { BTC: 2.7199436135365502, ETH: 2.7199436135365502, SOL: 2.7199436135365502 },
  surfaceSkew: { BTC: -0.2603181949816082, ETH: -0.35471342956231, SOL: -0.7529959251489107 },
  from: '2022-11-07',
  to: '2022-11-09',
  note:
    "BTC's largest 2-day fall since 2021-03-24, close-to-close 2022-11-07 to 2022-11-09; " +
    'ATM variance × (DVOL ratio)², skew ρ + ln(1 + move) (data/history)',
};
