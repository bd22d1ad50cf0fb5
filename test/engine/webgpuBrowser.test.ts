/**
 * The webgpu backend, run for real: no WebGPU adapter exists for Node on these machines (Dawn's `webgpu`
 * package needs glibc 2.38), but Debian's chromium has one, on SwiftShader (Vulkan on the CPU). The engine's
 * own device modules (DeviceBackend, gpu.js WebGPU mode, kernels/) are bundled for the page
 * (test/engine/webgpuPage.ts) and run there: the self-check against float64, a revaluation with a vol surface
 * (sticky moneyness), and an aggregation of several
 * scenario and group blocks with the k largest losses (found on the device) against the float64 reference
 * kernel. On the H200 the
 * same code runs over Dawn in Node (bench/device.sh); what broke there first (a float ++ that is not WGSL,
 * kernel calls not awaited) fails here.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from '../page/browser.js';
import { WEBGPU_AGGREGATE_GROUP_BLOCK, WEBGPU_AGGREGATE_SCENARIO_BLOCK } from '../../src/engine/tuning.js';
import type { PageResult } from './webgpuPage.js';

let dir = '';
let server: Server;
let browser: Browser;
let url = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
  dir = mkdtempSync(join(tmpdir(), 'me-webgpu-'));
  await build({
    entryPoints: [join(import.meta.dirname, 'webgpuPage.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // the page has navigator.gpu: gpuDevice.ts never imports Dawn's package there
    external: ['webgpu'],
    outfile: join(dir, 'page.js'),
    logLevel: 'error',
  });
  const js = readFileSync(join(dir, 'page.js'));
  // cross-origin isolated, for SharedArrayBuffer (the engine's matrices)
  server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    if (req.url === '/page.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(js);
    } else {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('webgpu: self-check and a multi-block aggregation with top k agree with float64', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => 'webgpuCheck' in globalThis, null, { timeout: 30_000 });
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
  expect(adapter, 'chromium gives no WebGPU adapter (SwiftShader)').toBe(true);
  // two scenario blocks (the second partial) and two group blocks, top 5 (the k-th loss found on the device);
  // P&L of 8 levels, so that losses tie at the k-th; top 400 of 300 scenarios (a block of fewer scenarios than
  // k: all of them)
  const cases: Array<[number, number, number, number, number]> = [
    [64, WEBGPU_AGGREGATE_SCENARIO_BLOCK + 452, WEBGPU_AGGREGATE_GROUP_BLOCK + 7_000, 5, 0],
    [16, WEBGPU_AGGREGATE_SCENARIO_BLOCK + 452, 3_000, 20, 8],
    [16, 300, 100, 400, 0],
  ];
  const r = await page.evaluate(async (cases) => {
    const run = (globalThis as unknown as { webgpuCheck(c: unknown): unknown }).webgpuCheck;
    return (await run(cases)) as PageResult;
  }, cases);
  await page.close();
  expect(errors).toEqual([]);
  expect(r.kernelClass).toBe('WebGPUKernel');
  expect(r.selfCheck.ok, r.selfCheck.detail).toBe(true);
  // sticky moneyness (the surface kernel): the surface moved a quarter of the cells or more, and the device
  // follows the float64 reference within the self-check's bound
  expect(r.stickyMoneyness.movedCells).toBeGreaterThan(r.stickyMoneyness.cells / 4);
  expect(r.stickyMoneyness.worstErrOverBound).toBeLessThanOrEqual(1);
  // `price --backend webgpu`: taken, and each normalised quantity within 5e-6 of float64 (price: the bound
  // the command's own self-check applies; the Greeks here the same, measured, not a stated bound)
  expect(r.pricing.reason).toBeNull();
  expect(r.pricing.kernelClass).toBe('WebGPUKernel');
  for (const [q, e] of Object.entries(r.pricing.maxErr)) expect(e, q).toBeLessThanOrEqual(5e-6);
  expect(r.aggregation).toHaveLength(cases.length);
  for (const a of r.aggregation) {
    const what = `${a.groups} groups × ${a.scenarios} scenarios, top ${a.topK}`;
    expect(a.worstErrOverBound, what).toBeLessThanOrEqual(1);
    expect(a.topErrOverBound, what).toBeLessThanOrEqual(1);
    // float32 sums may pick another scenario of (nearly) the same loss, rarely
    expect(a.sameWorstScenario, what).toBeGreaterThan(0.99);
    // the device found every k-th loss (uniform P&L: the bisection ends well within its steps)
    expect(a.fallbackGroups, what).toBe(0);
  }
}, 240_000);
