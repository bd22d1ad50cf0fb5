/**
 * Fuzz (issue 15): random malformed and extreme inputs, in process. Every case either fails with an
 * InputError (exit 2) naming the file (and row and column for a cell) or loads and computes margins that
 * are all finite; nothing else (a TypeError, a RangeError, a hang) may come out.
 * - the four Arrow inputs (market, positions, balances), validated by the loaders, many cases; fewer
 *   through a whole run (runMargin, no report: the report is the CLI suite's, cli.test.ts);
 * - parameter files (loadParams), and a few through a run;
 * - history files (loadHistory), and a few through a run of var-hs and span.
 * A fixed seed in CI (FUZZ_SEED to change it); FUZZ_RUNS=500 for a longer run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { loadMarket } from '../../src/io/loadMarket.js';
import { loadBook } from '../../src/io/loadBook.js';
import { loadParams } from '../../src/params/loadParams.js';
import { loadHistory } from '../../src/history/loadHistory.js';
import { runMargin, type RunOptions } from '../../src/pipeline/runMargin.js';
import {
  hasHugeCount,
  historyCaseArb,
  inputCaseArb,
  loadableInputCaseArb,
  paramsCaseArb,
  paramsText,
  writeHistoryCase,
  writeInputCase,
} from './arbitraries.js';
import { expectFiniteMargins, expectInputError, FUZZ_SEED, fuzzRuns, TIMEOUT } from './helpers.js';
import { writeBook, writeMarket } from '../fixtures/io/arrowTables.js';

const root = mkdtempSync(join(tmpdir(), 'me-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh directory for one case. */
function caseDir(): string {
  const d = join(root, String(n++));
  mkdirSync(d);
  return d;
}
const HISTORY = join(import.meta.dirname, '..', '..', 'data', 'history');
const inputFiles = (dir: string) => [dir, join(dir, 'positions.arrow'), join(dir, 'balances.arrow')];

/** A run of the small book's scenario models on the cpu pool, no report. */
function run(files: { market: string; positions: string; balances: string }, extra: Partial<RunOptions> = {}) {
  return runMargin({
    marketDir: files.market,
    positions: files.positions,
    balances: files.balances,
    models: ['deribit-pm', 'span', 'standard'],
    backend: 'cpu',
    onInvalid: 'fail',
    workers: 1,
    ...extra,
  });
}

describe('Arrow inputs', () => {
  test(
    'validation: an InputError naming file (row, column) or a loaded book',
    async () => {
      await fc.assert(
        fc.asyncProperty(inputCaseArb, fc.constantFrom('fail', 'skip' as const), async (c, onInvalid) => {
          const files = writeInputCase(caseDir(), c);
          try {
            const lm = await loadMarket(files.market, { onInvalid });
            await loadBook(lm.market, files.positions, files.balances, {
              onInvalid,
              rejectedInstruments: lm.rejectedInstruments,
            });
          } catch (e) {
            expectInputError(e, inputFiles(files.market));
          }
        }),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(300) },
      );
    },
    TIMEOUT,
  );

  test(
    'a whole run: an InputError or finite margins',
    async () => {
      const seen = { refused: 0, computed: 0 };
      await fc.assert(
        fc.asyncProperty(loadableInputCaseArb, fc.constantFrom('fail', 'skip' as const), async (c, onInvalid) => {
          const files = writeInputCase(caseDir(), c);
          let outcome;
          try {
            outcome = await run(files, { onInvalid });
          } catch (e) {
            expectInputError(e, inputFiles(files.market));
            seen.refused++;
            return;
          }
          expectFiniteMargins(outcome);
          seen.computed++;
        }),
        { seed: FUZZ_SEED + 1, numRuns: fuzzRuns(24) },
      );
      // the generator still reaches the models
      expect(seen.computed).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  // known case "quantity 1e300 → Infinity margins" (fixed by another change): enable after the merge
  test.each([1e300, -1e300, 1e15])('a position of quantity %d: an InputError or finite margins', async (q) => {
    const dir = writeMarket(undefined, 'file', caseDir());
    const book = writeBook(dir, (p) => (p.quantity!.values[0] = q));
    try {
      expectFiniteMargins(await run({ market: dir, ...book }));
    } catch (e) {
      expectInputError(e, inputFiles(dir));
    }
  });
});

describe('parameter files', () => {
  test(
    'loadParams: an InputError naming the file or a parameter set',
    async () => {
      fc.assert(
        fc.property(paramsCaseArb, (c) => {
          const f = join(caseDir(), 'params.json');
          writeFileSync(f, paramsText(c));
          try {
            loadParams(f);
          } catch (e) {
            expectInputError(e, [f]);
          }
        }),
        { seed: FUZZ_SEED + 2, numRuns: fuzzRuns(400) },
      );
    },
    TIMEOUT,
  );

  test(
    'a whole run with the parameter file: an InputError or finite margins',
    async () => {
      const dir = writeMarket(undefined, 'file', caseDir());
      const book = writeBook(dir);
      let computed = 0;
      await fc.assert(
        fc.asyncProperty(paramsCaseArb, async (c) => {
          fc.pre(!hasHugeCount(c));
          const f = join(caseDir(), 'params.json');
          writeFileSync(f, paramsText(c));
          try {
            loadParams(f);
          } catch {
            return; // the property above
          }
          let outcome;
          try {
            outcome = await run({ market: dir, ...book }, { paramsFile: f });
          } catch (e) {
            expectInputError(e, [f]);
            return;
          }
          expectFiniteMargins(outcome);
          computed++;
        }),
        { seed: FUZZ_SEED + 3, numRuns: fuzzRuns(40) },
      );
      expect(computed).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  // known case "mc_scenarios 1e9 OOM" (fixed by another change, which bounds the count): enable after the merge
  test('var.mc_scenarios 1e9: refused as bad input before anything is built', () => {
    const f = join(caseDir(), 'params.json');
    writeFileSync(f, JSON.stringify({ version: 1, var: { mc_scenarios: 1e9 } }));
    let err: unknown = null;
    try {
      loadParams(f);
    } catch (e) {
      err = e;
    }
    expectInputError(err, [f]);
  });
});

describe('history files', () => {
  test(
    'loadHistory: an InputError naming the file (row, column) or the history',
    async () => {
      await fc.assert(
        fc.asyncProperty(historyCaseArb, async ([file, edits]) => {
          const dir = caseDir();
          writeHistoryCase(HISTORY, dir, file, edits);
          try {
            await loadHistory(dir, ['BTC', 'ETH']);
          } catch (e) {
            expectInputError(e, [join(dir, file)]);
          }
        }),
        { seed: FUZZ_SEED + 4, numRuns: fuzzRuns(60) },
      );
    },
    TIMEOUT,
  );

  test(
    'a run of var-hs and span over the history: an InputError or finite margins',
    async () => {
      const market = writeMarket(undefined, 'file', caseDir());
      const book = writeBook(market);
      let computed = 0;
      await fc.assert(
        fc.asyncProperty(historyCaseArb, async ([file, edits]) => {
          const dir = caseDir();
          writeHistoryCase(HISTORY, dir, file, edits);
          let outcome;
          try {
            outcome = await run({ market, ...book }, { historyDir: dir, models: ['var-hs', 'span'] });
          } catch (e) {
            expectInputError(e, [join(dir, file)]);
            return;
          }
          expectFiniteMargins(outcome);
          computed++;
        }),
        { seed: FUZZ_SEED + 5, numRuns: fuzzRuns(10) },
      );
      expect(computed).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
