#!/usr/bin/env node
/**
 * Benchmarks of the backends (docs/performance.md): `npm run bench [-- --workload
 * revaluation|aggregation|intraday|eod|all]
 * [--scenarios 10000] [--groups 20000] [--gl-groups 200] [--backends cpu,gl,webgpu] [--workers N]`.
 *
 * - revaluation: the full chain (data/full/market, or a synthetic market of the same size) × N scenarios on
 *   every backend in one run; instrument-scenario evaluations per second (the whole revalue call: device
 *   work, read-back and host assembly), cold (first call, with kernel compilation) and warm. Each float32
 *   matrix is checked against the cpu float64 one: USD rows within 5e-6·F, coin rows within 5e-6.
 * - aggregation: seeded-by-construction GroupBooks over the cpu matrix; position-scenario multiply-adds per
 *   second. The gl device is far slower at gathers, so it gets a smaller book (--gl-groups), which the
 *   cpu pool also runs for a side-by-side ratio; the gl result is checked against the cpu float64 one
 *   within docs/architecture.md's bound.
 * - intraday, eod: the end-to-end workloads of docs/performance.md (endToEnd.ts): `runMargin` over the full chain
 *   and a generated 100,000-account book, every backend choice (--backends, default cpu,gl,auto,webgpu) in
 *   its own child process, [--repeat N] times (intraday 2, eod 1), each child killed after [--timeout S]
 *   (intraday 180, eod 300); [--cpu-prof] profiles the children into bench/.cache/prof/<workload>/.
 * - calibration (only by name): how auto's start-up measurement grows with its size on each backend
 *   (calibrationSweep.ts), [--limit N] sizes of each list.
 * Each workload writes one JSON record to bench/results/ (machine, commit, backend and kernel class that
 * actually ran, peak RSS). Never run by the test suite.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, optional, usageError } from '../src/cli/args.js';
import { ENGINE_NODE_FLAGS } from '../src/cli/nodeFlags.js';
import { createBackend, type Backend } from '../src/engine/createBackend.js';
import type { BackendName, GroupBook, PnlMatrix, Reduced } from '../src/engine/types.js';
import { defaultParams } from '../src/params/params.js';
import { KIND_OPTION } from '../src/model/market.js';
import { benchGroups, benchMarket, benchScenarios } from './workloads.js';
import { commitId, machineInfo, peakRssMiB } from './machine.js';
import { runEndToEnd } from './endToEnd.js';
import { CACHE_DIR } from './endToEndWorkloads.js';
import type { BackendChoice } from '../src/engine/types.js';
import { runTool } from './toolMain.js';

interface Run {
  backend: BackendName;
  kernelClass: string;
  ok: boolean;
  reason?: string;
  [k: string]: unknown;
}

const seconds = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
};

const WORKLOADS = [
  'revaluation',
  'aggregation',
  'intraday',
  'eod',
  'whatif',
  'distance',
  'scaling',
  'cascade',
  'calibration',
] as const;

const USAGE = `npm run bench -- [--workload W] [options]   (node dist/bench/run.js)

The backends side by side, one JSON record per workload in bench/results/ (bench/README.md, docs/performance.md).
  --workload W        revaluation, aggregation, intraday, eod, whatif, distance, scaling, cascade, all (default),
                      or calibration (only by name)
  --backends LIST     backends to run (e.g. cpu,gl,auto,webgpu)      --workers N   cpu pool size
  --scenarios N, --groups N, --gl-groups N                          revaluation and aggregation sizes
  --repeat N, --timeout S, --cpu-prof                               intraday and eod: runs, child time limit, profiles
  --out DIR           where the records go (default bench/results)
  (whatif: --duration, --connections; scaling: --sizes, --workloads; distance: --no-threads, --search-parts,
   --scan-block; cascade: --accounts, --shock, --model; calibration: --limit; --no-report, --nice)`;

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      workload: {},
      scenarios: {},
      groups: {},
      'gl-groups': {},
      backends: {},
      workers: {},
      out: {},
      repeat: {},
      timeout: {},
      'cpu-prof': { flag: true },
      duration: {},
      connections: {},
      limit: {},
      sizes: {},
      workloads: {},
      'no-report': { flag: true },
      'no-threads': { flag: true },
      'search-parts': {},
      'scan-block': {},
      accounts: {},
      nice: {},
      shock: {},
      model: {},
    },
    'bench',
  );
  const workload = optional(p, 'workload') ?? 'all';
  if (workload !== 'all' && !(WORKLOADS as readonly string[]).includes(workload))
    throw usageError('bench', `--workload must be one of ${WORKLOADS.join(', ')} or all, got ${workload}`);
  const workers = optional(p, 'workers') ? Number(optional(p, 'workers')) : undefined;
  const outDir = optional(p, 'out') ?? join(process.cwd(), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  process.env.DISPLAY ??= ':99'; // gl (headless-gl under Xvfb) needs an X display
  if (workload === 'all' || workload === 'revaluation' || workload === 'aggregation')
    await micro(p, workload, workers, outDir);
  if (workload === 'distance') {
    // issue 16: not part of `all` (the whole book does not fit a few minutes yet: bench/README.md)
    // --backends cpu,gl,auto: each in turn, one record side by side (one backend: its record as it is)
    const { runDistanceBench } = await import('./distance.js');
    const choices = (optional(p, 'backends') ?? 'auto').split(',') as BackendChoice[];
    const runs: Array<Record<string, unknown>> = [];
    for (const backend of choices)
      runs.push(
        await runDistanceBench({
          backend,
          limit: optional(p, 'limit') ? Number(optional(p, 'limit')) : undefined,
          timeoutSeconds: Number(optional(p, 'timeout') ?? 300),
          workers,
          threads: p.options['no-threads'] === true ? false : undefined,
          searchParts: optional(p, 'search-parts') ? Number(optional(p, 'search-parts')) : undefined,
          scanBlock: optional(p, 'scan-block') ? Number(optional(p, 'scan-block')) : undefined,
        }),
      );
    const record = runs.length === 1 ? runs[0]! : { workload: 'distance', backends: choices, runs };
    write(outDir, 'distance', {
      ...record,
      date: new Date().toISOString(),
      commit: commitId(),
      machine: machineInfo(),
      // the V8 flags the search ran under (underEngineFlags: the command's)
      nodeFlags: process.execArgv,
    });
    process.stdout.write(JSON.stringify(record, null, 2) + '\n');
    return 0;
  }
  if (workload === 'calibration') {
    // how auto's start-up measurement scales per backend (bench/calibrationSweep.ts): only when asked for
    const { runCalibrationSweep } = await import('./calibrationSweep.js');
    const record = await runCalibrationSweep({
      backends: (optional(p, 'backends') ?? 'cpu,gl,webgpu').split(',') as BackendName[],
      limit: optional(p, 'limit') ? Number(optional(p, 'limit')) : undefined,
      repeat: optional(p, 'repeat') ? Number(optional(p, 'repeat')) : undefined,
      workers,
    });
    write(outDir, 'calibration', {
      ...record,
      date: new Date().toISOString(),
      commit: commitId(),
      machine: machineInfo(),
    });
    return 0;
  }
  if (workload === 'cascade') {
    // issue 16: not part of `all` (a sweep of the whole book takes minutes)
    const { runCascadeBench } = await import('./cascade.js');
    const record = await runCascadeBench({
      backends: (optional(p, 'backends') ?? 'cpu').split(','),
      shock: optional(p, 'shock') ?? 'BTC:-0.1',
      model: optional(p, 'model') ?? 'deribit-pm',
      timeoutSeconds: Number(optional(p, 'timeout') ?? 600),
    });
    write(outDir, 'cascade', { ...record, date: new Date().toISOString(), commit: commitId(), machine: machineInfo() });
    process.stdout.write(
      JSON.stringify(
        (record.runs as Array<Record<string, unknown>>).map(({ cascades: _, ...r }) => r),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (workload === 'scaling') {
    // issue 17: not part of `all` (the 1,000,000-account eod takes minutes)
    const { runScalingBench } = await import('./scaling.js');
    const record = await runScalingBench({
      sizes: (optional(p, 'sizes') ?? '10000,100000,1000000').split(',').map(Number),
      workloads: (optional(p, 'workloads') ?? 'intraday,eod').split(',') as Array<'intraday' | 'eod'>,
      backend: optional(p, 'backends') ?? 'auto',
      timeoutSeconds: optional(p, 'timeout') ? Number(optional(p, 'timeout')) : undefined,
      nice: optional(p, 'nice') !== undefined ? Number(optional(p, 'nice')) : undefined,
    });
    const full = { ...record, date: new Date().toISOString(), commit: commitId(), machine: machineInfo() };
    write(outDir, 'scaling', full);
    process.stdout.write(JSON.stringify({ growth: record.growth, verdict: record.verdict }, null, 2) + '\n');
    return 0;
  }
  for (const name of ['intraday', 'eod'] as const) {
    if (workload !== 'all' && workload !== name) continue;
    const backends = (optional(p, 'backends') ?? 'cpu,gl,auto,webgpu').split(',');
    const repeat = Number(optional(p, 'repeat') ?? (name === 'intraday' ? 2 : 1));
    const timeoutSeconds = Number(optional(p, 'timeout') ?? (name === 'intraday' ? 180 : 300));
    const nodeFlags =
      p.options['cpu-prof'] === true ? ['--cpu-prof', `--cpu-prof-dir=${join(CACHE_DIR, 'prof', name)}`] : [];
    const record = await runEndToEnd(name, {
      backends,
      repeat,
      timeoutSeconds,
      workers,
      nodeFlags,
      noReport: p.options['no-report'] === true,
      accounts: optional(p, 'accounts') ? Number(optional(p, 'accounts')) : undefined,
    });
    write(outDir, name, {
      ...record,
      date: new Date().toISOString(),
      commit: commitId(),
      machine: machineInfo(),
      peakRssMiBOfDriver: peakRssMiB(),
    });
  }
  // the what-if service under load (bench/whatif.ts): only when asked for by name
  if (workload === 'whatif') {
    // loaded here: autocannon is a development dependency (bench/device.sh packs production modules only)
    const { runWhatIfBench } = await import('./whatif.js');
    const record = await runWhatIfBench({
      duration: Number(optional(p, 'duration') ?? 10),
      connections: Number(optional(p, 'connections') ?? 4),
    });
    write(outDir, 'whatif', { ...record, date: new Date().toISOString(), commit: commitId(), machine: machineInfo() });
    process.stdout.write(JSON.stringify(record, null, 2) + '\n');
  }
  return 0;
}

/** The revaluation and aggregation microbenchmarks (one process, backends side by side). */
async function micro(
  p: ReturnType<typeof parseArgs>,
  workload: string,
  workers: number | undefined,
  outDir: string,
): Promise<void> {
  const S = Number(optional(p, 'scenarios') ?? 10_000);
  const G = Number(optional(p, 'groups') ?? 20_000);
  const glGroups = Number(optional(p, 'gl-groups') ?? 200);
  const names = (optional(p, 'backends') ?? 'cpu,gl,webgpu').split(',').filter((n) => n !== 'auto') as BackendName[];

  const { market, source } = await benchMarket();
  const scenarios = benchScenarios(market, S);
  const params = defaultParams();
  const I = market.instruments.count;
  const backends: Partial<Record<BackendName, Backend>> = {};
  const unavailable: Partial<Record<BackendName, string>> = {};
  for (const n of names) {
    try {
      backends[n] = await createBackend(n, { workers });
    } catch (e) {
      unavailable[n] = (e as Error).message;
    }
  }
  if (!backends.cpu) throw new Error(`the cpu backend is needed as the float64 reference: ${unavailable.cpu}`);
  const [auto, autoStartSeconds] = await seconds(() => createBackend('auto', { workers }));
  const autoReport = { ...auto.report, startSeconds: autoStartSeconds };
  await auto.close();
  const common = () => ({
    date: new Date().toISOString(),
    commit: commitId(),
    machine: machineInfo(),
    market: { source, instruments: I, underlyings: market.underlyings.length },
    auto: autoReport,
    unavailable,
  });

  const cpuMatrix = await backends.cpu.revalue(market, scenarios, params);
  if (workload === 'revaluation' || workload === 'all') {
    const runs: Run[] = [];
    for (const [name, b] of Object.entries(backends) as Array<[BackendName, Backend]>) {
      const [, cold] = await seconds(() => b.revalue(market, scenarios, params));
      const [m, warm] = await seconds(() => b.revalue(market, scenarios, params));
      const check =
        name === 'cpu'
          ? { maxUsdErrOverF: 0, maxCoinErr: 0, ok: true, note: 'float64 reference' }
          : compareMatrices(m, cpuMatrix, market);
      runs.push({
        backend: name,
        kernelClass: b.report.kernelClass,
        ok: check.ok,
        evaluations: I * S,
        coldSeconds: cold,
        warmSeconds: warm,
        evaluationsPerSecond: (I * S) / warm,
        check,
        ...deviceTimings(b, 'revalue'),
      });
      process.stderr.write(
        `revaluation ${name}: ${((I * S) / warm / 1e6).toFixed(1)} M evaluations/s (cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s) ${JSON.stringify(check)}\n`,
      );
    }
    write(outDir, 'revaluation', {
      workload: 'revaluation',
      scenarios: S,
      ...common(),
      runs,
      peakRssMiB: peakRssMiB(),
    });
  }
  if (workload === 'aggregation' || workload === 'all') {
    const runs: Run[] = [];
    const big = benchGroups(G, cpuMatrix.rows, S);
    const small = benchGroups(glGroups, cpuMatrix.rows, S);
    for (const [label, groups, who, topK] of [
      // webgpu takes the large book too (no texture side; on a real GPU it is not the slow gatherer gl is)
      ['large', big, ['cpu', ...(backends.webgpu ? ['webgpu'] : [])], 0],
      ['small', small, Object.keys(backends), 0],
      // and with the 100 largest losses per group (var's tail): webgpu finds them on the device
      ['large', big, ['cpu', ...(backends.webgpu ? ['webgpu'] : [])], 100],
    ] as Array<[string, GroupBook, string[], number]>) {
      const madds = groups.groupStart[groups.groupCount]! * S;
      let ref: Reduced | null = null;
      for (const name of who as BackendName[]) {
        const b = backends[name]!;
        const [r, secs] = await seconds(() => b.aggregate(cpuMatrix, groups, { topK }));
        if (name === 'cpu') ref = r;
        const check =
          name === 'cpu'
            ? { maxErrOverBound: 0, ok: true, note: 'float64 reference' }
            : compareReduced(r, ref!, groups, cpuMatrix, topK);
        runs.push({
          backend: name,
          kernelClass: b.report.phaseKernelClass?.aggregate ?? b.report.kernelClass,
          ok: check.ok,
          book: label,
          topK,
          groups: groups.groupCount,
          entries: groups.groupStart[groups.groupCount]!,
          multiplyAdds: madds,
          seconds: secs,
          multiplyAddsPerSecond: madds / secs,
          check,
          ...deviceTimings(b, 'aggregate'),
        });
        process.stderr.write(
          `aggregation ${label}${topK ? ` top ${topK}` : ''} ${name}: ${(madds / secs / 1e6).toFixed(1)} M multiply-adds/s (${secs.toFixed(2)} s, ${groups.groupCount} groups) ${JSON.stringify(check)}\n`,
        );
      }
    }
    // the auto backend's situation: revaluation on gl hands the cpu pool a float32 matrix, after the pool
    // has aggregated float64 ones (self-check, calibration): the same large book over a float32 copy
    {
      const f32: PnlMatrix = { rows: cpuMatrix.rows, scenarios: S, data: Float32Array.from(cpuMatrix.data) };
      const madds = big.groupStart[big.groupCount]! * S;
      const b = backends.cpu;
      await b.aggregate(f32, big, { topK: 0 }); // warm-up on float32 (and the shared copy of the matrix)
      const [r, secs] = await seconds(() => b.aggregate(f32, big, { topK: 0 }));
      const [ref64, secs64] = await seconds(() => b.aggregate(cpuMatrix, big, { topK: 0 }));
      const check = compareReduced(r, ref64, big, cpuMatrix);
      runs.push({
        backend: 'cpu',
        kernelClass: 'piscina',
        ok: check.ok,
        book: 'large',
        matrix: 'float32 (as auto receives it from gl), after float64 runs in the same pool',
        groups: big.groupCount,
        entries: big.groupStart[big.groupCount]!,
        multiplyAdds: madds,
        seconds: secs,
        multiplyAddsPerSecond: madds / secs,
        float64AgainSeconds: secs64,
        float64AgainMultiplyAddsPerSecond: madds / secs64,
        check,
      });
      process.stderr.write(
        `aggregation large cpu over a float32 matrix: ${(madds / secs / 1e6).toFixed(1)} M multiply-adds/s (${secs.toFixed(2)} s); float64 again: ${(madds / secs64 / 1e6).toFixed(1)} M/s\n`,
      );
    }
    write(outDir, 'aggregation', {
      workload: 'aggregation',
      scenarios: S,
      ...common(),
      runs,
      peakRssMiB: peakRssMiB(),
    });
  }
  for (const b of Object.values(backends)) await b!.close();
}

