/**
 * Writes cascading-liquidation stresses (docs/methodology.md §8; `margin-engine cascade`) to a report:
 * one transaction per command (every cascade of a sweep, or none), the schema created or migrated
 * first (schema 7, liquidation.ts). A new file is written under a temporary name and published only
 * after the COMMIT, so a failure leaves nothing behind.
 */
import { existsSync, renameSync } from 'node:fs';
import {
  acquireCreateLock,
  cleanupOnSignal,
  createLockPath,
  creatingPartial,
  releaseCreateLock,
  removeStalePartials,
  removeWithCompanions,
} from '../util/partialFiles.js';
import { dirname } from 'node:path';
import type { CascadeResult } from '../margin/cascade.js';
import { fileError } from '../errors.js';
import { appendColumns } from './appendColumns.js';
import { closeReport, ensureSchema, openReport, type ReportHandle } from './openReport.js';

/** One cascade as stored: its result and what it ran with. */
export interface CascadeRecord {
  result: CascadeResult;
  /** index (in the records written together) of the first cascade of its sweep; null when not a sweep */
  sweepOf: number | null;
  /** the sweep direction's critical shock (sweeps only) */
  criticalShock: number | null;
  model: string;
  impact: string;
  snapshotTimeMs: number;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  underlyings: readonly string[];
  /** the first underlying shocked: x_initial and x_final are its */
  primary: number;
  /** the book's account keys, and the unit names by code (the market's underlyings, then USDC) */
  accountKey: readonly string[];
  unitNames: readonly string[];
}

const json = (o: unknown) => JSON.stringify(o);
const perUnderlying = (names: readonly string[], v: Float64Array) =>
  Object.fromEntries(Array.from(v, (x, u) => [names[u]!, x]));

/**
 * Appends every record in one transaction; returns their cascade ids.
 * @throws InputError for a file that is not a report
 */
