/**
 * Aggregation on a float32 gpu.js device (kernels/aggregate.ts). Scenario blocks of the P&L matrix are
 * moved to the device once each; groups run in blocks against it: the device sums each group's entries
 * (Kahan-compensated float32, bucket by bucket with weights and pnlOffset) and reduces every group's
 * block to [worst loss, first scenario] before anything is read back; the host combines blocks in
 * float64 (an earlier block wins a tie). The k largest losses, when asked for: on webgpu the device finds each
 * group's k largest losses of a block and only those are read back (topKOnDevice); on gl the block of p
 * (groups × block scenarios, never the whole matrix) is read back. Either way a heap on the host keeps them.
 * Limits (gl): rows × scenario block must fit a texture (rows ≤ 16,384 here); larger matrices throw.
 */
import type { GroupBook, PnlMatrix, Reduced, ReduceRequest } from './types.js';
import { checkGroupBook } from './backend.js';
import { BackendUnavailableError } from './backend.js';
import {
  adjustPnl,
  blockKthLossKernel,
  blockTopLossKernel,
  copyBlockKernel,
  groupPnlKernel,
  heapReplaceRoot,
  sortTopLosses,
  worstLossKernel,
} from '../../kernels/aggregate.js';
import {
  checkKernelClass,
  readWebGpuFloats,
  type DeviceBackend,
  type GpuInstance,
  type GpuKernel,
} from './gpuDevice.js';
import { kernelSource } from '../../kernels/source.js';
import {
  DEVICE_AGGREGATE_GROUP_BLOCK,
  DEVICE_AGGREGATE_SCENARIO_BLOCK,
  DEVICE_TOPK_ITERATIONS,
  WEBGPU_AGGREGATE_GROUP_BLOCK,
  WEBGPU_AGGREGATE_SCENARIO_BLOCK,
} from './tuning.js';

/** Largest side of a texture on llvmpipe. */
const MAX_SIDE = 16384;

type Fn = (...a: number[]) => number;

export class GpuAggregator {
  kernelClass = '';
  private kernels = new Map<string, GpuKernel>();
  /**
   * Milliseconds of the last aggregate call by part (performance.now(), for profiling): upload (host block
   * and its copy kernel), groups (group-p and worst-loss kernels with the worst's readback), topK (p's
   * readback and the host heap).
   */
  timings: Record<string, number> = {};

  /** `blocks`: scenarios per device block and groups per kernel run, instead of tuning.ts's (benches). */
  constructor(
    private readonly gpu: GpuInstance,
    readonly backend: DeviceBackend,
    private readonly blocks?: { scenarios: number; groups: number },
  ) {
    gpu.addFunction(kernelSource(adjustPnl as Fn), { argumentTypes: ['Number', 'Number'], returnType: 'Number' });
  }

  private kernel(key: string, make: () => GpuKernel): GpuKernel {
    let k = this.kernels.get(key);
    if (k === undefined) {
      k = make();
      this.kernels.set(key, k);
    }
    return k;
  }

