/**
 * The `scaling` workload (issue 17, item 3): how a run's cost grows with the book. `npm run bench --
 * --workload scaling [--sizes 10000,100000,1000000] [--workloads intraday,eod] [--backends auto]
 * [--timeout S] [--nice N]` runs `margin-engine run` as a process (bench/processTime.ts: spawn to exit, CPU of every
 * thread, peak RSS) on books of each size generated like the end-to-end books (full chain, seed 7,
 * bench/.cache/book-a<N>-s7/), intraday then eod, smallest first, with `--json` (the run's phase times)
 * and MARGIN_ENGINE_TRACE=1 (the phases a run killed at its limit had finished). Per workload and pair of
 * consecutive sizes, the record gives each phase's growth exponent log(t₂/t₁) / log(n₂/n₁) over
 * positions: 1 is linear; a phase above 1.15 that takes ≥ 5 % of the larger run is named as growing
 * worse than linearly. Not part of `all` (the 1,000,000-account eod takes minutes).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { runArgs } from './ab.js';
import { childError, timeProcess } from './processTime.js';

export interface ScalingOptions {
  sizes: number[];
  workloads: EndToEndName[];
  backend: string;
  /** per run, s; default intraday 180, eod 900 */
  timeoutSeconds?: number;
  /** run each command under `nice -n NICE` (see bench/ab.ts) */
  nice?: number;
}

/** docs/performance.md, Targets: the 1,000,000-account rows (process time, peak memory). */
const TARGET_1M: Record<EndToEndName, { seconds: number; peakGiB: number }> = {
  intraday: { seconds: 6, peakGiB: 4 },
  eod: { seconds: 60, peakGiB: 8 },
};

interface ScalingRun {
  workload: EndToEndName;
  accounts: number;
  positions: number | null;
  backend: string;
  /** process, spawn to exit */
  processSeconds: number;
  cpuSeconds: number | null;
  peakRssMiB: number | null;
  timedOut: boolean;
  exitStatus: number | null;
  /** the run's phases (main thread, ms; RunOutcome.timingsMs); for a killed run, its finished spans by name */
  phasesMs: Record<string, number>;
  /** the run as its summary saw it: the runMargin call's phases summed, s */
  runSeconds: number | null;
  /** for a killed run: the last main-thread span it finished */
  lastFinished?: string;
  error?: string;
  bookGeneratedSeconds: number | null;
}