/** Largest float32-vs-float64 differences: USD rows / F and coin rows, over every cell; ok within 5e-6. */
function compareMatrices(m: PnlMatrix, ref: PnlMatrix, market: import('../src/model/market.js').Market) {
  const I = market.instruments.count;
  const S = ref.scenarios;
  let usd = 0;
  let coin = 0;
  for (let i = 0; i < I; i++) {
    const F = market.instruments.forward[i]!;
    for (let s = 0; s < S; s++) {
      usd = Math.max(usd, Math.abs(m.data[i * S + s]! - ref.data[i * S + s]!) / F);
      coin = Math.max(coin, Math.abs(m.data[(I + i) * S + s]! - ref.data[(I + i) * S + s]!));
    }
  }
  const options = Array.from(market.instruments.kind).filter((k) => k === KIND_OPTION).length;
  return { maxUsdErrOverF: usd, maxCoinErr: coin, bound: 5e-6, options, ok: usd <= 5e-6 && coin <= 5e-6 };
}

/**
 * A float32 device's reduction against cpu's float64: per group |Δ| / (1e-5 · |ref| + 5e-7 · Σ|q|·max|pnl row|),
 * for the worst loss and, with `topK`, each of the k largest losses.
 */
function compareReduced(r: Reduced, ref: Reduced, g: GroupBook, pnl: PnlMatrix, topK = 0) {
  const S = pnl.scenarios;
  const rowMax = new Float64Array(pnl.rows);
  for (let row = 0; row < pnl.rows; row++)
    for (let s = 0; s < S; s++) rowMax[row] = Math.max(rowMax[row]!, Math.abs(pnl.data[row * S + s]!));
  let worst = 0;
  let worstTop = 0;
  let sameIndex = 0;
  for (let k = 0; k < g.groupCount; k++) {
    let gross = 0;
    for (let e = g.groupStart[k]!; e < g.groupStart[k + 1]!; e++) gross += Math.abs(g.qty[e]!) * rowMax[g.row[e]!]!;
    const over = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / (1e-5 * Math.abs(b) + 5e-7 * gross));
    worst = Math.max(worst, over(r.worstLoss[k]!, ref.worstLoss[k]!));
    if (r.worstScenario[k] === ref.worstScenario[k]) sameIndex++;
    for (let j = 0; j < topK; j++)
      worstTop = Math.max(worstTop, over(r.topLosses![k * topK + j]!, ref.topLosses![k * topK + j]!));
  }
  return {
    maxErrOverBound: worst,
    ...(topK > 0 ? { topMaxErrOverBound: worstTop } : {}),
    sameWorstScenario: `${sameIndex}/${g.groupCount}`,
    ok: worst <= 1 && worstTop <= 1,
  };
}

