/**
 * MarginModel.readsCoinRows (src/margin/models.ts) against what each model's groups really read: a run
 * revalues a family without its coin rows when no model of it says it reads them (the cpu pool leaves them
 * unwritten, src/engine/types.ts RevalueOptions), so a model that reads them and says it does not would
 * read zeros; the backend refuses such a group (test/engine/revalue.test.ts), and this test says which
 * model is wrong before a run does. On the sample book (inverse and linear options, futures, perpetuals,
 * coin and USDC balances), every model over a set of its family.
 */
import { describe, expect, test } from 'vitest';
import { MARGIN_MODELS, type ScenarioModelName } from '../../src/margin/models.js';
import { marginInput } from '../../src/margin/runTables.js';
import { planModels } from '../../src/pipeline/planRun.js';
import { defaultParams } from '../../src/params/params.js';
import { deribitPmSet, jointSet, makePortfolio, spanSet } from './fixtures.js';
import { SAMPLE_BALANCES, SAMPLE_POSITIONS, sampleMarket } from './sampleBook.js';

const market = sampleMarket();
const params = defaultParams();
const { book, balances } = makePortfolio(market, SAMPLE_POSITIONS, SAMPLE_BALANCES);
const I = market.instruments.count;
const moves = Array.from({ length: 50 }, (_, s) => [((s % 10) - 5) / 50, ((s % 7) - 3) / 40]);
const sets = {
  'deribit-pm': () => deribitPmSet(market, params),
  span: () => spanSet(market, params),
  'var-hs': () => jointSet('historical', market, moves),
  'var-mc': () => jointSet('monte-carlo', market, moves),
} satisfies Record<ScenarioModelName, unknown>;

describe('readsCoinRows says what each model’s groups read', () => {
  test.each(Object.keys(sets) as ScenarioModelName[])('%s', (name) => {
    const model = MARGIN_MODELS[name];
    const { groups } = model.groups(marginInput({ book, balances, market, params, scenarios: sets[name]() }));
    const entries = groups.groupStart[groups.groupCount]!;
    expect(entries, 'the sample book gives the model entries').toBeGreaterThan(0);
    let coin = 0;
    for (let e = 0; e < entries; e++) if (groups.row[e]! >= I && groups.row[e]! < 2 * I) coin++;
    if (model.readsCoinRows) expect(coin, 'it reads coin rows, so the flag is needed').toBeGreaterThan(0);
    else expect(coin, 'it says it reads no coin rows').toBe(0);
  });

  test('a run revalues with coin rows exactly the families of the models that read them', () => {
    expect(planModels(['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard']).coinRowFamilies).toEqual(['deribit-pm']);
    expect(planModels(['span', 'var-mc']).coinRowFamilies).toEqual([]);
  });
});
