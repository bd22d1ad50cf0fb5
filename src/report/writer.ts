/**
 * Writes one run into a DuckDB report: one transaction per run (BEGIN … COMMIT, ROLLBACK on any error),
 * bulk appends through data chunks, runs accumulating in one file with increasing ids. A run that fails
 * or is killed before COMMIT leaves the file as it was (DuckDB's WAL); a new file is built under a
 * temporary name and renamed into place only once committed and closed.
 *
 * Two ways in: `writeRun` writes a whole RunRecord at once; a `RunWriter` takes the run's tables one
 * block at a time while the transaction stays open (runMargin drives one in a worker thread, fed as
 * each model finishes: reportSession.ts).
 */
import type { DistanceRows } from '../margin/distance.js';
import { writeDistance } from './liquidation.js';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, renameSync, rmSync, statSync, statfsSync } from 'node:fs';
import {
  acquireCreateLock,
  createLockPath,
  creatingPartial,
  releaseCreateLock,
  removeStalePartials,
  removeWithCompanions,
} from '../util/partialFiles.js';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { fileError } from '../errors.js';
import { STATUS_NAMES, type MarginRows } from '../margin/types.js';
import { KIND_NAMES, OPTION_CALL, OPTION_PUT, SETTLEMENT_NAMES, type Market } from '../model/market.js';
import { accountKeyCount, accountKeyStrings, type AccountKeyList, type RejectedRow } from '../model/book.js';
import { VOL_RULE_NAMES, type ScenarioSet } from '../scenarios/types.js';
import { appendColumns, type AppendColumn } from './appendColumns.js';
import { writeAttribution } from './attribution.js';
import { writeVolSurface } from './volSurface.js';
import { fitSurface, type VolSurface } from '../surface/surface.js';
import { loadSviWasm } from '../surface/sviWasmLoad.js';
import type { Attribution } from '../margin/attribution.js';
import { MODEL_NAMES, MODEL_STORAGE, SCHEMA_VERSION } from './schema.js';
import { closeReport, ensureSchema, openReport, type ReportHandle } from './openReport.js';
import { adoptTemplate, builtReportTemplate, copyReportTemplate } from './reportTemplate.js';
import { usdRates } from '../margin/summary.js';
import { RowChecks } from './rowChecks.js';
import { WriteBack } from './writeBack.js';
import { FIELD_OF } from '../margin/derived.js';
import type { RunRecord, WriteOptions } from './types.js';

/**
 * Writes `run` as a new run of the report `dbFile` (created when absent) and returns its id
 * (1 + the largest id already there): a RunWriter fed every table of the record in turn.
 * @throws InputError naming the file when it is not a DuckDB database, not a report, or of a schema
 * version that cannot be migrated; Error on inconsistent columns or a DuckDB failure. In every case
 * nothing of the run is left in the file.
 */
