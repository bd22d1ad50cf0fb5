#!/usr/bin/env node
/**
 * A/B timing of two builds on the same workload, alternating, so that a noisy shared machine hits both
 * alike: `node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--workload intraday|eod]`. DIST_A and DIST_B
 * are copies of dist/ built from the two versions, placed inside the project (e.g. bench/.cache/distA, so
 * that node_modules resolves); each round runs each build's `runMargin` once in a fresh child process
 * (A then B, B then A on the next round), writing a fresh report under bench/.cache/ab/. Prints every
 * end-to-end time and the process's CPU time (all threads; steadier on a loaded machine), with their
 * medians. Single runs of intraday vary by ±0.08 s on the 2-core machine; judge a change by the medians
 * of ≥ 10 rounds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, optional } from '../src/cli/args.js';
import { CACHE_DIR, END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { ENGINE_NODE_FLAGS } from '../src/cli/nodeFlags.js';

function main(argv: string[]): number {
  const p = parseArgs(argv, { rounds: {}, workload: {} }, 'bench ab');
  const [a, b] = p.positional;
  if (!a || !b) throw new Error('usage: node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--workload intraday|eod]');
  const rounds = Number(optional(p, 'rounds') ?? 10);
  const w = END_TO_END[(optional(p, 'workload') ?? 'intraday') as EndToEndName];
  const book = ensureBook(w);
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
await runMargin(${JSON.stringify({ marketDir: w.marketDir, positions: book.positions, balances: book.balances, models: w.models, historyDir: w.historyDir, backend: 'cpu', onInvalid: 'fail', db })});
const c = process.cpuUsage(c0);
process.stdout.write(((performance.now() - t0) / 1000).toFixed(3) + ' ' + ((c.user + c.system) / 1e6).toFixed(3) + '\\n');
`,
    );
    return file;
  };
  const files = { A: script('A', a), B: script('B', b) };
  const times: Record<'A' | 'B', number[]> = { A: [], B: [] };
  const cpu: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let i = 0; i < rounds; i++) {
    for (const k of (i % 2 ? ['B', 'A'] : ['A', 'B']) as Array<'A' | 'B'>) {
      const [wall, used] = execFileSync(process.execPath, [...ENGINE_NODE_FLAGS, files[k]!], { encoding: 'utf8' })
        .trim()
        .split(' ')
        .map(Number);
      times[k].push(wall!);
      cpu[k].push(used!);
    }
  }
  const median = (x: number[]) => [...x].sort((u, v) => u - v)[Math.floor(x.length / 2)]!;
  const line = (x: number[]) => `${x.map((t) => t.toFixed(3)).join(' ')}  median ${median(x).toFixed(3)}`;
  for (const k of ['A', 'B'] as const) process.stdout.write(`${k} wall ${line(times[k])}\n`);
  // the process's CPU time (every thread): less sensitive than the wall time to what else the machine runs
  for (const k of ['A', 'B'] as const) process.stdout.write(`${k} cpu  ${line(cpu[k])}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
