/**
 * The report page (`margin-engine report`, src/page/) of a real run on the bundled sample, opened in a real
 * browser (Debian's chromium through playwright-core; test/page/browser.ts): no console error, no network
 * request, every chart drawn as a non-empty SVG, numbers with thousands separators and their currency named,
 * a screenshot left in test/page/output/ (git-ignored) for a person to look at. Then bad input: exit 2
 * naming the file or the run, and no HTML (partial or whole) left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { ALL_MODELS, runMargin } from '../../src/pipeline/runMargin.js';
import { chartIds } from '../../src/page/renderPage.js';
import { readPageData } from '../../src/report/pageData.js';
import { gridLosses } from '../../src/cli/gridLosses.js';
import { openPage, type OpenedPage } from './browser.js';
import { COMMAND as CLI } from '../helpers/command.js';
import { runSampleBook } from '../report/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const OUTPUT = join(import.meta.dirname, 'output');

/** `margin-engine ARGS` as a user runs it (the built CLI, pretest builds it). */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function sql(db: string, statements: string[]): Promise<void> {
  const inst = await DuckDBInstance.create(db);
  const c = await inst.connect();
  try {
    for (const s of statements) await c.run(s);
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

/** Ids of the charts that drew nothing: no SVG, a zero-sized one, or no mark items in it. */
async function emptyCharts(o: OpenedPage, ids: string[]): Promise<string[]> {
  return o.page.evaluate((ids) => {
    return ids.filter((id) => {
      const svg = document.querySelector(`#${id} svg`);
      if (!svg) return true;
      const box = svg.getBoundingClientRect();
      const marks = svg.querySelectorAll('g[class*="mark-"] > path, g[class*="mark-"] > text, g[class*="mark-"] > g');
      return box.width < 50 || box.height < 50 || marks.length === 0;
    });
  }, ids);
}

let dir: string;
let db: string;
let html: string;
let page: OpenedPage;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-page-'));
  db = join(dir, 'report.duckdb');
  html = join(dir, 'report.html');
  await runSampleBook(db, { historyDir: join(ROOT, 'data/history'), models: [...ALL_MODELS], workers: 2 });
  const r = cli('report', '--db', db, '--out', html);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  page = await openPage(html);
}, 240_000);

afterAll(async () => {
  await page?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the page of a run on the sample', () => {
  test('is one self-contained file well under 5 MB that loads and draws in the browser quickly', () => {
    const text = readFileSync(html, 'utf8');
    expect(statSync(html).size).toBeLessThan(5 * 1024 * 1024);
    // nothing to fetch: no external script, style, image or font in the markup (the inlined scripts'
    // text, the library's own, is left out of this look; the browser test below watches every request)
    const markup = text.replace(/<script([^>]*)>[\s\S]*?<\/script>/g, '<script$1></script>');
    expect(markup.length).toBeLessThan(200_000);
    expect(markup).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(/i);
    // measured on the 2-core machine: 1.2–1.6 s from navigation to the last chart drawn, other tests running
    // beside it; the issue's bound is 2 s on an idle machine, this leaves room for a loaded one
    expect(page.loadMs).toBeLessThan(4000);
  });

  test('opens with no console error and no network request', () => {
    expect(page.consoleErrors).toEqual([]);
    expect(page.requests).toEqual([]);
  });

  test('every chart of the run is drawn as a non-empty SVG', async () => {
    const ids = chartIds(readFileSync(html, 'utf8'));
    expect(ids).toEqual(
      expect.arrayContaining([
        'chart-timings',
        'chart-capital',
        'chart-ratio',
        'chart-status',
        'chart-worst',
        'chart-heatmap',
        'chart-book-grid',
        'chart-account-BTC',
      ]),
    );
    expect(await emptyCharts(page, ids)).toEqual([]);
  });

  test('sections the run has no data for say so in one line', async () => {
    const text = await page.page.innerText('body');
    expect(text).toMatch(/Distance to liquidation: not computed in this run/);
    expect(text).toMatch(/Cascade curve: the file holds no cascade sweep/);
    expect(text).toMatch(/Top margin drivers: not computed in this run/);
    expect(await page.page.locator('#chart-distance, #chart-cascade, #chart-drivers').count()).toBe(0);
  });

  test('the surface section lists every slice the run fitted, its ATM vol from its SVI parameters', async () => {
    const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
    const c = await inst.connect();
    let slices: Array<Record<string, unknown>>;
    try {
      slices = (
        await c.runAndReadAll('SELECT * FROM vol_surface WHERE run_id = 1 ORDER BY underlying, expiry')
      ).getRowObjectsJS() as Array<Record<string, unknown>>;
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    expect(slices.length).toBeGreaterThan(0);
    const rows = await page.page.locator('#surface-table tbody tr').allInnerTexts();
    expect(rows).toHaveLength(slices.length);
    slices.forEach((s, j) => {
      const cells = rows[j]!.split('\t');
      expect(cells[0]).toBe(s.underlying);
      if (s.fitted !== 1) return;
      // raw SVI at k = 0: w = a + b(ρ(−m) + sqrt(m² + σ²)), vol = sqrt(w / T)
      const [a, b, rho, m, sig, t] = ['a', 'b', 'rho', 'm', 'sigma', 't_years'].map((k) => Number(s[k]));
      const atm = Math.sqrt((a! + b! * (rho! * -m! + Math.sqrt(m! * m! + sig! * sig!))) / t!);
      expect(cells[5]).toBe(`${(100 * atm).toFixed(1)} %`);
    });
  });

  test('numbers have thousands separators and their currency named, in tables and on axes', async () => {
    const capital = await page.page.innerText('#capital table');
    expect(capital).toMatch(/\d{1,3}(,\d{3})+ USD/); // 25,476,723 USD
    expect(capital).toMatch(/\d+\.\d{4} BTC/);
    expect(capital).toMatch(/\d+\.\d %/);
    const header = await page.page.innerText('#run');
    expect(header).toMatch(/10,365/); // positions rows
    expect(header).toMatch(/[0-9a-f]{64}/); // a SHA-256
    const axis = await page.page.locator('#chart-capital svg').textContent();
    expect(axis).toMatch(/\d{1,3}(,\d{3}){2}/); // 30,000,000 on the USD axis
    expect(axis).toMatch(/USD/);
  });

  test('a screenshot is left for a person to look at', async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const png = join(OUTPUT, 'report.png');
    await page.page.screenshot({ path: png, fullPage: true });
    copyFileSync(html, join(OUTPUT, 'report.html'));
    expect(statSync(png).size).toBeGreaterThan(50_000);
  });
});