/** Sums the main thread's TRACE spans by name (src/util/trace.ts). */
function tracePhases(stderr: string): { phases: Record<string, number>; last: string | undefined } {
  const phases: Record<string, number> = {};
  let last: string | undefined;
  for (const line of stderr.split('\n')) {
    const m = /^TRACE main (\S+) (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const name = m[3]!.replace(/ \(.*$/, '');
    phases[name] = (phases[name] ?? 0) + Number(m[2]) - Number(m[1]);
    last = m[3];
  }
  return { phases, last };
}

export async function runScalingBench(o: ScalingOptions): Promise<Record<string, unknown>> {
  const runs: ScalingRun[] = [];
  // the command of the build this module belongs to (dist/bench/ → dist/bundle/main.js, package.json's bin)
  const mainJs = fileURLToPath(new URL('../bundle/main.js', import.meta.url));
  for (const name of o.workloads) {
    for (const accounts of [...o.sizes].sort((a, b) => a - b)) {
      const w = { ...END_TO_END[name], accounts };
      const book = ensureBook(w);
      const db = join(CACHE_DIR, 'scaling', `${name}-a${accounts}.duckdb`);
      const { mkdirSync, rmSync } = await import('node:fs');
      mkdirSync(join(CACHE_DIR, 'scaling'), { recursive: true });
      rmSync(db, { force: true });
      const timeout = o.timeoutSeconds ?? (name === 'intraday' ? 180 : 900);
      process.stderr.write(`scaling: ${name}, ${accounts.toLocaleString('en-US')} accounts (limit ${timeout} s)… `);
      const args = [...runArgs(w, book, db, o.backend), '--json'];
      const t = await timeProcess(mainJs, args, timeout, { ...process.env, MARGIN_ENGINE_TRACE: '1' }, o.nice);
      rmSync(db, { force: true });
      let summary: { positions?: number; timingsMs?: Record<string, number> } = {};
      try {
        if (t.status === 0) summary = JSON.parse(t.stdout) as typeof summary;
      } catch {
        /* not JSON: the error below says why */
      }
      const traced = tracePhases(t.stderr);
      const phasesMs = summary.timingsMs ?? traced.phases;
      const run: ScalingRun = {
        workload: name,
        accounts,
        positions: summary.positions ?? null,
        backend: o.backend,
        processSeconds: t.wall,
        cpuSeconds: t.cpu,
        peakRssMiB: t.rssMiB,
        timedOut: t.timedOut,
        exitStatus: t.status,
        phasesMs,
        runSeconds: summary.timingsMs ? Object.values(summary.timingsMs).reduce((a, b) => a + b, 0) / 1000 : null,
        bookGeneratedSeconds: book.generatedSeconds,
      };
      if (t.timedOut) run.lastFinished = traced.last;
      if (t.status !== 0 && !t.timedOut) run.error = childError(t.stderr);
      runs.push(run);
      process.stderr.write(
        t.timedOut
          ? `killed at ${timeout} s (last finished: ${run.lastFinished ?? 'nothing'})\n`
          : `${t.wall.toFixed(2)} s, CPU ${t.cpu?.toFixed(2)} s, peak ${run.peakRssMiB} MiB${t.status ? `, exit ${t.status}` : ''}\n`,
      );
    }
  }
  return {
    workload: 'scaling',
    sizes: o.sizes,
    nice: o.nice ?? null,
    runs,
    growth: growth(runs),
    verdict: verdict(runs),
  };
}

/** Per workload and consecutive pair of finished sizes: each phase's growth exponent over positions. */
function growth(runs: ScalingRun[]) {
  const out: Array<Record<string, unknown>> = [];
  for (const name of new Set(runs.map((r) => r.workload))) {
    const done = runs.filter((r) => r.workload === name && !r.timedOut && r.exitStatus === 0 && r.positions);
    for (let k = 1; k < done.length; k++) {
      const [a, b] = [done[k - 1]!, done[k]!];
      const lr = Math.log(b.positions! / a.positions!);
      const exp = (x: number, y: number) => (x > 0 && y > 0 ? Math.log(y / x) / lr : null);
      const phases: Record<string, number | null> = {};
      const worse: string[] = [];
      const total = Object.values(b.phasesMs).reduce((s, x) => s + x, 0);
      for (const [phase, ms] of Object.entries(b.phasesMs)) {
        const e = exp(a.phasesMs[phase] ?? 0, ms);
        phases[phase] = e === null ? null : Math.round(e * 100) / 100;
        if (e !== null && e > 1.15 && ms >= 0.05 * total) worse.push(phase);
      }
      out.push({
        workload: name,
        from: a.accounts,
        to: b.accounts,
        positionsRatio: b.positions! / a.positions!,
        processSecondsExponent: exp(a.processSeconds, b.processSeconds),
        cpuSecondsExponent: a.cpuSeconds && b.cpuSeconds ? exp(a.cpuSeconds, b.cpuSeconds) : null,
        peakRssExponent: a.peakRssMiB && b.peakRssMiB ? exp(a.peakRssMiB, b.peakRssMiB) : null,
        phaseExponents: phases,
        worseThanLinear: worse,
      });
    }
  }
  return out;
}

function verdict(runs: ScalingRun[]) {
  return runs
    .filter((r) => r.accounts === 1_000_000)
    .map((r) => {
      const t = TARGET_1M[r.workload];
      return {
        workload: r.workload,
        target: t,
        processSeconds: r.timedOut ? null : r.processSeconds,
        peakGiB: r.peakRssMiB === null ? null : r.peakRssMiB / 1024,
        met: !r.timedOut && r.exitStatus === 0 && r.processSeconds <= t.seconds && r.peakRssMiB! / 1024 <= t.peakGiB,
      };
    });
}