export async function writeCascades(
  dbFile: string,
  engineVersion: string,
  records: CascadeRecord[],
): Promise<number[]> {
  const fresh = !existsSync(dbFile);
  if (fresh && !existsSync(dirname(dbFile)))
    throw fileError(dbFile, `cannot be created: directory ${dirname(dbFile)} does not exist`);
  // as RunWriter.open: one creator of a new file at a time, partials of dead processes removed, this
  // one's removed on SIGINT / SIGTERM (src/util/partialFiles.ts)
  if (fresh) {
    const holder = acquireCreateLock(dbFile);
    if (holder !== null)
      throw fileError(
        dbFile,
        `is being created by another process (pid ${holder} holds ${createLockPath(dbFile)}); wait for it to finish, or write to another file`,
      );
  }
  removeStalePartials(dbFile);
  const target = fresh ? `${dbFile}.partial-${process.pid}-${Date.now()}` : dbFile;
  const unwatch = fresh
    ? cleanupOnSignal(() => {
        removeWithCompanions(target);
        releaseCreateLock(dbFile);
      })
    : () => undefined;
  let h: ReportHandle | null = null;
  let ok = false;
  try {
    h = fresh ? await creatingPartial(() => openReport(target)) : await openReport(target);
    const c = h.connection;
    await c.run('BEGIN TRANSACTION');
    try {
      await ensureSchema(h, engineVersion);
      const first = Number(
        (await c.runAndReadAll('SELECT coalesce(max(cascade_id), 0) + 1 FROM cascade_runs')).getRows()[0]![0],
      );
      const ids = records.map((_, k) => first + k);
      const now = Date.now();
      for (let k = 0; k < records.length; k++) {
        const r = records[k]!;
        const x = r.result;
        const p = r.primary;
        const x0 = x.shock[p]!;
        const xf = x.finalMove[p]!;
        await c.run(
          `INSERT INTO cascade_runs VALUES ($1, $2, epoch_ms($3::BIGINT), epoch_ms($4::BIGINT), $5, $6, $7::JSON, $8::JSON,
             $9::JSON, $10, $11::JSON, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
          [
            ids[k]!,
            r.sweepOf === null ? null : ids[r.sweepOf]!,
            now,
            r.snapshotTimeMs,
            r.model,
            r.impact,
            json(r.inputs),
            json(r.parameters),
            json(Object.fromEntries(Array.from(x.shock, (v, u) => [r.underlyings[u]!, v]).filter(([, v]) => v !== 0))),
            x0,
            json(perUnderlying(r.underlyings, x.finalMove)),
            xf,
            x0 === 0 ? null : xf / x0,
            x.rounds.length,
            x.liquidatedUnits,
            x.liquidatedNotionalUsd,
            x.badDebtUsd,
            x.insuranceFundUsd,
            x.minFundUsd,
            x.adlUsd,
            r.criticalShock,
          ],
        );
        const U = r.underlyings.length;
        const n = x.rounds.length * U;
        const at = (f: (round: (typeof x.rounds)[number], u: number) => number) =>
          Float64Array.from({ length: n }, (_, j) => f(x.rounds[Math.floor(j / U)]!, j % U));
        await appendColumns(
          c,
          'cascade_rounds',
          [
            { type: 'INTEGER', values: new Int32Array(n).fill(ids[k]!) },
            { type: 'INTEGER', values: Int32Array.from({ length: n }, (_, j) => x.rounds[Math.floor(j / U)]!.round) },
            { type: 'VARCHAR', value: (j) => r.underlyings[j % U]! },
            { type: 'DOUBLE', values: at((q, u) => q.factor[u]! * (r.parameters.indexPrice as number[])[u]!) },
            { type: 'DOUBLE', values: at((q, u) => q.factor[u]! - 1) },
            {
              type: 'INTEGER',
              values: Int32Array.from({ length: n }, (_, j) => x.rounds[Math.floor(j / U)]!.liquidatedUnits),
            },
            { type: 'DOUBLE', values: at((q, u) => q.longUsd[u]!) },
            { type: 'DOUBLE', values: at((q, u) => q.shortUsd[u]!) },
            { type: 'DOUBLE', values: at((q, u) => q.flow[u]!) },
            { type: 'DOUBLE', values: at((q) => q.fundAfterUsd) },
            { type: 'DOUBLE', values: at((q) => q.badDebtUsd) },
            { type: 'DOUBLE', values: at((q) => q.adlUsd) },
          ],
          n,
        );
        const m = x.accounts.length;
        const acc = x.accounts;
        await appendColumns(
          c,
          'cascade_accounts',
          [
            { type: 'INTEGER', values: new Int32Array(m).fill(ids[k]!) },
            { type: 'VARCHAR', value: (j) => r.accountKey[acc[j]!.account]! },
            { type: 'VARCHAR', value: (j) => (acc[j]!.code < 0 ? 'ALL' : r.unitNames[acc[j]!.code]!) },
            { type: 'INTEGER', values: Int32Array.from(acc, (a) => a.round) },
            {
              type: 'VARCHAR',
              value: (j) =>
                json(
                  perUnderlying(
                    r.underlyings,
                    Float64Array.from(acc[j]!.factor, (f, u) => f * (r.parameters.indexPrice as number[])[u]!),
                  ),
                ),
            },
            { type: 'DOUBLE', values: Float64Array.from(acc, (a) => a.equityUsd) },
            { type: 'DOUBLE', values: Float64Array.from(acc, (a) => a.mmUsd) },
            { type: 'DOUBLE', values: Float64Array.from(acc, (a) => a.notionalUsd) },
            { type: 'DOUBLE', values: Float64Array.from(acc, (a) => a.deficitUsd) },
          ],
          m,
        );
      }
      await c.run('COMMIT');
      ok = true;
      return ids;
    } catch (e) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } finally {
    unwatch();
    try {
      if (h) closeReport(h);
      if (fresh) {
        if (ok) renameSync(target, dbFile);
        else removeWithCompanions(target);
      }
    } finally {
      if (fresh) releaseCreateLock(dbFile);
    }
  }
}
