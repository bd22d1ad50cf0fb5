/**
 * The float32 device backends `gl` and `webgpu`: revaluation (gpuRevalue.ts) and aggregation
 * (gpuAggregate.ts) on one gpu.js device. The report names the gpu.js kernel class that actually ran
 * each phase (set after the first run; never assumed).
 */
import type { Market } from '../model/market.js';
import type { ScenarioSet } from '../scenarios/types.js';
import type { Params } from '../params/params.js';
import type { BackendReport, GroupBook, PnlMatrix, Reduced, ReduceRequest } from './types.js';
import type { Backend } from './backend.js';
import { openGpu, EXPECTED_KERNEL_CLASS, type DeviceBackend as DeviceName, type GpuInstance } from './gpuDevice.js';
import { GpuRevaluer } from './gpuRevalue.js';
import { GpuAggregator } from './gpuAggregate.js';

export class DeviceBackend implements Backend {
  readonly report: BackendReport;
  private readonly revaluer: GpuRevaluer;
  private readonly aggregator: GpuAggregator;

  private constructor(
    readonly name: DeviceName,
    private readonly gpu: GpuInstance,
  ) {
    this.revaluer = new GpuRevaluer(gpu, name);
    this.aggregator = new GpuAggregator(gpu, name);
    this.report = {
      chosen: name,
      kernelClass: '',
      tried: { [name]: 'ok' },
      phases: { revalue: name, aggregate: name },
      phaseKernelClass: { revalue: '', aggregate: '' },
    };
  }

  /** Opens the device. @throws BackendUnavailableError with the reason it cannot. */
  static async open(name: DeviceName): Promise<DeviceBackend> {
    return new DeviceBackend(name, await openGpu(name));
  }

  /**
   * Milliseconds by part of the last revaluation and the last aggregation (GpuRevaluer.timings,
   * GpuAggregator.timings), for the benches' records.
   */
  get timings(): { revalue: Record<string, number>; aggregate: Record<string, number> } {
    return { revalue: { ...this.revaluer.timings }, aggregate: { ...this.aggregator.timings } };
  }

  /** The expected gpu.js kernel class of this backend. */
  get expectedKernelClass(): string {
    return EXPECTED_KERNEL_CLASS[this.name];
  }

  async revalue(market: Market, scenarios: ScenarioSet, params: Params): Promise<PnlMatrix> {
    const m = await this.revaluer.revalue(market, scenarios, params);
    this.report.kernelClass = this.revaluer.kernelClass;
    this.report.phaseKernelClass!.revalue = this.revaluer.kernelClass;
    return m;
  }

  async aggregate(pnl: PnlMatrix, groups: GroupBook, req: ReduceRequest): Promise<Reduced> {
    const r = await this.aggregator.aggregate(pnl, groups, req);
    this.report.phaseKernelClass!.aggregate = this.aggregator.kernelClass;
    return r;
  }

  async close(): Promise<void> {
    this.revaluer.destroy();
    this.aggregator.destroy();
    this.gpu.destroy();
  }
}