describe("the deribit-pm grid of losses, recomputed from the run's inputs", () => {
  test("each unit's largest loss, floored at 0, is the worst_case the run stored, in the scenario it stored", async () => {
    const d = await readPageData(db);
    const stored = await (async () => {
      const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
      const c = await inst.connect();
      try {
        return (
          await c.runAndReadAll(
            `SELECT account, unit, worst_case, worst_scenario FROM account_margin
           WHERE model = 'deribit-pm' AND account IN (SELECT account FROM accounts ORDER BY account_id LIMIT 40)
           UNION ALL SELECT account, unit, worst_case, worst_scenario FROM account_margin
           WHERE model = 'deribit-pm' AND account = ${`'${d.gridAccount}'`}`,
          )
        ).getRowObjectsJS() as { account: string; unit: string; worst_case: number; worst_scenario: number | null }[];
      } finally {
        c.closeSync();
        inst.closeSync();
      }
    })();
    const accounts = [...new Set(stored.map((r) => r.account))];
    expect(accounts.length).toBeGreaterThan(30);
    let units = 0;
    for (const a of accounts) {
      const g = await gridLosses(d, a);
      if (!g.present) throw new Error(g.reason);
      for (const row of stored.filter((r) => r.account === a)) {
        const losses = g.data.units.filter((u) => u.unit === row.unit).map((u) => u.loss);
        if (losses.length === 0) {
          expect(row.worst_case, `${a} ${row.unit}`).toBe(0); // a unit of balances only
          continue;
        }
        const worst = Math.max(0, ...losses);
        expect(Math.abs(worst - row.worst_case), `${a} ${row.unit}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, row.worst_case),
        );
        if (row.worst_case > 0)
          expect(losses.indexOf(Math.max(...losses)), `${a} ${row.unit}`).toBe(row.worst_scenario);
        units++;
      }
    }
    expect(units).toBeGreaterThan(30);
  }, 60_000);

  test('an input file gone since the run is said in one line, and the page is still written', async () => {
    const d = mkdtempSync(join(dir, 'moved-'));
    for (const [from, to] of [
      ['data/sample/market/instruments.arrow', 'instruments.arrow'],
      ['data/sample/market/underlyings.arrow', 'underlyings.arrow'],
      ['data/sample/book/positions.arrow', 'positions.arrow'],
      ['data/sample/book/balances.arrow', 'balances.arrow'],
    ])
      copyFileSync(join(ROOT, from!), join(d, to!));
    const moved = join(d, 'moved.duckdb');
    await runMargin({
      marketDir: d,
      positions: join(d, 'positions.arrow'),
      balances: join(d, 'balances.arrow'),
      models: ['deribit-pm'],
      backend: 'cpu',
      onInvalid: 'fail',
      db: moved,
      workers: 2,
    });
    rmSync(join(d, 'positions.arrow'));
    const out = join(d, 'moved.html');
    const r = cli('report', '--db', moved, '--out', out);
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`the run&#39;s positions input ${join(d, 'positions.arrow')} is no longer there`);
    expect(chartIds(html)).toContain('chart-heatmap');
    expect(chartIds(html)).not.toContain('chart-book-grid');
  }, 60_000);

  test('an account not in the book, or no deribit-pm in the run, is said in one line', async () => {
    const d = await readPageData(db);
    expect(await gridLosses(d, 'nobody')).toEqual({
      present: false,
      reason: "account nobody is not in the run's book",
    });
    const noPm = { ...d, deribitGrid: { present: false as const, reason: 'the run did not compute deribit-pm' } };
    expect((await gridLosses(noPm)).present).toBe(false);
  });
});

describe('demo', () => {
  test('writes report.html beside its database and prints the path', () => {
    const d = mkdtempSync(join(dir, 'demo-'));
    const r = spawnSync(
      process.execPath,
      [CLI, 'demo', '--backend', 'cpu', '--quiet', '--db', join(d, 'demo.duckdb')],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`page: ${join(d, 'report.html')}`);
    expect(readFileSync(join(d, 'report.html'), 'utf8')).toMatch(
      /^<!DOCTYPE html>[\s\S]*Margin report — run 1[\s\S]*<\/html>\n$/,
    );
  }, 120_000);

  test('--run picks an earlier run of a file; without it the page is the latest run', async () => {
    const two = join(dir, 'two-runs.duckdb');
    copyFileSync(db, two);
    // a second run: the first run's rows again under run_id 2, with its own snapshot time
    await sql(two, [
      `INSERT INTO runs SELECT * REPLACE (2 AS run_id, snapshot_time + INTERVAL 1 DAY AS snapshot_time) FROM runs`,
      ...[
        'accounts',
        'symbols',
        'scenarios',
        'instruments',
        'margin_deribit_pm',
        'margin_span',
        'margin_var_hs',
        'margin_var_mc',
      ].map((t) => `INSERT INTO ${t} SELECT * REPLACE (2 AS run_id) FROM ${t} WHERE run_id = 1`),
    ]);
    const latest = join(dir, 'latest.html');
    const first = join(dir, 'first.html');
    expect(cli('report', '--db', two, '--out', latest).code).toBe(0);
    expect(cli('report', '--db', two, '--run', '1', '--out', first).code).toBe(0);
    expect(readFileSync(latest, 'utf8')).toMatch(/Margin report — run 2<[\s\S]*Snapshot 2026-02-02 /);
    expect(readFileSync(first, 'utf8')).toMatch(/Margin report — run 1<[\s\S]*Snapshot 2026-02-01 /);
    expect(readFileSync(first, 'utf8')).toContain('(runs 1, 2)');
  });
});

describe('sections of tables other features add, when the file has them', () => {
  // liquidation_distance (issue 16), cascade_runs (issue 16) and margin_attribution (issue 19) with the
  // columns those issues give, filled from the run's own accounts and instruments: the page detects the
  // tables by name and columns and draws them
  let withAll: string;
  let out: string;
  let o: OpenedPage;
  beforeAll(async () => {
    withAll = join(dir, 'with-all.duckdb');
    out = join(dir, 'with-all.html');
    // a real run with distances and attribution (issues 16 and 19: liquidation_distance,
    // margin_attribution) on the sample, then a real cascade sweep into the same file (cascade_runs)
    await runSampleBook(withAll, { workers: 2, attribution: true, distance: true });
    const sweep = cli(
      'cascade',
      '--market',
      join(ROOT, 'data/sample/market'),
      '--positions',
      join(ROOT, 'data/sample/book/positions.arrow'),
      '--balances',
      join(ROOT, 'data/sample/book/balances.arrow'),
      '--shock',
      'BTC:-0.1,ETH:-0.1',
      '--sweep',
      '--backend',
      'cpu',
      '--db',
      withAll,
    );
    expect(sweep.stderr).toBe('');
    expect(sweep.code).toBe(0);
    await sql(withAll, [
      // and rows an --on-invalid skip run would have left out
      `INSERT INTO rejected_rows VALUES (1, 'positions.arrow', 17, 'quantity', 'NaN', 'is not a finite number'),
         (1, 'positions.arrow', 18, 'quantity', 'NaN', 'is not a finite number'),
         (1, 'balances.arrow', 3, 'currency', '"DOGE"', 'is not an underlying or a cash currency')`,
    ]);
    const r = cli('report', '--db', withAll, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    o = await openPage(out);
  }, 120_000);
  afterAll(async () => {
    await o?.close();
  });

  test('draws the joint-distance histogram, the cascade curve and the top drivers', async () => {
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([]);
    const ids = chartIds(readFileSync(out, 'utf8'));
    expect(ids).toEqual(expect.arrayContaining(['chart-distance', 'chart-cascade', 'chart-drivers']));
    expect(await emptyCharts(o, ids)).toEqual([]);
    expect(await o.page.innerText('#liquidation')).toMatch(/nearest to liquidation/);
    const run = await o.page.innerText('#run');
    expect(run).toMatch(/Rejected rows: 3 input rows were left out/);
    expect(run).toMatch(/is not a finite number\s+2\s+17/);
    mkdirSync(OUTPUT, { recursive: true });
    await o.page.screenshot({ path: join(OUTPUT, 'report-with-liquidation.png'), fullPage: true });
  });

  test('the table of accounts nearest to liquidation sorts on a click of its header', async () => {
    // column 8, the equity at the move (the real sample's nearest accounts are mostly at move 0: already
    // below MM, so the move column does not change order)
    const equities = () =>
      o.page.$$eval('#nearest tbody tr', (rows) =>
        rows.map((r) => Number(((r as HTMLTableRowElement).cells[7] as HTMLElement).dataset.sort)),
      );
    const before = await equities();
    expect(before.length).toBe(50);
    // stored nearest first (smallest |move|); a click sorts by the equity ascending
    await o.page.click('#nearest th:nth-child(8)');
    const after = await equities();
    expect(after).toEqual([...before].sort((a, b) => a - b));
    expect(after).not.toEqual(before);
  });
});

describe('bad input: exit 2 naming the file or run, no HTML left behind', () => {
  const leftovers = (d: string) => readdirSync(d).filter((f) => f.includes('.html') || f.includes('partial'));

  test('a file that is not a DuckDB database', () => {
    const d = mkdtempSync(join(dir, 'bad-'));
    const notDb = join(d, 'notes.duckdb');
    writeFileSync(notDb, 'just some text, not a database at all\n');
    const r = cli('report', '--db', notDb, '--out', join(d, 'r.html'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(notDb);
    expect(r.stderr).toMatch(/not a DuckDB database/);
    expect(leftovers(d)).toEqual([]);
  });

  test('a DuckDB database that is not a report', async () => {
    const d = mkdtempSync(join(dir, 'bad-'));
    const other = join(d, 'other.duckdb');
    await sql(other, ['CREATE TABLE prices (t TIMESTAMP, p DOUBLE)']);
    const r = cli('report', '--db', other, '--out', join(d, 'r.html'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(other);
    expect(r.stderr).toMatch(/not a margin-engine report/);
    expect(leftovers(d)).toEqual([]);
  });

  test('a run that does not exist', () => {
    const d = mkdtempSync(join(dir, 'bad-'));
    const r = cli('report', '--db', db, '--run', '99', '--out', join(d, 'r.html'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run 99 does not exist \(runs: 1\)/);
    expect(r.stderr).toContain(db);
    expect(leftovers(d)).toEqual([]);
  });

  test('an output path that cannot be written: missing directory, a directory, below a file', () => {
    const d = mkdtempSync(join(dir, 'bad-'));
    mkdirSync(join(d, 'adir'));
    writeFileSync(join(d, 'afile'), 'x');
    for (const out of [join(d, 'missing', 'r.html'), join(d, 'adir'), join(d, 'afile', 'r.html')]) {
      const r = cli('report', '--db', db, '--out', out);
      expect(r.code, out).toBe(2);
      expect(r.stderr).toContain(out);
    }
    expect(leftovers(d)).toEqual([]);
    expect(readdirSync(join(d, 'adir'))).toEqual([]);
  });

  test('a missing --out or a bad --run is a usage error', () => {
    expect(cli('report', '--db', db).code).toBe(2);
    const r = cli('report', '--db', db, '--run', 'latest', '--out', join(dir, 'x.html'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--run/);
  });
});
