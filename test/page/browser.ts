/**
 * Opening a page in a real browser for the tests: Debian's `chromium` (installed by .ci/run) driven by
 * playwright-core, headless, in a fresh profile, with everything that could reach the network switched off.
 * Records console errors, page errors and every request other than the page itself.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  consoleErrors: string[];
  /** requests other than the page's own file (a self-contained page makes none) */
  requests: string[];
  /** ms from navigation start to the page's `charts = done` mark */
  loadMs: number;
  close(): Promise<void>;
}

/** Opens `htmlFile` and waits until every chart has been drawn (body[data-charts=done]). */
export async function openPage(htmlFile: string, viewport = { width: 1280, height: 900 }): Promise<OpenedPage> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'me-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const url = pathToFileURL(htmlFile).href;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  context.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts="done"]', { timeout: 30_000 });
  const loadMs = Date.now() - t0;
  return {
    page,
    context,
    consoleErrors,
    requests,
    loadMs,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
