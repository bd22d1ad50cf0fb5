/**
 * `margin-engine generate`: a seeded, exchange-like book (positions.arrow, balances.arrow) over a
 * market snapshot (docs/performance.md, "Workloads").
 */
import { join } from 'node:path';
import { parseArgs, required, integerOption, usageError, type Parsed } from './args.js';
import { fileError } from '../errors.js';
import { loadMarket } from '../io/loadMarket.js';
import {
  DEFAULT_REFERENCE_ACCOUNTS,
  MAX_ACCOUNTS,
  MM_CHUNK_OI_SHARE,
  generateBook,
  hasOpenInterest,
} from '../generate/book.js';
import { writeBook } from '../generate/writeBook.js';
import { STRATEGIES } from '../generate/strategies.js';

export const help = `margin-engine generate — generate a realistic seeded book over a market snapshot

Usage:
  margin-engine generate --market DIR --accounts N --seed S --out DIR [--reference-accounts R] [--quiet]

Options:
  --market DIR              holds instruments.arrow and underlyings.arrow (e.g. data/sample/market); its
                            options must carry open_interest (the book is sized against it)
  --accounts N              number of accounts, 1 to ${MAX_ACCOUNTS.toLocaleString('en-US')}; about 10 positions each
                            (100000 → ~1,000,000 positions)
  --reference-accounts R    the exchange the market's open interest belongs to, in accounts (default
                            ${DEFAULT_REFERENCE_ACCOUNTS.toLocaleString('en-US')}): a book of R accounts holds, per option, gross Σ|q| ≈ 2 × its
                            open interest; a book of N accounts N / R of that
  --seed S                  non-negative integer; the same market, N, R and S give byte-identical files
  --out DIR                 writes DIR/positions.arrow and DIR/balances.arrow (Arrow IPC file format)
  --quiet                   print nothing on success

Accounts are heavy-tailed in size (median 3 positions, a few market makers with hundreds to thousands)
and trade outright options, verticals, straddles, covered calls, calendars, delta-hedged books, futures
basis trades, naked short options and outright futures/perpetuals, in coin quantities of whole lots.
Options are drawn in proportion to their open interest (an option without open interest is never
drawn); option-linked legs (and the futures that hedge or cover them) are scaled so the book holds 2 ×
open interest × N / R per underlying; outright futures and basis trades keep their own size (USD
notional lognormal, median 40,000). The market makers take the other side of what the strategies leave,
in chunks of at most ${100 * MM_CHUNK_OI_SHARE} % of an option's open interest, so every instrument nets to zero.
Collateral (coin per underlying traded, some USDC) is sized against each settlement unit's deribit-pm
margin as the engine computes it with default parameters: most accounts hold 1.2–5× their IM (70% of
them against the larger of deribit-pm and standard IM); about 3% are drawn between MM and IM (margin
call) and 2% below MM (liquidation). The summary prints the resulting counts under deribit-pm and under
standard margin. See data/README.md, "The generated book".

Example (out/ is git-ignored; data/sample/book was made with --out data/sample/book, data/README.md):
  margin-engine generate --market data/sample/market --accounts 1000 --seed 1 --out out/book

Exit codes: 0 ok, 2 bad input (nothing is written), 3 the environment (disk full), 1 internal error.`;

/** A count option: decimal digits, from 1 to `max`, or a usage error naming the flag, the value and the rule. */
function countOption(p: Parsed, name: string, fallback: number | undefined, max: number, why: string): number {
  const v = p.options[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw usageError('generate', `--${name} is required`);
  if (!/^-?[0-9]+$/.test(v))
    throw usageError('generate', `--${name} must be an integer (decimal digits), got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < 1) throw usageError('generate', `--${name} must be at least 1, got ${JSON.stringify(v)}`);
  if (!Number.isSafeInteger(n) || n > max)
    throw usageError(
      'generate',
      `--${name} must be at most ${max.toLocaleString('en-US')}${why}, got ${JSON.stringify(v)}`,
    );
  return n;
}

const pct = (n: number, of: number) => `${n} accounts (${((100 * n) / of).toFixed(1)}%)`;

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { market: {}, accounts: {}, 'reference-accounts': {}, seed: {}, out: {}, quiet: { flag: true } },
    'generate',
  );
  if (p.positional.length > 0) throw usageError('generate', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const marketDir = required(p, 'market', 'generate');
  const accounts = countOption(p, 'accounts', undefined, MAX_ACCOUNTS, ' (the generator holds the book in memory)');
  const referenceAccounts = countOption(
    p,
    'reference-accounts',
    DEFAULT_REFERENCE_ACCOUNTS,
    Number.MAX_SAFE_INTEGER,
    '',
  );
  const seed = integerOption(p, 'seed', 'generate');
  const out = required(p, 'out', 'generate');
  const t0 = performance.now();
  const { market } = await loadMarket(marketDir);
  if (!hasOpenInterest(market))
    throw fileError(
      join(marketDir, 'instruments.arrow'),
      "no option has open_interest > 0: generate places and sizes the book against the options' open interest (a market without it cannot be used)",
      'open_interest',
    );
  const book = generateBook(market, { accounts, seed, referenceAccounts });
  const t1 = performance.now();
  const written = writeBook(out, book, market.instruments.name);
  const t2 = performance.now();
  if (p.options.quiet !== true) {
    const s = book.stats;
    const lines = [
      `generated ${s.accounts.toLocaleString('en-US')} accounts, ${s.positions.toLocaleString('en-US')} positions, ${s.balances.toLocaleString('en-US')} balances (seed ${seed}) in ${((t1 - t0) / 1000).toFixed(2)} s; written in ${((t2 - t1) / 1000).toFixed(2)} s`,
      `  sized against ${s.referenceAccounts.toLocaleString('en-US')} reference accounts (per option gross ≈ 2 × open interest × ${(s.accounts / s.referenceAccounts).toPrecision(3)}); option legs scaled by ${Array.from(
        s.optionScale,
      )
        .filter((k) => Number.isFinite(k))
        .map((k) => k.toFixed(3))
        .join(', ')}`,
      `  largest account: ${s.maxPositions} positions; ${s.marketMakers} market makers took ${s.residualChunks} chunks of the other side`,
      `  collateral against deribit-pm (default parameters): margin call ${pct(s.marginCallAccounts, s.accounts)} (drawn ${pct(s.drawnMarginCall, s.accounts)}), liquidation ${pct(s.liquidationAccounts, s.accounts)} (drawn ${pct(s.drawnLiquidation, s.accounts)})`,
      `  the same book under standard margin: margin call ${pct(s.standardMarginCallAccounts, s.accounts)}, liquidation ${pct(s.standardLiquidationAccounts, s.accounts)}`,
      '  accounts per strategy:',
      ...STRATEGIES.map((name, k) => `    ${name.padEnd(20)} ${s.strategyAccounts[k]}`),
      `wrote ${written.positions}`,
      `wrote ${written.balances}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}
