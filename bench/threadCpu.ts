#!/usr/bin/env node
/**
 * CPU time per thread of one run (Linux: /proc/self/task): `node --no-concurrent-recompilation
 * dist/bench/threadCpu.js [--workload intraday|eod] [--backend B] [--runs N]` runs `runMargin` in this
 * process (a fresh report under bench/.cache/threads/) and prints, per run, the wall time, the whole
 * process's CPU time and each thread's (sampled every 5 ms, so that the worker threads that exit before
 * the run returns are counted): the main thread, the report and pool worker threads, V8's background
 * threads (JIT compilation, GC) and libuv's. Give node the flags to compare on its command line: this
 * measured that V8's background compilations cost the intraday run ~0.4 s of CPU on two cores
 * (src/cli/nodeFlags.ts). Threads are named by tid (Node does not name them): the main thread's tid is
 * the process id; the others in order of creation.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, optional } from '../src/cli/args.js';
import { runMargin } from '../src/pipeline/runMargin.js';
import type { BackendChoice } from '../src/engine/types.js';
import { CACHE_DIR, END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { runTool } from './toolMain.js';

const TICK_MS = 10; // /proc/*/stat counts in clock ticks of 1/100 s on Linux

/** utime + stime of every thread of this process, ms, by tid. */
function threadTimes(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t), (Number(f[11]) + Number(f[12])) * TICK_MS);
    } catch {
      /* the thread exited meanwhile */
    }
  }
  return out;
}

const USAGE = `node --no-concurrent-recompilation dist/bench/threadCpu.js [--workload intraday|eod] [--backend B] [--runs N]

CPU time per thread of runs of runMargin in this process (Linux /proc/self/task): wall, the process, each thread.`;

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { workload: {}, backend: {}, runs: {} }, 'bench threadCpu');
  const w = END_TO_END[(optional(p, 'workload') ?? 'intraday') as EndToEndName];
  if (!w) throw new Error(`unknown workload ${optional(p, 'workload')}`);
  const runs = Number(optional(p, 'runs') ?? 1);
  const book = ensureBook(w);
  const dir = join(CACHE_DIR, 'threads');
  mkdirSync(dir, { recursive: true });
  process.stdout.write(
    `node ${process.execArgv.join(' ') || '(no flags)'}; ${w.name}, ${optional(p, 'backend') ?? 'cpu'}\n`,
  );
  for (let run = 1; run <= runs; run++) {
    const db = join(dir, `${w.name}-${run}.duckdb`);
    rmSync(db, { force: true });
    const before = threadTimes();
    const last = new Map(before);
    const sample = setInterval(() => {
      for (const [t, ms] of threadTimes()) last.set(t, ms);
    }, 5);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await runMargin({
      marketDir: w.marketDir,
      positions: book.positions,
      balances: book.balances,
      models: w.models,
      historyDir: w.historyDir,
      backend: (optional(p, 'backend') ?? 'cpu') as BackendChoice,
      onInvalid: 'fail',
      db,
    });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    clearInterval(sample);
    for (const [t, ms] of threadTimes()) last.set(t, ms);
    const used = [...last]
      .map(([t, ms]) => [t, ms - (before.get(t) ?? 0)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]);
    const name = (t: number) => (t === process.pid ? 'main' : `tid ${t}`);
    process.stdout.write(
      `run ${run}: wall ${(wall / 1000).toFixed(3)} s, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s ` +
        `(system ${(cpu.system / 1e6).toFixed(3)} s); by thread (ms): ${used.map(([t, ms]) => `${name(t)} ${ms}`).join(', ')}\n`,
    );
    rmSync(db, { force: true });
  }
  return 0;
}

runTool('threadCpu', USAGE, main).then((code) => process.exit(code));