  /**
   * GroupBook → Reduced on the device (see the module comment). @throws Error when the matrix is too large for a
   * texture.
   */
  async aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced> {
    checkGroupBook(pnl, groups);
    const S = pnl.scenarios;
    const R = pnl.rows;
    const G = groups.groupCount;
    const B = groups.buckets;
    const K = Math.max(0, req.topK | 0);
    const worstLoss = new Float64Array(G).fill(-Infinity);
    const worstScenario = new Int32Array(G).fill(-1);
    const topLosses = K > 0 ? new Float64Array(G * K).fill(-Infinity) : null;
    if (G === 0 || S === 0) return finish(worstLoss, worstScenario, topLosses, K, G);
    const webgpu = this.backend === 'webgpu';
    const SB = Math.min(
      S,
      this.blocks?.scenarios ?? (webgpu ? WEBGPU_AGGREGATE_SCENARIO_BLOCK : DEVICE_AGGREGATE_SCENARIO_BLOCK),
    );
    if (!webgpu && R * SB > (MAX_SIDE * MAX_SIDE) / 4)
      throw new BackendUnavailableError(this.backend, `P&L matrix of ${R} rows too large for one device block`);
    const GB = Math.min(
      G,
      this.blocks?.groups ?? (webgpu ? WEBGPU_AGGREGATE_GROUP_BLOCK : DEVICE_AGGREGATE_GROUP_BLOCK),
    );
    const ms = { upload: 0, groups: 0, topK: 0 };
    this.timings = ms;

    // entries sorted by bucket inside each group (stable), as float32
    const entries = groups.groupStart[G]! - groups.groupStart[0]!;
    const e00 = groups.groupStart[0]!;
    const row = new Float32Array(entries);
    const qty = new Float32Array(entries);
    const bucket = new Float32Array(entries);
    let maxEntries = 1;
    for (let g = 0; g < G; g++) {
      const a = groups.groupStart[g]!;
      const b = groups.groupStart[g + 1]!;
      maxEntries = Math.max(maxEntries, b - a);
      let w = a - e00;
      for (let bk = 0; bk < B; bk++) {
        for (let e = a; e < b; e++) {
          if (groups.bucket[e] !== bk) continue;
          row[w] = groups.row[e]!;
          qty[w] = groups.qty[e]!;
          bucket[w] = bk;
          w++;
        }
      }
    }
    const loopMax = 2 ** Math.ceil(Math.log2(maxEntries + 1));
    const copy = this.kernel(`copy${R * SB}`, () =>
      this.gpu.createKernel(kernelSource(copyBlockKernel as unknown as Fn), {
        output: [R * SB],
        precision: 'single',
        pipeline: true,
        dynamicArguments: true,
        tactic: 'precision',
      }),
    );
    const pk = this.kernel(`p${SB}x${GB}:${loopMax}`, () =>
      this.gpu.createKernel(kernelSource(groupPnlKernel as unknown as Fn), {
        output: [SB, GB],
        precision: 'single',
        pipeline: true,
        dynamicArguments: true,
        tactic: 'precision',
        loopMaxIterations: loopMax,
      }),
    );
    const wk = this.kernel(`w${GB}:${SB}`, () =>
      this.gpu.createKernel(kernelSource(worstLossKernel as unknown as Fn), {
        output: [GB],
        precision: 'single',
        dynamicArguments: true,
        tactic: 'precision',
        loopMaxIterations: SB,
      }),
    );

    const block = new Float32Array(R * SB);
    const weight = new Float32Array(SB * B);
    for (let s0 = 0; s0 < S; s0 += SB) {
      const tu = performance.now();
      const sn = Math.min(SB, S - s0);
      if (sn < SB) {
        block.fill(0);
        weight.fill(0);
      }
      for (let r = 0; r < R; r++) block.set(pnl.data.subarray(r * S + s0, r * S + s0 + sn), r * SB);
      weight.set(groups.weight.subarray(s0 * B, (s0 + sn) * B));
      // (webgpu: every gpu.js kernel call answers a Promise, its pipeline result included; gl: the result)
      const tex = await copy(block);
      ms.upload += performance.now() - tu;
      for (let g0 = 0; g0 < G; g0 += GB) {
        const tg = performance.now();
        const g1 = Math.min(G, g0 + GB);
        const a = groups.groupStart[g0]! - e00;
        const b = groups.groupStart[g1]! - e00;
        const gs = new Float32Array(g1 - g0 + 1);
        for (let g = g0; g <= g1; g++) gs[g - g0] = groups.groupStart[g]! - e00 - a;
        const pTex = await pk(
          tex,
          gs,
          row.subarray(a, Math.max(b, a + 1)),
          qty.subarray(a, Math.max(b, a + 1)),
          bucket.subarray(a, Math.max(b, a + 1)),
          weight,
          SB,
          B,
          groups.pnlOffset,
          g1 - g0,
        );
        const res = (await wk(pTex, sn)) as ArrayLike<ArrayLike<number>>;
        if (this.kernelClass === '') {
          checkKernelClass(this.backend, copy);
          checkKernelClass(this.backend, pk);
          this.kernelClass = checkKernelClass(this.backend, wk);
        }
        for (let g = g0; g < g1; g++) {
          const r = res[g - g0]!;
          const loss = r[0]!;
          if (worstScenario[g]! < 0 || loss > worstLoss[g]!) {
            worstLoss[g] = loss;
            worstScenario[g] = s0 + Math.round(r[1]!);
          }
        }
        const tk = performance.now();
        ms.groups += tk - tg;
        if (topLosses !== null) {
          if (webgpu) {
            await this.topKOnDevice(pTex, topLosses, K, g0, g1, SB, GB, sn, ms);
          } else {
            // gl: p read back as gpu.js's rows, heaped on the host
            type Rows = ArrayLike<ArrayLike<number>>;
            const p = await (pTex as { toArray(): Rows | Promise<Rows> }).toArray();
            for (let g = g0; g < g1; g++) heapLossesOfP(topLosses, g * K, K, p[g - g0]!, 0, sn);
          }
        }
        ms.topK += performance.now() - tk;
      }
    }
    return finish(worstLoss, worstScenario, topLosses, K, G);
  }

