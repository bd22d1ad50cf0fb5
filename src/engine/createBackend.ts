/**
 * Choosing and starting the backends.
 *
 * `createBackend('cpu' | 'gl' | 'webgpu')` starts that backend, runs the start-up self-check
 * (selfCheck.ts) and rejects with a BackendUnavailableError carrying the reason when it cannot run or
 * disagrees with float64 beyond its bound.
 *
 * `createBackend('auto')` tries webgpu, gl, cpu in that order and records in `report.tried` why each one
 * did not run ('ok' for those that did). It then chooses PER PHASE by a short measurement on each backend
 * that passed (calibrationSizes: on 2 pool workers revaluation 256 instruments × 2,048 scenarios and
 * aggregation 64 groups × 16 entries × 1,024 scenarios, both growing with the pool's workers so that the
 * pool's dispatch cost does not hide its throughput; each run three times, the fastest run counts: the first
 * one compiles kernels and warms the JIT). A run has the measurement wait for its book's load
 * (`measureAfter`), so that neither slows or starves the other. A phase goes to the device only where the
 * device measured over DEVICE_ADVANTAGE (2) times the cpu pool's rate (`onDevice`), recorded in
 * `report.phases` and `report.calibration`; where neither phase does, the device is closed at once and the
 * cpu backend itself runs (its scheduler, its threads). On the 2-core CPU-only machine gl's revaluation
 * measures 1.0–1.3× the pool's (Mesa llvmpipe against the pool's WebAssembly cells) and its aggregation far
 * below; on the H200 machine (16 cores) webgpu measures below the pool: both phases run on cpu on both. With
 * `noCalibration` it uses the first wave's documented outcome directly: revaluation on the first GPU backend
 * that passed, aggregation on cpu.
 */
import type {
  BackendChoice,
  BackendName,
  BackendReport,
  GroupBook,
  PnlMatrix,
  Reduced,
  ReduceRequest,
  RevalueOptions,
  WorkerThreads,
} from './types.js';
import { BackendUnavailableError, type Backend, type BackendOptions } from './backend.js';
import { CpuBackend } from './cpuBackend.js';
import { DeviceBackend } from './deviceBackend.js';
import { selfCheck } from './selfCheck.js';
import { groupDigits } from '../util/groupDigits.js';
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import { defaultParams, type Params } from '../params/params.js';
import { calibrationAggregate, calibrationMarket } from './calibration.js';
import { DEVICE_ADVANTAGE, DEVICE_MIN_WORK } from './tuning.js';

export { BackendUnavailableError } from './backend.js';
export type { Backend, BackendOptions } from './backend.js';

/**
 * Starts a backend (see the module comment). The caller must `close()` it.
 * @throws BackendUnavailableError when an explicitly chosen backend cannot run (reason included), or,
 *   for 'auto', when not even cpu starts (e.g. the built worker is missing: run npm run build).
 */
