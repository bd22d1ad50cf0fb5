/**
 * Writes one run into a DuckDB report: one transaction per run (BEGIN … COMMIT, ROLLBACK on any error),
 * bulk appends through data chunks, runs accumulating in one file with increasing ids. A run that fails
 * or is killed before COMMIT leaves the file as it was (DuckDB's WAL); a new file is built under a
 * temporary name and renamed into place only once committed and closed.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError } from '../errors.js';
import { STATUS_NAMES, type MarginRows, type ModelName } from '../margin/types.js';
import { KIND_NAMES, OPTION_CALL, OPTION_PUT, SETTLEMENT_NAMES, type Market } from '../model/market.js';
import type { RejectedRow } from '../model/book.js';
import { VOL_RULE_NAMES, type ScenarioSet } from '../scenarios/types.js';
import { appendColumns, type AppendColumn } from './appendColumns.js';
import { FAMILY_NAMES, MODEL_NAMES } from './schema.js';
import { closeReport, ensureSchema, openReport, type ReportHandle } from './openReport.js';
import type { AccountSummary } from '../margin/summary.js';
import type { RunRecord, WriteOptions } from './types.js';

/** The scenario family whose ids a model's worst_scenario refers to (null: the model has no scenarios). */
export const MODEL_SCENARIO_SET: Record<ModelName, string | null> = {
  'deribit-pm': 'deribit-pm',
  span: 'span',
  'var-hs': 'historical',
  'var-mc': 'monte-carlo',
  standard: null,
};

/**
 * Writes `run` as a new run of the report `dbFile` (created when absent) and returns its id
 * (1 + the largest id already there).
 * @throws InputError naming the file when it is not a DuckDB database, not a report, or of a schema
 * version that cannot be migrated; Error on inconsistent columns or a DuckDB failure. In every case
 * nothing of the run is left in the file.
 */
export async function writeRun(dbFile: string, run: RunRecord, options: WriteOptions = {}): Promise<{ runId: number }> {
  checkShapes(run);
  const fresh = !existsSync(dbFile);
  if (fresh && !existsSync(dirname(dbFile))) throw fileError(dbFile, `cannot be created: directory ${dirname(dbFile)} does not exist`);
  const target = fresh ? `${dbFile}.partial-${process.pid}-${Date.now()}` : dbFile;
  let handle: ReportHandle | null = null;
  let runId = 0;
  try {
    handle = await openReport(target);
    const c = handle.connection;
    await c.run('BEGIN TRANSACTION');
    try {
      await ensureSchema(handle, run.engineVersion);
      const r = await c.runAndReadAll('SELECT coalesce(max(run_id), 0) + 1 FROM runs');
      runId = Number(r.getRows()[0]![0]);
      await writeBody(c, runId, run, options);
      await c.run('COMMIT');
    } catch (e) {
      try { await c.run('ROLLBACK'); } catch { /* the transaction is already gone */ }
      if (e instanceof Error && handle.file !== dbFile) e.message = e.message.split(handle.file).join(dbFile);
      throw e;
    }
    closeReport(handle);
    handle = null;
    if (fresh) publish(target, dbFile);
    return { runId };
  } finally {
    if (handle) closeReport(handle);
    if (fresh && existsSync(target)) { rmSync(target, { force: true }); rmSync(`${target}.wal`, { force: true }); }
  }
}

/**
 * Moves the committed new report `from` to `to` without replacing a file created there meanwhile
 * (a hard link fails when `to` exists; rename where links are not supported).
 * @throws Error naming `to` when it appeared during the run
 */
