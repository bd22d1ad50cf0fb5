/**
 * A small realistic market (BTC and ETH: inverse options over two expiries, futures, perpetuals; a
 * linear BTC option and linear perpetuals settled in USDC) and a book of typical accounts, for the
 * property tests. Prices are of the order of a 2024 Deribit chain; snapshot pinned.
 */
import type { Market } from '../../src/model/market.js';
import { makeMarket, type BalanceSpec, type PositionSpec } from './fixtures.js';

export const SNAPSHOT = '2024-06-10T08:00:00Z';

export function sampleMarket(): Market {
  return makeMarket(SNAPSHOT, [{ name: 'BTC', index: 66000 }, { name: 'ETH', index: 3600 }], [
    { name: 'BTC-PERPETUAL', underlying: 'BTC', kind: 'perpetual', settlement: 'inverse', forward: 66010, bid: 66005, ask: 66015, oi: 50000 },
    { name: 'BTC-28JUN24', underlying: 'BTC', kind: 'future', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', forward: 66300, oi: 8000 },
    { name: 'BTC-27SEP24', underlying: 'BTC', kind: 'future', settlement: 'inverse', expiry: '2024-09-27T08:00:00Z', forward: 67500 },
    { name: 'BTC-28JUN24-60000-P', underlying: 'BTC', kind: 'option', type: 'P', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 60000, forward: 66300, iv: 0.52, bid: 0.0035, ask: 0.004, oi: 900 },
    { name: 'BTC-28JUN24-66000-C', underlying: 'BTC', kind: 'option', type: 'C', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 66000, forward: 66300, iv: 0.48, bid: 0.031, ask: 0.033, oi: 1200 },
    { name: 'BTC-28JUN24-66000-P', underlying: 'BTC', kind: 'option', type: 'P', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 66000, forward: 66300, iv: 0.49, oi: 1100 },
    { name: 'BTC-28JUN24-72000-C', underlying: 'BTC', kind: 'option', type: 'C', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 72000, forward: 66300, iv: 0.5, bid: 0.009, ask: 0.0095, oi: 1500 },
    { name: 'BTC-27SEP24-80000-C', underlying: 'BTC', kind: 'option', type: 'C', settlement: 'inverse', expiry: '2024-09-27T08:00:00Z', strike: 80000, forward: 67500, iv: 0.55 },
    { name: 'ETH-PERPETUAL', underlying: 'ETH', kind: 'perpetual', settlement: 'inverse', forward: 3601, bid: 3600.9, ask: 3601.1 },
    { name: 'ETH-28JUN24-3400-P', underlying: 'ETH', kind: 'option', type: 'P', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 3400, forward: 3610, iv: 0.6, oi: 20000 },
    { name: 'ETH-28JUN24-3800-C', underlying: 'ETH', kind: 'option', type: 'C', settlement: 'inverse', expiry: '2024-06-28T08:00:00Z', strike: 3800, forward: 3610, iv: 0.58, bid: 0.012, ask: 0.013 },
    { name: 'BTC_USDC-PERPETUAL', underlying: 'BTC', kind: 'perpetual', settlement: 'linear', forward: 66020, bid: 66015, ask: 66025 },
    { name: 'ETH_USDC-PERPETUAL', underlying: 'ETH', kind: 'perpetual', settlement: 'linear', forward: 3602 },
    { name: 'BTC_USDC-28JUN24-68000-C', underlying: 'BTC', kind: 'option', type: 'C', settlement: 'linear', expiry: '2024-06-28T08:00:00Z', strike: 68000, forward: 66300, iv: 0.47, bid: 1300, ask: 1350 },
  ]);
}

/** Typical accounts: a delta-hedged long call, a short strangle, a basis trade, a covered call, a mixed USDC book. */
export const SAMPLE_POSITIONS: PositionSpec[] = [
  { account: 'hedged', instrument: 'BTC-28JUN24-66000-C', qty: 10 },
  { account: 'hedged', instrument: 'BTC-PERPETUAL', qty: -5.3, entry: 65000 },
  { account: 'strangle', instrument: 'BTC-28JUN24-60000-P', qty: -20 },
  { account: 'strangle', instrument: 'BTC-28JUN24-72000-C', qty: -20 },
  { account: 'strangle', instrument: 'ETH-28JUN24-3400-P', qty: -150 },
  { account: 'basis', instrument: 'BTC-27SEP24', qty: -40, entry: 67000 },
  { account: 'basis', instrument: 'BTC-PERPETUAL', qty: 40, entry: 65500 },
  { account: 'covered', instrument: 'ETH-28JUN24-3800-C', qty: -100 },
  { account: 'covered', instrument: 'ETH-PERPETUAL', qty: 100, entry: 3500 },
  { account: 'usdc', instrument: 'BTC_USDC-PERPETUAL', qty: 2.5, entry: 64000 },
  { account: 'usdc', instrument: 'ETH_USDC-PERPETUAL', qty: -30 },
  { account: 'usdc', instrument: 'BTC_USDC-28JUN24-68000-C', qty: -3 },
  { account: 'usdc', instrument: 'BTC-27SEP24-80000-C', qty: 4 },
  { account: 'usdc', instrument: 'BTC-28JUN24-66000-P', qty: 2 },
];

export const SAMPLE_BALANCES: BalanceSpec[] = [
  { account: 'hedged', currency: 'BTC', amount: 1.5 },
  { account: 'strangle', currency: 'BTC', amount: 2 },
  { account: 'strangle', currency: 'ETH', amount: 10 },
  { account: 'basis', currency: 'BTC', amount: 3 },
  { account: 'covered', currency: 'ETH', amount: 25 },
  { account: 'usdc', currency: 'USDC', amount: 40000 },
  { account: 'usdc', currency: 'USDT', amount: 5000 },
  { account: 'usdc', currency: 'BTC', amount: 0.2 },
  { account: 'cash-only', currency: 'USD', amount: 1000 },
];
