/**
 * The `stress` scenario family (docs/methodology.md §3e): one scenario per named event.
 */
import { InputError, showValue, type Violation } from '../errors.js';
import type { Market } from '../model/market.js';
import { allocateSet } from './allocate.js';
import type { StressEvent } from './stressEvent.js';
import { VOL_MULT, type ScenarioSet } from './types.js';

/**
 * One scenario per event, in list order: underlying u moves by `moves[u]` (relative; 0 when the event does
 * not name u: meta.unmoved lists those), options and delta-one alike; vol rule `mult` with g =
 * `volMultipliers[u]` where given, else `none`; Δt = `dtDays` (default 0); weight 1; label = the name.
 * meta.events keeps each event's dates and note.
 *
 * An event naming an underlying the market does not have (in `moves` or `vol_multipliers`):
 * - `foreign = 'refuse'` (the default, and what a user's `--stress` file gets): refused. A user writes
 *   events for the market at hand, so `XRP` on a BTC/ETH market is a typo or the wrong market, and
 *   silently dropping a −50% move would understate the stress.
 * - `foreign = 'ignore'`: dropped, listed by event in meta.ignoredUnderlyings. Only for the built-in
 *   library, which is derived from every underlying of data/history (BTC, ETH, SOL) and applies to any
 *   market holding some of them.
 * @throws InputError (foreign = 'refuse') naming `source`, the event's row (0-based index in the list),
 *   the key (`moves.XRP`, `vol_multipliers.XRP`), its value and the rule "is not an underlying of the
 *   market (BTC, ETH)"; every such key is listed.
 */
export function buildStress(
  market: Market,
  events: readonly StressEvent[],
  source: string,
  foreign: 'refuse' | 'ignore' = 'refuse',
): ScenarioSet {
  const known = new Set(market.underlyings);
  const bad: Violation[] = [];
  const ignored: Record<string, string[]> = {};
  events.forEach((e, row) => {
    for (const key of ['moves', 'vol_multipliers', 'surface_level', 'surface_skew', 'surface_term'] as const) {
      const map = {
        moves: e.moves,
        vol_multipliers: e.volMultipliers,
        surface_level: e.surfaceLevel,
        surface_skew: e.surfaceSkew,
        surface_term: e.surfaceTerm,
      }[key];
      for (const [u, x] of Object.entries(map ?? {})) {
        if (known.has(u)) continue;
        if (foreign === 'refuse')
          bad.push({
            file: source,
            row,
            column: `${key}.${u}`,
            value: showValue(x),
            rule: `is not an underlying of the market (${market.underlyings.join(', ')})`,
          });
        else if (!(ignored[e.name] ??= []).includes(u)) ignored[e.name]!.push(u);
      }
    }
  });
  if (bad.length > 0)
    throw new InputError(
      bad,
      `${source}: ${bad.length} move${bad.length === 1 ? '' : 's'} or multiplier${bad.length === 1 ? '' : 's'} of underlyings the market does not have`,
    );
  const us = market.underlyings;
  const U = us.length;
  const set = allocateSet('stress', events.length, us);
  const unmoved: Record<string, string[]> = {};
  const shocked = events.some((e) => e.surfaceLevel || e.surfaceSkew || e.surfaceTerm);
  if (shocked)
    set.surfaceShock = {
      level: new Float64Array(events.length * U),
      skew: new Float64Array(events.length * U),
      term: new Float64Array(events.length * U),
    };
  events.forEach((e, s) => {
    set.label[s] = e.name;
    set.dtDays[s] = e.dtDays ?? 0;
    for (let u = 0; u < U; u++) {
      const x = s * U + u;
      const m = e.moves[us[u]!];
      if (m === undefined) (unmoved[e.name] ??= []).push(us[u]!);
      set.move[x] = m ?? 0;
      set.deltaOneMove[x] = m ?? 0;
      const g = e.volMultipliers?.[us[u]!];
      if (g !== undefined) {
        set.volRule[x] = VOL_MULT;
        set.volParam[x] = g;
      }
      if (set.surfaceShock) {
        set.surfaceShock.level[x] = e.surfaceLevel?.[us[u]!] ?? 0;
        set.surfaceShock.skew[x] = e.surfaceSkew?.[us[u]!] ?? 0;
        set.surfaceShock.term[x] = e.surfaceTerm?.[us[u]!] ?? 0;
      }
    }
  });
  set.meta = {
    family: 'stress',
    source,
    events: events.map((e) => ({
      name: e.name,
      from: e.from ?? null,
      to: e.to ?? null,
      note: e.note ?? null,
      ...(e.surfaceLevel || e.surfaceSkew || e.surfaceTerm
        ? { surface: { level: e.surfaceLevel ?? {}, skew: e.surfaceSkew ?? {}, term: e.surfaceTerm ?? {} } }
        : {}),
    })),
    unmoved,
  };
  if (Object.keys(ignored).length > 0) set.meta.ignoredUnderlyings = ignored;
  return set;
}