export async function createBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<Backend> {
  if (choice === 'cpu') return startChecked('cpu', opts);
  if (choice === 'gl' || choice === 'webgpu') return startChecked(choice, opts);
  if (choice !== 'auto') throw new Error(`backend must be auto, cpu, gl or webgpu, got ${JSON.stringify(choice)}`);

  const tried: Partial<Record<BackendName, string>> = {};
  const selfChecks: Partial<Record<BackendName, number>> = {};
  const work = opts.expectedWork;
  if (work && work.evaluations < DEVICE_MIN_WORK.evaluations && work.scenarios < DEVICE_MIN_WORK.scenarios) {
    const why =
      `not started: this run revalues ${groupDigits(work.evaluations)} instrument-scenario pairs over ` +
      `${groupDigits(work.scenarios)} scenarios, less than a device's start-up could repay (${DEVICE_MIN_WORK.note})`;
    tried.webgpu = why;
    tried.gl = why;
    const cpu = (await startChecked('cpu', opts, selfChecks)) as CpuBackend;
    tried.cpu = 'ok';
    cpu.report.tried = tried;
    cpu.report.selfCheck = selfChecks;
    return cpu;
  }
  let device: DeviceBackend | null = null;
  for (const name of ['webgpu', 'gl'] as const) {
    try {
      device = (await startChecked(name, opts, selfChecks)) as DeviceBackend;
      tried[name] = 'ok';
      break;
    } catch (e) {
      tried[name] = reasonOf(e);
    }
  }
  let cpu: CpuBackend;
  try {
    cpu = (await startChecked('cpu', opts, selfChecks)) as CpuBackend;
    tried.cpu = 'ok';
  } catch (e) {
    await device?.close();
    throw e;
  }
  if (device === null) {
    cpu.report.tried = tried;
    cpu.report.selfCheck = selfChecks;
    return cpu;
  }
  const rates: { revalue: Partial<Record<BackendName, number>>; aggregate: Partial<Record<BackendName, number>> } = {
    revalue: {},
    aggregate: {},
  };
  let revalueOn: Backend = device;
  let aggregateOn: Backend = cpu;
  let note =
    'documented calibration: revaluation on the GPU backend, aggregation on the cpu pool (llvmpipe gathers are slower than JS)';
  if (!opts.noCalibration) {
    await opts.measureAfter?.catch(() => undefined);
    // each problem built once, for both backends
    const sizes = calibrationSizes(cpu.workers);
    const revalueProblem = calibrationMarket(...sizes.revalue);
    const aggregateProblem = calibrationAggregate(...sizes.aggregate);
    try {
      for (const b of [device, cpu] as Backend[]) {
        rates.revalue[b.name] = await measureRevalue(b, revalueProblem);
        rates.aggregate[b.name] = await measureAggregate(b, aggregateProblem);
      }
    } catch (e) {
      await Promise.allSettled([device.close(), cpu.close()]);
      throw e;
    }
    revalueOn = onDevice(rates.revalue[device.name]!, rates.revalue.cpu!) ? device : cpu;
    aggregateOn = onDevice(rates.aggregate[device.name]!, rates.aggregate.cpu!) ? device : cpu;
    note =
      `measured at start-up (evaluations/s, multiply-adds/s): a device runs a phase where it measured over ` +
      `${DEVICE_ADVANTAGE}× the cpu pool's rate, else the pool does`;
  }
  const report: BackendReport = {
    chosen: revalueOn.name,
    kernelClass: kernelClassOf(revalueOn),
    tried,
    phases: { revalue: revalueOn.name, aggregate: aggregateOn.name },
    phaseKernelClass: { revalue: kernelClassOf(revalueOn), aggregate: kernelClassOf(aggregateOn) },
    calibration: { ...rates, note },
    selfCheck: selfChecks,
  };
  if (revalueOn === cpu && aggregateOn === cpu) {
    // the device measured slower: let it go now (its memory, its context) and run as the cpu backend does
    // (a device that fails to close is not this run's concern: it goes on on cpu)
    await device.close().catch(() => undefined);
    // the cpu backend's own chosen and kernel class ('cpu', 'piscina'), with auto's record
    const { phases, phaseKernelClass, calibration, selfCheck } = report;
    Object.assign(cpu.report, { tried, phases, phaseKernelClass, calibration, selfCheck });
    return cpu;
  }
  return new PhasedBackend(revalueOn, aggregateOn, device, cpu, report);
}

/** Starts `name` and runs its self-check. @throws BackendUnavailableError with the reason. */
async function startChecked(
  name: BackendName,
  opts: BackendOptions,
  record?: Partial<Record<BackendName, number>>,
): Promise<Backend> {
  let b: Backend;
  try {
    b = name === 'cpu' ? new CpuBackend(opts.workers) : await DeviceBackend.open(name);
  } catch (e) {
    throw e instanceof BackendUnavailableError ? e : new BackendUnavailableError(name, reasonOf(e));
  }
  if (opts.skipSelfCheck) return b;
  try {
    const r = await selfCheck(b, name === 'cpu');
    if (record) record[name] = r.worst;
    b.report.selfCheck = { [name]: r.worst };
    if (!r.ok)
      throw new BackendUnavailableError(
        name,
        `self-check against float64 failed: ${r.detail} (error ${r.worst.toPrecision(3)} × its bound)`,
      );
  } catch (e) {
    await b.close();
    throw e instanceof BackendUnavailableError
      ? e
      : new BackendUnavailableError(name, `self-check could not run: ${reasonOf(e)}`);
  }
  return b;
}