  /**
   * webgpu's top k of one block: the device finds each group's k-th largest loss of the block
   * (blockKthLossKernel) and hands back the block's k largest losses per group (blockTopLossKernel), k × groups
   * floats instead of the block's p (scenarios × groups; read back at ~1 GB/s on the H200, 90 % of a top-k
   * aggregation there). The host heaps them as it heaped p: the same multiset of float32 losses, so the same
   * topLosses. A group whose k-th loss the device could not pin down exactly (neither of blockKthLossKernel's
   * stages ended within DEVICE_TOPK_ITERATIONS steps) is heaped from p, read back for that block.
   */
  private async topKOnDevice(
    pTex: unknown,
    topLosses: Float64Array,
    K: number,
    g0: number,
    g1: number,
    SB: number,
    GB: number,
    sn: number,
    ms: Record<string, number>,
  ): Promise<void> {
    type Rows = ArrayLike<ArrayLike<number>>;
    const t = new Float32Array(GB).fill(-3.0e38);
    let kth: Rows | null = null;
    if (sn > K) {
      const kk = this.kernel(`kth${GB}:${SB}`, () =>
        this.gpu.createKernel(kernelSource(blockKthLossKernel as unknown as Fn), {
          output: [GB],
          precision: 'single',
          dynamicArguments: true,
          tactic: 'precision',
          loopMaxIterations: Math.max(SB, DEVICE_TOPK_ITERATIONS),
        }),
      );
      kth = (await kk(pTex, sn, K, DEVICE_TOPK_ITERATIONS)) as Rows;
      for (let g = 0; g < g1 - g0; g++) t[g] = kth[g]![0]!;
    }
    const tk = this.kernel(`top${K}x${GB}:${SB}`, () =>
      this.gpu.createKernel(kernelSource(blockTopLossKernel as unknown as Fn), {
        output: [K, GB],
        precision: 'single',
        dynamicArguments: true,
        tactic: 'precision',
        loopMaxIterations: SB,
      }),
    );
    const top = (await tk(pTex, t, sn)) as Rows;
    const jn = Math.min(K, sn);
    let flat: Float32Array | null = null;
    for (let g = g0; g < g1; g++) {
      if (kth !== null && kth[g - g0]![1] !== 1) {
        // not pinned down: this group's losses from p
        flat ??= await readWebGpuFloats(pTex, SB * GB);
        ms.fallbackGroups = (ms.fallbackGroups ?? 0) + 1;
        heapLossesOfP(topLosses, g * K, K, flat!, (g - g0) * SB, sn);
        continue;
      }
      const row = top[g - g0]!;
      for (let j = 0; j < jn; j++) {
        const loss = row[j]!;
        if (loss > topLosses[g * K]!) heapReplaceRoot(topLosses, g * K, K, loss);
      }
    }
  }

  destroy(): void {
    for (const k of this.kernels.values()) k.destroy?.();
    this.kernels.clear();
  }
}

/** Heaps the losses −p[base + s], s < n, into the k largest at topLosses[h, h + k) (a min-heap). */
function heapLossesOfP(topLosses: Float64Array, h: number, K: number, p: ArrayLike<number>, base: number, n: number) {
  for (let s = 0; s < n; s++) {
    const loss = 0 - p[base + s]!;
    if (loss > topLosses[h]!) heapReplaceRoot(topLosses, h, K, loss);
  }
}

function finish(
  worstLoss: Float64Array,
  worstScenario: Int32Array,
  topLosses: Float64Array | null,
  K: number,
  G: number,
): Reduced {
  if (topLosses === null) return { worstLoss, worstScenario };
  sortTopLosses(topLosses, K, 0, G);
  return { worstLoss, worstScenario, topLosses };
}
