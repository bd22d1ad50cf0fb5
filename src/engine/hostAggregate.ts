/**
 * The cpu backend's aggregation on the calling thread: the kernel its pool workers run (the WebAssembly SIMD
 * form, kernels/aggregateWasm.ts, built beside the compiled kernels as dist/kernels/aggregate.wasm; the
 * JavaScript reference kernels/aggregate.ts aggregateGroups where the module cannot load, or when
 * MARGIN_ENGINE_AGGREGATE=js asks for it). Both give the same bits, so a matrix aggregated here equals the
 * pool's, group for group. For the work that already runs on a worker thread of its own (poolWorker's
 * tasks, the distance search's searches on the cpu backend's threads).
 */
import { readFileSync } from 'node:fs';
import { aggregateGroups, type AggregateColumns } from '../../kernels/aggregate.js';
import { AGGREGATE_WASM_URL, compileAggregateWasm, WasmAggregator } from '../../kernels/aggregateWasm.js';
import { checkGroupBook } from './backend.js';
import { CPU_AGGREGATE_SCENARIO_BLOCK, CPU_AGGREGATE_WASM_SCENARIO_BLOCK } from './tuning.js';
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from './types.js';

/** An aggregation kernel: reduces groups [g0, g1) of `c` (kernels/aggregate.ts aggregateGroups' contract). */
export type AggregateKernel = (c: AggregateColumns, g0: number, g1: number, scenarioBlock: number) => void;

/** This thread's kernel (module comment) and its name: 'wasm' (the SIMD module) or 'js' (the reference). */
const chosen: { kernel: AggregateKernel; name: 'wasm' | 'js' } = (() => {
  if (process.env.MARGIN_ENGINE_AGGREGATE === 'js') return { kernel: aggregateGroups, name: 'js' };
  try {
    const bytes = readFileSync(AGGREGATE_WASM_URL);
    const w = new WasmAggregator(compileAggregateWasm(bytes));
    return {
      kernel: (c: AggregateColumns, g0: number, g1: number) => w.run(c, g0, g1, CPU_AGGREGATE_WASM_SCENARIO_BLOCK),
      name: 'wasm',
    };
  } catch {
    return { kernel: aggregateGroups, name: 'js' };
  }
})();
export const aggregateKernel: AggregateKernel = chosen.kernel;
/** Which kernel {@link aggregateKernel} is (the pool's trace names it: MARGIN_ENGINE_TRACE=1). */
export const AGGREGATE_KERNEL_NAME = chosen.name;

/**
 * GroupBook → Reduced (Backend.aggregate's contract) on this thread, the bits of the cpu backend's, with
 * `kernel` (default: this thread's, above; margin/referenceAggregate.ts passes the JavaScript reference).
 * @throws Error when the GroupBook does not fit the matrix.
 */
export function hostAggregate(
  pnl: PnlMatrix,
  groups: GroupBook,
  req: ReduceRequest,
  kernel: AggregateKernel = aggregateKernel,
): Reduced {
  checkGroupBook(pnl, groups);
  const G = groups.groupCount;
  const topK = Math.max(0, req.topK | 0);
  const worstLoss = new Float64Array(G);
  const worstScenario = new Int32Array(G);
  const topLosses = topK > 0 ? new Float64Array(G * topK) : null;
  kernel(
    { ...groups, pnl: pnl.data, scenarios: pnl.scenarios, topK, worstLoss, worstScenario, topLosses },
    0,
    G,
    CPU_AGGREGATE_SCENARIO_BLOCK,
  );
  return topLosses ? { worstLoss, worstScenario, topLosses } : { worstLoss, worstScenario };
}