export async function writeRun(dbFile: string, run: RunRecord, options: WriteOptions = {}): Promise<{ runId: number }> {
  const w = await RunWriter.open(dbFile, run.engineVersion);
  try {
    const done = (table: string, rows: number) => options.onTableWritten?.(table, rows);
    let rows = 0;
    for (const set of run.scenarioSets) rows += await w.scenarios(set);
    done('scenarios', rows);
    done('instruments', await w.instruments(run.market, run.modelValue));
    done('vol_surface', await w.volSurface(run.volSurface ?? null, run.volSurfaceFilled ?? null));
    done('rejected_rows', await w.rejected(run.rejected));
    done('accounts', await w.accounts(run.accountKey, run.accountEquityUsd));
    rows = 0;
    const hasPm = run.margin.some((m) => m.model === 'deribit-pm');
    for (const m of run.margin)
      rows += await w.margin(m, hasPm && m.model === 'standard' && run.models.includes('standard'));
    done('account_margin', rows);
    done('symbols', await w.symbols());
    await w.runRow(runMetaOf(run));
    done('runs', 1);
    return { runId: await w.commit() };
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** The `runs` row of a run: the RunRecord without its tables. */
export type RunMeta = Omit<
  RunRecord,
  | 'market'
  | 'modelValue'
  | 'scenarioSets'
  | 'accountKey'
  | 'accountEquityUsd'
  | 'margin'
  | 'rejected'
  | 'volSurface'
  | 'volSurfaceFilled'
> & {
  /** what runs.scenario_sets records per family */
  scenarioSets: Array<Pick<ScenarioSet, 'family' | 'count' | 'underlyings' | 'meta'>>;
  /** input rows left out under --on-invalid=skip (status 'ok_with_rejected_rows' unless `status` says otherwise) */
  rejectedRows: number;
};

/** The RunMeta of a whole RunRecord. */
export function runMetaOf(run: RunRecord): RunMeta {
  const {
    market: _m,
    modelValue: _v,
    scenarioSets,
    accountKey: _a,
    accountEquityUsd: _e,
    margin: _g,
    rejected,
    volSurface: _s,
    volSurfaceFilled: _f,
    ...rest
  } = run;
  return {
    ...rest,
    scenarioSets: scenarioSets.map(({ family, count, underlyings, meta }) => ({ family, count, underlyings, meta })),
    rejectedRows: rejected.length,
  };
}

/**
 * One run being written: its transaction is open from `open` to `commit` (or `abort`), and its tables
 * are appended a block at a time as the caller has them. Calls must not overlap (each awaits the
 * previous); after a failure only `abort` may be called. Accounts come before any margin rows (their
 * account ids are checked against them); instruments before `symbols` (its index prices give the
 * symbols' USD rates); instruments and accounts before `commit`. The account summaries are not written:
 * the account_summary view derives them from the margin rows (schema 5).
 */
export class RunWriter {
  private readonly symbolNames: string[] = [];
  private readonly symbolIndex = new Map<string, number>();
  private accountCount = -1;
  private accountKey: AccountKeyList = [];
  /** the keys as strings, decoded once for the tables that take strings (the distances) */
  private keyStrings: string[] | null = null;
  private instrumentCount = -1;
  /** the run's market (from `instruments`): the index prices of the symbols' USD rates */
  private market: Market | null = null;
  /** whether the run has written deribit-pm rows */
  private hasDeribitPm = false;
  /** how the run's standard rows were written: stored in margin_standard, derived (left to the view), or not at all */
  private standard: 'none' | 'stored' | 'derived' = 'none';
  private closed = false;
  /** the row groups DuckDB wrote so far synced to the disk while the run goes on (writeBack.ts) */
  private readonly writeBack: WriteBack;

  /**
   * `target`: the file DuckDB writes, `dbFile` itself or (for a new report) the temporary `.partial-…`
   * name; `checks`: the checks of the blocks' derived values, or null when the caller runs them
   */
  private constructor(
    readonly dbFile: string,
    readonly target: string,
    private readonly fresh: boolean,
    private readonly handle: ReportHandle,
    readonly runId: number,
    private readonly checks: RowChecks | null,
  ) {
    this.writeBack = new WriteBack(target);
  }

  /** `done`, after which the file's new row groups are synced to the disk (writeBack.ts). */
  private thenWriteBack(done: Promise<number>): Promise<number> {
    return done.then((n) => {
      this.writeBack.request();
      return n;
    });
  }

  /**
   * Opens (or creates) the report `dbFile`, begins the run's transaction, creates or migrates the
   * schema and takes the next run id. `rowChecks`: 'writer' (default) checks each block's derived values
   * as it arrives (RowChecks); 'caller' leaves them to the caller, which must run a RowChecks over the
   * same blocks in the same order and call its `finish` before `commit` (ReportSession does, on the
   * main thread, while the report thread appends). `template`: a new file starts as a copy of this empty
   * report of the current schema (reportTemplate.ts; default: the build's, where there is one), else the
   * schema is created statement by statement.
   * @throws InputError naming the file when it cannot be created, is not a DuckDB database, not a
   * report, or of a schema version that cannot be migrated (the file is left as it was).
   */
  static async open(
    dbFile: string,
    engineVersion: string,
    rowChecks: 'writer' | 'caller' = 'writer',
    template: string | null = builtReportTemplate(),
  ): Promise<RunWriter> {
    const fresh = !existsSync(dbFile);
    if (fresh && !existsSync(dirname(dbFile)))
      throw fileError(dbFile, `cannot be created: directory ${dirname(dbFile)} does not exist`);
    if (fresh) {
      // one process creates a new report at a time: a second is refused now, before it computes
      const holder = acquireCreateLock(dbFile);
      if (holder !== null)
        throw fileError(
          dbFile,
          `is being created by another process (pid ${holder} holds ${createLockPath(dbFile)}); ` +
            'wait for that run to finish (its runs can then be added to), or write to another file',
        );
      if (existsSync(dbFile)) {
        // published by another process between the check and the lock: append to it instead
        releaseCreateLock(dbFile);
        return RunWriter.open(dbFile, engineVersion, rowChecks, template);
      }
    }
    // what killed runs left (kill -9, a crash): partials of processes that no longer run
    removeStalePartials(dbFile);
    const target = fresh
      ? `${dbFile}.partial-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
      : dbFile;
    let handle: ReportHandle | null = null;
    let writer: RunWriter | null = null;
    const fromTemplate = fresh && template !== null;
    try {
      // a new file: inside the creation gate, so that a SIGINT's clean-up finds it (partialFiles.ts)
      handle = fresh
        ? await creatingPartial(() => {
            if (fromTemplate) copyReportTemplate(template, target);
            return openReport(target);
          })
        : await openReport(target);
      const c = handle.connection;
      // DuckDB compresses and writes each row group as it fills (by default it buffers 5 of them and
      // does it at COMMIT): the work happens while the run still computes, not after it. One DuckDB
      // thread: the appends run on the caller's thread anyway, and during a run the cores are taken by
      // the computation (measured on 2 cores: intraday 1.54 s against 1.62 s with DuckDB's default of one
      // thread per core)
      await c.run('SET write_buffer_row_group_count = 1');
      await c.run('SET threads = 1');
      // Strings stored as they are: DuckDB's analysis of dictionary and FSST compression for a string column
      // costs more than the rest of its append. The run's one large string column is accounts.account, one
      // key per account: 1,000,000 keys append in 0.32 s instead of 0.53 s (bench/README.md, session 19),
      // for ~8 more bytes per account in the file.
      await c.run("SET disabled_compression_methods = 'dictionary,fsst'");
      await c.run('BEGIN TRANSACTION');
      try {
        if (fromTemplate) await adoptTemplate(handle, engineVersion);
        else await ensureSchema(handle, engineVersion);
        const r = await c.runAndReadAll('SELECT coalesce(max(run_id), 0) + 1 FROM runs');
        writer = new RunWriter(
          dbFile,
          target,
          fresh,
          handle,
          Number(r.getRows()[0]![0]),
          rowChecks === 'writer' ? new RowChecks() : null,
        );
        handle = null;
        return writer;
      } catch (e) {
        try {
          await c.run('ROLLBACK');
        } catch {
          /* the transaction is already gone */
        }
        throw e;
      }
    } catch (e) {
      if (e instanceof Error && target !== dbFile) e.message = e.message.split(target).join(dbFile);
      throw e;
    } finally {
      if (handle) closeReport(handle); // failed: the writer did not take it over
      if (!writer && fresh) {
        removeTarget(target);
        releaseCreateLock(dbFile);
      }
    }
  }

  private get c(): DuckDBConnection {
    if (this.closed) throw new Error(`${this.dbFile}: the run's transaction is already closed`);
    return this.handle.connection;
  }

  /** Appends one scenario set's rows to `scenarios`; returns the rows written. */
  scenarios(set: ScenarioSet): Promise<number> {
    return writeScenarios(this.c, this.runId, set);
  }

  /** Appends the market's instruments with their model values (`modelValue`, one per instrument). */
  instruments(market: Market, modelValue: Float64Array): Promise<number> {
    const n = market.instruments.count;
    if (modelValue.length !== n)
      throw new Error(`RunRecord.modelValue has ${modelValue.length} values for ${n} instruments`);
    this.instrumentCount = n;
    this.market = market;
    return writeInstruments(this.c, this.runId, market, modelValue);
  }

  /**
   * Appends the run's implied-volatility surface to vol_surface (after `instruments`): `surface` as the
   * run fitted it, or, when null, fitted here from the run's market (src/surface/surface.ts fitSurface);
   * `filled[j]`: options of slice j valued from the surface (`--fill-iv surface`).
   */
  volSurface(surface: VolSurface | null, filled: Int32Array | null = null): Promise<number> {
    if (!surface && !this.market) throw new Error(`${this.dbFile}: the vol surface needs the run's instruments first`);
    if (!surface) loadSviWasm(); // the fit's inner problem in WebAssembly where built (sviWasmLoad.ts)
    return writeVolSurface(this.c, this.runId, surface ?? fitSurface(this.market!), filled ?? undefined);
  }

  /** Appends the input rows left out under --on-invalid=skip. */
  rejected(rows: RejectedRow[]): Promise<number> {
    return writeRejected(this.c, this.runId, rows);
  }

  /**
   * Appends the run's account keys (id = index) with each account's USD equity (accountEquityUsd, one per
   * key: what account_summary reports for models in USD and for accounts without rows); margin rows may
   * only name these ids.
   */
  accounts(accountKey: AccountKeyList, equityUsd: Float64Array): Promise<number> {
    const n = accountKeyCount(accountKey);
    if (equityUsd.length !== n) throw new Error(`accounts: ${equityUsd.length} USD equities for ${n} accounts`);
    this.accountCount = n;
    this.accountKey = accountKey;
    this.keyStrings = null;
    return this.thenWriteBack(writeAccounts(this.c, this.runId, accountKey, equityUsd));
  }

  /**
   * Appends one model's margin rows (after `accounts`) to its table; their unit names join the run's
   * symbols. `standardFromDeribitPm` (standard rows only): the run also writes deribit-pm rows, and the
   * standard rows are not stored but derived by the account_margin view from them (schema 4,
   * STANDARD_FROM_PM). Every block's derived values, and derived standard rows against the deribit-pm
   * rows whichever comes first, are checked row by row (RowChecks) here, or by the caller in 'caller'
   * mode (see `open`). Returns the rows the block holds (stored or derived).
   */
  margin(m: MarginRows, standardFromDeribitPm = false): Promise<number> {
    checkMarginShape(m, this.accountCount);
    if (standardFromDeribitPm && m.model !== 'standard')
      throw new Error(`MarginRows(${m.model}): only standard rows are derived from deribit-pm rows`);
    this.checks?.margin(m, standardFromDeribitPm);
    if (standardFromDeribitPm) {
      this.standard = 'derived';
      return Promise.resolve(m.count);
    }
    if (m.model === 'standard') this.standard = 'stored';
    if (m.model === 'deribit-pm') this.hasDeribitPm = true;
    return this.thenWriteBack(writeMargin(this.c, this.runId, m, this.symbolIds(m.unitNames)));
  }

  /** The run's symbol id of each name (a new name joins the run's symbols). */
  private symbolIds(names: string[]): Int32Array {
    return Int32Array.from(names, (name) => {
      let id = this.symbolIndex.get(name);
      if (id === undefined) {
        id = this.symbolNames.length;
        this.symbolNames.push(name);
        this.symbolIndex.set(name, id);
      }
      return id;
    });
  }

  /**
   * Appends one model's attribution (src/margin/attribution.ts) to margin_attribution, after its
   * margin rows `rows` (which give each share's account and unit). Returns the rows written.
   */
  attribution(a: Attribution, rows: MarginRows): Promise<number> {
    checkMarginShape(rows, this.accountCount);
    if (!this.market) throw new Error(`${this.dbFile}: the attribution needs the run's instruments first`);
    return writeAttribution(
      this.c,
      this.runId,
      a,
      rows,
      this.symbolIds(rows.unitNames),
      this.market.underlyings,
      MODEL_NAMES.indexOf(a.model),
    );
  }

  /**
   * Appends one model's distances to liquidation (docs/methodology.md §7) to liquidation_distance (after
   * `accounts` and `instruments`: the rows name their accounts and underlyings by key).
   */
  distance(d: DistanceRows): Promise<number> {
    if (!this.market || this.accountCount < 0)
      throw new Error(`${this.dbFile}: distances need the run's instruments and accounts first`);
    for (let r = 0; r < d.count; r++)
      if (!(d.account[r]! >= 0 && d.account[r]! < this.accountCount))
        throw new Error(`DistanceRows(${d.model}) row ${r}: account ${d.account[r]} is not one of the run's`);
    this.keyStrings ??= accountKeyStrings(this.accountKey);
    return writeDistance(this.c, this.runId, d, this.keyStrings, this.market.underlyings);
  }

  /**
   * Appends the unit names the margin rows used (once, after the last `margin`), each with its USD rate
   * (usdRates: the index price of a coin, 1 for a cash currency) from the run's market.
   */
  symbols(): Promise<number> {
    if (this.symbolNames.length > 0 && !this.market)
      throw new Error(`${this.dbFile}: the symbols' USD rates need the run's instruments first`);
    return writeSymbols(
      this.c,
      this.runId,
      this.symbolNames,
      this.market ? usdRates(this.symbolNames, this.market) : new Float64Array(0),
    );
  }

  /**
   * Appends the `runs` row. @throws Error when its models disagree with how the standard rows were
   * written: the view derives standard rows for a run with deribit-pm rows and 'standard' among its
   * models whenever margin_standard holds none, so such a run must have handed its standard rows over
   * (and derived ones need 'standard' among the models to be given back).
   */
  runRow(meta: RunMeta): Promise<void> {
    const lists = meta.models.includes('standard');
    if (this.standard === 'derived' && !lists)
      throw new Error(
        `${this.dbFile}: the run's standard rows are derived from its deribit-pm rows, but its models (${meta.models.join(', ')}) do not include standard`,
      );
    if (this.standard === 'none' && lists && this.hasDeribitPm)
      throw new Error(
        `${this.dbFile}: the run lists standard among its models and has deribit-pm rows, but wrote no standard rows (the report would derive rows the run never computed)`,
      );
    return writeRunRow(this.c, this.runId, meta);
  }

  /** Commits, closes and (for a new file) publishes the report; returns the run id. */
  async commit(): Promise<number> {
    if (this.instrumentCount < 0 || this.accountCount < 0)
      throw new Error(`${this.dbFile}: a run needs its instruments and accounts before COMMIT`);
    this.checks?.finish(this.dbFile);
    await this.c.run('COMMIT');
    this.closed = true;
    try {
      try {
        closeReport(this.handle);
      } catch (e) {
        // an existing file: the run is in its WAL (DuckDB replays it on the next open), so say so
        if (this.fresh) throw e;
        throw new Error(
          `${this.dbFile}: run ${this.runId} was committed, but closing the file failed (${(e as Error).message.split('\n')[0]}); DuckDB keeps the run in ${this.dbFile}.wal until the next open`,
          { cause: e },
        );
      }
      // DuckDB has closed the file: the write-back's own descriptor can go (not before: writeBack.ts)
      await this.writeBack.close();
      if (this.fresh) publish(this.target, this.dbFile);
    } finally {
      if (this.fresh) {
        removeTarget(this.target);
        releaseCreateLock(this.dbFile);
      }
    }
    return this.runId;
  }

  /** Rolls the run back and closes the file (a new file is removed); safe to call more than once. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.handle.connection.run('ROLLBACK');
    } catch {
      /* the transaction is already gone */
    }
    try {
      closeReport(this.handle);
      await this.writeBack.close(); // after DuckDB's close (writeBack.ts)
    } finally {
      if (this.fresh) {
        removeTarget(this.target);
        releaseCreateLock(this.dbFile);
      }
    }
  }
}

