#!/usr/bin/env node
/**
 * Where the `report` phase's time goes: `node dist/bench/reportBreakdown.js [--workload intraday|eod]
 * [--backend cpu]`. Runs the workload's models without a database (runMargin with no --db), then writes the
 * same run with `writeRun` to a fresh file under bench/.cache/report/, timing each table through
 * `onTableWritten`; the time after the last table up to writeRun's return is COMMIT, checkpoint, close and
 * the rename into place. The record (RunRecord) is built as runMargin builds it, except that model values
 * are the forwards (same column size and type; their values do not change the write time).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, optional } from '../src/cli/args.js';
import { runMargin } from '../src/pipeline/runMargin.js';
import { writeRun } from '../src/report/writer.js';
import { accountEquityUsd } from '../src/margin/equity.js';
import { optionValuesUsd } from '../src/margin/optionValue.js';
import type { BackendChoice } from '../src/engine/types.js';
import type { RunRecord } from '../src/report/types.js';
import { ENGINE_VERSION } from '../src/pipeline/version.js';
import { CACHE_DIR, END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { runTool } from './toolMain.js';

const USAGE = `node dist/bench/reportBreakdown.js [--workload intraday|eod] [--backend cpu]

Where the report phase's time goes: the workload's run written again to a fresh file, table by table, then COMMIT.`;

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { workload: {}, backend: {} }, 'bench report');
  const w = END_TO_END[(optional(p, 'workload') ?? 'intraday') as EndToEndName];
  const book = ensureBook(w);
  const o = await runMargin({
    marketDir: w.marketDir,
    positions: book.positions,
    balances: book.balances,
    models: w.models,
    historyDir: w.historyDir,
    backend: (optional(p, 'backend') ?? 'cpu') as BackendChoice,
    onInvalid: 'fail',
  });
  const record: RunRecord = {
    startedAtMs: Date.now(),
    snapshotTimeMs: o.market.snapshotTimeMs,
    models: [...w.models, 'standard'],
    params: o.params,
    paramsHash: o.paramsHash,
    inputs: [],
    backends: o.backends,
    timingsMs: o.timingsMs,
    engineVersion: ENGINE_VERSION,
    market: o.market,
    modelValue: Float64Array.from(o.market.instruments.forward),
    scenarioSets: o.scenarioSets,
    accountKey: o.book.accountKey,
    margin: o.margin,
    accountEquityUsd: accountEquityUsd(o.book, o.balances, o.market, optionValuesUsd(o.market)),
    rejected: [],
  };
  const dir = join(CACHE_DIR, 'report');
  mkdirSync(dir, { recursive: true });
  const db = join(dir, `${w.name}.duckdb`);
  rmSync(db, { force: true });
  const steps: Array<{ step: string; rows: number; seconds: number }> = [];
  const t0 = performance.now();
  let last = t0;
  await writeRun(db, record, {
    onTableWritten: (table, rows) => {
      const now = performance.now();
      steps.push({ step: table, rows, seconds: (now - last) / 1000 });
      last = now;
    },
  });
  const end = performance.now();
  steps.push({ step: 'commit + close + publish', rows: 0, seconds: (end - last) / 1000 });
  process.stdout.write(
    JSON.stringify(
      {
        workload: w.name,
        totalSeconds: (end - t0) / 1000,
        note: 'the first step includes opening the file and creating the schema',
        steps,
      },
      null,
      2,
    ) + '\n',
  );
  return 0;
}

runTool('report', USAGE, main).then((code) => process.exit(code));
