/**
 * Collateral for a generated account, sized from its risk so that most accounts are healthy and a few
 * percent are thin (near or past their margin, METHODOLOGY §5). Per risk unit (an underlying's coin for
 * inverse positions, USDC for linear ones) the account's target equity is `multiple × risk`, and the
 * balance is that equity less what the positions are already worth (option values, unrealised P&L),
 * never below 0. Healthy accounts: multiple 1.5·e^(0.7|Z|) (1.5 to ~10); thin accounts: multiple
 * uniform in [0.4, 1.1], so equity lands below MM (≈ 0.8 × risk), below IM (≈ risk) or just above it.
 * Some healthy accounts also hold USDC worth 10–100% of their USD risk.
 */
import type { Prng } from './prng.js';

/** Share of accounts given thin collateral. */
export const THIN_SHARE = 0.05;
/** Share of healthy accounts that also hold USDC. */
export const USDC_SHARE = 0.3;

/** One balance row: currency code (0..U-1 an underlying's coin, U = USDC) and amount in that currency. */
export interface BalanceSink {
  add(currency: number, amount: number): void;
}

/**
 * Draws an account's balances. `risk[c]` and `value[c]` are per unit currency c (0..U-1 coin, U USDC):
 * the risk measure (positive, in c) and what the positions are worth in c (signed). A unit with no
 * position has risk 0 and gets no row unless it is USDC held as extra collateral.
 * Coin amounts are rounded to 1e-6 coin, USDC to the cent. Returns whether the account was made thin.
 */
export function drawCollateral(rng: Prng, risk: Float64Array, value: Float64Array, held: Uint8Array, indexPrice: Float64Array, sink: BalanceSink): boolean {
  const U = indexPrice.length;
  const thin = rng.chance(THIN_SHARE);
  const multiple = thin ? 0.4 + 0.7 * rng.float() : 1.5 * Math.exp(0.7 * Math.abs(rng.normal()));
  let usdRisk = 0;
  let usdc = 0;
  for (let c = 0; c <= U; c++) {
    if (!held[c]) continue;
    const amount = Math.max(0, multiple * risk[c]! - value[c]!);
    if (c < U) {
      usdRisk += risk[c]! * indexPrice[c]!;
      sink.add(c, Math.round(amount * 1e6) / 1e6);
    } else {
      usdRisk += risk[c]!;
      usdc += amount;
    }
  }
  if (!thin && rng.chance(USDC_SHARE)) usdc += usdRisk * (0.1 + 0.9 * rng.float());
  if (held[U] || usdc > 0) sink.add(U, Math.round(usdc * 100) / 100);
  return thin;
}