/** Removes a new report's temporary file, its WAL and its spill directory. */
function removeTarget(target: string): void {
  removeWithCompanions(target);
}

/**
 * Moves the committed new report `from` to `to` without replacing a file created there meanwhile
 * (a hard link fails when `to` exists; rename where links are not supported).
 * @throws Error naming `to` when it appeared during the run
 */
function publish(from: string, to: string): void {
  if (existsSync(`${from}.wal`)) {
    // DuckDB writes the WAL into the file when it closes; a full disk is what usually stops it
    if (diskFull(from))
      throw new Error(
        `${to}: No space left on device: DuckDB could not write the committed run into the new file (its WAL remains); the new report was not published`,
      );
    throw new Error(`${from}: DuckDB left a WAL after closing; the new report was not published as ${to}`);
  }
  try {
    linkSync(from, to);
    rmSync(from);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new Error(`${to} was created by another process during this run; this run was not written`, {
        cause: e,
      });
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      renameSync(from, to);
      return;
    }
    throw e;
  }
}

/** Whether the disk of `file` has less free space than its WAL needs (and a MiB). */
function diskFull(file: string): boolean {
  try {
    const fs = statfsSync(dirname(file));
    return fs.bavail * fs.bsize < statSync(`${file}.wal`).size + 2 ** 20;
  } catch {
    return false;
  }
}