/** A device backend's milliseconds by part of its last call of `phase` (DeviceBackend.timings), rounded. */
function deviceTimings(b: Backend, phase: 'revalue' | 'aggregate'): { deviceMs?: Record<string, number> } {
  const t = (b as { timings?: { revalue: Record<string, number>; aggregate: Record<string, number> } }).timings;
  if (!t) return {};
  return { deviceMs: Object.fromEntries(Object.entries(t[phase]).map(([k, v]) => [k, Math.round(v * 10) / 10])) };
}

function write(dir: string, name: string, record: object): void {
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}

/**
 * The distance workload stands for `margin-engine run --distance` and runs in this process: under the
 * engine's V8 flags (src/cli/nodeFlags.ts), as the command does. Started without them, this process runs the
 * same arguments again in a child with them (at 40,000 accounts on 2 cores the search took 2–4 % more wall
 * time and 4 % more CPU without --no-concurrent-recompilation). Null when nothing needs re-running.
 */
function underEngineFlags(argv: string[]): Promise<number> | null {
  const i = argv.indexOf('--workload');
  const distance = argv.includes('--workload=distance') || (i >= 0 && argv[i + 1] === 'distance');
  if (!distance || ENGINE_NODE_FLAGS.every((f) => process.execArgv.includes(f))) return null;
  const child = spawn(process.execPath, [...process.execArgv, ...ENGINE_NODE_FLAGS, process.argv[1]!, ...argv], {
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

(underEngineFlags(process.argv.slice(2)) ?? runTool('run', USAGE, main)).then((code) => process.exit(code));
