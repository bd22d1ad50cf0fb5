/**
 * The `stress` scenario family (METHODOLOGY.md 3e): one scenario per named event.
 */
import type { Market } from '../model/market.js';
import { allocateSet } from './allocate.js';
import type { StressEvent } from './stressEvent.js';
import { VOL_MULT, type ScenarioSet } from './types.js';

/**
 * One scenario per event, in list order: underlying u moves by `moves[u]` (relative; 0 when the event does
 * not name u: meta.unmoved lists those), options and delta-one alike; vol rule `mult` with g =
 * `volMultipliers[u]` where given, else `none`; Δt = `dtDays` (default 0); weight 1; label = the name.
 * Moves of underlyings not in the market are ignored. meta.events keeps each event's dates and note.
 */
export function buildStress(market: Market, events: readonly StressEvent[], source: string): ScenarioSet {
  const us = market.underlyings;
  const U = us.length;
  const set = allocateSet('stress', events.length, us);
  const unmoved: Record<string, string[]> = {};
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
      if (g !== undefined) { set.volRule[x] = VOL_MULT; set.volParam[x] = g; }
    }
  });
  set.meta = {
    family: 'stress',
    source,
    events: events.map((e) => ({ name: e.name, from: e.from ?? null, to: e.to ?? null, note: e.note ?? null })),
    unmoved,
  };
  return set;
}