function checkMarginShape(m: MarginRows, accounts: number): void {
  if (accounts < 0) throw new Error(`MarginRows(${m.model}): written before the run's accounts`);
  for (const [k, v] of Object.entries(m)) {
    if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length < m.count)
      throw new Error(`MarginRows(${m.model}).${k} has fewer than ${m.count} values`);
  }
  for (let i = 0; i < m.count; i++) {
    const a = m.account[i]!;
    if (a < 0 || a >= accounts)
      throw new Error(`MarginRows(${m.model}) row ${i}: account id ${a} is not in accountKey (0..${accounts - 1})`);
  }
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
    for (let u = 0; u < U; u++) {
      scenario[s * U + u] = set.id[s]!;
      dt[s * U + u] = set.dtDays[s]!;
    }
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

async function writeInstruments(
  c: DuckDBConnection,
  runId: number,
  market: Market,
  modelValue: Float64Array,
): Promise<number> {
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
  await appendColumns(
    c,
    'rejected_rows',
    [
      { type: 'INTEGER', values: constInt(n, runId) },
      { type: 'VARCHAR', value: (i) => rejected[i]!.file },
      { type: 'BIGINT', values: row },
      { type: 'VARCHAR', value: (i) => rejected[i]!.column },
      { type: 'VARCHAR', value: (i) => rejected[i]!.value },
      { type: 'VARCHAR', value: (i) => rejected[i]!.rule },
    ],
    n,
  );
  return n;
}

