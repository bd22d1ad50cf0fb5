/**
 * What a run records of itself besides its margins: the model values of the instruments, which backend
 * ran each phase and why, and the input files with their sizes and hashes.
 */
import type { Backend } from '../engine/backend.js';
import type { LoadStats } from '../model/book.js';
import { KIND_OPTION, SETTLE_INVERSE, type Market } from '../model/market.js';
import type { PhaseBackend, RunInput } from '../report/types.js';
import { join } from 'node:path';

/** The input paths of a run (RunOptions). */
export interface RunInputPaths {
  marketDir: string;
  positions: string;
  balances: string;
  paramsFile?: string;
  scenarioFiles?: string[];
}

/**
 * Model price at mark_iv in the mark's units: coin for inverse options, USD otherwise; a delta-one's is its forward.
 */
export function modelValues(market: Market, valuesUsd: Float64Array): Float64Array {
  const ins = market.instruments;
  const v = valuesUsd;
  const out = new Float64Array(ins.count);
  for (let i = 0; i < ins.count; i++) {
    if (ins.kind[i] !== KIND_OPTION) out[i] = ins.forward[i];
    else out[i] = ins.settlement[i] === SETTLE_INVERSE ? v[i] / ins.forward[i] : v[i];
  }
  return out;
}

export function phaseBackends(backend: Backend | null): Record<string, PhaseBackend> {
  const host: PhaseBackend = { used: 'host', skipped: {} };
  if (!backend) return { load: host, scenarios: host, margin: host, report: host };
  const r = backend.report;
  const skipped: Record<string, string> = {};
  for (const [name, why] of Object.entries(r.tried)) if (why !== 'ok') skipped[name] = why!;
  const revalue = r.phases?.revalue ?? r.chosen;
  const aggregate = r.phases?.aggregate ?? r.chosen;
  const note = (used: string) => {
    const s = { ...skipped };
    if (r.calibration)
      for (const n of Object.keys(r.tried))
        if (n !== used && r.tried[n as keyof typeof r.tried] === 'ok')
          s[n] = `available, not chosen: ${r.calibration.note}`;
    return s;
  };
  return {
    load: host,
    scenarios: host,
    revaluation: { used: revalue, skipped: note(revalue) },
    aggregation: { used: aggregate, skipped: note(aggregate) },
    margin: host,
    report: host,
  };
}

export function inputFiles(opts: RunInputPaths): Array<[role: string, path: string]> {
  const files: Array<[string, string]> = [
    ['instruments', join(opts.marketDir, 'instruments.arrow')],
    ['underlyings', join(opts.marketDir, 'underlyings.arrow')],
    ['positions', opts.positions],
    ['balances', opts.balances],
  ];
  if (opts.paramsFile) files.push(['params', opts.paramsFile]);
  for (const f of opts.scenarioFiles ?? []) files.push(['scenarios', f]);
  return files;
}

export function inputRecords(opts: RunInputPaths, market: Market, stats: LoadStats, sha256: string[]): RunInput[] {
  const rows: Record<string, number> = {
    instruments: market.instruments.count,
    underlyings: market.underlyings.length,
    positions: stats.positionRows,
    balances: stats.balanceRows,
  };
  return inputFiles(opts).map(([role, path], k) => ({ role, path, sha256: sha256[k]!, rows: rows[role] ?? null }));
}
