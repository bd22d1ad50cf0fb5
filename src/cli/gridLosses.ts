/**
 * The loss of every deribit-pm scenario, for the book and for one account, recomputed for the report page
 * from the run's own inputs: the report stores each unit's worst scenario and loss, not the loss in every
 * scenario. The run recorded every input file with its SHA-256 (runs.inputs) and its parameter set
 * (runs.params); when the files are still there, unchanged, this loads them and computes each unit's loss
 * per scenario as the generator's copy of the engine's deribit-pm does (src/generate/unitMargins.ts: the
 * cpu backend's float64 revaluation, the set's bucket weights and pnl_offset) — the maximum of a unit's
 * losses, floored at 0, is its stored `worst_case` (test/page/reportPage.test.ts checks it). Lives in the
 * command line because it joins the report's reading (src/report), the loaders (src/io) and the generator's
 * margin table (src/generate), which the layers keep apart.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadMarket } from '../io/loadMarket.js';
import { loadBook } from '../io/loadBook.js';
import { paramsFromJson } from '../params/loadParams.js';
import { sha256File } from '../util/fileHash.js';
import { pmMarginTable, UnitMarginAccount } from '../generate/unitMargins.js';
import { KIND_OPTION } from '../model/market.js';
import type { PageData } from '../report/pageData.js';

/**
 * The grid losses of `d`'s run for `account` (default: the page's gridAccount), or why there are none:
 * no deribit-pm in the run, an input file missing or changed since the run, an unknown account.
 */
export async function gridLosses(d: PageData, account?: string): Promise<PageData['gridLosses']> {
  if (!d.deribitGrid.present) return { present: false, reason: d.deribitGrid.reason };
  const chosen = account ?? d.gridAccount;
  if (chosen === null) return { present: false, reason: 'the run has no deribit-pm account' };
  const file = (role: string) => d.header.inputs.find((i) => i.role === role);
  const files = ['instruments', 'underlyings', 'positions', 'balances'].map((r) => [r, file(r)] as const);
  for (const [role, f] of files) {
    if (!f) return { present: false, reason: `the run records no ${role} input` };
    if (!existsSync(f.path)) return { present: false, reason: `the run's ${role} input ${f.path} is no longer there` };
    if (sha256File(f.path) !== f.sha256)
      return { present: false, reason: `the run's ${role} input ${f.path} has changed since the run (SHA-256)` };
  }
  const instruments = files[0]![1]!;
  const { market } = await loadMarket(dirname(instruments.path), {
    onInvalid: d.header.status === 'ok' ? 'fail' : 'skip',
  });
  const params = paramsFromJson(JSON.parse(d.paramsJson), `run ${d.header.runId} parameters`);
  const { book } = await loadBook(market, files[2]![1]!.path, files[3]![1]!.path, {
    onInvalid: d.header.status === 'ok' ? 'fail' : 'skip',
  });
  const a0 = book.accountKey.indexOf(chosen);
  if (a0 < 0) return { present: false, reason: `account ${chosen} is not in the run's book` };
  const t = pmMarginTable(market, params);
  const U = t.underlyings;
  const S = t.scenarios;
  const ins = market.instruments;
  const rate = Array.from({ length: U + 1 }, (_, c) => (c < U ? market.indexPrice[c]! : 1));
  const names = [...market.underlyings, 'USDC'];
  const book$ = new Float64Array(S);
  const loss = new Float64Array(S);
  const units: { unit: string; currency: string; scenario: number; loss: number }[] = [];
  const acc = new UnitMarginAccount(t);
  for (let a = 0; a < book.accountCount; a++) {
    acc.reset();
    for (let p = book.accountStart[a]!; p < book.accountStart[a + 1]!; p++) {
      const i = book.instrumentId[p]!;
      acc.add(i, book.quantity[p]!, book.entryPrice[p]!, ins.underlying[i]!, ins.kind[i] === KIND_OPTION);
    }
    for (let c = 0; c <= U; c++) {
      if (!acc.held[c]) continue;
      acc.unitLosses(c, loss);
      for (let s = 0; s < S; s++) book$[s] = book$[s]! + loss[s]! * rate[c]!;
      if (a === a0)
        for (let s = 0; s < S; s++) units.push({ unit: names[c]!, currency: names[c]!, scenario: s, loss: loss[s]! });
    }
  }
  return {
    present: true,
    data: { account: chosen, book: Array.from(book$, (lossUsd, scenario) => ({ scenario, lossUsd })), units },
  };
}
