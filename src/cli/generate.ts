/**
 * `margin-engine generate`: a seeded, exchange-like book (positions.arrow, balances.arrow) over a
 * market snapshot (PERFORMANCE.md, "Workloads").
 */
import { parseArgs, required, integerOption, usageError } from './args.js';
import { loadMarket } from '../io/loadMarket.js';
import { generateBook } from '../generate/book.js';
import { writeBook } from '../generate/writeBook.js';
import { STRATEGIES } from '../generate/strategies.js';

export const help = `margin-engine generate — generate a realistic seeded book over a market snapshot

Usage:
  margin-engine generate --market DIR --accounts N --seed S --out DIR [--quiet]

Options:
  --market DIR     holds instruments.arrow and underlyings.arrow (e.g. data/sample/market)
  --accounts N     number of accounts; about 10 positions each on average (100000 → ~1,000,000 positions)
  --seed S         non-negative integer; the same market, N and S give byte-identical files
  --out DIR        writes DIR/positions.arrow and DIR/balances.arrow (Arrow IPC file format)
  --quiet          print nothing on success

Accounts are heavy-tailed in size (median 3 positions, a few market makers with hundreds to thousands),
trade outright options, verticals, straddles, covered calls, calendars, delta-hedged books, futures basis
trades, naked short options and outright futures/perpetuals, near the money and near-dated, in coin
quantities. Collateral (coin per underlying traded, some USDC) is sized against each settlement unit's
deribit-pm margin as the engine computes it with default parameters: most accounts hold 1.2–5× their
IM (70% of them against the larger of deribit-pm and standard IM); about 3% are drawn between MM and
IM (margin call) and 2% below MM (liquidation). The summary prints the resulting counts under
deribit-pm and under standard margin.

Example:
  margin-engine generate --market data/sample/market --accounts 1000 --seed 1 --out data/sample/book

Exit codes: 0 ok, 2 bad input, 1 internal error.`;

const pct = (n: number, of: number) => `${n} accounts (${((100 * n) / of).toFixed(1)}%)`;

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { market: {}, accounts: {}, seed: {}, out: {}, quiet: { flag: true } }, 'generate');
  if (p.positional.length > 0) throw usageError('generate', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const marketDir = required(p, 'market', 'generate');
  const accounts = integerOption(p, 'accounts', 'generate');
  if (accounts < 1) throw usageError('generate', '--accounts must be at least 1');
  const seed = integerOption(p, 'seed', 'generate');
  const out = required(p, 'out', 'generate');
  const t0 = performance.now();
  const { market } = await loadMarket(marketDir);
  const book = generateBook(market, { accounts, seed });
  const t1 = performance.now();
  const written = writeBook(out, book, market.instruments.name);
  const t2 = performance.now();
  if (p.options.quiet !== true) {
    const s = book.stats;
    const lines = [
      `generated ${s.accounts.toLocaleString('en-US')} accounts, ${s.positions.toLocaleString('en-US')} positions, ${s.balances.toLocaleString('en-US')} balances (seed ${seed}) in ${((t1 - t0) / 1000).toFixed(2)} s; written in ${((t2 - t1) / 1000).toFixed(2)} s`,
      `  largest account: ${s.maxPositions} positions`,
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
