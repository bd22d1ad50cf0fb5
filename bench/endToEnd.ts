/**
 * The end-to-end benchmark driver: for one workload (`intraday` or `eod`), every backend choice runs the
 * whole pipeline in its own child process (endToEndChild.ts, under the engine's V8 flags:
 * src/cli/nodeFlags.ts) — cpu first, as the float64 reference the
 * others are checked against — each writing a fresh DuckDB file under bench/.cache/. One JSON record per
 * workload goes to bench/results/<workload>-<timestamp>.json with every run side by side, the targets of
 * docs/performance.md and, where one is missed, the phase that takes the time.
 *
 * A child that runs past its time limit is killed; its record keeps the phases it completed (from its
 * phase log) and names the phase it was in.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import { CACHE_DIR, END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { ENGINE_NODE_FLAGS } from '../src/cli/nodeFlags.js';

export interface EndToEndOptions {
  backends: string[];
  repeat: number;
  /** per child, seconds */
  timeoutSeconds: number;
  workers?: number;
  /** extra node flags for the children, e.g. ['--cpu-prof', '--cpu-prof-dir=bench/.cache/prof'] */
  nodeFlags: string[];
  /**
   * no DuckDB report: the children run without --db (bench/device.sh: a device machine gets no
   * @duckdb/node-api); end to end is then the run without its report phase
   */
  noReport?: boolean;
  /** the book's size instead of the workload's 100,000 accounts (bench/device.sh's dry run) */
  accounts?: number;
}

interface ChildOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  processSeconds: number;
  stderrTail: string;
}

function runChild(args: string[], env: NodeJS.ProcessEnv, timeoutSeconds: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
      process.stderr.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, timedOut, processSeconds: (performance.now() - t0) / 1000, stderrTail: err });
    });
  });
}

/** Completed phase calls from a phase log, and the phase that was running when it stopped (if any). */
function readPhaseLog(file: string): {
  completed: Array<{ phase: string; total: number; seconds: number }>;
  runningPhase: string | null;
  runningSinceSeconds: number | null;
} {
  if (!existsSync(file)) return { completed: [], runningPhase: null, runningSinceSeconds: null };
  const completed: Array<{ phase: string; total: number; seconds: number }> = [];
  let running: string | null = null;
  let since: number | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, phase, total, ms] = line.split('\t');
    if (kind === 'start') {
      running = phase!;
      since = Number(ms) / 1000;
    }
    if (kind === 'end') {
      completed.push({ phase: phase!, total: Number(total), seconds: Number(ms) / 1000 });
      running = null;
      since = null;
    }
  }
  return { completed, runningPhase: running, runningSinceSeconds: since };
}

