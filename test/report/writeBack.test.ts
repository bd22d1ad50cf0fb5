/**
 * The early write-back of a report file (src/report/writeBack.ts): its syncs run on the thread pool, at most one
 * at a time, and stop at close; and, through a RunWriter, its own descriptor never drops DuckDB's lock on the
 * file while the run is open (closing any descriptor of a file drops the process's POSIX locks on it): another
 * process is refused the file after the writer's syncs, and gets it once the writer has closed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WriteBack } from '../../src/report/writeBack.js';
import { RunWriter, writeRun } from '../../src/report/writer.js';
import { sampleRun } from './fixtures/sampleRun.js';
import { rmTmp, tmpDir } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tmpDir();
});
afterAll(() => rmTmp(dir));

/** Whether another process can open `file` with DuckDB for writing (false: refused, e.g. locked). */
function otherProcessOpens(file: string): { ok: boolean; message: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { DuckDBInstance } = await import(${JSON.stringify(import.meta.resolve('@duckdb/node-api'))});
       try { const i = await DuckDBInstance.create(${JSON.stringify(file)}); (await i.connect()).closeSync(); i.closeSync(); process.stdout.write('OPENED'); }
       catch (e) { process.stdout.write('REFUSED ' + e.message); }`,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { ok: r.stdout.startsWith('OPENED'), message: r.stdout };
}

/** How many of this process's descriptors are open on `file` (Linux: /proc/self/fd). */
function descriptorsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

describe('WriteBack', () => {
  test('requests sync the file through one descriptor of its own; close closes it, and later requests do nothing', async () => {
    const f = join(dir, 'plain.bin');
    writeFileSync(f, Buffer.alloc(1 << 20, 7));
    const wb = new WriteBack(f);
    expect(descriptorsOn(f)).toBe(0);
    for (let i = 0; i < 5; i++) wb.request(); // one runs, one more is queued
    expect(descriptorsOn(f)).toBe(1);
    await wb.close();
    expect(descriptorsOn(f)).toBe(0);
    wb.request(); // after close: nothing
    expect(descriptorsOn(f)).toBe(0);
    await wb.close();
  });

  test('a file that cannot be opened: no write-back, no error (the COMMIT syncs everything)', async () => {
    const f = join(dir, 'missing', 'nothing.duckdb');
    const wb = new WriteBack(f);
    wb.request();
    expect(descriptorsOn(f)).toBe(0);
    await wb.close();
  });

  test("a writer's syncs keep DuckDB's lock: another process is refused until the writer closes", async () => {
    const f = join(dir, 'locked.duckdb');
    const run = sampleRun();
    await writeRun(f, run); // an existing report: the run's writer writes the file itself
    const w = await RunWriter.open(f, run.engineVersion);
    try {
      for (const set of run.scenarioSets) await w.scenarios(set);
      await w.instruments(run.market, run.modelValue);
      await w.accounts(run.accountKey, run.accountEquityUsd); // a write-back
      for (const m of run.margin) if (m.model !== 'standard') await w.margin(m); // more
      await new Promise((resolve) => setTimeout(resolve, 300)); // the syncs have run
      const during = otherProcessOpens(f);
      expect(during.ok, during.message).toBe(false);
    } finally {
      await w.abort();
    }
    expect(existsSync(f)).toBe(true);
    const after = otherProcessOpens(f);
    expect(after.ok, after.message).toBe(true);
  });
});
