/**
 * Batch Black-76 pricing (prices, forward Greeks, coin prices, implied vols) on a chosen backend.
 *
 * `cpu` computes in float64 in-process with the kernels/ functions. `gl` (and `webgpu` where an adapter
 * answers) run the float32 twins on gpu.js (see priceBatchGpu.ts) after a self-check against float64;
 * `auto` tries webgpu, gl, cpu in that order and records why each one that did not run was refused.
 * Implied vols are always solved in float64 on the host; the Greeks are then evaluated at those vols.
 */
import { black76Norm, black76DeltaNorm, black76GammaNorm, black76VegaNorm } from '../../kernels/black76.js';
import { impliedVol } from './impliedVol.js';
import type { NormalisedGreeks, PriceBatchInput, PriceBatchOutput } from './priceCsv.js';

export type { NormalisedGreeks } from './priceCsv.js';
import type { BackendChoice, BackendName } from '../engine/types.js';
import { BackendUnavailableError } from '../engine/backend.js';

/**
 * Which backend priced the batch, the gpu.js kernel class that really ran (or 'in-process'), and why others were
 * refused.
 */
export interface PriceBackendReport {
  chosen: BackendName;
  kernelClass: string;
  tried: Partial<Record<BackendName, string>>;
}

/** Normalised inputs of the kernels: moneyness k = K/F and total std sd = σ√T (0 at T = 0). */
export function normalisedInputs(input: PriceBatchInput, vol: Float64Array): { k: Float64Array; sd: Float64Array } {
  const n = input.count;
  const k = new Float64Array(n);
  const sd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    k[i] = input.strike[i]! / input.forward[i]!;
    sd[i] = vol[i]! * Math.sqrt(input.tYears[i]!);
  }
  return { k, sd };
}

/** float64 normalised price and Greeks with the kernels/ reference functions (rows with NaN sd give NaN). */
export function normalisedGreeksCpu(isCall: Float64Array, k: Float64Array, sd: Float64Array): NormalisedGreeks {
  const n = k.length;
  const out: NormalisedGreeks = {
    price: new Float64Array(n),
    delta: new Float64Array(n),
    gamma: new Float64Array(n),
    vega: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const s = sd[i]!;
    if (Number.isNaN(s)) {
      out.price[i] = out.delta[i] = out.gamma[i] = out.vega[i] = NaN;
      continue;
    }
    out.price[i] = black76Norm(isCall[i]!, k[i]!, s);
    out.delta[i] = black76DeltaNorm(isCall[i]!, k[i]!, s);
    out.gamma[i] = black76GammaNorm(k[i]!, s);
    out.vega[i] = black76VegaNorm(k[i]!, s);
  }
  return out;
}

/**
 * Scales normalised results to the output columns (float64, on the host): price = D·F·p (USD),
 * delta_fwd = D·δ, gamma_fwd = D·γ/F (per USD), vega = D·F·ν·√T (USD per 1.00 vol), price_coin = D·p.
 */
export function scaleGreeks(input: PriceBatchInput, g: NormalisedGreeks): PriceBatchOutput {
  const n = input.count;
  const out: PriceBatchOutput = {
    price: new Float64Array(n),
    deltaFwd: new Float64Array(n),
    gammaFwd: new Float64Array(n),
    vega: new Float64Array(n),
    priceCoin: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const F = input.forward[i]!;
    const D = input.discount[i]!;
    out.price[i] = D * F * g.price[i]!;
    out.deltaFwd[i] = D * g.delta[i]!;
    out.gammaFwd[i] = (D * g.gamma[i]!) / F;
    out.vega[i] = D * F * g.vega[i]! * Math.sqrt(input.tYears[i]!);
    out.priceCoin[i] = D * g.price[i]!;
  }
  return out;
}

/** Implied vols of every row (NaN where not recoverable) and the reasons, by row. */
export function impliedVols(input: PriceBatchInput): { vol: Float64Array; reasons: Map<number, string> } {
  const vol = new Float64Array(input.count);
  const reasons = new Map<number, string>();
  for (let i = 0; i < input.count; i++) {
    const r = impliedVol(
      input.isCall[i]!,
      input.forward[i]!,
      input.strike[i]!,
      input.tYears[i]!,
      input.discount[i]!,
      input.price![i]!,
    );
    if (r.vol === null) {
      vol[i] = NaN;
      reasons.set(i, r.reason);
    } else vol[i] = r.vol;
  }
  return { vol, reasons };
}

/** Options of {@link priceBatch}. */
export interface PriceBatchOptions {
  backend: BackendChoice;
  /** solve implied vols from `input.price` (then `input.vol` is ignored) */
  implied: boolean;
}

/** The result of {@link priceBatch}. */
export interface PriceBatchResult {
  output: PriceBatchOutput;
  backend: PriceBackendReport;
  /** rows whose implied vol is not recoverable, with the reason */
  notRecoverable: Map<number, string>;
}

/**
 * Prices a batch on the chosen backend. With `implied`, vols are solved first (float64), and the price
 * column of the output is the model price at the implied vol (NaN where not recoverable).
 * @throws BackendUnavailableError (exit 3, the environment) when an explicitly chosen GPU backend is
 *   unavailable or fails its self-check.
 */
export async function priceBatch(input: PriceBatchInput, opts: PriceBatchOptions): Promise<PriceBatchResult> {
  let vol = input.vol;
  let notRecoverable = new Map<number, string>();
  if (opts.implied) {
    const iv = impliedVols(input);
    vol = iv.vol;
    notRecoverable = iv.reasons;
  }
  const { k, sd } = normalisedInputs(input, vol);
  const tried: Partial<Record<BackendName, string>> = {};
  const order: BackendName[] = opts.backend === 'auto' ? ['webgpu', 'gl', 'cpu'] : [opts.backend];
  let greeks: NormalisedGreeks | undefined;
  let chosen: BackendName = 'cpu';
  let kernelClass = 'in-process';
  for (const name of order) {
    if (name === 'cpu') {
      greeks = normalisedGreeksCpu(input.isCall, k, sd);
      tried.cpu = 'ok';
      chosen = 'cpu';
      kernelClass = 'in-process';
      break;
    }
    const { normalisedGreeksGpu } = await import('./priceBatchGpu.js');
    const r = await normalisedGreeksGpu(name, input.isCall, k, sd);
    if (r.ok) {
      greeks = r.greeks;
      tried[name] = 'ok';
      chosen = name;
      kernelClass = r.kernelClass;
      break;
    }
    tried[name] = r.reason;
    if (opts.backend !== 'auto') throw new BackendUnavailableError(name, r.reason);
  }
  const output = scaleGreeks(input, greeks!);
  if (opts.implied) output.impliedVol = vol;
  return { output, backend: { chosen, kernelClass, tried }, notRecoverable };
}
