/**
 * Reads daily history from a directory in the formats of data/history:
 * `<U>-USD_1d.csv` (`datetime,open,high,low,close,volume`, one row per calendar day) and, optionally,
 * `dvol_<u>.csv` (`date,dvol`, lowercase u; days may be missing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, fileError, showValue, type Violation } from '../errors.js';
import { formatDay, parseDay } from './dates.js';
import type { History, PriceSeries, VolIndexSeries } from './types.js';

/** File name of an underlying's daily closes. */
export function priceFileName(underlying: string): string {
  return `${underlying}-USD_1d.csv`;
}

/** File name of an underlying's implied-vol index (`dvol_btc.csv`). */
export function volIndexFileName(underlying: string): string {
  return `dvol_${underlying.toLowerCase()}.csv`;
}

/**
 * Loads closes for every underlying in `underlyings` (each must have `<U>-USD_1d.csv` in `dir`) and the
 * vol index of those that have `dvol_<u>.csv`. Closes are in USD; vol indices in vol points.
 * @throws InputError naming file, row (0-based, data rows after the header), column, value and rule for a
 *   missing file or column, a non-numeric or non-positive value, an unparseable date, a duplicate date,
 *   dates out of order or (closes only) a missing calendar day. Whether the history reaches back far
 *   enough is checked by the family that uses it, which knows how far it needs.
 */
export async function loadHistory(dir: string, underlyings: string[]): Promise<History> {
  const prices = new Map<string, PriceSeries>();
  const volIndex = new Map<string, VolIndexSeries>();
  for (const u of underlyings) {
    const pf = join(dir, priceFileName(u));
    if (!existsSync(pf))
      throw fileError(
        pf,
        `no such file: daily closes of ${u} are needed (${priceFileName(u)}: datetime,open,high,low,close,volume)`,
      );
    const s = readSeries(pf, 'datetime', 'close', true);
    prices.set(u, { underlying: u, file: pf, day: s.day, close: s.value });
    const vf = join(dir, volIndexFileName(u));
    if (existsSync(vf)) {
      const v = readSeries(vf, 'date', 'dvol', false);
      volIndex.set(u, { underlying: u, file: vf, day: v.day, value: v.value });
    }
  }
  return { dir, underlyings: [...underlyings], prices, volIndex };
}

/** Parses a two-column daily series out of a CSV file; every violation is collected before throwing. */
function readSeries(
  file: string,
  dateCol: string,
  valueCol: string,
  noGaps: boolean,
): { day: Int32Array; value: Float64Array } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fileError(file, `cannot be read (${(e as Error).message})`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw fileError(file, `is empty: expected a header with columns ${dateCol} and ${valueCol}`);
  const header = lines[0]!
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim());
  const di = header.indexOf(dateCol);
  const vi = header.indexOf(valueCol);
  // the header as found, escaped and cut: a binary file's bytes are not echoed raw
  const found = () => `header: ${showValue(header.join(','))}`;
  if (di < 0) throw fileError(file, `has no column ${dateCol} (${found()})`, dateCol);
  if (vi < 0) throw fileError(file, `has no column ${valueCol} (${found()})`, valueCol);
  const n = lines.length - 1;
  if (n === 0) throw fileError(file, 'has a header but no rows');
  const day = new Int32Array(n);
  const value = new Float64Array(n);
  const bad: Violation[] = [];
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1]!.split(',');
    const dText = (cells[di] ?? '').trim();
    const vText = (cells[vi] ?? '').trim();
    const d = parseDay(dText);
    if (Number.isNaN(d))
      bad.push({ file, row: r, column: dateCol, value: showValue(dText), rule: 'is not a date YYYY-MM-DD' });
    const v = vText === '' ? NaN : Number(vText);
    if (!Number.isFinite(v))
      bad.push({ file, row: r, column: valueCol, value: showValue(vText), rule: 'is not a finite number' });
    else if (!(v > 0)) bad.push({ file, row: r, column: valueCol, value: showValue(v), rule: 'must be positive' });
    day[r] = Number.isNaN(d) ? 0 : d;
    value[r] = v;
    if (r > 0 && !Number.isNaN(d)) {
      const prevText = (lines[r]!.split(',')[di] ?? '').trim();
      const prev = parseDay(prevText);
      if (Number.isNaN(prev)) continue;
      if (d === prev)
        bad.push({
          file,
          row: r,
          column: dateCol,
          value: showValue(dText),
          rule: `duplicates the date of row ${r - 1}`,
        });
      else if (d < prev)
        bad.push({
          file,
          row: r,
          column: dateCol,
          value: showValue(dText),
          rule: `is before the date of row ${r - 1} (${prevText}): dates must be ascending`,
        });
      else if (noGaps && d > prev + 1) {
        const missing = d - prev - 1;
        bad.push({
          file,
          row: r,
          column: dateCol,
          value: showValue(dText),
          rule: `leaves a gap after ${prevText}: ${missing} calendar day${missing === 1 ? '' : 's'} missing (first ${formatDay(prev + 1)}); daily closes must have one row per calendar day`,
        });
      }
    }
  }
  if (bad.length > 0)
    throw new InputError(bad, `${file}: ${bad.length} problem${bad.length === 1 ? '' : 's'} in the history`);
  return { day, value };
}
