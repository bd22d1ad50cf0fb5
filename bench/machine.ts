/**
 * What every benchmark record says about where it ran: machine (cores, CPU model, memory, load), commit,
 * Node version, and the peak resident memory of the process so far.
 */
import { cpus, totalmem, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1-minute load average when the record was made (the machine is shared: read rates with it) */
  loadAverage1m: number;
  gpu: string | null;
  node: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: loadavg()[0]!,
    // bench/device.sh names the GPU (nvidia-smi) here; the 2-core development machine has none
    gpu: process.env.BENCH_GPU ?? null,
    node: process.version,
  };
}

/** `git rev-parse HEAD` (with "-dirty" when the tree has changes), or 'unknown'. */
export function commitId(): string {
  // a packed build run outside a git checkout (bench/device.sh) says which commit it was built from
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Peak resident set size of this process so far, MiB (process.resourceUsage().maxRSS is in KiB). */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
