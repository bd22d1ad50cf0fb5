#!/usr/bin/env node
/**
 * One end-to-end run in its own process (so its peak RSS is its own): `node dist/bench/endToEndChild.js
 * --workload intraday|eod --backend cpu|gl|auto|webgpu --positions F --balances F [--db F.duckdb]
 * --result F.json --phase-log F [--reference F (write when --backend cpu, compare otherwise)]`.
 *
 * Times `runMargin` (what `margin-engine run` calls) from reading the Arrow files to the committed DuckDB
 * run; reads maxRSS right after it returns (before the correctness check allocates anything); counts the
 * work (instrument-scenario evaluations, position-scenario multiply-adds); then writes the float64
 * reference (cpu) or compares with it (any other backend). Each phase call is appended to the phase log
 * as it starts and ends, so a run killed by the parent's time limit still says where the time went.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs, required, optional } from '../src/cli/args.js';
import { runMargin } from '../src/pipeline/runMargin.js';
import type { Progress } from '../src/util/progress.js';
import type { BackendChoice } from '../src/engine/types.js';
import { MARGIN_MODELS, type ScenarioModelName } from '../src/margin/models.js';
import { buildRunTables } from '../src/margin/runTables.js';
import { END_TO_END, type EndToEndName } from './endToEndWorkloads.js';
import { compareWithReference, writeReference } from './marginCheck.js';

/**
 * A Progress that appends tab-separated `start|end, phase label, total, ms (since start | duration), monotonic µs (the
 * clock of --cpu-prof's timestamps)` lines (synchronously) to a file.
 */
function phaseLog(file: string): Progress & { calls: Array<{ phase: string; total: number; ms: number }> } {
  const calls: Array<{ phase: string; total: number; ms: number }> = [];
  let phase = '';
  let total = 0;
  let t0 = 0;
  const origin = performance.now();
  writeFileSync(file, '');
  return {
    calls,
    start(p, t = 0) {
      phase = p;
      total = t;
      t0 = performance.now();
      appendFileSync(file, `start\t${p}\t${t}\t${(t0 - origin).toFixed(1)}\t${process.hrtime.bigint() / 1000n}\n`);
    },
    update() {},
    end() {
      const ms = performance.now() - t0;
      calls.push({ phase, total, ms });
      appendFileSync(file, `end\t${phase}\t${total}\t${ms.toFixed(1)}\t${process.hrtime.bigint() / 1000n}\n`);
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      workload: {},
      backend: {},
      positions: {},
      balances: {},
      db: {},
      result: {},
      'phase-log': {},
      reference: {},
      workers: {},
    },
    'bench child',
  );
  const w = END_TO_END[required(p, 'workload', 'bench child') as EndToEndName];
  if (!w) throw new Error(`unknown workload ${required(p, 'workload', 'bench child')}`);
  const backend = required(p, 'backend', 'bench child') as BackendChoice;
  const log = phaseLog(required(p, 'phase-log', 'bench child'));
  const reference = optional(p, 'reference');
  const workers = optional(p, 'workers') ? Number(optional(p, 'workers')) : undefined;
  const rssBefore = process.resourceUsage().maxRSS;

  const t0 = performance.now();
  const outcome = await runMargin({
    marketDir: w.marketDir,
    positions: required(p, 'positions', 'bench child'),
    balances: required(p, 'balances', 'bench child'),
    models: w.models,
    historyDir: w.historyDir,
    backend,
    onInvalid: 'fail',
    // without --db the run writes no report (bench/device.sh: the device runs leave DuckDB out)
    db: optional(p, 'db'),
    workers,
    progress: log,
  });
  const endToEndMs = performance.now() - t0;
  const peakRssKiB = process.resourceUsage().maxRSS;

  // the work done (counted after the timed run)
  const I = outcome.market.instruments.count;
  const evaluations = outcome.scenarioSets.reduce((n, s) => n + I * s.count, 0);
  const scenarioCounts = Object.fromEntries(outcome.scenarioSets.map((s) => [s.family, s.count]));
  const aggregationByModel: Array<{
    model: string;
    groups: number;
    entries: number;
    scenarios: number;
    multiplyAdds: number;
    ms: number | null;
  }> = [];
  const aggCalls = log.calls.filter((c) => c.phase.startsWith('aggregation'));
  const tables = buildRunTables(outcome.book, outcome.balances, outcome.market, outcome.params);
  for (const [n, m] of (w.models.filter((x) => x !== 'standard') as ScenarioModelName[]).entries()) {
    const set = outcome.scenarioSets.find((s) => s.family === MARGIN_MODELS[m].family)!;
    const plan = MARGIN_MODELS[m].groups({ ...tables, scenarios: set });
    const entries = plan.groups.groupStart[plan.groups.groupCount]!;
    aggregationByModel.push({
      model: m,
      groups: plan.groups.groupCount,
      entries,
      scenarios: set.count,
      multiplyAdds: entries * set.count,
      ms: aggCalls[n]?.ms ?? null,
    });
  }
  const multiplyAdds = aggregationByModel.reduce((n, a) => n + a.multiplyAdds, 0);
  const revalCalls = log.calls.filter((c) => c.phase.startsWith('revaluation'));
  const revaluationByFamily = outcome.scenarioSets.map((s, n) => ({
    family: s.family,
    scenarios: s.count,
    evaluations: I * s.count,
    ms: revalCalls[n]?.ms ?? null,
  }));

  let check: unknown;
  if (reference && backend === 'cpu') {
    writeReference(reference, outcome.margin);
    check = { ok: true, note: 'float64 reference (written for the other backends)' };
  } else if (reference) {
    try {
      check = compareWithReference(reference, outcome.margin, outcome.book, outcome.balances, outcome.market);
    } catch (e) {
      check = { ok: false, note: `no reference: ${(e as Error).message}` };
    }
  } else check = { ok: null, note: 'no reference given' };

  const t = outcome.timingsMs;
  const result = {
    workload: w.name,
    backendChoice: backend,
    runId: outcome.runId,
    positions: outcome.book.instrumentId.length,
    accounts: outcome.book.accountCount,
    instruments: I,
    scenarioCounts,
    endToEndSeconds: endToEndMs / 1000,
    phasesSeconds: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / 1000])),
    phaseCalls: log.calls.map((c) => ({ phase: c.phase, total: c.total, seconds: c.ms / 1000 })),
    // the report thread's whole busy time (opening, appends, COMMIT); most of it overlaps the phases above
    reportThreadBusySeconds: outcome.reportBusyMs === null ? null : outcome.reportBusyMs / 1000,
    throughput: {
      evaluations,
      evaluationsPerSecond: t.revaluation ? evaluations / (t.revaluation / 1000) : null,
      multiplyAdds,
      multiplyAddsPerSecond: t.aggregation ? multiplyAdds / (t.aggregation / 1000) : null,
    },
    revaluationByFamily,
    aggregationByModel: aggregationByModel.map((a) => ({
      ...a,
      multiplyAddsPerSecond: a.ms ? a.multiplyAdds / (a.ms / 1000) : null,
    })),
    peakRssMiB: Math.round(peakRssKiB / 1024),
    rssBeforeRunMiB: Math.round(rssBefore / 1024),
    backends: outcome.backends,
    backendReport: outcome.backendReport,
    check,
  };
  writeFileSync(required(p, 'result', 'bench child'), JSON.stringify(result, null, 2) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench child: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
