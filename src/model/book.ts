/**
 * The position book and collateral in columnar form.
 *
 * Accounts get dense ids 0..accountCount-1 (the union of accounts in positions and balances, sorted by
 * their key so that ids are deterministic). Positions form a CSR book sorted by (account, risk unit,
 * instrument id). The deribit-pm risk unit of a position is its settlement currency: the underlying
 * coin for inverse instruments, USDC for linear ones. Unit currency codes: 0..U-1 are the market's
 * underlyings (in `Market.underlyings` order), U is USDC.
 */
export interface PositionBook {
  accountCount: number;
  /**
   * account id -> key as given (Int64 accounts as decimal strings); a loaded book may decode them from
   * `accountKeyBytes` when first read
   */
  readonly accountKey: string[];
  accountKeyType: 'utf8' | 'int64';
  /**
   * the keys as the file's bytes, when the load kept them so (ASCII keys that came in key order): what the
   * report writes, without making 100,000s of strings on the run's thread (loadBook)
   */
  readonly accountKeyBytes?: AccountKeyBytes;
  /** length accountCount + 1: positions of account a are [accountStart[a], accountStart[a+1]) */
  accountStart: Int32Array;
  /** per position */
  instrumentId: Int32Array;
  /** signed, units of underlying (coin) */
  quantity: Float64Array;
  /** USD; NaN when not given */
  entryPrice: Float64Array;

  /** risk units (account, settlement currency) that hold at least one position */
  unitCount: number;
  /** per unit: account id */
  unitAccount: Int32Array;
  /** per unit: currency code (0..U-1 underlying coin, U = USDC) */
  unitCurrency: Int32Array;
  /** length unitCount + 1: positions of unit k are [unitStart[k], unitStart[k+1]) */
  unitStart: Int32Array;
  /** length accountCount + 1: units of account a are [accountUnitStart[a], accountUnitStart[a+1]) */
  accountUnitStart: Int32Array;
  /** names of the unit currency codes: the underlyings, then 'USDC' */
  unitCurrencies: string[];
}

/** Collateral per account and currency, dense: amount[a * currencies.length + c]. */
export interface Balances {
  /** the market's underlyings (valued at their index price), then 'USD', 'USDC', 'USDT' (valued at 1) */
  currencies: string[];
  /** may be negative (a loan); 0 where the account has no balance in that currency */
  amount: Float64Array;
}

/** An input row left out under --on-invalid=skip, kept for the report's rejected_rows table. */
export interface RejectedRow {
  file: string;
  row: number;
  column: string | null;
  value: string | null;
  rule: string;
}

/** What loading found besides the data: for summaries and the report. */
export interface LoadStats {
  positionRows: number;
  balanceRows: number;
  /** rows summed into an earlier row of the same (account, instrument) */
  mergedPositionRows: number;
  /** quantity-0 rows dropped */
  droppedZeroRows: number;
  warnings: string[];
  rejected: RejectedRow[];
}

/**
 * Account keys as bytes, in account id order: key a is `bytes[offsets[a], offsets[a + 1])`, every byte ASCII
 * (so the bytes are the key's characters, and their order is the strings' order).
 */
export interface AccountKeyBytes {
  bytes: Uint8Array;
  offsets: Int32Array;
}

/** A book's account keys: as strings, or as their bytes. */
export type AccountKeyList = string[] | AccountKeyBytes;

/** How many keys a list holds. */
export function accountKeyCount(keys: AccountKeyList): number {
  return Array.isArray(keys) ? keys.length : keys.offsets.length - 1;
}

/** The keys as strings (ASCII bytes decoded in one call and sliced). */
export function accountKeyStrings(keys: AccountKeyList): string[] {
  if (Array.isArray(keys)) return keys;
  const { bytes, offsets } = keys;
  const n = offsets.length - 1;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, offsets[n]!).toString('latin1');
  const out = new Array<string>(n);
  for (let a = 0; a < n; a++) out[a] = text.slice(offsets[a]!, offsets[a + 1]!);
  return out;
}
