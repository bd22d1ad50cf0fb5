/**
 * The `calibration` workload: how each backend's time grows with the size of auto's start-up measurement
 * (src/engine/calibration.ts's synthetic problems), to choose a measurement that predicts a real run.
 * For each backend, revaluation at 0.5 M–33.6 M instrument-scenario evaluations and aggregation at
 * 1 M–2.1 G multiply-adds (also with the 16 largest losses per group, as var asks), each the fastest of
 * `repeat` calls after one warm-up call; then a least-squares fit t = latency + work / rate per backend
 * and phase. `--limit N` keeps the first N sizes of each list (the dry run). Never run by the test suite
 * except as device.sh's dry run.
 */
import { createBackend, type Backend } from '../src/engine/createBackend.js';
import { calibrationAggregate, calibrationMarket } from '../src/engine/calibration.js';
import type { BackendName } from '../src/engine/types.js';
import { defaultParams } from '../src/params/params.js';

/** instruments × scenarios */
const REVALUE_SIZES: Array<[number, number]> = [
  [256, 2048],
  [256, 8192],
  [1024, 8192],
  [2048, 16384],
];
/** groups × entries × scenarios, top k */
const AGGREGATE_SIZES: Array<[number, number, number, number]> = [
  [64, 16, 1024, 0],
  [256, 16, 4096, 0],
  [1024, 16, 8192, 0],
  [4096, 16, 8192, 0],
  [16384, 16, 8192, 0],
  [1024, 16, 8192, 16],
  [4096, 16, 8192, 16],
];

interface Point {
  size: number[];
  work: number;
  seconds: number;
  perSecond: number;
}

export async function runCalibrationSweep(o: {
  backends: BackendName[];
  limit?: number;
  repeat?: number;
  workers?: number;
}): Promise<Record<string, unknown>> {
  const repeat = o.repeat ?? 3;
  const params = defaultParams();
  const runs: Array<Record<string, unknown>> = [];
  for (const name of o.backends) {
    let b: Backend;
    try {
      b = await createBackend(name, { workers: o.workers });
    } catch (e) {
      runs.push({ backend: name, ok: false, reason: (e as Error).message });
      continue;
    }
    try {
      runs.push(await sweep(b, name, params, repeat, o.limit));
    } finally {
      await b.close();
    }
  }
  return { workload: 'calibration', repeat, runs };
}

/** One backend's points and fits (runCalibrationSweep). */
async function sweep(
  b: Backend,
  name: BackendName,
  params: ReturnType<typeof defaultParams>,
  repeat: number,
  limit: number | undefined,
): Promise<Record<string, unknown>> {
  const revalue: Point[] = [];
  for (const [I, S] of REVALUE_SIZES.slice(0, limit)) {
    const { market, scenarios } = calibrationMarket(I, S);
    const secs = await fastest(repeat, () => b.revalue(market, scenarios, params));
    revalue.push({ size: [I, S], work: I * S, seconds: secs, perSecond: (I * S) / secs });
    process.stderr.write(`calibration ${name} revalue ${I}×${S}: ${secs.toFixed(4)} s\n`);
  }
  const aggregate: Point[] = [];
  const aggregateTopK: Point[] = [];
  // (with a limit, the first sizes and one with the top 16)
  const sizes = limit ? AGGREGATE_SIZES.filter((_, i) => i < limit || i === 5) : AGGREGATE_SIZES;
  for (const [G, E, S, topK] of sizes) {
    const { pnl, groups, madds } = calibrationAggregate(G, E, S);
    const secs = await fastest(repeat, () => b.aggregate(pnl, groups, { topK }));
    (topK ? aggregateTopK : aggregate).push({
      size: [G, E, S, topK],
      work: madds,
      seconds: secs,
      perSecond: madds / secs,
    });
    process.stderr.write(`calibration ${name} aggregate ${G}×${E}×${S} top ${topK}: ${secs.toFixed(4)} s\n`);
  }
  return {
    backend: name,
    kernelClass: b.report.kernelClass,
    ok: true,
    revalue,
    aggregate,
    aggregateTopK,
    fit: { revalue: fit(revalue), aggregate: fit(aggregate), aggregateTopK: fit(aggregateTopK) },
  };
}

async function fastest(repeat: number, run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up: kernel compilation, the JIT, the pool's first tasks
  let best = Infinity;
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}

/** Least squares t = latency + work / rate; null below two points. */
function fit(points: Point[]): { latencySeconds: number; ratePerSecond: number } | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.work, 0) / n;
  const my = points.reduce((s, p) => s + p.seconds, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.work - mx) * (p.seconds - my);
    sxx += (p.work - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { latencySeconds: my - slope * mx, ratePerSecond: 1 / slope };
}
