/**
 * The report written from its own thread (ReportSession → reportWorker → RunWriter), as runMargin
 * drives it: the tables arrive one block at a time while the transaction stays open. The same run
 * written this way and by writeRun gives the same tables; a failure in the worker, or an abort, leaves
 * the file exactly as it was (a new file is not created at all).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { ReportSession } from '../../src/report/reportSession.js';
import { prestartReportWorker, takePrestartedReportWorker } from '../../src/report/prestart.js';
import { runMetaOf, writeRun } from '../../src/report/writer.js';
import { ENGINE_VERSION } from '../../src/pipeline/version.js';
import type { RunRecord } from '../../src/report/types.js';
import { sampleRun, sampleRunWithStandard } from './fixtures/sampleRun.js';
import { query, reportState, rmTmp, tmpDir } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tmpDir();
});
afterAll(() => rmTmp(dir));

/** Feeds `run` to a session the way runMargin does (standard-first order does not matter to the tables). */
function feed(s: ReportSession, run: RunRecord): void {
  for (const set of run.scenarioSets) s.scenarios(set);
  s.instruments(run.market, run.modelValue);
  s.volSurface(null); // as runMargin: the report thread fits the surface of the market (vol_surface, schema 9)
  s.accounts(run.accountKey, run.accountEquityUsd);
  s.rejected(run.rejected);
  const hasPm = run.margin.some((m) => m.model === 'deribit-pm');
  for (const m of [...run.margin].reverse())
    s.margin(m, hasPm && m.model === 'standard' && run.models.includes('standard'));
}

/**
 * Stops the session's thread once its queue has drained, i.e. between appends: terminating a worker
 * inside a DuckDB call aborts the whole process.
 */
