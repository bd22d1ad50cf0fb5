#!/usr/bin/env node
/**
 * Lays out the per-thread timeline of a run written with MARGIN_ENGINE_TRACE=1 (src/util/trace.ts):
 * `node dist/bench/traceSummary.js STDERR_FILE`. Prints every span in start order, in ms from the first
 * one (consecutive pool tasks of one kind, less than 2 ms apart, as one span with their count), then each
 * thread's busy time. Lines that are not trace lines are ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { usageError } from '../src/cli/args.js';
import { runTool } from './toolMain.js';

export interface Span {
  thread: string;
  start: number;
  end: number;
  what: string;
  count: number;
}

/** The spans of `text` (trace lines anywhere in it), pool tasks merged, times relative to the first start. */
export function parseTrace(text: string): Span[] {
  const raw: Span[] = [];
  for (const line of text.split('\n')) {
    const m = /^TRACE (\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (.*)$/.exec(line.trim());
    if (m) raw.push({ thread: m[1]!, start: Number(m[2]), end: Number(m[3]), what: m[4]!, count: 1 });
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a.start - b.start);
  const t0 = raw[0]!.start;
  const out: Span[] = [];
  const lastPool = new Map<string, Span>();
  for (const s of raw) {
    const span = { ...s, start: s.start - t0, end: s.end - t0 };
    if (span.thread === 'pool') {
      const prev = lastPool.get(span.what);
      if (prev && span.start - prev.end < 2) {
        prev.end = Math.max(prev.end, span.end);
        prev.count++;
        continue;
      }
      lastPool.set(span.what, span);
    }
    out.push(span);
  }
  return out;
}

/** The printed layout of parseTrace(text). */
export function formatTrace(spans: Span[]): string {
  const lines = spans.map(
    (s) =>
      `${s.thread.padEnd(7)}${s.start.toFixed(1).padStart(9)}${s.end.toFixed(1).padStart(9)}${(s.end - s.start).toFixed(1).padStart(8)}  ${s.what}${s.count > 1 ? ` ×${s.count}` : ''}`,
  );
  // main, report and pool first, whichever thread's first span came first (the prestarted report thread's
  // open often precedes the main thread's load)
  const busy = new Map<string, number>([
    ['main', 0],
    ['report', 0],
    ['pool', 0],
  ]);
  for (const s of spans)
    if (!(s.thread === 'main' && /^(aggregation|revaluation|report|backend)/.test(s.what)))
      busy.set(s.thread, (busy.get(s.thread) ?? 0) + s.end - s.start);
  lines.push(
    '',
    'busy (main: phases that compute, not those that wait for the pool, the backend or the report thread):',
  );
  for (const [t, ms] of busy) if (spans.some((s) => s.thread === t)) lines.push(`  ${t}: ${ms.toFixed(1)} ms`);
  return ['thread     start      end     ms  what', ...lines].join('\n');
}

const USAGE = `node dist/bench/traceSummary.js STDERR_FILE

The per-thread timeline of a run written with MARGIN_ENGINE_TRACE=1 (its stderr): every span in start order, in ms
from the first, then each thread's busy time.`;

function main(argv: string[]): number {
  const file = argv[0];
  if (!file || argv.length > 1) throw usageError('bench traceSummary', 'give one file: the stderr of a traced run');
  if (!existsSync(file)) throw usageError('bench traceSummary', `${file}: no such file`);
  process.stdout.write(formatTrace(parseTrace(readFileSync(file, 'utf8'))) + '\n');
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '')))
  process.exitCode = await runTool('traceSummary', USAGE, main);
