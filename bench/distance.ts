/**
 * The `distance` workload (issue 16): every account's distance to liquidation (docs/methodology.md §7,
 * src/margin/distance.ts) over the 100,000-account book of the end-to-end workloads (data/full/market,
 * seed 7), models deribit-pm and span, on one backend choice, in this process. `--limit N` takes the book's
 * first N accounts (a sub-portfolio: their positions and balances, unchanged); `--timeout S` stops the
 * search (the record says so and how far it got). Writes bench/results/distance-<time>.json. Target
 * (issue 16): ≤ 15 s for the whole book on the 2-core machine.
 */
import { loadMarket } from '../src/io/loadMarket.js';
import { loadBook } from '../src/io/loadBook.js';
import { defaultParams } from '../src/params/params.js';
import { buildScenarios } from '../src/scenarios/build.js';
import type { Family, ScenarioSet } from '../src/scenarios/types.js';
import { createBackend } from '../src/engine/createBackend.js';
import type { BackendChoice } from '../src/engine/types.js';
import {
  accountsWithin,
  distanceSearchCount,
  liquidationDistances,
  searchParts,
  type SearchStats,
} from '../src/margin/distance.js';
import { subPortfolio, type DistanceEngine } from '../src/margin/remargin.js';
import type { ModelName } from '../src/margin/types.js';
import { createHash } from 'node:crypto';
import { END_TO_END, ensureBook } from './endToEndWorkloads.js';

export interface DistanceBenchOptions {
  backend: BackendChoice;
  limit?: number;
  timeoutSeconds: number;
  workers?: number;
  /** false: the searches on this thread through the backend (DistanceOptions.threads), for A/B runs */
  threads?: boolean;
  /** each search's units in this many parts on the threads (DistanceOptions.searchParts; default: by the cores) */
  searchParts?: number;
  /** the scan's block (DistanceOptions.scanBlock; default SCAN_BLOCK_UNITS): for tuning */
  scanBlock?: number;
}

export async function runDistanceBench(o: DistanceBenchOptions): Promise<Record<string, unknown>> {
  const w = END_TO_END.intraday; // the same book and market
  const models: ModelName[] = ['deribit-pm', 'span'];
  const book0 = ensureBook(w);
  const t0 = performance.now();
  const lm = await loadMarket(w.marketDir, { onInvalid: 'fail' });
  const market = lm.market;
  const loaded = await loadBook(market, book0.positions, book0.balances, {
    onInvalid: 'fail',
    rejectedInstruments: lm.rejectedInstruments,
  });
  const n = Math.min(o.limit ?? loaded.book.accountCount, loaded.book.accountCount);
  const sub = subPortfolio(
    loaded.book,
    loaded.balances,
    market,
    Int32Array.from({ length: n }, (_, a) => a),
  );
  const book = n === loaded.book.accountCount ? loaded.book : sub.book;
  const balances = n === loaded.book.accountCount ? loaded.balances : sub.balances;
  const bookMarket = n === loaded.book.accountCount ? market : sub.market;
  const params = defaultParams();
  const sets = new Map<Family, ScenarioSet>([
    ['deribit-pm', buildScenarios('deribit-pm', market, params, {})],
    ['span', buildScenarios('span', market, params, {})],
  ]);
  const backend = await createBackend(o.backend, { workers: o.workers });
  const loadSeconds = (performance.now() - t0) / 1000;
  const deadline = performance.now() + o.timeoutSeconds * 1000;
  let calls = 0;
  const past = () => {
    if (performance.now() > deadline) throw new Error(`timeout after ${o.timeoutSeconds} s`);
  };
  const engine: DistanceEngine = {
    revalue: (m, s, p) => {
      past();
      calls++;
      return backend.revalue(m, s, p);
    },
    aggregate: (p, g, r) => backend.aggregate(p, g, r),
    // the backend's worker threads, when it lends them: the searches then run there, and
    // revalueCalls counts this thread's calls (the models' base re-margins) and the timeout is checked there only;
    // each task's hand-over and end are recorded (where the whole book's time goes on many cores)
    threads: backend.threads && {
      workers: backend.threads.workers,
      run: (filename, task) => {
        const handed = performance.now() - t1;
        return backend.threads!.run(filename, task).then((r) => {
          tasks.push([handed, performance.now() - t1]);
          return r;
        });
      },
    },
  };
  const tasks: Array<[handed: number, ended: number]> = [];
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  let completed = true;
  let error: string | null = null;
  let within: Record<string, number[]> = {};
  let fingerprint: Record<string, string> = {};
  let search: Record<string, SearchStats> = {};
  let seconds: number;
  let cpu: NodeJS.CpuUsage;
  try {
    const ds = await liquidationDistances(book, balances, bookMarket, params, sets, models, engine, {
      threads: o.threads,
      searchParts: o.searchParts,
      scanBlock: o.scanBlock,
    });
    within = Object.fromEntries(ds.map((d) => [d.model, accountsWithin(d)]));
    // the clock stops with what the run's summary has (the rows and the accounts within each threshold); the
    // fingerprint below is the bench's own check
    seconds = (performance.now() - t1) / 1000;
    cpu = process.cpuUsage(cpu0);
    // what the searches evaluated: the scan's (unit, grid point) pairs and the refinement's points, per model
    search = Object.fromEntries(ds.map((d) => [d.model, d.search]));
    // SHA-256 of every column of the rows: a speed change must leave them bit for bit as they were
    fingerprint = Object.fromEntries(
      ds.map((d) => {
        const h = createHash('sha256');
        for (const c of [d.account, d.unit, d.underlying, d.direction, d.move, d.price, d.equity, d.mm])
          h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        return [d.model, h.digest('hex').slice(0, 16)];
      }),
    );
  } catch (e) {
    completed = false;
    error = (e as Error).message;
    seconds = (performance.now() - t1) / 1000;
    cpu = process.cpuUsage(cpu0);
  }
  await backend.close();
  return {
    workload: 'distance',
    models,
    accounts: n,
    positions: book.instrumentId.length,
    backendChoice: o.backend,
    backendRan: backend.report.phases ?? backend.report.chosen,
    loadSeconds,
    distanceSeconds: seconds,
    completed,
    error,
    revalueCalls: calls,
    threads: o.threads !== false && backend.threads ? backend.threads.workers : 0,
    // every thread's CPU time in the search (user, system): against seconds × threads, how busy the cores were
    cpuSeconds: { user: cpu.user / 1e6, system: cpu.system / 1e6 },
    // the searches' tasks on the threads (ms from the search's start): the first handed to the pool (after the
    // models' base re-margins on this thread; the pool queues what finds no free thread), each end in order,
    // and what followed the last (the last model's rows, the accounts within each threshold)
    tasks: tasks.length
      ? {
          count: tasks.length,
          firstHandedMs: Math.round(Math.min(...tasks.map((t) => t[0]))),
          endsMs: tasks.map((t) => Math.round(t[1])).sort((a, b) => a - b),
          afterLastMs: Math.round(seconds * 1000 - Math.max(...tasks.map((t) => t[1]))),
        }
      : null,
    // parts a search (on one thread, or a pool of one, the searches are not cut)
    searchParts:
      o.threads !== false && backend.threads && backend.threads.workers > 1
        ? (o.searchParts ?? searchParts(backend.threads.workers, distanceSearchCount(models, bookMarket)))
        : 1,
    // every thread's: the process's peak resident set so far (the search's threads each hold their own work;
    // with several backends in one bench run, the largest of them up to this one)
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    accountsWithin1_2_5_10pct: within,
    fingerprint,
    search,
    target: { seconds: 15, accounts: 100_000 },
  };
}
