#!/usr/bin/env node
/**
 * What V8's optimising compilers cost a run: `node --no-concurrent-recompilation --trace-opt --trace-deopt
 * dist/bundle/main.js run … > OUT 2>&1; node dist/bench/jitCost.js OUT [--top N]`. Prints, per function name
 * (every thread together: --trace-opt does not say which), its optimising compiles (TurboFan) with their
 * milliseconds (`o`: an on-stack replacement, the loop of a running call), and the deopts by reason. Under
 * --no-concurrent-recompilation (the command's own flag, src/cli/nodeFlags.ts) each compile runs on the thread
 * that needs the code, so its time is that thread's; the times are wall times, longer when the thread waited for
 * a core.
 *
 * What it finds: a function with several long loops that runs once (a load, a check, a set-up) is optimised at its
 * first loop, deopts where the next loop's code has no type feedback yet, and is optimised again at that loop,
 * whole each time: several compiles of one name, `o` first (bench/README.md, session 24).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { runTool } from './toolMain.js';

export interface Compile {
  name: string;
  /** the tier compiled for: TURBOFAN (MAGLEV too where node runs that tier; node 20 does not by default) */
  target: string;
  osr: boolean;
  ms: number;
}

export interface JitCost {
  compiles: Compile[];
  /** deopts per "reason: function" */
  deopts: Map<string, number>;
}

/** The compiles and deopts of --trace-opt / --trace-deopt output (other lines are ignored). */
export function parseJitTrace(text: string): JitCost {
  const compiles: Compile[] = [];
  const deopts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const c =
      /^\[completed compiling 0x[0-9a-f]+ <JSFunction (.*?) \(sfi = [^)]*\)> \(target (\w+)\)( OSR)? - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/.exec(
        line,
      );
    if (c) {
      compiles.push({
        name: c[1] || '(anonymous)',
        target: c[2]!,
        osr: c[3] !== undefined,
        ms: Number(c[4]) + Number(c[5]) + Number(c[6]),
      });
      continue;
    }
    const d =
      /^\[bailout \(kind: [\w-]+, reason: ([^)]*)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction (.*?) \(sfi/.exec(
        line,
      );
    if (d) {
      const key = `${d[1]}: ${d[2] || '(anonymous)'}`;
      deopts.set(key, (deopts.get(key) ?? 0) + 1);
    }
  }
  return { compiles, deopts };
}

/** The report: the total, then the `top` names by compile time and the `top` most frequent deopts. */
export function formatJitCost({ compiles, deopts }: JitCost, top = 30): string {
  const byName = new Map<string, Compile[]>();
  for (const c of compiles) {
    const list = byName.get(c.name) ?? [];
    list.push(c);
    byName.set(c.name, list);
  }
  const sum = (list: Compile[]) => list.reduce((s, c) => s + c.ms, 0);
  const total = sum(compiles);
  const targets = new Map<string, number>();
  for (const c of compiles) targets.set(c.target, (targets.get(c.target) ?? 0) + 1);
  const tiers = [...targets].map(([t, k]) => `${k} ${t}`).join(', ');
  const out = [
    `${compiles.length} optimising compiles (${tiers || 'none'}), ${total.toFixed(1)} ms (${compiles.filter((c) => c.osr).length} on-stack replacements); ${byName.size} functions`,
  ];
  for (const [name, list] of [...byName].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, top))
    out.push(
      `${sum(list).toFixed(1).padStart(7)} ms  ${name}: ${list.map((c) => `${c.osr ? 'o' : ''}${c.ms.toFixed(1)}`).join(' ')}`,
    );
  const n = [...deopts.values()].reduce((s, k) => s + k, 0);
  out.push(`${n} deopts`);
  for (const [key, k] of [...deopts].sort((a, b) => b[1] - a[1]).slice(0, top))
    out.push(`${String(k).padStart(7)}  ${key}`);
  return out.join('\n');
}

const USAGE = `node dist/bench/jitCost.js OUT [--top N]

OUT: the output of node --no-concurrent-recompilation --trace-opt --trace-deopt dist/bundle/main.js run ...
Prints per function its optimising compiles with their milliseconds, and the deopts by reason.`;

function main(argv: string[]): number {
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 30;
  const file = argv.find((a, i) => !a.startsWith('--') && !(topAt >= 0 && i === topAt + 1));
  if (!file) {
    console.error('usage: node dist/bench/jitCost.js TRACE_OPT_OUTPUT [--top N]');
    return 2;
  }
  console.log(formatJitCost(parseJitTrace(readFileSync(file, 'utf8')), top));
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1])))
  process.exit(await runTool('jitCost', USAGE, main));
