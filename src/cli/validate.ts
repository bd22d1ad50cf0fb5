/**
 * `margin-engine validate`: loads a market snapshot, positions and balances, checks every rule of
 * docs/data.md and prints a summary (or every violation, exit 2).
 */
import { parseArgs, required, optional, usageError } from './args.js';
import { loadMarket } from '../io/loadMarket.js';
import { loadBook } from '../io/loadBook.js';
import type { OnInvalid } from '../io/violationLog.js';
import { KIND_NAMES } from '../model/market.js';
import { formatViolation, InputError, EXIT_OK } from '../errors.js';

/** `1 row`, `2 rows`: `n` and the noun, plural unless n is 1. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const help = `margin-engine validate — check a market snapshot, positions and balances against every rule of docs/data.md

Usage: margin-engine validate --market DIR --positions FILE --balances FILE [--on-invalid fail|skip] [--json]

  --market DIR          holds instruments.arrow and underlyings.arrow (Arrow IPC file or stream format)
  --positions FILE      positions.arrow: account, instrument, quantity[, entry_price]
  --balances FILE       balances.arrow: account, currency, amount
  --on-invalid POLICY   fail (default): any violation refuses the input, exit 2, listing them (first 20 and
                        a count); skip: rows that break a rule are left out and listed as rejected, exit 0
  --json                print the summary as JSON on stdout; on invalid input print
                        {"valid": false, "violations": [{file, row, column, value, rule}, …]} (all of them), exit 2

Prints instruments by kind and underlying, accounts, positions, balances, merged duplicate rows, dropped
zero quantities and rejected rows on stdout; warnings (unknown extra columns) on stderr.

Example:
  margin-engine validate --market data/sample/market --positions data/sample/book/positions.arrow --balances data/sample/book/balances.arrow

Exit codes: 0 valid, 2 a violation or an unreadable / truncated / non-Arrow file (named), 1 internal error.
`;

/** Runs the command; returns its exit code. @throws InputError (exit 2) on bad input or usage. */
export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { market: {}, positions: {}, balances: {}, 'on-invalid': {}, json: { flag: true } },
    'validate',
  );
  if (p.positional.length > 0) throw usageError('validate', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const marketDir = required(p, 'market', 'validate');
  const positionsFile = required(p, 'positions', 'validate');
  const balancesFile = required(p, 'balances', 'validate');
  const policy = optional(p, 'on-invalid') ?? 'fail';
  if (policy !== 'fail' && policy !== 'skip')
    throw usageError('validate', `--on-invalid must be fail or skip, got ${JSON.stringify(policy)}`);
  const onInvalid = policy as OnInvalid;

  const t0 = performance.now();
  let loaded;
  try {
    const lm = await loadMarket(marketDir, { onInvalid });
    const t1 = performance.now();
    const lb = await loadBook(lm.market, positionsFile, balancesFile, {
      onInvalid,
      rejectedInstruments: lm.rejectedInstruments,
    });
    loaded = { ...lm, ...lb, t1, t2: performance.now() };
  } catch (e) {
    // --json: every violation on stdout for machines; the message still goes to stderr (main.ts), exit 2
    if (p.options.json && e instanceof InputError) {
      process.stdout.write(JSON.stringify({ valid: false, violations: e.violations }, null, 2) + '\n');
    }
    throw e;
  }
  const { market, warnings, rejected, book, balances, stats, t1, t2 } = loaded;

  const ins = market.instruments;
  const byKind: Record<string, number> = {};
  const byUnderlying: Record<string, Record<string, number>> = {};
  for (let i = 0; i < ins.count; i++) {
    const k = KIND_NAMES[ins.kind[i]!]!;
    const u = market.underlyings[ins.underlying[i]!]!;
    byKind[k] = (byKind[k] ?? 0) + 1;
    (byUnderlying[u] ??= {})[k] = ((byUnderlying[u] ??= {})[k] ?? 0) + 1;
  }
  let balanceCells = 0;
  for (let c = 0; c < balances.amount.length; c++) if (balances.amount[c] !== 0) balanceCells++;
  const allRejected = [...rejected, ...stats.rejected];
  const allWarnings = [...warnings, ...stats.warnings];
  const summary = {
    valid: true,
    onInvalid,
    snapshotTime: new Date(market.snapshotTimeMs).toISOString(),
    underlyings: market.underlyings,
    instruments: { total: ins.count, byKind, byUnderlying },
    accounts: book.accountCount,
    accountKeyType: book.accountKeyType,
    positionRows: stats.positionRows,
    positions: book.instrumentId.length,
    riskUnits: book.unitCount,
    balanceRows: stats.balanceRows,
    nonZeroBalances: balanceCells,
    mergedPositionRows: stats.mergedPositionRows,
    droppedZeroRows: stats.droppedZeroRows,
    warnings: allWarnings,
    rejectedRows: allRejected.length,
    rejected: allRejected,
    loadSeconds: { market: (t1 - t0) / 1000, book: (t2 - t1) / 1000 },
  };
  if (p.options.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return EXIT_OK;
  }
  const verdict =
    allRejected.length > 0 ? `valid after skipping ${count(allRejected.length, 'rejected row')}` : 'valid';
  const lines = [
    `${verdict}: snapshot ${summary.snapshotTime}, underlyings ${market.underlyings.join(', ')}`,
    `instruments: ${ins.count} (${Object.entries(byKind)
      .map(([k, n]) => count(n, k))
      .join(', ')})`,
    ...Object.entries(byUnderlying).map(
      ([u, m]) =>
        `  ${u.padEnd(6)} ${Object.entries(m)
          .map(([k, n]) => count(n, k))
          .join(', ')}`,
    ),
    `accounts: ${book.accountCount} (${book.accountKeyType} keys)`,
    `positions: ${book.instrumentId.length} in ${count(book.unitCount, 'risk unit')}, from ${count(stats.positionRows, 'row')} (${count(stats.mergedPositionRows, 'duplicate row')} merged, ${count(stats.droppedZeroRows, 'zero quantity', 'zero quantities')} dropped)`,
    `balances: ${count(stats.balanceRows, 'row')}, ${count(balanceCells, 'non-zero (account, currency) balance')}`,
  ];
  if (allWarnings.length > 0) process.stderr.write(allWarnings.map((w) => `warning: ${w}\n`).join(''));
  if (allRejected.length > 0) {
    lines.push(`rejected rows (--on-invalid skip): ${allRejected.length}`);
    for (const r of allRejected.slice(0, 20)) lines.push(`  ${formatViolation(r)}`);
    if (allRejected.length > 20) lines.push(`  … and ${allRejected.length - 20} more`);
  }
  lines.push(
    `loaded in ${summary.loadSeconds.market.toFixed(3)} s (market) + ${summary.loadSeconds.book.toFixed(3)} s (book)`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
