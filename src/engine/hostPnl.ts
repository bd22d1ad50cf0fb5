/**
 * The float64 reference P&L matrix of a scenario set, computed on the calling thread with the cpu form of
 * revaluation (kernels/revalue.ts revalueTile, its option cells hostRevalue.ts's, then the spot rows): the same
 * bits as the cpu backend's matrix. For the answers that read P&L rows again after a run (attribution,
 * docs/methodology.md §9; what-if, §10, the distance search's threads), whichever backend ran the margins.
 */
import type { Market } from '../model/market.js';
import type { Params } from '../params/params.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { revalueTileHere } from './hostRevalue.js';
import { revalueColumns } from './revalueColumns.js';
import { writeSpotRows } from './spotRows.js';
import { pnlRowCount, type PnlMatrix } from './types.js';

/** The whole matrix (2I + U rows × S scenarios, float64) of `scenarios` over `market`. */
export function hostPnl(market: Market, scenarios: ScenarioSet, params: Params): PnlMatrix {
  const c = revalueColumns(market, scenarios, params, true);
  revalueTileHere(c, 0, c.instruments, 0, c.scenarios);
  writeSpotRows(market, scenarios, c.out);
  return { rows: pnlRowCount(c.instruments, c.underlyings), scenarios: c.scenarios, data: c.out };
}