async function killBetweenAppends(s: ReportSession): Promise<void> {
  await s.hashFiles([]);
  await (s as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
}

/** Runs whose derived values differ from what the report gives back, and the message that refuses each. */
const BAD_DERIVED = [
  [
    (run: RunRecord) => {
      run.margin[0]!.im[1] = 123;
    },
    /MarginRows\(deribit-pm\) row 1: im is 123, but the report stores only/,
  ],
  [
    (run: RunRecord) => {
      run.margin.find((m) => m.model === 'standard')!.equity[2] = 7;
    },
    /MarginRows\(standard\) row 2: equity is 7, but the report derives it from the run's deribit-pm rows as -0.1/,
  ],
] as const;

const TABLE_DUMP = `SELECT * FROM account_margin ORDER BY model, account, unit`;

describe('a run written from the report thread', () => {
  test('gives the same tables as writeRun, and counts its rows', async () => {
    const viaWriteRun = join(dir, 'a.duckdb');
    const viaSession = join(dir, 'b.duckdb');
    await writeRun(viaWriteRun, sampleRunWithStandard());
    const run = sampleRunWithStandard();
    let progress = 0;
    const s = new ReportSession(viaSession, ENGINE_VERSION, (rows) => {
      progress = rows;
    });
    expect(await s.ready()).toBe(1);
    feed(s, run);
    expect(await s.finish(runMetaOf(run))).toBe(1);
    expect(progress).toBe(s.rowsWritten);
    // every row of the run counted once (not the run id the COMMIT answers): all the tables but schema_meta,
    // and the standard rows the view derives from the deribit-pm rows (handed over, not stored)
    const counts = await reportState(viaSession);
    const tableRows = Object.entries(counts)
      .filter(([t]) => t !== 'max_run_id' && t !== 'schema_meta')
      .reduce((n, [, v]) => n + v, 0);
    const derived = (
      await query(viaSession, `SELECT count(*)::INTEGER AS n FROM account_margin WHERE model = 'standard'`)
    )[0]!.n as number;
    expect(counts.margin_standard).toBe(0);
    expect(derived).toBe(5);
    expect(s.rowsWritten).toBe(tableRows + derived);
    expect(await reportState(viaSession)).toEqual(await reportState(viaWriteRun));
    expect(await query(viaSession, TABLE_DUMP)).toEqual(await query(viaWriteRun, TABLE_DUMP));
    expect(await query(viaSession, 'SELECT * FROM account_summary ORDER BY model, account')).toEqual(
      await query(viaWriteRun, 'SELECT * FROM account_summary ORDER BY model, account'),
    );
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  test('a prestarted report thread (margin-engine run starts it before its imports) writes the same tables', async () => {
    const viaWriteRun = join(dir, 'pre-a.duckdb');
    const viaPrestarted = join(dir, 'pre-b.duckdb');
    await writeRun(viaWriteRun, sampleRunWithStandard());
    prestartReportWorker();
    // the thread waits, unref'd, until a session adopts it and posts its file
    await new Promise((resolve) => setTimeout(resolve, 200));
    const s = new ReportSession(viaPrestarted, ENGINE_VERSION);
    expect(takePrestartedReportWorker()).toBeNull(); // adopted: not handed out twice
    expect(await s.ready()).toBe(1);
    const run = sampleRunWithStandard();
    feed(s, run);
    expect(await s.finish(runMetaOf(run))).toBe(1);
    expect(await reportState(viaPrestarted)).toEqual(await reportState(viaWriteRun));
    expect(await query(viaPrestarted, TABLE_DUMP)).toEqual(await query(viaWriteRun, TABLE_DUMP));
  });

  test('a second session on the same file appends run 2', async () => {
    const f = join(dir, 'two.duckdb');
    await writeRun(f, sampleRun());
    const run = sampleRun();
    const s = new ReportSession(f, ENGINE_VERSION);
    feed(s, run);
    expect(await s.finish(runMetaOf(run))).toBe(2);
    expect((await reportState(f)).max_run_id).toBe(2);
  });
});

/** Each thread of this process: its id and nice value (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces), from field 3 (state) on
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[19 - 3]));
  }
  return out;
}

describe('the report thread', () => {
  const base = process.platform === 'linux' ? threadNiceValues().get(process.pid)! : 19;
  test.skipIf(process.platform !== 'linux' || base >= 19)(
    "once its file is open, runs 10 nice values below the thread that started it (the run's main thread keeps its priority); not when not asked",
    async () => {
      const lowered = async (lower: boolean, file: string): Promise<number> => {
        const before = threadNiceValues();
        const s = new ReportSession(join(dir, file), ENGINE_VERSION, undefined, lower);
        try {
          expect(await s.ready()).toBe(1);
          const after = threadNiceValues();
          expect(after.get(process.pid)).toBe(base);
          return [...after].filter(([tid, nice]) => !before.has(tid) && nice === Math.min(19, base + 10)).length;
        } finally {
          await s.abort();
        }
      };
      expect(await lowered(true, 'nice.duckdb')).toBeGreaterThan(0);
      // a run with --distance (runMargin): its report thread writes while the searches fill every core
      expect(await lowered(false, 'same.duckdb')).toBe(0);
    },
  );
});

describe('failures leave the file as it was', () => {
  test('bad rows fail in the worker: finish throws that error and the report is unchanged', async () => {
    const f = join(dir, 'bad.duckdb');
    await writeRun(f, sampleRun());
    const before = await reportState(f);
    const run = sampleRun();
    run.margin[0]!.account[1] = 99;
    const s = new ReportSession(f, ENGINE_VERSION);
    feed(s, run);
    await expect(s.finish(runMetaOf(run))).rejects.toThrow(/account id 99 is not in accountKey/);
    expect(() => s.throwIfFailed()).toThrow(/account id 99/);
    expect(await reportState(f)).toEqual(before);
  });

  test('rows whose derived values are not what the view gives back are refused by finish (checked on this thread), for an existing and a new report', async () => {
    for (const [bad, message] of BAD_DERIVED) {
      const f = join(dir, 'bad-derived.duckdb');
      await writeRun(f, sampleRun());
      const before = await reportState(f);
      for (const target of [f, join(dir, 'bad-derived-new.duckdb')]) {
        const run = sampleRunWithStandard();
        bad(run);
        const s = new ReportSession(target, ENGINE_VERSION);
        feed(s, run);
        await expect(s.finish(runMetaOf(run))).rejects.toThrow(message);
      }
      expect(await reportState(f)).toEqual(before);
      expect(readdirSync(dir).filter((x) => x.startsWith('bad-derived-new'))).toEqual([]);
    }
  });

  test('checks run early (checkNext, as a run does while it waits on a long aggregation) fail finish as its own checks do, after a failure of the report thread', async () => {
    for (const [bad, message] of BAD_DERIVED) {
      for (const early of [1, Infinity]) {
        const f = join(dir, 'early-checks.duckdb');
        await writeRun(f, sampleRun());
        const before = await reportState(f);
        const run = sampleRunWithStandard();
        bad(run);
        const s = new ReportSession(f, ENGINE_VERSION);
        feed(s, run);
        // a block, or every block, checked before finish: nothing is thrown until finish
        for (let k = 0; k < early && s.unchecked; k++) expect(() => s.checkNext()).not.toThrow();
        if (early === Infinity) expect(s.unchecked).toBe(false);
        await expect(s.finish(runMetaOf(run))).rejects.toThrow(message);
        expect(await reportState(f)).toEqual(before);
      }
    }
    // rows the report thread refuses, and rows whose derived values differ: the thread's failure, as before
    const f = join(dir, 'early-checks-worker.duckdb');
    await writeRun(f, sampleRun());
    const run = sampleRunWithStandard();
    run.margin[0]!.account[1] = 99;
    run.margin.find((m) => m.model === 'standard')!.equity[2] = 7;
    const s = new ReportSession(f, ENGINE_VERSION);
    feed(s, run);
    while (s.unchecked) s.checkNext();
    await s.hashFiles([]).catch(() => undefined); // the thread's queue drained: its failure is known to finish
    await expect(s.finish(runMetaOf(run))).rejects.toThrow(/account id 99 is not in accountKey/);
  });

  test('an abort midway rolls back: an existing report is unchanged, a new one never appears', async () => {
    const f = join(dir, 'abort.duckdb');
    await writeRun(f, sampleRun());
    const before = await reportState(f);
    const run = sampleRun();
    const s = new ReportSession(f, ENGINE_VERSION);
    feed(s, run);
    await s.abort();
    await s.abort(); // twice is harmless
    expect(await reportState(f)).toEqual(before);

    const fresh = join(dir, 'never.duckdb');
    const t = new ReportSession(fresh, ENGINE_VERSION);
    await t.ready();
    feed(t, run);
    await t.abort();
    expect(readdirSync(dir).filter((x) => x.startsWith('never'))).toEqual([]);
  });

  test('a report thread that dies: the run fails with that reason, and abort / finish return instead of waiting forever', async () => {
    const f = join(dir, 'died.duckdb');
    await writeRun(f, sampleRun());
    const before = await reportState(f);
    const run = sampleRun();
    const s = new ReportSession(f, ENGINE_VERSION);
    await s.ready();
    feed(s, run);
    await killBetweenAppends(s);
    await expect(s.finish(runMetaOf(run))).rejects.toThrow(/the report worker exited .* before the run was committed/);
    await s.abort();
    expect(await reportState(f)).toEqual(before);
  });

  test('a new report whose thread dies leaves no file, not even the temporary one', async () => {
    const fresh = join(dir, 'died-new.duckdb');
    const run = sampleRun();
    const s = new ReportSession(fresh, ENGINE_VERSION);
    await s.ready();
    feed(s, run);
    expect(readdirSync(dir).filter((x) => x.startsWith('died-new'))).not.toEqual([]);
    await killBetweenAppends(s);
    await expect(s.finish(runMetaOf(run))).rejects.toThrow(/exited/);
    expect(readdirSync(dir).filter((x) => x.startsWith('died-new'))).toEqual([]);
  });

  test('a report another process has open is refused as bad input naming the file', async () => {
    const f = join(dir, 'locked.duckdb');
    await writeRun(f, sampleRun());
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { DuckDBInstance } = await import(${JSON.stringify(import.meta.resolve('@duckdb/node-api'))}); const i = await DuckDBInstance.create(${JSON.stringify(f)}); await i.connect(); process.stdout.write('OPEN\\n'); setTimeout(() => {}, 60000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('OPEN')) resolve();
        });
        holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      const s = new ReportSession(f, ENGINE_VERSION);
      const err = await s.ready().catch((e: unknown) => e);
      await s.abort();
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/locked\.duckdb: is in use by another process/);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a file that is not a DuckDB database: InputError naming it (also from throwIfFailed), bytes unchanged', async () => {
    const f = join(dir, 'notes.duckdb');
    writeFileSync(f, 'account,quantity\nalice,1\n');
    const s = new ReportSession(f, ENGINE_VERSION);
    const err = await s.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(f);
    expect(() => s.throwIfFailed()).toThrow(InputError);
    const run = sampleRun();
    feed(s, run);
    await expect(s.finish(runMetaOf(run))).rejects.toBeInstanceOf(InputError);
    expect(readFileSync(f, 'utf8')).toBe('account,quantity\nalice,1\n');
  });

  test('a report of a newer schema is refused with its version, unchanged', async () => {
    const f = join(dir, 'newer.duckdb');
    copyFileSync(join(dir, 'a.duckdb'), f);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(f);
    const c = await inst.connect();
    await c.run('INSERT INTO schema_meta VALUES (99, NULL, now())');
    c.closeSync();
    inst.closeSync();
    const before = await reportState(f);
    const s = new ReportSession(f, ENGINE_VERSION);
    await expect(s.ready()).rejects.toBeInstanceOf(InputError);
    await s.abort();
    expect(await reportState(f)).toEqual(before);
  });
});
