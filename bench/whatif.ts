/**
 * The `whatif` workload (issue 19, docs/methodology.md §10): `margin-engine serve` on the 100,000-account
 * book of the intraday workload (full chain, deribit-pm and span, + standard) in a child process, loaded
 * by autocannon (a real HTTP load generator, in this process) with single-trade and 5-leg what-ifs on
 * seeded random accounts and instruments; then one POST /v1/market of the same snapshot (the book
 * re-margined). Records p50 / p90 / p99 latency, requests per second, non-2xx answers and the server's
 * start-up and re-margin times.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { END_TO_END, ensureBook, inputArgs, ROOT } from './endToEndWorkloads.js';

export interface WhatIfBenchOptions {
  /** seconds per load phase */
  duration: number;
  /** concurrent connections of the load generator */
  connections: number;
}

/** The seeded uniform stream of the request bodies (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function start(args: string[]): Promise<{ child: ChildProcess; url: string; startupLine: string }> {
  const child = spawn(
    process.execPath,
    ['--no-concurrent-recompilation', join(ROOT, 'dist/bundle/main.js'), 'serve', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      err += String(d);
      const m = /listening on (http:\/\/\S+):(\d+)([^\n]*)/.exec(err);
      if (m) {
        child.stderr!.off('data', onData);
        child.stderr!.resume(); // the request log: read and dropped
        resolve({ child, url: `${m[1]}:${m[2]}`, startupLine: m[0] });
      }
    };
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

export async function runWhatIfBench(o: WhatIfBenchOptions): Promise<Record<string, unknown>> {
  const w = END_TO_END.intraday;
  const book = ensureBook(w);
  const t0 = performance.now();
  const { child, url, startupLine } = await start([
    ...inputArgs(w, book),
    '--models',
    'deribit-pm,span',
    '--port',
    '0',
    '--market-root',
    join(ROOT, 'data'),
  ]);
  const startupSeconds = (performance.now() - t0) / 1000;
  try {
    const health = (await (await fetch(`${url}/v1/health`)).json()) as { accounts: number; instruments: number };
    const instruments = (await import('../src/io/loadMarket.js')).loadMarket;
    const market = (await instruments(w.marketDir)).market;
    const names = market.instruments.name;
    const rand = uniform(19);
    const account = () => `A${String(Math.floor(rand() * health.accounts)).padStart(6, '0')}`;
    const trade = () => {
      const i = Math.floor(rand() * names.length);
      const lot = market.underlyings[market.instruments.underlying[i]!] === 'BTC' ? 0.1 : 1;
      return { instrument: names[i]!, quantity: (1 + Math.floor(rand() * 20)) * lot * (rand() < 0.5 ? -1 : 1) };
    };
    const bodies = (legs: number) =>
      Array.from({ length: 2000 }, () =>
        JSON.stringify({ account: account(), trades: Array.from({ length: legs }, trade) }),
      );
    const phases: Record<string, unknown> = {};
    for (const [name, legs] of [
      ['single', 1],
      ['fiveLeg', 5],
    ] as const) {
      const list = bodies(legs);
      let k = 0;
      // a short warm-up (JIT), then the measured phase
      for (const duration of [2, o.duration]) {
        const r = await autocannon({
          url,
          connections: o.connections,
          duration,
          requests: [
            {
              method: 'POST',
              path: '/v1/whatif',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => ({ ...req, body: list[k++ % list.length] }),
            },
          ],
        });
        if (duration === o.duration)
          phases[name] = {
            legs,
            connections: o.connections,
            durationSeconds: duration,
            requests: r.requests.total,
            requestsPerSecond: r.requests.average,
            latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
            non2xx: r.non2xx,
            errors: r.errors,
            timeouts: r.timeouts,
          };
      }
    }
    // POST /v1/market of the same snapshot, three times: each re-margins every account
    const markets: Array<{ status: number; seconds: number; answer: Record<string, unknown> }> = [];
    for (let k = 0; k < 3; k++) {
      const m0 = performance.now();
      const r = await fetch(`${url}/v1/market`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'full/market' }),
      });
      const answer = (await r.json()) as Record<string, unknown>;
      markets.push({ status: r.status, seconds: (performance.now() - m0) / 1000, answer });
    }
    return {
      workload: 'whatif',
      book: { accounts: health.accounts, instruments: health.instruments, positions: book.positions },
      serverStartupSeconds: startupSeconds,
      serverStartup: startupLine,
      phases,
      market: markets[0],
      markets,
    };
  } finally {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
