/**
 * Per-strategy sanity (issue 18, item 4): a covered call, a vertical and a basis trade, each alone in
 * an account of 10 BTC on the real 2026-02-01 chain (data/sample/market), need less deribit-pm IM than
 * standard IM — portfolio margin recognises the hedge (docs/methodology.md §4a against §4d). The
 * delta-hedged straddle does not: see OBSERVED. The engine's own margin
 * code (computeMargin over the float64 reference revaluation of test/margin/fixtures, standardRows);
 * the ratios IM_pm / IM_standard are recorded below (to ±0.005) so a change in either model shows.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { black76Delta } from '../../kernels/black76.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { standardRows } from '../../src/margin/standard.js';
import { buildRunTables } from '../../src/margin/runTables.js';
import type { Market } from '../../src/model/market.js';
import { defaultParams } from '../../src/params/params.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { makePortfolio, revalue, type PositionSpec } from '../margin/fixtures.js';

let market: Market;
beforeAll(async () => {
  market = (await loadMarket('data/sample/market')).market;
});

const Q = 10; // BTC
const mark = (name: string) => market.instruments.markPrice[market.instruments.id.get(name)!]!;
const delta = (name: string) => {
  const ins = market.instruments;
  const i = ins.id.get(name)!;
  return black76Delta(
    ins.optionType[i] === 1 ? 1 : 0,
    ins.forward[i]!,
    ins.strike[i]!,
    ins.tYears[i]!,
    ins.markIv[i]!,
    1,
  );
};

/**
 * Each strategy's legs (account = the strategy's name). A coin-settled (inverse) account holds its
 * collateral in the coin: the coin itself is the long underlying of a covered call, so the covered call
 * is the short call alone in the coin unit (its coin loss is bounded by the coin it is written on).
 */
const STRATEGIES: Record<string, () => Array<Omit<PositionSpec, 'account'>>> = {
  // short an out-of-the-money call against the coin held as collateral
  covered_call: () => [{ instrument: 'BTC-27FEB26-90000-C', qty: -Q }],
  // a call debit spread: long 80,000, short 85,000
  vertical_spread: () => [
    { instrument: 'BTC-27FEB26-80000-C', qty: Q },
    { instrument: 'BTC-27FEB26-85000-C', qty: -Q },
  ],
  // cash and carry: long the dated future, short the perpetual
  basis_trade: () => [
    { instrument: 'BTC-27MAR26', qty: Q, entry: mark('BTC-27MAR26') },
    { instrument: 'BTC-PERPETUAL', qty: -Q, entry: mark('BTC-PERPETUAL') },
  ],
};

function straddle(q: number, at = 'BTC-27FEB26-78000'): Array<Omit<PositionSpec, 'account'>> {
  const d = q * (delta(`${at}-C`) + delta(`${at}-P`));
  return [
    { instrument: `${at}-C`, qty: q },
    { instrument: `${at}-P`, qty: q },
    { instrument: 'BTC-PERPETUAL', qty: -Math.round(d * 10) / 10, entry: mark('BTC-PERPETUAL') },
  ];
}

/**
 * Where deribit-pm asks more than standard margin, recorded as found (the models are not changed by
 * issue 18; the report says so):
 * - a covered call written against a long inverse future instead of the coin (the generator's
 *   covered_call): the future's −16 % scenario costs it 1.9 BTC in coin; standard margin charges a
 *   future 2 %;
 * - a delta-hedged straddle, short or long: short, the extended −66 % scenario (weight 0.16 / 0.66)
 *   costs the inverse put about 1.9 coin per coin, so deribit-pm asks 4.5 BTC where standard margin asks
 *   each short option max(0.15 − OTM, 0.1) + mark, 3.8 BTC; long, standard margin asks nothing of long
 *   options (only the perpetual's 2 %), deribit-pm the vol-down scenario's loss.
 */