function publish(from: string, to: string): void {
  if (existsSync(`${from}.wal`)) throw new Error(`${from}: DuckDB left a WAL after closing; the new report was not published as ${to}`);
  try {
    linkSync(from, to);
    rmSync(from);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${to} was created by another process during this run; this run was not written`);
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') { renameSync(from, to); return; }
    throw e;
  }
}

function checkShapes(run: RunRecord): void {
  const n = run.market.instruments.count;
  if (run.modelValue.length !== n) throw new Error(`RunRecord.modelValue has ${run.modelValue.length} values for ${n} instruments`);
  for (const m of run.margin) {
    for (const [k, v] of Object.entries(m)) {
      if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length < m.count) throw new Error(`MarginRows(${m.model}).${k} has fewer than ${m.count} values`);
    }
    for (let i = 0; i < m.count; i++) {
      const a = m.account[i]!;
      if (a < 0 || a >= run.accountKey.length) throw new Error(`MarginRows(${m.model}) row ${i}: account id ${a} is not in accountKey (0..${run.accountKey.length - 1})`);
    }
  }
  for (const s of run.summaries) {
    for (let i = 0; i < s.count; i++) {
      const a = s.account[i]!;
      if (a < 0 || a >= run.accountKey.length) throw new Error(`AccountSummary(${s.model}) row ${i}: account id ${a} is not in accountKey`);
    }
  }
}

async function writeBody(c: DuckDBConnection, runId: number, run: RunRecord, options: WriteOptions): Promise<void> {
  const done = (table: string, rows: number) => options.onTableWritten?.(table, rows);
  let rows = 0;
  for (const set of run.scenarioSets) rows += await writeScenarios(c, runId, set);
  done('scenarios', rows);
  done('instruments', await writeInstruments(c, runId, run.market, run.modelValue));
  done('rejected_rows', await writeRejected(c, runId, run.rejected));

  done('accounts', await writeAccounts(c, runId, run.accountKey));
  const symbols = symbolsOf(run.margin);
  done('symbols', await writeSymbols(c, runId, symbols.names));

  rows = 0;
  for (let k = 0; k < run.margin.length; k++) rows += await writeMargin(c, runId, run.margin[k]!, symbols.unitIds[k]!, symbols.currencyIds[k]!);
  done('account_margin', rows);
  rows = 0;
  for (const s of run.summaries) rows += await writeSummary(c, runId, s);
  done('account_summary', rows);

  await writeRunRow(c, runId, run);
  done('runs', 1);
}

function constInt(n: number, value: number): Int32Array {
  return new Int32Array(n).fill(value);
}

async function writeScenarios(c: DuckDBConnection, runId: number, set: ScenarioSet): Promise<number> {
  const U = set.underlyings.length;
  const n = set.count * U;
  const scenario = new Int32Array(n);
  const dt = new Float64Array(n);
  for (let s = 0; s < set.count; s++) {
    for (let u = 0; u < U; u++) { scenario[s * U + u] = set.id[s]!; dt[s * U + u] = set.dtDays[s]!; }
  }
  const cols: AppendColumn[] = [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'VARCHAR', value: () => set.family },
    { type: 'INTEGER', values: scenario },
    { type: 'VARCHAR', value: (r) => set.label[(r / U) | 0] ?? null },
    { type: 'DOUBLE', values: dt },
    { type: 'VARCHAR', value: (r) => set.underlyings[r % U]! },
    { type: 'DOUBLE', values: set.weight },
    { type: 'DOUBLE', values: set.move },
    { type: 'DOUBLE', values: set.deltaOneMove },
    { type: 'VARCHAR', value: (r) => VOL_RULE_NAMES[set.volRule[r]!] ?? `code ${set.volRule[r]}` },
    { type: 'DOUBLE', values: set.volParam },
  ];
  await appendColumns(c, 'scenarios', cols, n);
  return n;
}

async function writeInstruments(c: DuckDBConnection, runId: number, market: Market, modelValue: Float64Array): Promise<number> {
  const ins = market.instruments;
  const n = ins.count;
  const ids = new Int32Array(n);
  const index = new Float64Array(n);
  const minusMark = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = i;
    index[i] = market.indexPrice[ins.underlying[i]!]!;
    minusMark[i] = modelValue[i]! - ins.markPrice[i]!;
  }
  const optionName = (t: number) => (t === OPTION_CALL ? 'call' : t === OPTION_PUT ? 'put' : null);
  const cols: AppendColumn[] = [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'INTEGER', values: ids },
    { type: 'VARCHAR', value: (i) => ins.name[i]! },
    { type: 'VARCHAR', value: (i) => market.underlyings[ins.underlying[i]!]! },
    { type: 'VARCHAR', value: (i) => KIND_NAMES[ins.kind[i]!]! },
    { type: 'VARCHAR', value: (i) => optionName(ins.optionType[i]!) },
    { type: 'VARCHAR', value: (i) => SETTLEMENT_NAMES[ins.settlement[i]!]! },
    { type: 'DOUBLE', values: ins.strike, nanIsNull: true },
    { type: 'TIMESTAMP_MS', values: ins.expiryMs },
    { type: 'DOUBLE', values: ins.tYears },
    { type: 'DOUBLE', values: ins.markPrice },
    { type: 'DOUBLE', values: ins.markIv, nanIsNull: true },
    { type: 'DOUBLE', values: ins.forward },
    { type: 'DOUBLE', values: ins.bidPrice, nanIsNull: true },
    { type: 'DOUBLE', values: ins.askPrice, nanIsNull: true },
    { type: 'DOUBLE', values: ins.openInterest, nanIsNull: true },
    { type: 'DOUBLE', values: index },
    { type: 'DOUBLE', values: modelValue, nanIsNull: true },
    { type: 'DOUBLE', values: minusMark, nanIsNull: true },
  ];
  await appendColumns(c, 'instruments', cols, n);
  return n;
}

async function writeRejected(c: DuckDBConnection, runId: number, rejected: RejectedRow[]): Promise<number> {
  const n = rejected.length;
  if (n === 0) return 0;
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) row[i] = rejected[i]!.row ?? NaN;
  await appendColumns(c, 'rejected_rows', [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'VARCHAR', value: (i) => rejected[i]!.file },
    { type: 'BIGINT', values: row },
    { type: 'VARCHAR', value: (i) => rejected[i]!.column },
    { type: 'VARCHAR', value: (i) => rejected[i]!.value },
    { type: 'VARCHAR', value: (i) => rejected[i]!.rule },
  ], n);
  return n;
}

function codeOf(names: readonly string[], name: string, what: string): number {
  const i = names.indexOf(name);
  if (i < 0) throw new Error(`unknown ${what} ${JSON.stringify(name)} (known: ${names.join(', ')})`);
  return i;
}

/** `standard_im − im` per row (NaN where either is NaN). */
function savingOf(standardIm: Float64Array, im: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = standardIm[i]! - im[i]!;
  return out;
}

const amount = (values: Float64Array): AppendColumn => ({ type: 'DOUBLE', values, nanIsNull: true });

/** One `accounts` row per key of the run: the names account_margin and account_summary join in. */
async function writeAccounts(c: DuckDBConnection, runId: number, accountKey: string[]): Promise<number> {
  const n = accountKey.length;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await appendColumns(c, 'accounts', [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'INTEGER', values: ids },
    { type: 'VARCHAR', value: (i) => accountKey[i]! },
  ], n);
  return n;
}

/**
 * The run's unit and currency names as one dictionary (`symbols`), and per margin block the symbol id
 * of each of its unit and currency codes.
 */
function symbolsOf(margin: MarginRows[]): { names: string[]; unitIds: Int32Array[]; currencyIds: Int32Array[] } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const idsOf = (list: string[]) => Int32Array.from(list, (name) => {
    let id = index.get(name);
    if (id === undefined) { id = names.length; names.push(name); index.set(name, id); }
    return id;
  });
  return { names, unitIds: margin.map((m) => idsOf(m.unitNames)), currencyIds: margin.map((m) => idsOf(m.currencyNames)) };
}

async function writeSymbols(c: DuckDBConnection, runId: number, names: string[]): Promise<number> {
  const n = names.length;
  if (n === 0) return 0;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await appendColumns(c, 'symbols', [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'INTEGER', values: ids },
    { type: 'VARCHAR', value: (i) => names[i]! },
  ], n);
  return n;
}

/**
 * Margin rows straight into margin_rows (read through the account_margin view): numbers, account ids,
 * symbol ids and enum codes (model, status, scenario set) are copied a chunk at a time; no per-row strings.
 * `unitIds` / `currencyIds`: symbol id per code of the block's unitNames / currencyNames.
 */
async function writeMargin(c: DuckDBConnection, runId: number, m: MarginRows, unitIds: Int32Array, currencyIds: Int32Array): Promise<number> {
  const n = m.count;
  const family = MODEL_SCENARIO_SET[m.model];
  const unit = new Int32Array(n);
  const currency = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (m.status[i]! >= STATUS_NAMES.length) throw new Error(`MarginRows(${m.model}) row ${i}: status code ${m.status[i]} is not one of ${STATUS_NAMES.join(', ')}`);
    const u = unitIds[m.unit[i]!];
    const k = currencyIds[m.currency[i]!];
    if (u === undefined || k === undefined) throw new Error(`MarginRows(${m.model}) row ${i}: unit ${m.unit[i]} or currency ${m.currency[i]} has no name`);
    unit[i] = u;
    currency[i] = k;
  }
  await appendColumns(c, 'margin_rows', [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'CODE8', values: new Uint8Array(n).fill(codeOf(MODEL_NAMES, m.model, 'model')) },
    { type: 'INTEGER', values: m.account.length === n ? m.account : m.account.subarray(0, n) },
    { type: 'INTEGER', values: unit },
    { type: 'INTEGER', values: currency },
    amount(m.im), amount(m.mm), amount(m.equity), amount(m.marginRatio), amount(m.available),
    { type: 'CODE8', values: m.status },
    family === null ? { type: 'VARCHAR', value: () => null } : { type: 'CODE8', values: new Uint8Array(n).fill(codeOf(FAMILY_NAMES, family, 'scenario set')) },
    { type: 'INTEGER', values: m.worstScenario, negativeIsNull: true },
    amount(m.worstCase), amount(m.rollShock), amount(m.deltaShock), amount(m.riskMatrixMargin), amount(m.scanRisk), amount(m.som), amount(m.var), amount(m.es),
    amount(m.liquidityAddon), amount(m.standardIm), amount(m.standardMm), amount(savingOf(m.standardIm, m.im, n)),
  ], n);
  return n;
}

/**
 * Summary rows into summary_rows (read through the account_summary view, which adds currency 'USD'):
 * the margin module's USD columns as they are, plus `available` = equity − IM; `saving` is `savingUsd`
 * (standard IM − IM, as accountSummary defines it).
 */
async function writeSummary(c: DuckDBConnection, runId: number, s: AccountSummary): Promise<number> {
  const n = s.count;
  const available = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (s.status[i]! >= STATUS_NAMES.length) throw new Error(`AccountSummary(${s.model}) row ${i}: status code ${s.status[i]} is not one of ${STATUS_NAMES.join(', ')}`);
    available[i] = s.equityUsd[i]! - s.imUsd[i]!;
  }
  await appendColumns(c, 'summary_rows', [
    { type: 'INTEGER', values: constInt(n, runId) },
    { type: 'CODE8', values: new Uint8Array(n).fill(codeOf(MODEL_NAMES, s.model, 'model')) },
    { type: 'INTEGER', values: s.account.length === n ? s.account : s.account.subarray(0, n) },
    amount(s.equityUsd), amount(s.imUsd), amount(s.mmUsd), amount(s.marginRatio), amount(available),
    { type: 'CODE8', values: s.status },
    amount(s.standardImUsd), amount(s.standardMmUsd), amount(s.savingUsd),
  ], n);
  return n;
}

/** SHA-256 (hex) of JSON.stringify(params): the fallback when the run does not carry its params hash. */
export function paramsHashOf(params: unknown): string {
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

async function writeRunRow(c: DuckDBConnection, runId: number, run: RunRecord): Promise<void> {
  const now = Date.now();
  const scenarioSets: Record<string, unknown> = {};
  for (const s of run.scenarioSets) scenarioSets[s.family] = { count: s.count, underlyings: s.underlyings, meta: s.meta };
  await c.run(
    `INSERT INTO runs VALUES ($1, epoch_ms($2::BIGINT), epoch_ms($3::BIGINT), epoch_ms($4::BIGINT), epoch_ms($5::BIGINT),
      CAST($6::JSON AS VARCHAR[]), $7::JSON, $8, $9::JSON, $10::JSON, $11::JSON, $12::JSON, $13, $14)`,
    [
      runId,
      Math.round(run.startedAtMs),
      Math.round(run.finishedAtMs ?? now),
      now,
      Math.round(run.snapshotTimeMs),
      JSON.stringify(run.models),
      JSON.stringify(run.params),
      run.paramsHash ?? paramsHashOf(run.params),
      JSON.stringify(run.inputs),
      JSON.stringify(run.backends),
      JSON.stringify(run.timingsMs),
      JSON.stringify(scenarioSets),
      run.engineVersion,
      run.status ?? (run.rejected.length > 0 ? 'ok_with_rejected_rows' : 'ok'),
    ],
  );
}
