/** `margin-engine whatif`: an account's margins before and after hypothetical trades (docs/methodology.md §10). */
import { InputError } from '../errors.js';
import type { ScenarioModelName } from '../margin/models.js';
import { parseArgs, required, optional, usageError } from './args.js';
import { parseModels } from '../pipeline/runMargin.js';
import { loadWhatIf } from '../serve/load.js';
import { MAX_TRADES, type WhatIfAnswer } from '../margin/whatif.js';
import { checkModels, resolveTrades, type TradeInput } from '../margin/whatifTrades.js';

export const help = `margin-engine whatif — an account's margins before and after hypothetical trades

Usage:
  margin-engine whatif --market DIR --positions FILE --balances FILE --account A
                       --trade INSTRUMENT:QTY[@PRICE] [--trade …] [--models LIST] [--history DIR]
                       [--params FILE] [--on-invalid fail|skip] [--json]

  --account A         the account's key, as in the positions / balances files
  --trade T           INSTRUMENT:QTY[@PRICE]: a signed quantity in coin (negative sells) and optionally
                      the price (coin for inverse options, USD(C) otherwise; without it, the model value:
                      an option's premium is paid from the settlement currency's balance, a future's
                      price is its entry price); repeatable, at most ${MAX_TRADES}
  --models LIST       deribit-pm, span, var-hs, var-mc, standard or all (default deribit-pm,span;
                      standard is always answered); var-hs and var-mc need --history
  --json              machine-readable output

Per model: IM, MM, equity, available and status before and after (the account in USD, and per unit in
its currency), ΔIM, ΔMM, and each trade's Euler contribution to IM and MM after the trades (§9). The
trades are hypothetical: nothing is written.

Example:
  margin-engine whatif --market data/sample/market --positions data/sample/book/positions.arrow \\
    --balances data/sample/book/balances.arrow --account A000007 --trade BTC-PERPETUAL:-0.5

Exit codes: 0 ok, 2 bad input, 1 internal error.
`;

const SPEC = {
  market: {},
  positions: {},
  balances: {},
  account: {},
  trade: { multiple: true },
  models: {},
  history: {},
  params: {},
  'on-invalid': {},
  json: { flag: true },
};

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC, 'whatif');
  if (p.positional.length > 0) throw usageError('whatif', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const onInvalid = optional(p, 'on-invalid') ?? 'fail';
  if (onInvalid !== 'fail' && onInvalid !== 'skip')
    throw usageError('whatif', `--on-invalid must be fail or skip, got ${JSON.stringify(onInvalid)}`);
  const account = required(p, 'account', 'whatif');
  const tradeArgs = (p.options.trade as string[] | undefined) ?? [];
  if (tradeArgs.length === 0) throw usageError('whatif', '--trade is required (INSTRUMENT:QTY[@PRICE])');
  const inputs = tradeArgs.map(parseTradeArg); // the form first, before anything loads
  const models = parseModels(optional(p, 'models') ?? 'deribit-pm,span');
  const scenarioModels = models.filter((m) => m !== 'standard') as ScenarioModelName[];
  const loaded = await loadWhatIf({
    marketDir: required(p, 'market', 'whatif'),
    positions: required(p, 'positions', 'whatif'),
    balances: required(p, 'balances', 'whatif'),
    models: scenarioModels,
    historyDir: optional(p, 'history'),
    paramsFile: optional(p, 'params'),
    onInvalid,
  });
  const a = loaded.accountId.get(account);
  if (a === undefined)
    throw new InputError({
      file: '--account',
      row: null,
      column: null,
      value: JSON.stringify(account),
      rule: 'is not an account of the positions or balances',
    });
  const trades = resolveTrades(loaded.market, inputs, (j) => (j < 0 ? '--trade' : `--trade ${tradeArgs[j]}`));
  const asked = [...scenarioModels, 'standard' as const];
  checkModels(loaded.state.modelNames, asked, '--models');
  const answer = loaded.state.whatIf(a, trades, asked);
  process.stdout.write(p.options.json ? JSON.stringify(answer, null, 2) + '\n' : render(answer));
  return 0;
}

/** `INSTRUMENT:QTY[@PRICE]` → a TradeInput. @throws InputError naming --trade, the value and the form. */
export function parseTradeArg(text: string): TradeInput {
  const colon = text.lastIndexOf(':');
  const bad = (rule: string) =>
    new InputError({ file: '--trade', row: null, column: null, value: JSON.stringify(text), rule });
  if (colon <= 0) throw bad('must be INSTRUMENT:QTY[@PRICE] (e.g. BTC-27MAR26-80000-C:-2.5@0.031)');
  const instrument = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const at = rest.indexOf('@');
  const qty = at >= 0 ? rest.slice(0, at) : rest;
  const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (!number.test(qty)) throw bad(`has quantity ${JSON.stringify(qty)}: not a decimal number`);
  const out: TradeInput = { instrument, quantity: Number(qty) };
  if (at >= 0) {
    const p = rest.slice(at + 1);
    if (!number.test(p)) throw bad(`has price ${JSON.stringify(p)}: not a decimal number`);
    out.price = Number(p);
  }
  return out;
}

const num = (x: number | undefined | null, d = 2): string =>
  x === undefined || x === null ? '—' : Number.isFinite(x) ? x.toFixed(d) : String(x);

/** The answer as text tables: per model the account in USD, then its units, then the trades. */
export function render(x: WhatIfAnswer): string {
  const out: string[] = [];
  out.push(
    `account ${x.account}, ${x.trades.length} trade(s): ${x.trades.map((t) => `${t.instrument} ${t.quantity}${t.price === null ? '' : ` @ ${t.price}`}`).join(', ')}`,
  );
  for (const m of x.models) {
    out.push('');
    out.push(
      `${m.model} (account, USD)   IM ${num(m.before.im)} → ${num(m.after.im)} (Δ ${num(m.deltaIm)})   MM ${num(m.before.mm)} → ${num(m.after.mm)} (Δ ${num(m.deltaMm)})`,
    );
    out.push(
      `  equity ${num(m.before.equity)} → ${num(m.after.equity)}   available ${num(m.before.available)} → ${num(m.after.available)}   status ${m.before.status} → ${m.after.status}`,
    );
    for (const u of m.units) {
      const d = u.currency === 'USD' || u.currency === 'USDC' ? 2 : 6;
      out.push(
        `  unit ${u.unit} (${u.currency}): IM ${num(u.before?.im, d)} → ${num(u.after?.im, d)}   MM ${num(u.before?.mm, d)} → ${num(u.after?.mm, d)}   status ${u.before?.status ?? '—'} → ${u.after?.status ?? '—'}`,
      );
    }
    for (const t of m.trades) {
      const d = t.currency === 'USD' || t.currency === 'USDC' ? 2 : 6;
      out.push(
        `  trade ${t.instrument} ${t.quantity}: contributes IM ${num(t.im, d)}, MM ${num(t.mm, d)} ${t.currency ?? ''}`,
      );
    }
  }
  return out.join('\n') + '\n';
}
