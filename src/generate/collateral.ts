/**
 * Collateral for a generated account, sized against the engine's own deribit-pm margin of each of its
 * settlement units (unitMargins.ts; docs/methodology.md §4a, 5) so that most accounts are healthy and a few
 * percent are near or past their margin, as on an exchange:
 * - healthy (95%): every unit's equity is `multiple × IM`, multiple = 1.2·e^(0.7|Z|) (median ≈ 1.9,
 *   95% within 1.2–4.7×); for STANDARD_COVER_SHARE (70%) of them IM is the larger of the deribit-pm
 *   and the standard IM (accounts that could also live on standard margin, so that the same book under
 *   standard margin is worse, as it should be for hedged books, but not absurd: about 7–9% liquidated);
 *   30% of them also hold USDC worth 10–100% of their IM in USD;
 * - margin call (MARGIN_CALL_SHARE, 3%): equity = MM + f·(IM − MM), f uniform in [0.1, 0.9];
 * - liquidation (LIQUIDATION_SHARE, 2%): equity = f·MM, f uniform in [0.4, 0.95].
 * The balance of a unit is its target equity less what its positions are already worth (option values,
 * futures' unrealised P&L), never below 0: an account whose long options are worth more than its
 * target keeps a zero balance and ends up healthier than drawn (so the realised thin shares are a
 * little below the drawn ones; the generator counts both).
 */
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL, STATUS_OK } from '../margin/types.js';
import { marginStatus } from '../margin/status.js';
import type { Prng } from './prng.js';

/** Share of accounts drawn to sit between MM and IM (margin call). */
export const MARGIN_CALL_SHARE = 0.03;
/** Share of accounts drawn below MM (liquidation). */
export const LIQUIDATION_SHARE = 0.02;
/** Share of healthy accounts whose cover is a multiple of the larger of their deribit-pm and standard IM. */
export const STANDARD_COVER_SHARE = 0.7;
/** Share of healthy accounts that also hold USDC. */
export const USDC_SHARE = 0.3;

/** One balance row: currency code (0..U-1 an underlying's coin, U = USDC) and amount in that currency. */
export interface BalanceSink {
  add(currency: number, amount: number): void;
}

/** An account's margin per unit currency c (0..U-1 coin, U USDC), in c: see UnitMarginAccount. */
export interface UnitMargins {
  im: Float64Array;
  mm: Float64Array;
  /** the standard (per-position) margin of the same unit */
  stdIm: Float64Array;
  stdMm: Float64Array;
  /** equity of the positions alone (signed) */
  value: Float64Array;
  /** 1 where the account holds a position settled in c */
  held: Uint8Array;
}

/**
 * The drawn class of an account (STATUS_* of src/margin/types.ts), the status its balances give it
 * under deribit-pm, and under standard margin.
 */
export interface CollateralOutcome {
  drawn: number;
  status: number;
  standardStatus: number;
}

const coinRound = (x: number) => Math.round(x * 1e6) / 1e6;
const coinCeil = (x: number) => Math.ceil(x * 1e6) / 1e6;

/**
 * Draws an account's balances into `sink` (every held coin unit gets a row, possibly 0; a USDC row when
 * the account holds linear positions or extra USDC). Coin amounts are in 1e-6 coin (healthy ones
 * rounded up, so rounding never makes them thin), USDC in cents. `indexPrice` per underlying (USD).
 * Returns the drawn class and the worst unit status (equity = rounded balance + positions' value
 * against IM and MM), which is what the engine's deribit-pm reports for the account.
 */
export function drawCollateral(
  rng: Prng,
  m: UnitMargins,
  indexPrice: Float64Array,
  sink: BalanceSink,
): CollateralOutcome {
  const U = indexPrice.length;
  const x = rng.float();
  const drawn =
    x < LIQUIDATION_SHARE
      ? STATUS_LIQUIDATION
      : x < LIQUIDATION_SHARE + MARGIN_CALL_SHARE
        ? STATUS_MARGIN_CALL
        : STATUS_OK;
  const multiple = drawn === STATUS_OK ? 1.2 * Math.exp(0.7 * Math.abs(rng.normal())) : 0;
  const f = drawn === STATUS_OK ? 0 : rng.float();
  const coverStandard = drawn === STATUS_OK && rng.chance(STANDARD_COVER_SHARE);
  let status = STATUS_OK;
  let standardStatus = STATUS_OK;
  let usdIm = 0;
  let usdc = 0;
  for (let c = 0; c <= U; c++) {
    if (!m.held[c]) continue;
    const im = m.im[c]!;
    const mm = m.mm[c]!;
    const target =
      drawn === STATUS_OK
        ? multiple * (coverStandard ? Math.max(im, m.stdIm[c]!) : im)
        : drawn === STATUS_MARGIN_CALL
          ? mm + (0.1 + 0.8 * f) * (im - mm)
          : (0.4 + 0.55 * f) * mm;
    const need = Math.max(0, target - m.value[c]!);
    let amount: number;
    if (c < U) {
      usdIm += im * indexPrice[c]!;
      amount = drawn === STATUS_OK ? coinCeil(need) : coinRound(need);
      sink.add(c, amount);
    } else {
      usdIm += im;
      amount = drawn === STATUS_OK ? Math.ceil(need * 100) / 100 : Math.round(need * 100) / 100;
      usdc += amount;
    }
    status = Math.max(status, marginStatus(amount + m.value[c]!, im, mm));
    standardStatus = Math.max(standardStatus, marginStatus(amount + m.value[c]!, m.stdIm[c]!, m.stdMm[c]!));
  }
  if (drawn === STATUS_OK && rng.chance(USDC_SHARE)) usdc += Math.round(usdIm * (0.1 + 0.9 * rng.float()) * 100) / 100;
  if (m.held[U] || usdc > 0) sink.add(U, usdc);
  return { drawn, status, standardStatus };
}
