/**
 * A skewed SVI slice per option of a market, for tests of sticky-moneyness revaluation (the surface
 * kernels): a = 0.8·iv²·t, b = 0.3·√t, ρ = −0.4, m = 0.02, σ = 0.15 + t; other instruments' slices 0.
 * Used by test/kernels/parity.test.ts and, in the browser, test/engine/webgpuPage.ts.
 */
import { KIND_OPTION, type Market } from '../../src/model/market.js';

export function skewedSviSlices(market: Market): Float64Array {
  const ins = market.instruments;
  const slices = new Float64Array(ins.count * 5);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) continue;
    const t = ins.tYears[i]!;
    slices.set([0.8 * ins.markIv[i]! ** 2 * t, 0.3 * Math.sqrt(t), -0.4, 0.02, 0.15 + t], i * 5);
  }
  return slices;
}
