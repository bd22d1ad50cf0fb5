/**
 * Every model on the real chain sample and its generated book, on the `gl` backend (float32 revaluation
 * and aggregation on gpu.js headlessgl) against `cpu` (float64, the reference), within the precision bound
 * of docs/architecture.md, per account and unit:
 *   |MM_f32 − MM_f64| ≤ 1e-5 · MM_f64 + 5e-7 · Σ|q|·v   (likewise IM),
 * v = 1 in a coin unit, the index price in a USD unit; coin collateral counts in Σ|q| where the model
 * includes it (span, var). Also: a scenario file written by `scenarios` round-trips into a run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_MODELS, runMargin, type RunOutcome, type RunOptions } from '../../src/pipeline/runMargin.js';
import { createBackend } from '../../src/engine/createBackend.js';
import { writeScenarioFile } from '../../src/scenarios/io.js';
import { SETTLE_INVERSE } from '../../src/model/market.js';
import type { MarginRows } from '../../src/margin/types.js';

const ROOT = join(import.meta.dirname, '../..');
const BASE: RunOptions = {
  marketDir: join(ROOT, 'data/sample/market'),
  positions: join(ROOT, 'data/sample/book/positions.arrow'),
  balances: join(ROOT, 'data/sample/book/balances.arrow'),
  historyDir: join(ROOT, 'data/history'),
  models: [...ALL_MODELS],
  backend: 'cpu',
  onInvalid: 'fail',
  workers: 2,
};

/** Σ|q|·v per (account, unit) of a model's rows, keyed `${account}|${unitName}`. */
function grossByRow(o: RunOutcome, model: string): Map<string, number> {
  const { book, balances, market } = o;
  const ins = market.instruments;
  const U = market.underlyings.length;
  const gross = new Map<string, number>();
  const add = (k: string, x: number) => gross.set(k, (gross.get(k) ?? 0) + x);
  for (let a = 0; a < book.accountCount; a++) {
    for (let p = book.accountStart[a]!; p < book.accountStart[a + 1]!; p++) {
      const i = book.instrumentId[p]!;
      const u = ins.underlying[i]!;
      const q = Math.abs(book.quantity[p]!);
      const S = market.indexPrice[u]!;
      if (model === 'deribit-pm')
        add(
          ins.settlement[i] === SETTLE_INVERSE ? `${a}|${market.underlyings[u]}` : `${a}|USDC`,
          ins.settlement[i] === SETTLE_INVERSE ? q : q * S,
        );
      else if (model === 'span') add(`${a}|${market.underlyings[u]}`, q * S);
      else add(`${a}|ALL`, q * S);
    }
    if (model === 'span' || model === 'var-hs' || model === 'var-mc') {
      for (let u = 0; u < U; u++) {
        const b = Math.abs(
          balances.amount[a * balances.currencies.length + balances.currencies.indexOf(market.underlyings[u]!)]!,
        );
        if (b > 0) add(model === 'span' ? `${a}|${market.underlyings[u]}` : `${a}|ALL`, b * market.indexPrice[u]!);
      }
    }
  }
  return gross;
}

function rowsOf(o: RunOutcome, model: string): MarginRows {
  return o.margin.find((m) => m.model === model)!;
}

let glAvailable = true;
let skipReason = '';
let cpu: RunOutcome;
let gl: RunOutcome | null = null;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-backends-'));
  cpu = await runMargin(BASE);
  try {
    const b = await createBackend('gl', { skipSelfCheck: true });
    await b.close();
  } catch (e) {
    glAvailable = false;
    skipReason = (e as Error).message;
  }
  if (glAvailable) gl = await runMargin({ ...BASE, backend: 'gl' });
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gl (float32) against cpu (float64), every model, per account and unit', () => {
  test('gl runs here (required in CI)', () => {
    if (!glAvailable) {
      if (process.env.CI === 'true') expect.fail(`gl backend missing in CI: ${skipReason}`);
      console.warn(`gl backend not available, gl comparisons skipped: ${skipReason}`);
      return;
    }
    expect(gl!.backends.revaluation!.used).toBe('gl');
    expect(gl!.backends.aggregation!.used).toBe('gl');
  });

  test.each(ALL_MODELS.filter((m) => m !== 'standard').map((m) => [m]))('%s: MM and IM within the bound', (model) => {
    if (!gl) return;
    const a = rowsOf(cpu, model);
    const b = rowsOf(gl, model);
    expect(b.count).toBe(a.count);
    const gross = grossByRow(cpu, model);
    let worst = 0;
    for (let r = 0; r < a.count; r++) {
      expect(b.account[r]).toBe(a.account[r]);
      expect(b.unit[r]).toBe(a.unit[r]);
      const g = gross.get(`${a.account[r]}|${a.unitNames[a.unit[r]!]}`) ?? 0;
      for (const [name, x, y] of [
        ['MM', a.mm[r]!, b.mm[r]!],
        ['IM', a.im[r]!, b.im[r]!],
      ] as const) {
        const bound = 1e-5 * Math.abs(x) + 5e-7 * g;
        const err = Math.abs(y - x);
        worst = Math.max(worst, bound > 0 ? err / bound : err);
        if (!(err <= bound))
          expect.fail(
            `${model} account ${cpu.book.accountKey[a.account[r]!]} unit ${a.unitNames[a.unit[r]!]}: ${name} gl ${y} vs cpu ${x}, error ${err} > bound ${bound} (Σ|q|·v = ${g})`,
          );
      }
    }
    console.log(`${model}: worst gl error = ${worst.toFixed(3)} of the bound over ${a.count} rows`);
  });
});

describe('a scenario file round-trips into a run', () => {
  test.each([['csv'], ['arrow']])(
    'deribit-pm and span sets written as .%s give the same margins as the built ones',
    async (ext) => {
      const files = cpu.scenarioSets
        .filter((s) => s.family === 'deribit-pm' || s.family === 'span')
        .map((s) => {
          const f = join(dir, `${s.family}.${ext}`);
          writeScenarioFile(s, f);
          return f;
        });
      const again = await runMargin({
        ...BASE,
        models: ['deribit-pm', 'span'],
        historyDir: BASE.historyDir,
        scenarioFiles: files,
        workers: 1,
      });
      for (const model of ['deribit-pm', 'span']) {
        const a = rowsOf(cpu, model);
        const b = rowsOf(again, model);
        expect(Array.from(b.mm)).toEqual(Array.from(a.mm));
        expect(Array.from(b.im)).toEqual(Array.from(a.im));
        expect(Array.from(b.worstScenario)).toEqual(Array.from(a.worstScenario));
      }
    },
    120_000,
  );

  test('a scenario file of a family no model uses is refused', async () => {
    const mc = cpu.scenarioSets.find((s) => s.family === 'monte-carlo')!;
    const f = join(dir, 'mc.arrow');
    writeScenarioFile(mc, f);
    await expect(runMargin({ ...BASE, models: ['deribit-pm'], scenarioFiles: [f] })).rejects.toThrow(
      /not the family of any model/,
    );
  });
});