/** Runs one workload on every backend (× repeat) and returns the record (the caller writes it). */
export async function runEndToEnd(name: EndToEndName, opts: EndToEndOptions): Promise<Record<string, unknown>> {
  const w = { ...END_TO_END[name], ...(opts.accounts ? { accounts: opts.accounts } : {}) };
  const book = ensureBook(w);
  const dir = join(CACHE_DIR, name);
  mkdirSync(dir, { recursive: true });
  const reference = join(dir, 'reference-cpu.v8');
  rmSync(reference, { force: true });
  const childJs = join(process.cwd(), 'dist', 'bench', 'endToEndChild.js');
  const env = { ...process.env, DISPLAY: process.env.DISPLAY ?? ':99' };
  // cpu first: it writes the reference
  const order = ['cpu', ...opts.backends.filter((b) => b !== 'cpu')];
  const runs: Array<Record<string, unknown>> = [];
  for (let rep = 1; rep <= opts.repeat; rep++) {
    for (const backend of order) {
      const db = join(dir, `${backend}-${rep}.duckdb`);
      const result = join(dir, `${backend}-${rep}.json`);
      const phaseLogFile = join(dir, `${backend}-${rep}.phases`);
      for (const f of [db, `${db}.wal`, result, phaseLogFile]) rmSync(f, { force: true });
      const args = [
        ...ENGINE_NODE_FLAGS,
        ...opts.nodeFlags,
        childJs,
        '--workload',
        name,
        '--backend',
        backend,
        '--positions',
        book.positions,
        '--balances',
        book.balances,
        ...(opts.noReport ? [] : ['--db', db]),
        '--result',
        result,
        '--phase-log',
        phaseLogFile,
        '--reference',
        reference,
      ];
      if (opts.workers) args.push('--workers', String(opts.workers));
      process.stderr.write(`${name} ${backend} (run ${rep}/${opts.repeat}) …\n`);
      const load0 = loadavg()[0]!;
      const c = await runChild(args, env, opts.timeoutSeconds);
      if (c.exitCode === 0 && existsSync(result)) {
        const r = JSON.parse(readFileSync(result, 'utf8')) as Record<string, unknown>;
        const dbMiB = existsSync(db) ? Math.round(statSync(db).size / 2 ** 20) : null;
        runs.push({
          ok: true,
          repeat: rep,
          ...r,
          processSeconds: c.processSeconds,
          loadAverage1mAtStart: load0,
          dbFileMiB: dbMiB,
          verdict: verdict(r, w.target),
        });
        const t = r.phasesSeconds as Record<string, number>;
        process.stderr.write(
          `${name} ${backend}: ${(r.endToEndSeconds as number).toFixed(2)} s end to end (${Object.entries(t)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(', ')}), peak ${r.peakRssMiB} MiB, check ${JSON.stringify((r.check as { ok: unknown }).ok)}\n`,
        );
      } else {
        const partial = readPhaseLog(phaseLogFile);
        const unavailable = /BackendUnavailableError: (.*)/.exec(c.stderrTail)?.[1];
        const why = c.timedOut
          ? `killed after the ${opts.timeoutSeconds} s limit while in phase ${partial.runningPhase ?? '?'}`
          : unavailable
            ? `did not start: ${unavailable}`
            : `exit ${c.exitCode ?? c.signal}`;
        runs.push({
          ok: false,
          repeat: rep,
          workload: name,
          backendChoice: backend,
          reason: why,
          processSeconds: c.processSeconds,
          loadAverage1mAtStart: load0,
          completedPhases: partial.completed,
          runningPhase: partial.runningPhase,
          runningPhaseStartedAtSeconds: partial.runningSinceSeconds,
          stderrTail: c.stderrTail.slice(-1500),
        });
        process.stderr.write(`${name} ${backend}: ${why}\n`);
      }
    }
  }
  return {
    workload: name,
    models: [...w.models, 'standard'],
    history: w.historyDir ?? null,
    accounts: w.accounts,
    seed: w.seed,
    market: w.marketDir,
    book: {
      dir: book.dir,
      positionsMiB: Math.round(statSync(book.positions).size / 2 ** 20),
      generatedSeconds: book.generatedSeconds,
      generator: book.generator,
      positionsSha256: sha256(book.positions),
      balancesSha256: sha256(book.balances),
    },
    target: w.target,
    numpyBaseline: w.numpyBaseline,
    childTimeoutSeconds: opts.timeoutSeconds,
    nodeFlags: [...ENGINE_NODE_FLAGS, ...opts.nodeFlags],
    runs,
  };
}

/** SHA-256 of a file (hex): which generated book a record measured. */
function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Against the targets: met or not, and when not, the phase that takes the most time. */
function verdict(r: Record<string, unknown>, target: { endToEndSeconds: number; peakRssGiB: number }) {
  const e2e = r.endToEndSeconds as number;
  const rssGiB = (r.peakRssMiB as number) / 1024;
  const phases = Object.entries(r.phasesSeconds as Record<string, number>).sort((a, b) => b[1] - a[1]);
  return {
    endToEndMet: e2e <= target.endToEndSeconds,
    peakRssMet: rssGiB <= target.peakRssGiB,
    overTargetSeconds: Math.max(0, e2e - target.endToEndSeconds),
    slowestPhases: phases.slice(0, 3).map(([k, v]) => ({ phase: k, seconds: v, shareOfEndToEnd: v / e2e })),
  };
}
