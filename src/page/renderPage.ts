/**
 * The report page: one self-contained HTML file of a run (`margin-engine report`). The charting library
 * (Vega, Vega-Lite, vega-embed: their minified UMD bundles from node_modules), the styles, the chart
 * specifications and the aggregated data are all inlined, so the file opens offline and requests nothing.
 * Tables are written here as HTML, with numbers formatted (thousands separators, the currency named); the
 * charts are drawn in the browser by vega-embed as SVG. charts.ts says why Vega-Lite.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PageData, Row } from '../report/pageData.js';
import { NEAREST, TOP_DRIVERS, TOP_SCENARIOS } from '../report/pageData.js';
import {
  capitalChart,
  cascadeChart,
  distanceChart,
  driversChart,
  gridLossChart,
  heatmapChart,
  ratioChart,
  statusChart,
  timingsChart,
  worstChart,
  type Spec,
} from './charts.js';

const require = createRequire(import.meta.url);

/** The browser bundles, in load order: each package's main entry resolved, its UMD build beside it. */
const BUNDLES: readonly (readonly [string, string])[] = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
];

let libraryCache: string | null = null;
/** The three bundles as one script, source-map comments dropped (a browser's devtools would fetch them). */
export function chartLibrary(): string {
  if (libraryCache !== null) return libraryCache;
  libraryCache = BUNDLES.map(([pkg, file]) => {
    const js = readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8');
    return js.replace(/\/\/# sourceMappingURL=\S+/g, '').replace(/<\/script/gi, '<\\/script');
  }).join('\n;\n');
  return libraryCache;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const FIAT = new Set(['USD', 'USDC', 'USDT']);
const nf = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** 12,345,678 with `digits` decimals; '—' for NULL, '∞' for infinities. */
export function fmt(v: unknown, digits = 0): string {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  if (Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
  return nf(digits).format(n).replace(/^-/, '−');
}
/** An amount with its currency named: `25,476,723 USD`, `252.0996 BTC`. */
export function money(v: unknown, currency: unknown): string {
  if (v === null || v === undefined) return '—';
  const c = String(currency ?? '');
  return `${fmt(v, FIAT.has(c) ? 0 : 4)} ${c}`;
}
export function pct(v: unknown, digits = 1): string {
  if (v === null || v === undefined) return '—';
  return `${fmt(Number(v) * 100, digits)} %`;
}

type Cell = string | { html: string; sort?: number | string; num?: boolean };
/** An HTML table; `sortable` tables sort on a click of their header (a few lines of script below). */
function table(head: string[], body: Cell[][], opts: { sortable?: boolean; id?: string } = {}): string {
  const cell = (c: Cell) => {
    if (typeof c === 'string') return `<td>${c}</td>`;
    const attrs = `${c.num ? ' class="num"' : ''}${c.sort !== undefined ? ` data-sort="${esc(c.sort)}"` : ''}`;
    return `<td${attrs}>${c.html}</td>`;
  };
  return `<table${opts.sortable ? ' class="sortable"' : ''}${opts.id ? ` id="${opts.id}"` : ''}>
<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>${body.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table>`;
}
/** A numeric cell; its sort key is the number itself (none for NULL, which then sorts as text). */
const n = (html: string, sort?: unknown): Cell => {
  const v = sort === null || sort === undefined ? NaN : Number(sort);
  return { html, num: true, sort: Number.isNaN(v) ? undefined : v };
};

function chart(id: string, specs: Record<string, Spec>, spec: Spec): string {
  specs[id] = spec;
  return `<div class="chart" id="${id}" data-chart="${id}"></div>`;
}
const absent = (what: string, reason: string) => `<p class="absent">${esc(what)}: ${esc(reason)}.</p>`;

function headerSection(d: PageData, specs: Record<string, Spec>): string {
  const h = d.header;
  const inputs = table(
    ['role', 'file', 'rows', 'SHA-256'],
    h.inputs.map((i) => [
      esc(i.role),
      `<code>${esc(i.path)}</code>`,
      n(fmt(i.rows), i.rows),
      `<code>${esc(i.sha256)}</code>`,
    ]),
  );
  const backends = table(
    ['phase', 'backend that ran', 'backends not used, and why'],
    h.backends.map((b) => [
      esc(b.phase),
      `<b>${esc(b.used)}</b>`,
      b.skipped.length === 0 ? '—' : b.skipped.map((s) => `${esc(s.backend)}: ${esc(s.reason)}`).join('<br>'),
    ]),
  );
  const total = h.timingsMs.reduce((a, t) => a + t.ms, 0);
  const rejected =
    h.rejectedCount === 0
      ? '<p>Rejected rows: none.</p>'
      : `<p>Rejected rows: <b>${fmt(h.rejectedCount)}</b> input rows were left out (<code>--on-invalid skip</code>); the largest groups:</p>` +
        table(
          ['file', 'column', 'rule', 'rows', 'first row'],
          h.rejected.map((r) => [
            `<code>${esc(r.file)}</code>`,
            esc(r.column ?? '(row)'),
            esc(r.rule),
            n(fmt(r.count), Number(r.count)),
            n(fmt(r.first_row), Number(r.first_row)),
          ]),
        );
  return `<section id="run"><h2>Run ${h.runId}</h2>
<dl class="facts">
<dt>snapshot time (UTC)</dt><dd>${esc(h.snapshotTime)}</dd>
<dt>run started / finished (UTC)</dt><dd>${esc(h.startedAt)} / ${esc(h.finishedAt)}</dd>
<dt>models</dt><dd>${h.models.map(esc).join(', ')}</dd>
<dt>accounts</dt><dd>${fmt(h.accounts)}</dd>
<dt>parameters hash</dt><dd><code>${esc(h.paramsHash)}</code></dd>
<dt>status</dt><dd>${esc(h.status)}</dd>
<dt>engine</dt><dd>${esc(h.engineVersion)} (report schema ${esc(h.schemaVersion ?? '—')})</dd>
<dt>report file</dt><dd><code>${esc(h.file)}</code> (runs ${h.runIds.length > 10 ? `${h.runIds[0]}–${h.runIds[h.runIds.length - 1]}` : h.runIds.join(', ')})</dd>
</dl>
<h3>Inputs</h3>${inputs}
<h3>Backends</h3>${backends}
<h3>Timings</h3><p>Phases add up to ${fmt(total)} ms.</p>${chart('chart-timings', specs, timingsChart(d))}
<h3>Rejected rows</h3>${rejected}
</section>`;
}

function capitalSection(d: PageData, specs: Record<string, Spec>): string {
  const rows = d.capitalEfficiency.map((r) => {
    const c = r.currency;
    return [
      esc(r.model),
      r.unit === 'TOTAL' ? '<b>all (USD)</b>' : esc(r.unit),
      n(fmt(r.units), Number(r.units)),
      n(money(r.im, c), r.im),
      n(money(r.mm, c), r.mm),
      n(money(r.standard_im, c), r.standard_im),
      n(money(r.saving, c), r.saving),
      n(pct(r.saving_share), r.saving_share),
      n(pct(r.addon_share), r.addon_share),
    ];
  });
  return `<section id="capital"><h2>Capital efficiency</h2>
<p>Initial and maintenance margin per model against standard (per-position) margin of the same positions; the saving
is standard IM − IM (positive: portfolio margin asks less). Rows per unit are in the unit's currency; <b>all (USD)</b>
rows sum every account in USD (the <code>capital_efficiency</code> view).</p>
${chart('chart-capital', specs, capitalChart(d))}
${table(['model', 'unit', 'rows', 'IM', 'MM', 'standard IM', 'saving', 'saving share', 'add-on share of IM'], rows, { sortable: true })}
</section>`;
}

function ratioSection(d: PageData, specs: Record<string, Spec>): string {
  const na = d.ratioHistogram.filter((r) => r.bin === null);
  const models = [...new Set(d.statusCounts.map((r) => String(r.model)))];
  const count = (m: string, s: string) =>
    Number(d.statusCounts.find((r) => r.model === m && r.status === s)?.accounts ?? 0);
  const statusRows = models.map((m) => [
    esc(m),
    ...['ok', 'margin_call', 'liquidation'].map((s) => n(fmt(count(m, s)), count(m, s))),
  ]);
  return `<section id="ratio"><h2>Margin ratio and status</h2>
<p>Distribution of the accounts' margin ratio (MM / equity, account level in USD) per model; at 1 or above an account is
in liquidation. ${na.length ? `Accounts without a ratio (NaN): ${na.map((r) => `${esc(r.model)} ${fmt(r.accounts)}`).join(', ')}.` : ''}</p>
${chart('chart-ratio', specs, ratioChart(d))}
<h3>Accounts by status</h3>
${chart('chart-status', specs, statusChart(d))}
${table(['model', 'ok', 'margin call', 'liquidation'], statusRows, { sortable: true })}
</section>`;
}

function liquidationSection(d: PageData, specs: Record<string, Spec>): string {
  const liq = d.liquidation;
  const cas = d.cascade;
  let body: string;
  if (!liq.present) body = absent('Distance to liquidation', liq.reason);
  else {
    const s = liq.data.summary.map((r) => [
      esc(r.model),
      n(fmt(r.accounts), Number(r.accounts)),
      n(fmt(r.within_1), Number(r.within_1)),
      n(fmt(r.within_2), Number(r.within_2)),
      n(fmt(r.within_5), Number(r.within_5)),
      n(fmt(r.within_10), Number(r.within_10)),
      n(fmt(r.none), Number(r.none)),
    ]);
    const near = liq.data.nearest.map((r) => [
      esc(r.model),
      esc(r.account),
      esc(r.unit),
      esc(r.underlying),
      esc(r.direction),
      n(pct(r.move, 2), r.move),
      n(`${fmt(r.price, 2)} USD`, r.price),
      n(fmt(r.equity, 2), r.equity),
      n(fmt(r.mm, 2), r.mm),
    ]);
    body = `${table(['model', 'accounts', 'within 1 %', 'within 2 %', 'within 5 %', 'within 10 %', 'none in range'], s)}
${chart('chart-distance', specs, distanceChart(liq.data.histogram))}
<h3>Accounts nearest to liquidation (the ${NEAREST} smallest moves; click a header to sort)</h3>
<p>Equity and MM at the move, in the row unit's currency.</p>
${table(['model', 'account', 'unit', 'underlying', 'direction', 'move', 'price', 'equity at move', 'MM at move'], near, { sortable: true, id: 'nearest' })}`;
  }
  let cascade: string;
  if (!cas.present) cascade = absent('Cascade curve', cas.reason);
  else {
    const spec = cascadeChart(cas.data.columns, cas.data.rows);
    cascade =
      (spec ? chart('chart-cascade', specs, spec) : '') +
      table(
        cas.data.columns.map(esc),
        cas.data.rows.map((r) =>
          cas.data.columns.map((c): Cell =>
            typeof r[c] === 'number' ? n(fmt(r[c], Number.isInteger(r[c]) ? 0 : 4), r[c] as number) : esc(r[c]),
          ),
        ),
        { sortable: true },
      );
  }
  return `<section id="liquidation"><h2>Liquidation risk</h2>${body}<h3>Cascade stress</h3>${cascade}</section>`;
}

function scenarioSection(d: PageData, specs: Record<string, Spec>): string {
  const grid = d.deribitGrid;
  const heat = grid.present
    ? `<p>Each cell of the deribit-pm risk matrix (price move × vol rule): the worst-case losses, in USD, of the units whose
worst scenario it is, summed over the book; the number in a cell counts those units.</p>${chart('chart-heatmap', specs, heatmapChart(grid.data))}`
    : absent('Heat map of the deribit-pm grid', grid.reason);
  return `<section id="scenarios"><h2>Worst scenarios</h2>
<p>How often each scenario is a unit's worst (the ${TOP_SCENARIOS} most frequent per model, as a share of the model's units
that lose in some scenario).</p>
${d.worstScenarios.length ? chart('chart-worst', specs, worstChart(d)) : absent('Worst scenarios', 'no unit loses in any scenario')}
<h3>Book losses on the deribit-pm grid</h3>${heat}
${gridLossesHtml(d, specs)}
</section>`;
}

/** The book's and one account's loss in every deribit-pm scenario, when the caller recomputed them. */
function gridLossesHtml(d: PageData, specs: Record<string, Spec>): string {
  const g = d.gridLosses;
  if (!g.present || !d.deribitGrid.present)
    return absent(
      'Losses in every scenario, for the book and one account',
      g.present ? 'no deribit-pm grid' : g.reason,
    );
  const byId = new Map(d.deribitGrid.data.map((r) => [Number(r.scenario), r]));
  const cell = (scenario: number, loss: number) => {
    const r = byId.get(scenario)!;
    return { scenario, label: r.label, vol_rule: r.vol_rule, moves: r.moves, loss };
  };
  const book = g.data.book.map((b) => cell(b.scenario, b.lossUsd));
  const units = [...new Set(g.data.units.map((u) => u.unit))];
  const perUnit = units
    .map((u) => {
      const rows = g.data.units.filter((x) => x.unit === u).map((x) => cell(x.scenario, x.loss));
      const currency = g.data.units.find((x) => x.unit === u)!.currency;
      return `<h4>Account ${esc(g.data.account)}, unit ${esc(u)} (${esc(currency)})</h4>${chart(`chart-account-${u.replace(/[^A-Za-z0-9]/g, '_')}`, specs, gridLossChart(rows, currency))}`;
    })
    .join('\n');
  return `<h3>Book loss in every deribit-pm scenario</h3>
<p>Each unit's weighted loss in the scenario (positive: a loss; a gain counts as the parameters' <code>pnl_offset</code> says),
summed over the book in USD at each unit's index price; the cells give millions of USD. Recomputed from the run's
inputs (unchanged since the run: SHA-256) and parameters.</p>
${chart('chart-book-grid', specs, gridLossChart(book, 'USD'))}
<h3>One account: ${esc(g.data.account)}</h3>
<p>The account with the largest deribit-pm IM unless <code>--account</code> names another; its loss per unit and scenario, in the
unit's currency (the largest, floored at 0, is the unit's worst case).</p>
${perUnit || '<p class="absent">The account holds no deribit-pm unit with positions.</p>'}`;
}

function driversSection(d: PageData, specs: Record<string, Spec>): string {
  const a = d.attribution;
  const body = a.present
    ? `<p>Instruments whose positions carry the most margin over the book (the ${TOP_DRIVERS} largest per model, column
<code>${esc(a.data.amountColumn)}</code> of <code>margin_attribution</code> summed).</p>${chart('chart-drivers', specs, driversChart(a.data.top))}`
    : absent('Top margin drivers', a.reason);
  const v = d.volSurface;
  const surface = v.present
    ? `<p>The implied-volatility surface the run fitted (raw SVI per expiry in total variance, docs/methodology.md
§11; table <code>vol_surface</code>): the at-the-money vol of each slice and the fit's error on the liquid band.</p>` +
      table(
        ['underlying', 'expiry', 'T (years)', 'forward', 'quotes', 'ATM vol', 'RMSE liquid (vol pts)', 'fitted'],
        v.data.map((r) => [
          esc(String(r.underlying)),
          esc(String(r.expiry)),
          n(fmt(r.t_years, 4), r.t_years),
          n(fmt(r.forward, 2), r.forward),
          n(fmt(r.quotes), r.quotes),
          n(pct(r.atm_vol, 1), r.atm_vol),
          n(fmt(r.rmse_liquid_vol_pts, 3), r.rmse_liquid_vol_pts),
          r.fitted ? 'yes' : 'no (fewer than 5 usable quotes)',
        ]),
        { sortable: true, id: 'surface-table' },
      )
    : absent('Volatility surface', v.reason);
  return `<section id="drivers"><h2>Top margin drivers</h2>${body}</section>
<section id="surface"><h2>Volatility surface</h2>${surface}</section>`;
}

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #222; }
body { margin: 0 auto; max-width: 1100px; padding: 0 24px 48px; line-height: 1.4; font-size: 14px; }
header { border-bottom: 2px solid #386fa4; margin-bottom: 8px; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; color: #1d3b5a; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { margin-right: 14px; color: #386fa4; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f1f4f8; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:hover { background: #dde6f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
.absent { color: #666; font-style: italic; }
.chart { margin: 8px 0; }
`;

/** Sorting of the sortable tables: numbers by data-sort, text otherwise; a second click reverses. */
const SORT_SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      function key(r) { var c = r.cells[i]; var s = c.dataset.sort; var x = s === undefined ? NaN : Number(s);
        return isNaN(x) ? c.textContent : x; }
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});`;

/** Draws every chart: one vegaEmbed per chart, SVG renderer, no action menu (no link to the online editor). */
const EMBED_SCRIPT = `
var specs = JSON.parse(document.getElementById('report-specs').textContent);
var drawn = Object.keys(specs).map(function (id) {
  var spec = specs[id];
  spec.config = Object.assign({ font: 'system-ui, sans-serif', view: { stroke: null } }, spec.config || {});
  return vegaEmbed('#' + id, spec, { actions: false, renderer: 'svg', mode: 'vega-lite' })
    .then(function () { document.getElementById(id).dataset.rendered = 'true'; })
    .catch(function (e) { console.error('chart ' + id + ': ' + e.message); });
});
Promise.all(drawn).then(function () {
  document.body.dataset.chartsMs = String(Math.round(performance.now()));
  document.body.dataset.charts = 'done';
});`;

/** The whole page. */
export function renderPage(d: PageData): string {
  const specs: Record<string, Spec> = {};
  const sections = [
    headerSection(d, specs),
    capitalSection(d, specs),
    ratioSection(d, specs),
    liquidationSection(d, specs),
    scenarioSection(d, specs),
    driversSection(d, specs),
  ].join('\n');
  const data = JSON.stringify(specs).replace(/</g, '\\u003c');
  const h = d.header;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>margin-engine report — run ${h.runId}, snapshot ${esc(h.snapshotTime)}</title>
<style>${STYLE}</style>
</head><body>
<header><h1>Margin report — run ${h.runId}</h1>
<p>Snapshot ${esc(h.snapshotTime)} UTC · ${fmt(h.accounts)} accounts · models ${h.models.map(esc).join(', ')}</p>
<nav><a href="#run">run</a><a href="#capital">capital efficiency</a><a href="#ratio">margin ratio</a>
<a href="#liquidation">liquidation</a><a href="#scenarios">scenarios</a><a href="#drivers">drivers</a><a href="#surface">vol surface</a></nav>
</header>
${sections}
<footer><p class="absent">Written by margin-engine ${esc(h.engineVersion)}; charts by Vega-Lite, inlined (the page needs no network).</p></footer>
<script type="application/json" id="report-specs">${data}</script>
<script>${chartLibrary()}</script>
<script>${SORT_SCRIPT}${EMBED_SCRIPT}</script>
</body></html>
`;
}

/** Every chart id the page of `d` holds (what a test expects rendered). */
export function chartIds(html: string): string[] {
  return [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]!);
}

export type { Row };
