/**
 * Calendar days as integers: day numbers counted from 1970-01-01 (UTC). History series, scenario dates and
 * the snapshot's date are compared as day numbers; strings appear only at the edges (files, labels).
 */

/** Milliseconds in one calendar day. */
export const MS_PER_DAY = 86_400_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The day number of an ISO date `YYYY-MM-DD` (UTC), or NaN when the text is not a valid calendar date.
 * A trailing midnight time (`T00:00:00`, ` 00:00:00`, optional `Z` or `+00:00`) is accepted.
 */
export function parseDay(text: string): number {
  let t = text.trim();
  const time = /^(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?$/.exec(t);
  if (time) t = time[1]!;
  const m = DATE_RE.exec(t);
  if (!m) return NaN;
  const y = Number(m[1]),
    mo = Number(m[2]),
    d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return NaN;
  return ms / MS_PER_DAY;
}

/** `YYYY-MM-DD` of a day number. */
export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The UTC calendar day that contains the instant `ms` (ms since epoch). */
export function dayOfMs(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}
