/**
 * `margin-engine import deribit`: Deribit's chain CSV and its futures/perpetual marks → the engine's
 * instruments.arrow and underlyings.arrow (docs/data.md, "The Deribit chain import").
 */
import { parseArgs, required, optional, usageError } from './args.js';
import { importDeribit } from '../importers/deribit.js';
import { writeMarket } from '../importers/writeMarket.js';

export const help = `margin-engine import deribit — import a Deribit option chain and its futures/perpetual marks

Usage:
  margin-engine import deribit --chain CSV --futures CSV --perpetuals CSV --out DIR [--expiries LIST] [--quiet]

Options:
  --chain CSV        the option chain as published by Deribit's API (instrument_name, mark_price in coin,
                     implied_volatility, underlying = the forward, index_price, timestamp, …)
  --futures CSV      dated futures' marks (futures_instrument_name, snapshot_term_mark_price in USD)
  --perpetuals CSV   perpetual marks (instrument_name, perp_futures_mark_price in USD)
  --out DIR          writes DIR/instruments.arrow and DIR/underlyings.arrow (Arrow IPC file format)
  --expiries LIST    keep only options and futures of these expiry codes, e.g. 6FEB26,27FEB26,27MAR26
                     (perpetuals are always kept; index prices and snapshot time use the whole chain)
  --quiet            print nothing on success

Every instrument is inverse. index_price = median of the chain's index_price per currency;
snapshot_time = the earliest timestamp in the chain; rate = 0. Values are checked while importing against
the rules of docs/data.md "Validation" (strike > 0, forward > 0, mark_price >= 0, 0 < implied_volatility <= 10,
index_price > 0, expiry after the snapshot, call/put, unique names); every violation is listed, by file,
data row (0-based), CSV column, value and rule, and nothing is written.

Example (the CSVs of 2026-02-01 ship in test/fixtures/deribit; out/ is git-ignored):
  margin-engine import deribit \\
    --chain test/fixtures/deribit/deribit_options_snapshot_20260201T092323Z.csv \\
    --futures test/fixtures/deribit/term_futures_marks_20260201T092323Z.csv \\
    --perpetuals test/fixtures/deribit/perpetual_futures_prices_20260201T092323Z.csv \\
    --out out/market

Exit codes: 0 ok, 2 bad input (the message names file, row, column, value and rule), 3 the environment
(disk full), 1 internal error.`;

/**
 * A price rounded for people: 10 significant digits, trailing zeros dropped (`2411.0150000000003` →
 * `2411.015`, `78626.29` → `78626.29`). Units unchanged (USD for an index price).
 */
export function formatPrice(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(10))) : String(x);
}

/**
 * Runs `import deribit`: reads the three files, checks them (every violation collected), writes the
 * two Arrow files atomically and prints a summary unless --quiet. Returns the exit code, 0.
 * @throws InputError (exit 2) for bad arguments or bad input, naming file, row, column, value and rule.
 */
export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { chain: {}, futures: {}, perpetuals: {}, out: {}, expiries: {}, quiet: { flag: true } },
    'import',
  );
  const [source, ...extra] = p.positional;
  if (source !== 'deribit')
    throw usageError(
      'import',
      source === undefined
        ? 'the source is required: margin-engine import deribit …'
        : `unknown source ${JSON.stringify(source)}: only "deribit" is supported`,
    );
  if (extra.length > 0) throw usageError('import', `unexpected argument ${JSON.stringify(extra[0])}`);
  const files = {
    chain: required(p, 'chain', 'import'),
    futures: required(p, 'futures', 'import'),
    perpetuals: required(p, 'perpetuals', 'import'),
  };
  const out = required(p, 'out', 'import');
  const expiriesText = optional(p, 'expiries');
  const expiries = expiriesText
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (expiriesText !== undefined && expiries!.length === 0)
    throw usageError('import', '--expiries needs at least one expiry code, e.g. 27MAR26');
  const market = importDeribit(files, { expiries });
  const written = writeMarket(out, market);
  if (p.options.quiet !== true) {
    const kinds = new Map<string, number>();
    market.instruments.underlying.forEach((u, i) => {
      const key = `${u} ${market.instruments.kind[i]}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    });
    const lines = [
      `imported ${market.instruments.instrument.length} instruments (snapshot ${new Date(market.underlyings.snapshotTimeMs).toISOString()})`,
      ...[...kinds].map(([k, n]) => `  ${k.padEnd(16)} ${n}`),
      ...market.underlyings.underlying.map((u, i) => `  ${u} index ${formatPrice(market.underlyings.indexPrice[i]!)}`),
      `wrote ${written.instruments}`,
      `wrote ${written.underlyings}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
