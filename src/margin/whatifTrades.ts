/**
 * What-if trades as given (instrument names, JSON numbers) resolved against a market, with the rules the
 * `whatif` command and the service enforce (docs/methodology.md §10; errors name the field, the value
 * and the rule).
 */
import { InputError } from '../errors.js';
import type { Market } from '../model/market.js';
import type { ModelName } from './types.js';
import { MAX_TRADES, type Trade } from './whatif.js';

/** A trade as given: instrument name, signed quantity (coin), optional price (the instrument's quote). */
export interface TradeInput {
  instrument: string;
  quantity: number;
  price?: number;
}

/**
 * Resolves and checks trades: at most MAX_TRADES, each a known instrument, a finite non-zero quantity and,
 * when given, a finite price ≥ 0 (> 0 for futures and perpetuals). `field(j, name)` names a trade's field
 * in errors (e.g. `--trade` or `trades[2].quantity`). @throws InputError naming the field, value and rule.
 */
export function resolveTrades(
  market: Market,
  trades: readonly TradeInput[],
  field: (j: number, name: string) => string,
): Trade[] {
  const bad = (file: string, value: unknown, rule: string) =>
    new InputError({ file, row: null, column: null, value: JSON.stringify(value) ?? String(value), rule });
  if (trades.length === 0) throw bad(field(-1, ''), [], 'needs at least one trade');
  if (trades.length > MAX_TRADES)
    throw bad(field(-1, ''), trades.length, `holds more than the maximum of ${MAX_TRADES} trades`);
  return trades.map((t, j) => {
    const i = market.instruments.id.get(t.instrument);
    if (i === undefined) throw bad(field(j, 'instrument'), t.instrument, 'is not an instrument of the market');
    if (typeof t.quantity !== 'number' || !Number.isFinite(t.quantity) || t.quantity === 0)
      throw bad(field(j, 'quantity'), t.quantity, 'must be a finite, non-zero number');
    let price = NaN;
    if (t.price !== undefined) {
      const option = market.instruments.kind[i] === 0;
      if (typeof t.price !== 'number' || !Number.isFinite(t.price) || t.price < 0 || (!option && t.price === 0))
        throw bad(field(j, 'price'), t.price, option ? 'must be a finite number ≥ 0' : 'must be a finite number > 0');
      price = t.price;
    }
    return { instrument: i, quantity: t.quantity, price };
  });
}

/** The models a what-if may name: the loaded ones. @throws InputError naming `field`. */
export function checkModels(held: readonly ModelName[], asked: readonly ModelName[], field: string): void {
  for (const m of asked)
    if (!held.includes(m))
      throw new InputError({
        file: field,
        row: null,
        column: null,
        value: JSON.stringify(m),
        rule: `is not a loaded model (loaded: ${held.join(', ')})`,
      });
}
