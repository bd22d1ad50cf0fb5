/**
 * The CSV format of `margin-engine price`: reading and validating the input table into columns, and
 * writing the input columns back with the computed ones appended.
 *
 * Input: a header row with at least `type,forward,strike,t_years,vol,discount` (any order, other
 * columns kept), `price` too for implied vols (then `vol` is ignored and not validated). Lines starting
 * with `#` before the header are comments. Rows are numbered from 0, the first data row.
 */
import { InputError, fileError, showValue, type Violation } from '../errors.js';

/** Columns a pricing input must have. */
export const PRICE_INPUT_COLUMNS = ['type', 'forward', 'strike', 't_years', 'vol', 'discount'] as const;
/** Columns the pricer appends (or overwrites when the input already has them), in this order. */
export const PRICE_OUTPUT_COLUMNS = ['price', 'delta_fwd', 'gamma_fwd', 'vega', 'price_coin', 'implied_vol'] as const;

/** A validated pricing batch, one entry per row, in row order. */
export interface PriceBatchInput {
  count: number;
  /** 1 call, 0 put */
  isCall: Float64Array;
  /** USD (or any currency; strike and price in the same) */
  forward: Float64Array;
  strike: Float64Array;
  /** years to expiry (≥ 0; 0 means at expiry: intrinsic value) */
  tYears: Float64Array;
  /** decimal per year (≥ 0); NaN when implied vols are asked for */
  vol: Float64Array;
  /** discount factor applied to the undiscounted Black price (> 0) */
  discount: Float64Array;
  /** discounted option price (only with implied vols) */
  price?: Float64Array;
}

/** The parsed table: header and raw cells (echoed unchanged on output), and the validated columns. */
/** Normalised (forward 1, undiscounted) results per row: price, delta, F·gamma, vega per unit of total std. */
export interface NormalisedGreeks {
  price: Float64Array;
  delta: Float64Array;
  gamma: Float64Array;
  vega: Float64Array;
}

export interface PriceTable {
  header: string[];
  cells: string[][];
  input: PriceBatchInput;
}

/** Computed columns, one entry per row; NaN is written as an empty cell. */
export interface PriceBatchOutput {
  price: Float64Array;
  deltaFwd: Float64Array;
  gammaFwd: Float64Array;
  vega: Float64Array;
  priceCoin: Float64Array;
  /** present with implied vols; NaN where not recoverable */
  impliedVol?: Float64Array;
}

function splitLine(line: string): string[] {
  return line.split(',').map((c) => c.trim());
}

/**
 * Parses and validates a pricing CSV. Every bad cell is reported (file, row, column, value, rule).
 * @throws InputError on a missing column, a row with the wrong number of cells, or a bad value.
 */
export function parsePriceCsv(text: string, file: string, implied: boolean): PriceTable {
  const lines = text.split(/\r?\n/);
  let at = 0;
  while (at < lines.length && (lines[at]!.trim() === '' || lines[at]!.startsWith('#'))) at++;
  if (at >= lines.length) throw fileError(file, 'no header row: expected columns ' + PRICE_INPUT_COLUMNS.join(','));
  const header = splitLine(lines[at]!);
  const required: string[] = implied
    ? [...PRICE_INPUT_COLUMNS.filter((c) => c !== 'vol'), 'price']
    : [...PRICE_INPUT_COLUMNS];
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw fileError(
      file,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${header.join(',')})`,
      missing[0]!,
    );
  const cells: string[][] = [];
  const violations: Violation[] = [];
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const row = splitLine(line);
    if (row.length !== header.length) {
      violations.push({
        file,
        row: cells.length,
        column: null,
        value: showValue(line),
        rule: `has ${row.length} cells, the header has ${header.length}`,
      });
    }
    cells.push(row);
  }
  const n = cells.length;
  const col = (name: string) => header.indexOf(name);
  const input: PriceBatchInput = {
    count: n,
    isCall: new Float64Array(n),
    forward: new Float64Array(n),
    strike: new Float64Array(n),
    tYears: new Float64Array(n),
    vol: new Float64Array(n).fill(NaN),
    discount: new Float64Array(n),
    ...(implied ? { price: new Float64Array(n) } : {}),
  };
  const numeric: Array<[string, Float64Array, (x: number) => boolean, string]> = [
    ['forward', input.forward, (x) => x > 0, 'must be a positive finite number'],
    ['strike', input.strike, (x) => x > 0, 'must be a positive finite number'],
    ['t_years', input.tYears, (x) => x >= 0, 'must be a finite number of years ≥ 0'],
    ['discount', input.discount, (x) => x > 0, 'must be a positive finite discount factor'],
  ];
  if (implied) numeric.push(['price', input.price!, () => true, 'must be a finite number']);
  else numeric.push(['vol', input.vol, (x) => x >= 0, 'must be a finite vol ≥ 0 (decimal per year)']);
  const typeCol = col('type');
  for (let r = 0; r < n; r++) {
    const row = cells[r]!;
    const t = row[typeCol];
    if (t === 'C' || t === 'c') input.isCall[r] = 1;
    else if (t === 'P' || t === 'p') input.isCall[r] = 0;
    else
      violations.push({
        file,
        row: r,
        column: 'type',
        value: showValue(t ?? null),
        rule: 'must be C (call) or P (put)',
      });
    for (const [name, out, ok, rule] of numeric) {
      const raw = row[col(name)];
      const x = raw === undefined || raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(x) || !ok(x))
        violations.push({ file, row: r, column: name, value: showValue(raw ?? null), rule });
      out[r] = x;
    }
  }
  if (violations.length > 0)
    throw new InputError(violations, `${file}: ${violations.length} bad cell${violations.length === 1 ? '' : 's'}`);
  return { header, cells, input };
}

function show(x: number): string {
  return Number.isNaN(x) ? '' : String(x);
}

/**
 * Writes the input rows with the computed columns: each of {@link PRICE_OUTPUT_COLUMNS} overwrites an
 * input column of the same name, or is appended; `implied_vol` only with implied vols, and with implied
 * vols an input `price` column is kept as given. Numbers are written in JavaScript's shortest round-trip
 * form; NaN (not recoverable, or Greeks at an unrecoverable vol) as an empty cell.
 */
export function formatPriceCsv(table: PriceTable, out: PriceBatchOutput): string {
  const implied = out.impliedVol !== undefined;
  const header = [...table.header];
  const values: Array<[string, Float64Array]> = [
    ['price', out.price],
    ['delta_fwd', out.deltaFwd],
    ['gamma_fwd', out.gammaFwd],
    ['vega', out.vega],
    ['price_coin', out.priceCoin],
  ];
  if (implied) values.push(['implied_vol', out.impliedVol!]);
  const targets: Array<[number, Float64Array]> = [];
  for (const [name, arr] of values) {
    if (implied && name === 'price' && header.includes('price')) continue;
    let at = header.indexOf(name);
    if (at < 0) {
      header.push(name);
      at = header.length - 1;
    }
    targets.push([at, arr]);
  }
  const lines = [header.join(',')];
  for (let r = 0; r < table.cells.length; r++) {
    const row = [...table.cells[r]!];
    while (row.length < header.length) row.push('');
    for (const [at, arr] of targets) row[at] = show(arr[r]!);
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}
