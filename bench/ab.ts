#!/usr/bin/env node
/**
 * A/B timing of two builds on the same workload, alternating, so that a noisy shared machine hits both alike:
 * `node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--workload intraday|eod] [--process] [--backend B]
 * [--book DIR] [--record] [--nice N]`. DIST_A and DIST_B are copies of dist/ built from the two versions,
 * placed inside the project (e.g. bench/.cache/distA, so that node_modules resolves); each round runs each
 * build once in a fresh child process (A then B, B then A on the next round), writing a fresh report under
 * bench/.cache/ab/.
 *
 * Default: the child imports the build's `runMargin` and times the call (the run as the pipeline sees it).
 * `--process`: the child is the command itself, `sh DIST/bundle/main.js run … --quiet` (DIST/src/cli/main.js for
 * a build from before the bundle, scripts/bundle.mjs; the polyglot first
 * lines exec node with the engine's flags, as `margin-engine run` does), timed from spawn to exit by this
 * process (wall) and by /usr/bin/time (user + system CPU of every thread, and peak RSS): the run as a user
 * sees it, Node's start, the imports and the exit included.
 *
 * Prints every time and the medians (wall and CPU); `--record` also writes them to
 * bench/results/ab-<mode>-<workload>-<timestamp>.json. `--book DIR` takes the book's Arrow files from DIR
 * instead of the generated cache (which a dirty tree regenerates). `--nice N` (process mode) runs each child
 * under `nice -n N`; with the kernel's autogroups (the 2-core machine has them) a priority counts only within
 * the session that set it, so it did not shield these runs from other sessions' work.
 * Single intraday runs vary by ±0.08 s on the 2-core machine, far more when it is shared: judge a change by
 * the medians of ≥ 20 rounds.
 */
