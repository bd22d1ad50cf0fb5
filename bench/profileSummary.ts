#!/usr/bin/env node
/**
 * Self time by function from V8 `.cpuprofile` files (as written by `node --cpu-prof`, e.g. by
 * `npm run bench -- --workload intraday --cpu-prof`): `node dist/bench/profileSummary.js FILE... [--top N]
 * [--phases PHASELOG]`. Prints, per file (one per thread), the total sampled time and the top functions by
 * self time with their source file and line — the hot spots named in bench/README.md. With --phases (a
 * child's phase log, bench/.cache/<workload>/<backend>-<n>.phases, whose last column is the monotonic
 * clock of the profile's timestamps) the main thread's samples are split by phase call.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { optional, parseArgs, usageError } from '../src/cli/args.js';
import { runTool } from './toolMain.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self milliseconds per function label (`name file:line`), descending; only samples in [fromUs, toUs) when given. */
export function selfTimes(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): Array<{ fn: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  let t = profile.startTime;
  for (let k = 0; k < profile.samples.length; k++) {
    t += profile.timeDeltas[k] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    const n = byId.get(profile.samples[k]!)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
    const label =
      `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    const dt = (profile.timeDeltas[k + 1] ?? 0) / 1000;
    ms.set(label, (ms.get(label) ?? 0) + dt);
  }
  return [...ms.entries()].map(([fn, v]) => ({ fn, ms: v })).sort((a, b) => b.ms - a.ms);
}

/** [start, end) monotonic µs of every phase call of a phase log. */
function phaseWindows(file: string): Array<{ phase: string; fromUs: number; toUs: number }> {
  const out: Array<{ phase: string; fromUs: number; toUs: number }> = [];
  let from = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, phase, , , us] = line.split('\t');
    if (kind === 'start') from = Number(us);
    if (kind === 'end') out.push({ phase: phase!, fromUs: from, toUs: Number(us) });
  }
  return out;
}

const USAGE = `node dist/bench/profileSummary.js FILE.cpuprofile... [--top N] [--phases PHASELOG]

Self time by function from V8 .cpuprofile files (node --cpu-prof), per file; --phases splits the main thread's
samples by phase.`;

function main(argv: string[]): number {
  const args = parseArgs(argv, { top: {}, phases: {} }, 'bench profileSummary');
  const top = Number(optional(args, 'top') ?? 15);
  if (!(Number.isInteger(top) && top > 0)) throw usageError('bench profileSummary', '--top must be a positive integer');
  const phases = optional(args, 'phases');
  if (phases !== undefined && !existsSync(phases)) throw usageError('bench profileSummary', `${phases}: no such file`);
  const files = args.positional;
  if (files.length === 0) throw usageError('bench profileSummary', 'give one or more .cpuprofile files');
  for (const f of files) if (!existsSync(f)) throw usageError('bench profileSummary', `${f}: no such file`);
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
    if (phases !== undefined) {
      const windows = phaseWindows(phases).filter((w) => w.toUs > p.startTime && w.fromUs < p.endTime);
      if (windows.length === 0) continue;
      process.stdout.write(`${basename(f)} by phase:\n`);
      for (const w of windows) {
        const rows = selfTimes(p, w.fromUs, w.toUs);
        process.stdout.write(`  ${w.phase}: ${((w.toUs - w.fromUs) / 1000).toFixed(0)} ms\n`);
        for (const r of rows.slice(0, top)) process.stdout.write(`    ${r.ms.toFixed(0).padStart(7)} ms  ${r.fn}\n`);
      }
      continue;
    }
    const total = (p.endTime - p.startTime) / 1000;
    const rows = selfTimes(p);
    const busy = rows.filter((r) => r.fn !== '(idle)' && r.fn !== '(program)').reduce((s, r) => s + r.ms, 0);
    process.stdout.write(`${basename(f)}: ${total.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy\n`);
    for (const r of rows.slice(0, top)) process.stdout.write(`  ${r.ms.toFixed(0).padStart(7)} ms  ${r.fn}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1])))
  process.exit(await runTool('profileSummary', USAGE, main));