const amount = (values: Float64Array): AppendColumn => ({ type: 'DOUBLE', values, nanIsNull: true });

/** One `accounts` row per key of the run, with its USD equity: the names account_margin and account_summary join in. */
async function writeAccounts(
  c: DuckDBConnection,
  runId: number,
  accountKey: AccountKeyList,
  equityUsd: Float64Array,
): Promise<number> {
  const n = accountKeyCount(accountKey);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await appendColumns(
    c,
    'accounts',
    [
      { type: 'INTEGER', values: constInt(n, runId) },
      { type: 'INTEGER', values: ids },
      // a loaded book's keys as their bytes, written into the vectors as they are (no string per key)
      Array.isArray(accountKey)
        ? { type: 'VARCHAR', value: (i) => accountKey[i]! }
        : { type: 'VARCHAR_BYTES', bytes: accountKey.bytes, offsets: accountKey.offsets },
      amount(equityUsd),
    ],
    n,
  );
  return n;
}

async function writeSymbols(
  c: DuckDBConnection,
  runId: number,
  names: string[],
  usdRate: Float64Array,
): Promise<number> {
  const n = names.length;
  if (n === 0) return 0;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  await appendColumns(
    c,
    'symbols',
    [
      { type: 'INTEGER', values: constInt(n, runId) },
      { type: 'INTEGER', values: ids },
      { type: 'VARCHAR', value: (i) => names[i]! },
      amount(usdRate),
    ],
    n,
  );
  return n;
}