function reasonOf(e: unknown): string {
  if (e instanceof BackendUnavailableError) return e.reason;
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

function kernelClassOf(b: Backend): string {
  return b.name === 'cpu' ? 'piscina' : b.report.phaseKernelClass?.revalue || b.report.kernelClass;
}

async function bestOfThree(run: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}

/**
 * Whether auto runs a phase on the device, from the rates measured for it and for the cpu pool (per second,
 * higher is faster): only above DEVICE_ADVANTAGE times the pool's (module comment).
 */
export function onDevice(deviceRate: number, cpuRate: number): boolean {
  return deviceRate > DEVICE_ADVANTAGE * cpuRate;
}

/** auto's measurement problems: revaluation instruments × scenarios, aggregation groups × entries × scenarios. */
interface CalibrationSizes {
  revalue: [number, number];
  aggregate: [number, number, number];
}

/**
 * The sizes auto measures for a pool of `workers` (module comment). They were 256 × 2,048 and 64 × 16 × 1,024
 * for 2 workers; on 16 (the H200 machine, bench/README.md "Session 21") those left each worker so little that
 * the pool measured 13 M evaluations/s and 0.34 G multiply-adds/s against 82 M/s and 18 G/s in the run, and
 * auto put eod on webgpu (5.7 s against cpu's 2.1 s). Scenarios grow with workers / 2, and the groups too for
 * aggregation. Measured without a top k: asking for var's (top 16) changed no choice there and cost the
 * device's top-k kernels' start at every auto run.
 */
export function calibrationSizes(workers: number): CalibrationSizes {
  const scale = Math.max(1, Math.round(workers / 2));
  return { revalue: [256, 2048 * scale], aggregate: [64 * scale, 16, 1024 * scale] };
}

async function measureRevalue(b: Backend, p: ReturnType<typeof calibrationMarket>): Promise<number> {
  const params = defaultParams();
  const secs = await bestOfThree(() => b.revalue(p.market, p.scenarios, params));
  return (p.market.instruments.count * p.scenarios.count) / secs;
}

async function measureAggregate(b: Backend, p: ReturnType<typeof calibrationAggregate>): Promise<number> {
  const secs = await bestOfThree(() => b.aggregate(p.pnl, p.groups, { topK: 0 }));
  return p.madds / secs;
}

/** A backend that runs revaluation on one backend and aggregation on another (auto's choice). */
class PhasedBackend implements Backend {
  readonly name: BackendName;
  readonly threads?: WorkerThreads;
  constructor(
    private readonly revalueOn: Backend,
    private readonly aggregateOn: Backend,
    private readonly device: DeviceBackend,
    private readonly cpu: CpuBackend,
    readonly report: BackendReport,
  ) {
    this.name = revalueOn.name;
    // the pool's threads compute with the cpu kernels: lent only when both phases run there
    if (revalueOn === cpu && aggregateOn === cpu) this.threads = cpu.threads;
  }
  revalue(market: Market, scenarios: ScenarioSet, params: Params, opts?: RevalueOptions): Promise<PnlMatrix> {
    return this.revalueOn.revalue(market, scenarios, params, opts);
  }
  aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced> {
    return this.aggregateOn.aggregate(pnl, groups, req);
  }
  async handedOver(): Promise<void> {
    await this.aggregateOn.handedOver?.();
    await this.revalueOn.handedOver?.();
  }
  async close(): Promise<void> {
    try {
      await this.device.close();
    } finally {
      await this.cpu.close();
    }
  }
}
