/**
 * Named stress events (docs/methodology.md §3e): the JSON format users write and its validation.
 */
import { InputError, showValue, type Violation } from '../errors.js';
import { readJsonFile } from '../io/readJsonFile.js';
import { parseDay } from '../history/dates.js';

/** One named event. Moves are relative (−0.3 = −30%), per underlying; missing underlyings move 0. */
export interface StressEvent {
  name: string;
  /** underlying → relative move m > −1 */
  moves: Record<string, number>;
  /** underlying → implied-vol multiplier g > 0 (σ' = σ·g); underlyings not listed keep their vol */
  volMultipliers?: Record<string, number>;
  /** time step in days (≥ 0), default 0 */
  dtDays?: number;
  /** surface shocks (docs/methodology.md §11c), per underlying: level a > −1 (ATM total variance × (1 + a)) */
  surfaceLevel?: Record<string, number>;
  /** skew r, |r| < 2 (ρ + r, kept in (−1, 1)) */
  surfaceSkew?: Record<string, number>;
  /** term s > −1 (the short end × (1 + s): total variance × (1 + s·e^{−T/τ}), τ = 30 days) */
  surfaceTerm?: Record<string, number>;
  /** provenance: first and last date of the move (YYYY-MM-DD) */
  from?: string;
  to?: string;
  /** provenance, free text */
  note?: string;
}

const KEYS = new Set([
  'name',
  'moves',
  'vol_multipliers',
  'dt_days',
  'surface_level',
  'surface_skew',
  'surface_term',
  'from',
  'to',
  'note',
]);
const UNDERLYING = /^[A-Z0-9]{1,16}$/;

/**
 * Validates a parsed JSON list of events: `[{ "name": "…", "moves": {"BTC": -0.3}, "vol_multipliers"?:
 * {"BTC": 1.5}, "dt_days"?: 1, "surface_level"?: {"BTC": 0.5}, "surface_skew"?: {"BTC": -0.2},
 * "surface_term"?: {"BTC": 0.3}, "from"?: "YYYY-MM-DD", "to"?: "YYYY-MM-DD", "note"?: "…" }]`.
 * Rows in messages are the 0-based index in the list; columns are the key path (`moves.BTC`).
 * @throws InputError listing every violation: not a list, an event not an object, an unknown key, a missing
 *   or empty or duplicate name, no moves, a move not finite or ≤ −1, a vol multiplier not finite or ≤ 0,
 *   dt_days negative or not finite, a bad date.
 */
export function parseStressEvents(json: unknown, file: string): StressEvent[] {
  if (!Array.isArray(json))
    throw new InputError({
      file,
      row: null,
      column: null,
      value: null,
      rule: 'must be a JSON list of events {name, moves, vol_multipliers?, dt_days?}',
    });
  const bad: Violation[] = [];
  const out: StressEvent[] = [];
  const names = new Map<string, number>();
  json.forEach((e, row) => {
    const v = (column: string | null, value: unknown, rule: string) =>
      bad.push({ file, row, column, value: value === undefined ? null : showValue(value), rule });
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      v(null, e, 'must be an object {name, moves, vol_multipliers?, dt_days?}');
      return;
    }
    const o = e as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!KEYS.has(k)) v(k, undefined, `is not a key of a stress event (known: ${[...KEYS].join(', ')})`);
    const ev: StressEvent = { name: '', moves: {} };
    if (typeof o.name !== 'string' || o.name.trim() === '') v('name', o.name, 'must be a non-empty string');
    else {
      const prev = names.get(o.name);
      if (prev !== undefined) v('name', o.name, `duplicates the name of event ${prev}`);
      names.set(o.name, row);
      ev.name = o.name;
    }
    const map = (
      key: 'moves' | 'vol_multipliers' | 'surface_level' | 'surface_skew' | 'surface_term',
      ok: (x: number) => boolean,
      rule: string,
    ): Record<string, number> | undefined => {
      const m = o[key];
      if (m === undefined) return undefined;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) {
        v(key, m, 'must be an object of underlying → number');
        return undefined;
      }
      const r: Record<string, number> = {};
      for (const [u, x] of Object.entries(m as Record<string, unknown>)) {
        if (!UNDERLYING.test(u)) {
          v(`${key}.${u}`, undefined, 'is not an underlying name (upper-case letters and digits)');
          continue;
        }
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          v(`${key}.${u}`, x, 'must be a finite number');
          continue;
        }
        if (!ok(x)) {
          v(`${key}.${u}`, x, rule);
          continue;
        }
        r[u] = x;
      }
      return r;
    };
    if (o.moves === undefined) v('moves', undefined, 'is required: an object of underlying → relative move');
    else {
      const m = map('moves', (x) => x > -1, 'must be > −1 (a relative move: −0.3 is a 30% fall)');
      if (m) {
        if (Object.keys(m).length === 0 && Object.keys(o.moves as object).length === 0)
          v('moves', o.moves, 'must name at least one underlying');
        ev.moves = m;
      }
    }
    const g = map('vol_multipliers', (x) => x > 0, "must be > 0 (σ' = σ · multiplier)");
    if (g) ev.volMultipliers = g;
    const level = map('surface_level', (x) => x > -1, 'must be > −1 (ATM total variance × (1 + level))');
    if (level) ev.surfaceLevel = level;
    const skew = map('surface_skew', (x) => Math.abs(x) < 2, "must be in (−2, 2) (added to the slices' ρ)");
    if (skew) ev.surfaceSkew = skew;
    const term = map('surface_term', (x) => x > -1, 'must be > −1 (the short end × (1 + term))');
    if (term) ev.surfaceTerm = term;
    if (o.dt_days !== undefined) {
      if (typeof o.dt_days !== 'number' || !Number.isFinite(o.dt_days) || o.dt_days < 0)
        v('dt_days', o.dt_days, 'must be a finite number ≥ 0 (days)');
      else ev.dtDays = o.dt_days;
    }
    for (const k of ['from', 'to'] as const) {
      if (o[k] === undefined) continue;
      if (typeof o[k] !== 'string' || Number.isNaN(parseDay(o[k] as string))) v(k, o[k], 'must be a date YYYY-MM-DD');
      else ev[k] = o[k] as string;
    }
    if (o.note !== undefined) {
      if (typeof o.note !== 'string') v('note', o.note, 'must be a string');
      else ev.note = o.note;
    }
    out.push(ev);
  });
  if (json.length === 0) bad.push({ file, row: null, column: null, value: null, rule: 'lists no events' });
  if (bad.length > 0)
    throw new InputError(bad, `${file}: ${bad.length} problem${bad.length === 1 ? '' : 's'} in the stress events`);
  return out;
}

/**
 * Reads and validates a stress file. @throws InputError as {@link parseStressEvents}, or for unreadable / invalid JSON.
 */
export function readStressFile(file: string): StressEvent[] {
  return parseStressEvents(readJsonFile(file), file);
}
