#!/usr/bin/env node
/**
 * The bit-for-bit fingerprint of a run's results, to show that a refactoring changed no number:
 * `node dist/bench/fingerprint.js [--workload intraday|eod] [--backend cpu] [--book DIR] [--params FILE]`.
 * Runs `runMargin` on the workload's book (bench/.cache, generated as the end-to-end benchmark does, or
 * DIR/positions.arrow and DIR/balances.arrow: the same book for two builds) without a report, then
 * prints a SHA-256 per model over every column of its margin rows (the raw bytes of each typed array,
 * so -0, NaN payloads and the last ulp count) and one over the account summaries. Two builds give the
 * same lines exactly when their results are byte-for-byte the same.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs, optional } from '../src/cli/args.js';
import { runMargin } from '../src/pipeline/runMargin.js';
import type { BackendChoice } from '../src/engine/types.js';
import { END_TO_END, ensureBook, type EndToEndName } from './endToEndWorkloads.js';
import { runTool } from './toolMain.js';

/** SHA-256 over the object's fields in key order: typed arrays as raw bytes, the rest as JSON. */
function digest(o: object): string {
  const h = createHash('sha256');
  for (const k of Object.keys(o).sort()) {
    const v = (o as Record<string, unknown>)[k];
    h.update(k);
    if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else h.update(JSON.stringify(v) ?? 'undefined');
  }
  return h.digest('hex');
}

const USAGE = `node dist/bench/fingerprint.js [--workload intraday|eod] [--backend cpu] [--book DIR] [--params FILE]

A SHA-256 per model over every column of its margin rows, and one over the account summaries: two builds print the
same lines exactly when their results are byte-for-byte the same.`;

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { workload: {}, backend: {}, book: {}, params: {} }, 'bench fingerprint');
  const w = END_TO_END[(optional(p, 'workload') ?? 'intraday') as EndToEndName];
  const dir = optional(p, 'book');
  const book = dir ? { positions: join(dir, 'positions.arrow'), balances: join(dir, 'balances.arrow') } : ensureBook(w);
  const out = await runMargin({
    marketDir: w.marketDir,
    positions: book.positions,
    balances: book.balances,
    models: w.models,
    historyDir: w.historyDir,
    paramsFile: optional(p, 'params'),
    backend: (optional(p, 'backend') ?? 'cpu') as BackendChoice,
    onInvalid: 'fail',
  });
  for (const m of out.margin) process.stdout.write(`${w.name} margin ${m.model} ${m.count} ${digest(m)}\n`);
  for (const [k, s] of out.summaries.entries())
    process.stdout.write(`${w.name} summary ${out.margin[k]!.model} ${digest(s)}\n`);
  return 0;
}

process.exitCode = await runTool('fingerprint', USAGE, main);