import { execFileSync } from 'node:child_process';
import { timeProcessSync } from './processTime.js';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, optional } from '../src/cli/args.js';
import {
  CACHE_DIR,
  END_TO_END,
  ROOT,
  ensureBook,
  inputArgs,
  type EndToEndName,
  type EndToEndWorkload,
} from './endToEndWorkloads.js';
import { ENGINE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { commitId, machineInfo } from './machine.js';
import { runTool } from './toolMain.js';

type Side = 'A' | 'B';
interface Sample {
  wall: number;
  cpu: number;
  /** of which the kernel's (system CPU), s (process mode) */
  sys?: number;
  /** peak RSS, MiB (process mode) */
  rssMiB?: number;
}

/** The median of `x` (the upper of the two middle values when their count is even). */
export function median(x: number[]): number {
  return [...x].sort((u, v) => u - v)[Math.floor(x.length / 2)]!;
}

/** Every sample of a series and its median, `digits` decimals: one line of a timing summary. */
export function timesLine(x: number[], digits = 3): string {
  return `${x.map((t) => t.toFixed(digits)).join(' ')}  median ${median(x).toFixed(digits)}`;
}

/** The `margin-engine run` arguments of a workload (what README.md shows), writing `db`. */
export function runArgs(
  w: EndToEndWorkload,
  book: { positions: string; balances: string },
  db: string,
  backend: string,
): string[] {
  return [
    'run',
    ...inputArgs(w, book),
    '--models',
    w.models.join(','),
    ...(w.historyDir ? ['--history', w.historyDir] : []),
    ...(backend === 'auto' ? [] : ['--backend', backend]),
    '--db',
    db,
    '--quiet',
  ];
}

const USAGE = `node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--workload intraday|eod] [--process] [--backend B]
                    [--book DIR] [--record] [--nice N]

Two builds (copies of dist/ inside the project, e.g. bench/.cache/distA) timed in alternating rounds on one book;
prints every time, the medians and B/A. --process: the command itself as a process (wall, CPU, peak RSS);
--record: bench/results/ab-<mode>-<workload>-<time>.json. Judge a change by 20 rounds or more.`;

function main(argv: string[]): number {
  const p = parseArgs(
    argv,
    { rounds: {}, workload: {}, process: { flag: true }, backend: {}, book: {}, record: { flag: true }, nice: {} },
    'bench ab',
  );
  const [a, b] = p.positional;
  if (!a || !b)
    throw new Error(
      'usage: node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--workload intraday|eod] [--process] [--backend B] [--book DIR] [--record]',
    );
  const rounds = Number(optional(p, 'rounds') ?? 10);
  const w = END_TO_END[(optional(p, 'workload') ?? 'intraday') as EndToEndName];
  const processMode = p.options.process === true;
  const backend = optional(p, 'backend') ?? (processMode ? 'auto' : 'cpu');
  const bookDir = optional(p, 'book');
  const nice = optional(p, 'nice') !== undefined ? Number(optional(p, 'nice')) : undefined;
  const book = bookDir
    ? { positions: join(bookDir, 'positions.arrow'), balances: join(bookDir, 'balances.arrow') }
    : ensureBook(w);
  const dir = join(CACHE_DIR, 'ab');
  mkdirSync(dir, { recursive: true });
  const script = (name: string, dist: string) => {
    const file = join(dir, `${name}.mjs`);
    const db = join(dir, `${name}.duckdb`);
    writeFileSync(
      file,
      `
const { runMargin } = await import(${JSON.stringify(join(resolve(dist), 'src', 'pipeline', 'runMargin.js'))});
const { rmSync } = await import('node:fs');
rmSync(${JSON.stringify(db)}, { force: true });
const t0 = performance.now();
const c0 = process.cpuUsage();
await runMargin(${JSON.stringify({ marketDir: w.marketDir, positions: book.positions, balances: book.balances, models: w.models, historyDir: w.historyDir, backend, onInvalid: 'fail', db })});
const c = process.cpuUsage(c0);
process.stdout.write(((performance.now() - t0) / 1000).toFixed(3) + ' ' + ((c.user + c.system) / 1e6).toFixed(3) + '\\n');
`,
    );
    return file;
  };
  const dists: Record<Side, string> = { A: a, B: b };
  const files = processMode ? null : { A: script('A', a), B: script('B', b) };
  const samples: Record<Side, Sample[]> = { A: [], B: [] };
  const loads: number[] = [];
  const run = (k: Side): Sample => {
    if (processMode) {
      const db = join(dir, `${k}.duckdb`);
      rmSync(db, { force: true });
      const t = timeProcessSync(commandOf(dists[k]), runArgs(w, book, db, backend), nice);
      return { wall: t.wall, cpu: t.cpu!, sys: t.sys!, rssMiB: t.rssMiB! };
    }
    const [wall, cpu] = execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, files![k]], { encoding: 'utf8' })
      .trim()
      .split(' ')
      .map(Number);
    return { wall: wall!, cpu: cpu! };
  };
  for (let i = 0; i < rounds; i++) {
    loads.push(loadavg()[0]!);
    for (const k of (i % 2 ? ['B', 'A'] : ['A', 'B']) as Side[]) samples[k].push(run(k));
  }
  const out: string[] = [];
  for (const k of ['A', 'B'] as const) out.push(`${k} wall ${timesLine(samples[k].map((s) => s.wall))}`);
  // the process's CPU time (every thread): less sensitive than the wall time to what else the machine runs
  for (const k of ['A', 'B'] as const) out.push(`${k} cpu  ${timesLine(samples[k].map((s) => s.cpu))}`);
  if (processMode) {
    // of the CPU, the kernel's (page faults, I/O): where a change moved it, or the machine's state did
    for (const k of ['A', 'B'] as const) out.push(`${k} sys  ${timesLine(samples[k].map((s) => s.sys!))}`);
    for (const k of ['A', 'B'] as const)
      out.push(
        `${k} rss  ${timesLine(
          samples[k].map((s) => s.rssMiB!),
          0,
        )} MiB`,
      );
  }
  const ratio = (f: (s: Sample) => number) => median(samples.B.map(f)) / median(samples.A.map(f));
  out.push(
    `B/A wall ${ratio((s) => s.wall).toFixed(3)}, cpu ${ratio((s) => s.cpu).toFixed(3)}; load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
  process.stdout.write(out.join('\n') + '\n');
  if (p.options.record === true) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(ROOT, 'bench', 'results', `ab-${processMode ? 'process' : 'run'}-${w.name}-${stamp}.json`);
    const summary = (k: Side) => ({
      dist: dists[k],
      wallSeconds: samples[k].map((s) => s.wall),
      cpuSeconds: samples[k].map((s) => s.cpu),
      ...(processMode
        ? { systemCpuSeconds: samples[k].map((s) => s.sys), peakRssMiB: samples[k].map((s) => s.rssMiB) }
        : {}),
      median: {
        wallSeconds: median(samples[k].map((s) => s.wall)),
        cpuSeconds: median(samples[k].map((s) => s.cpu)),
      },
      version: readVersion(dists[k]),
    });
    writeFileSync(
      file,
      JSON.stringify(
        {
          kind: 'ab',
          mode: processMode ? 'process' : 'runMargin',
          workload: w.name,
          backend,
          rounds,
          nice: nice ?? null,
          command: processMode ? ['sh', 'DIST/bundle/main.js', ...runArgs(w, book, 'DB', backend)] : null,
          machine: machineInfo(),
          commit: commitId(),
          loadAverage1mPerRound: loads,
          A: summary('A'),
          B: summary('B'),
          ratio: { wall: ratio((s) => s.wall), cpu: ratio((s) => s.cpu) },
          date: new Date().toISOString(),
        },
        null,
        2,
      ) + '\n',
    );
    process.stdout.write(`record: ${file}\n`);
  }
  return 0;
}

/** The command of a build: its bundle (package.json's bin), or for a build from before it, dist/src/cli/main.js. */
function commandOf(dist: string): string {
  const bundled = join(resolve(dist), 'bundle', 'main.js');
  return existsSync(bundled) ? bundled : join(resolve(dist), 'src', 'cli', 'main.js');
}

/** What a copied build says it is: the commit in DIST/COMMIT when the copier wrote one. */
export function readVersion(dist: string): string | null {
  try {
    return readFileSync(join(dist, 'COMMIT'), 'utf8').trim();
  } catch {
    return null;
  }
}

if (/ab\.[jt]s$/.test(process.argv[1] ?? '')) process.exitCode = await runTool('ab', USAGE, main);