const OBSERVED: Record<string, () => Array<Omit<PositionSpec, 'account'>>> = {
  covered_call_on_future: () => [
    { instrument: 'BTC-27FEB26', qty: Q, entry: mark('BTC-27FEB26') },
    { instrument: 'BTC-27FEB26-90000-C', qty: -Q },
  ],
  // the 78,000 straddle (F = 78,789), delta hedged with the perpetual (−Σ q·Δ to 0.1 BTC), short and long
  delta_hedged_straddle_short: () => straddle(-Q),
  delta_hedged_straddle_long: () => straddle(Q),
  delta_hedged_straddle_short_6feb: () => straddle(-Q, 'BTC-6FEB26-79000'),
};

/** IM_pm / IM_standard of each strategy alone, as measured (2026-02-01 chain, default parameters). */
const RECORDED: Record<string, number> = {
  covered_call: 0.7058, // 0.7577 / 1.0736 BTC
  vertical_spread: 0.1862, // 0.2184 / 1.1731 BTC
  basis_trade: 0.5386, // 0.2208 / 0.4100 BTC
  covered_call_on_future: 1.5491, // 1.9806 / 1.2786 BTC
  delta_hedged_straddle_short: 1.1748, // 4.5215 / 3.8487 BTC
  delta_hedged_straddle_long: 12.258, // 0.2951 / 0.0241 BTC
  delta_hedged_straddle_short_6feb: 1.3489, // 4.6334 / 3.4349 BTC
};

describe('each strategy alone: deribit-pm IM < standard IM', () => {
  let ratios: Record<string, { pm: number; std: number }> | undefined;
  const measure = async () => {
    if (ratios) return ratios;
    const positions: PositionSpec[] = Object.entries({ ...STRATEGIES, ...OBSERVED }).flatMap(([account, legs]) =>
      legs().map((l) => ({ account, ...l })),
    );
    const { book, balances } = makePortfolio(market, positions);
    const params = defaultParams();
    const scenarios = buildScenarios('deribit-pm', market, params);
    const tables = buildRunTables(book, balances, market, params);
    const input = { ...tables, scenarios };
    const pm = await computeMargin(MARGIN_MODELS['deribit-pm'], input, revalue(market, scenarios, params));
    const std = standardRows(tables);
    const keys = [...new Set(positions.map((p) => p.account))].sort(); // account ids in key order
    ratios = {};
    for (const [k, name] of keys.entries()) {
      let a = 0,
        b = 0;
      for (let r = 0; r < pm.count; r++) if (pm.account[r] === k && pm.unitNames[pm.unit[r]!] === 'BTC') a += pm.im[r]!;
      for (let r = 0; r < std.count; r++)
        if (std.account[r] === k && std.unitNames[std.unit[r]!] === 'BTC') b += std.im[r]!;
      ratios[name] = { pm: a, std: b };
    }
    return ratios;
  };
  test.each(Object.keys(STRATEGIES))('%s', async (name) => {
    const { pm, std } = (await measure())[name]!;
    expect(pm).toBeGreaterThan(0);
    expect(pm).toBeLessThan(std);
    const ratio = pm / std;
    console.log(
      `${name}: deribit-pm IM ${pm.toFixed(4)} BTC, standard IM ${std.toFixed(4)} BTC, ratio ${ratio.toFixed(4)}`,
    );
    expect(Math.abs(ratio - RECORDED[name]!)).toBeLessThan(0.005);
  });
  test.each(Object.keys(OBSERVED))('%s: deribit-pm asks more (recorded)', async (name) => {
    const { pm, std } = (await measure())[name]!;
    const ratio = pm / std;
    console.log(
      `${name}: deribit-pm IM ${pm.toFixed(4)} BTC, standard IM ${std.toFixed(4)} BTC, ratio ${ratio.toFixed(4)}`,
    );
    expect(ratio).toBeGreaterThan(1);
    expect(Math.abs(ratio / RECORDED[name]! - 1)).toBeLessThan(0.005);
  });
});
