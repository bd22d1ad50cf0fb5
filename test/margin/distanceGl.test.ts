/**
 * Distance to liquidation (docs/methodology.md §7) on the float32 `gl` backend against the float64 cpu
 * reference, within docs/architecture.md's precision bound |MM − MM₆₄| ≤ 1e-5·|MM₆₄| + 5e-7·Σ|q|·v
 * (v = 1 in a coin unit, the moved index price in USD; span counts its coin collateral): at every x the
 * device reports, the float64 f = E − MM is ≤ the bound (liquidated, to the device's precision), and one
 * tolerance nearer 0 it is ≥ −bound. Skips where gl cannot open (CI requires it: glAvailability.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBackend } from '../../src/engine/createBackend.js';
import type { Backend } from '../../src/engine/backend.js';
import { JOINT, liquidationDistances } from '../../src/margin/distance.js';
import { marginAt, perUnitModel, subPortfolio } from '../../src/margin/remargin.js';
import { defaultParams } from '../../src/params/params.js';
import type { Family, ScenarioSet } from '../../src/scenarios/types.js';
import { GL_REQUIRED, glUnavailableReason } from '../engine/glAvailability.js';
import { deribitPmSet, makePortfolio, spanSet } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

const glReason = await glUnavailableReason();
const params = defaultParams();

describe.skipIf(glReason !== null && !GL_REQUIRED)(
  `gl distances within the precision bound${glReason ? ` (gl unavailable here: ${glReason})` : ''}`,
  () => {
    let gl: Backend;
    let cpu: Backend;
    beforeAll(async () => {
      gl = await createBackend('gl', {});
      cpu = await createBackend('cpu', { workers: 1 });
    });
    afterAll(async () => {
      await gl?.close();
      await cpu?.close();
    });

    test('f₆₄(x_gl) ≤ bound and f₆₄ one tolerance nearer 0 ≥ −bound (deribit-pm, span)', async () => {
      const market = sampleMarket();
      const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
      const sets = new Map<Family, ScenarioSet>([
        ['deribit-pm', deribitPmSet(market, params)],
        ['span', spanSet(market, params)],
      ]);
      expect(gl.name).toBe('gl');
      const ds = await liquidationDistances(book, balances, market, params, sets, ['deribit-pm', 'span'], gl);
      const all = subPortfolio(
        book,
        balances,
        market,
        Int32Array.from({ length: book.accountCount }, (_, a) => a),
      );
      const U = market.underlyings.length;
      let checked = 0;
      for (const d of ds) {
        for (let r = 0; r < d.count; r++) {
          const x = d.move[r]!;
          if (Number.isNaN(x) || x === 0) continue;
          const u = d.underlying[r]!;
          const a = d.account[r]!;
          const unit = d.unitNames[d.unit[r]!]!;
          const factorAt = (y: number) => {
            const f = new Float64Array(U).fill(1);
            if (u === JOINT) f.fill(1 + y);
            else f[u] = 1 + y;
            return f;
          };
          // f₆₄ and the bound at y, on the cpu backend (float64), the whole book
          const at = async (y: number) => {
            const factor = factorAt(y);
            const rows = await marginAt(d.model, all, factor, params, sets, cpu);
            let eq = NaN;
            let mm = 0;
            for (let k = 0; k < rows.count; k++) {
              if (rows.account[k] !== a) continue;
              if (perUnitModel(d.model) && rows.unitNames[rows.unit[k]!] !== unit) continue;
              eq = rows.equity[k]!;
              mm += rows.mm[k]!;
            }
            const coinUnit = perUnitModel(d.model) && unit !== 'USDC';
            let sq = 0;
            for (let p = book.accountStart[a]!; p < book.accountStart[a + 1]!; p++) {
              const i = book.instrumentId[p]!;
              const iu = market.instruments.underlying[i]!;
              if (perUnitModel(d.model) && book.unitCurrencies[unitOf(book, p)] !== unit) continue;
              sq += Math.abs(book.quantity[p]!) * (coinUnit ? 1 : market.indexPrice[iu]! * factor[iu]!);
            }
            if (!perUnitModel(d.model)) {
              const C = balances.currencies.length;
              for (let v = 0; v < U; v++)
                sq += Math.abs(balances.amount[a * C + v]!) * market.indexPrice[v]! * factor[v]!;
            }
            return { f: eq - mm, bound: 1e-5 * Math.abs(mm) + 5e-7 * sq };
          };
          const there = await at(x);
          expect(there.f, `${d.model} ${book.accountKey[a]} ${unit} u=${u} x=${x}`).toBeLessThanOrEqual(there.bound);
          const nearer = await at(x - Math.sign(x) * 1e-5);
          expect(nearer.f).toBeGreaterThanOrEqual(-nearer.bound);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(6);
    }, 300_000);
  },
);

/** The unit code of position p (the book's unit holding it). */
function unitOf(book: ReturnType<typeof makePortfolio>['book'], p: number): number {
  for (let k = 0; k < book.unitCount; k++)
    if (book.unitStart[k]! <= p && p < book.unitStart[k + 1]!) return book.unitCurrency[k]!;
  return -1;
}