/**
 * One model's margin rows into its table (MODEL_STORAGE: margin_<model>), read through the
 * account_margin view: the stored numbers, the account id, the unit's symbol id and the status code,
 * copied a chunk at a time (what the table leaves out is checked by RowChecks, see rowChecks.ts).
 * `unitIds`: symbol id per code of the block's unitNames.
 */
async function writeMargin(c: DuckDBConnection, runId: number, m: MarginRows, unitIds: Int32Array): Promise<number> {
  const n = m.count;
  const spec = MODEL_STORAGE[m.model];
  const unit = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (m.status[i]! >= STATUS_NAMES.length)
      throw new Error(
        `MarginRows(${m.model}) row ${i}: status code ${m.status[i]} is not one of ${STATUS_NAMES.join(', ')}`,
      );
    const u = unitIds[m.unit[i]!];
    if (u === undefined) throw new Error(`MarginRows(${m.model}) row ${i}: unit ${m.unit[i]} has no name`);
    unit[i] = u;
  }
  const value = (col: string): AppendColumn => {
    const v = m[FIELD_OF[col]!];
    if (col === 'status') return { type: 'CODE8', values: v as Uint8Array };
    if (col === 'worst_scenario') return { type: 'INTEGER', values: v as Int32Array, negativeIsNull: true };
    return amount(v as Float64Array);
  };
  await appendColumns(
    c,
    spec.table,
    [
      { type: 'INTEGER', values: constInt(n, runId) },
      { type: 'INTEGER', values: m.account.length === n ? m.account : m.account.subarray(0, n) },
      { type: 'INTEGER', values: unit },
      ...spec.stored.map(value),
    ],
    n,
  );
  return n;
}

/** SHA-256 (hex) of JSON.stringify(params): the fallback when the run does not carry its params hash. */
export function paramsHashOf(params: unknown): string {
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

async function writeRunRow(c: DuckDBConnection, runId: number, run: RunMeta): Promise<void> {
  const now = Date.now();
  const scenarioSets: Record<string, unknown> = {};
  for (const s of run.scenarioSets)
    scenarioSets[s.family] = { count: s.count, underlyings: s.underlyings, meta: s.meta };
  await c.run(
    `INSERT INTO runs VALUES ($1, epoch_ms($2::BIGINT), epoch_ms($3::BIGINT), epoch_ms($4::BIGINT), epoch_ms($5::BIGINT),
      CAST($6::JSON AS VARCHAR[]), $7::JSON, $8, $9::JSON, $10::JSON, $11::JSON, $12::JSON, $13, $14, $15,
      CAST($16::JSON AS VARCHAR[]))`,
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
      run.status ?? (run.rejectedRows > 0 ? 'ok_with_rejected_rows' : 'ok'),
      SCHEMA_VERSION, // the layout the run is written in: account_summary derives its summaries (schema 5 on)
      JSON.stringify(run.warnings ?? []),
    ],
  );
}
