/**
 * The page's charts as Vega-Lite specifications (plain JSON, the data inline). Why Vega-Lite: a chart is a
 * declarative JSON document, so the engine builds each one in TypeScript from the aggregated rows with no
 * drawing code, the page carries specs and data together, and the browser side is one call per chart
 * (vega-embed). Vega, Vega-Lite and vega-embed are maintained by the UW Interactive Data Lab with
 * regular releases; their UMD bundles (about 0.8 MB minified for the three) inline into one offline file,
 * render SVG (checkable in a test), and format numbers with d3-format (thousands separators). Observable
 * Plot needs the same amount of code written as JavaScript calls; ECharts' bundle is larger and renders
 * to canvas. docs/report.md, "The report page".
 */
import type { PageData, Row } from '../report/pageData.js';
import { DIST_BIN, DIST_MAX, RATIO_BIN, RATIO_MAX } from '../report/pageData.js';

/** A Vega-Lite specification (a JSON object). */
export type Spec = Record<string, unknown>;

export const STATUS_COLORS = { ok: '#4c956c', margin_call: '#f4a259', liquidation: '#bc4749' };
const MODEL_ORDER = ['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard'];

const num = (v: Row[string]) => (typeof v === 'number' ? v : v === null ? null : Number(v));

/** Wall time of each phase (ms). */
export function timingsChart(d: PageData): Spec {
  return {
    description: 'wall time of each phase of the run',
    data: { values: d.header.timingsMs.map((t) => ({ phase: t.phase, ms: t.ms })) },
    mark: { type: 'bar', tooltip: true },
    width: 520,
    height: { step: 18 },
    encoding: {
      y: { field: 'phase', type: 'nominal', sort: null, title: null },
      x: { field: 'ms', type: 'quantitative', title: 'wall time (ms)', axis: { format: ',.0f' } },
      tooltip: [
        { field: 'phase', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: ',.1f', title: 'ms' },
      ],
    },
  };
}

/** IM and MM per model against standard margin of the same positions, the whole book in USD. */
export function capitalChart(d: PageData): Spec {
  const values = d.capitalEfficiency
    .filter((r) => r.unit === 'TOTAL')
    .flatMap((r) => [
      { model: r.model, measure: 'IM', margin: 'model', usd: num(r.im) },
      { model: r.model, measure: 'IM', margin: 'standard', usd: num(r.standard_im) },
      { model: r.model, measure: 'MM', margin: 'model', usd: num(r.mm) },
      { model: r.model, measure: 'MM', margin: 'standard', usd: num(r.standard_mm) },
    ])
    .filter((v) => v.usd !== null);
  return {
    description: 'IM and MM per model against standard margin (USD)',
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    spec: {
      width: 340,
      height: 220,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'margin', type: 'nominal', sort: ['model', 'standard'] },
        y: { field: 'usd', type: 'quantitative', title: 'USD', axis: { format: ',.0f' } },
        color: {
          field: 'margin',
          type: 'nominal',
          title: 'margin',
          scale: { domain: ['model', 'standard'], range: ['#386fa4', '#b9c6d2'] },
        },
        tooltip: [
          { field: 'model', type: 'nominal' },
          { field: 'measure', type: 'nominal' },
          { field: 'margin', type: 'nominal' },
          { field: 'usd', type: 'quantitative', format: ',.0f', title: 'USD' },
        ],
      },
    },
  };
}

/** Accounts by status, per model (stacked). */
export function statusChart(d: PageData): Spec {
  return {
    description: 'accounts by status per model',
    data: { values: d.statusCounts },
    mark: { type: 'bar', tooltip: true },
    width: 520,
    height: { step: 22 },
    encoding: {
      y: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null },
      x: { field: 'accounts', type: 'quantitative', stack: 'zero', title: 'accounts', axis: { format: ',d' } },
      color: {
        field: 'status',
        type: 'nominal',
        scale: { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS) },
      },
      order: { field: 'status', sort: 'ascending' },
      tooltip: [
        { field: 'model', type: 'nominal' },
        { field: 'status', type: 'nominal' },
        { field: 'accounts', type: 'quantitative', format: ',d' },
      ],
    },
  };
}

/** Histogram of the accounts' margin ratio (MM / equity) per model; the last bin holds ≥ RATIO_MAX and +∞. */
export function ratioChart(d: PageData): Spec {
  const values = d.ratioHistogram
    .filter((r) => r.bin !== null)
    .map((r) => {
      const lo = num(r.bin)!;
      const overflow = lo >= RATIO_MAX - 1e-9;
      return {
        model: r.model,
        lo,
        hi: lo + RATIO_BIN,
        range: overflow ? `≥ ${RATIO_MAX} (incl. equity ≤ 0)` : `${lo.toFixed(2)}–${(lo + RATIO_BIN).toFixed(2)}`,
        accounts: r.accounts,
        zone: lo >= 1 ? 'liquidation (≥ 1)' : 'below 1',
      };
    });
  return {
    description: 'margin ratio histogram per model',
    data: { values },
    facet: { row: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 680,
      height: 70,
      mark: { type: 'bar', tooltip: true, binSpacing: 1 },
      encoding: {
        x: {
          field: 'lo',
          type: 'quantitative',
          bin: { binned: true, step: RATIO_BIN },
          scale: { domain: [0, RATIO_MAX + RATIO_BIN] },
          title: `margin ratio (MM / equity); last bin ≥ ${RATIO_MAX}`,
          axis: { format: '.1f' },
        },
        x2: { field: 'hi' },
        y: { field: 'accounts', type: 'quantitative', title: 'accounts', axis: { format: ',d', tickCount: 3 } },
        color: {
          field: 'zone',
          type: 'nominal',
          title: null,
          scale: { domain: ['below 1', 'liquidation (≥ 1)'], range: ['#386fa4', STATUS_COLORS.liquidation] },
        },
        tooltip: [
          { field: 'model', type: 'nominal' },
          { field: 'range', type: 'nominal', title: 'margin ratio' },
          { field: 'accounts', type: 'quantitative', format: ',d' },
        ],
      },
    },
  };
}

/** How often each scenario is the worst: per model, the most frequent scenarios' share of units. */
export function worstChart(d: PageData): Spec {
  return {
    description: 'how often each scenario is the worst',
    data: { values: d.worstScenarios.map((r) => ({ ...r, name: `${r.label} (#${r.scenario})` })) },
    facet: { row: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null, header: { labelAngle: 0 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 420,
      height: { step: 14 },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'name', type: 'nominal', sort: { field: 'units', order: 'descending' }, title: null },
        x: { field: 'share', type: 'quantitative', title: 'share of units worst here', axis: { format: '.0%' } },
        tooltip: [
          { field: 'model', type: 'nominal' },
          { field: 'label', type: 'nominal', title: 'scenario' },
          { field: 'units', type: 'quantitative', format: ',d', title: 'units' },
          { field: 'share', type: 'quantitative', format: '.1%' },
        ],
      },
    },
  };
}

/** The column of the deribit-pm grid a scenario sits in: its grid step (std j/B) or its extended move. */
export function gridColumn(label: string): { column: string; order: number } {
  const std = /^std (-?\d+)\/(\d+)/.exec(label);
  if (std) return { column: `${Number(std[1]) > 0 ? '+' : ''}${std[1]}/${std[2]}`, order: Number(std[1]) };
  const ext = /^ext (-?[\d.]+)/.exec(label);
  if (ext) {
    const m = Number(ext[1]);
    return { column: `ext ${m > 0 ? '+' : ''}${Math.round(m * 100)}%`, order: 100 + m };
  }
  return { column: label, order: 1000 };
}

/**
 * Heat map of the deribit-pm grid, price move × vol rule: the book's worst-case losses (USD) summed over the
 * units whose worst scenario is that cell, with the count of those units written in the cell.
 */
export function heatmapChart(grid: Row[]): Spec {
  const values = grid.map((r) => ({ ...r, ...gridColumn(String(r.label)) }));
  const columns = [...values].sort((a, b) => a.order - b.order).map((v) => v.column);
  return {
    description: 'deribit-pm grid: worst-case losses by price move and vol rule',
    data: { values },
    transform: [{ joinaggregate: [{ op: 'max', field: 'loss_usd', as: 'maxLoss' }] }],
    width: { step: 52 },
    height: { step: 34 },
    encoding: {
      x: {
        field: 'column',
        type: 'ordinal',
        sort: [...new Set(columns)],
        title: 'price move (grid step j/4 of the range: BTC ±16 %, ETH ±18 %; extended moves)',
        axis: { labelAngle: -40 },
      },
      y: { field: 'vol_rule', type: 'ordinal', sort: ['up', 'none', 'down'], title: 'vol rule' },
    },
    layer: [
      {
        mark: { type: 'rect', tooltip: true, stroke: '#fff' },
        encoding: {
          color: {
            condition: { test: 'datum.units === 0', value: '#f2f2f2' },
            field: 'loss_usd',
            type: 'quantitative',
            title: 'loss (USD)',
            scale: { scheme: 'orangered' },
            legend: { format: ',.0f' },
          },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'scenario' },
            { field: 'moves', type: 'nominal', title: 'moves' },
            { field: 'vol_rule', type: 'nominal', title: 'vol rule' },
            { field: 'units', type: 'quantitative', format: ',d', title: 'units worst here' },
            { field: 'loss_usd', type: 'quantitative', format: ',.0f', title: 'their worst-case loss (USD)' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { condition: { test: 'datum.units > 0', field: 'units', format: ',d' }, value: '' },
          color: { condition: { test: 'datum.loss_usd > 0.6 * datum.maxLoss', value: '#fff' }, value: '#222' },
        },
      },
    ],
  };
}

/** Histogram of the accounts' joint distance to liquidation (fraction of price), per model. */
export function distanceChart(histogram: Row[]): Spec {
  const values = histogram
    .filter((r) => r.bin !== null)
    .map((r) => ({ ...r, lo: num(r.bin)!, hi: num(r.bin)! + DIST_BIN }));
  return {
    description: 'joint distance to liquidation per model',
    data: { values },
    facet: { row: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 680,
      height: 70,
      mark: { type: 'bar', tooltip: true, binSpacing: 1, color: STATUS_COLORS.margin_call },
      encoding: {
        x: {
          field: 'lo',
          type: 'quantitative',
          bin: { binned: true, step: DIST_BIN },
          scale: { domain: [0, DIST_MAX + DIST_BIN] },
          title: `joint move to liquidation (|move|, all underlyings together); last bin ≥ ${DIST_MAX * 100} %`,
          axis: { format: '.0%' },
        },
        x2: { field: 'hi' },
        y: { field: 'accounts', type: 'quantitative', title: 'accounts', axis: { format: ',d', tickCount: 3 } },
        tooltip: [
          { field: 'model', type: 'nominal' },
          { field: 'lo', type: 'quantitative', format: '.0%', title: 'from' },
          { field: 'accounts', type: 'quantitative', format: ',d' },
        ],
      },
    },
  };
}

/**
 * The cascade sweep's curve when cascade_runs has an initial-shock and a final-move column (found by name),
 * else null (the page shows the rows as a table).
 */
export function cascadeChart(columns: string[], rows: Row[]): Spec | null {
  const x = columns.find((c) => /initial|shock/i.test(c) && rows.some((r) => typeof r[c] === 'number'));
  const y = columns.find((c) => /final/i.test(c) && rows.some((r) => typeof r[c] === 'number'));
  if (!x || !y) return null;
  return {
    description: 'cascade sweep: final move against initial shock',
    data: { values: rows.filter((r) => typeof r[x] === 'number' && typeof r[y] === 'number') },
    width: 520,
    height: 260,
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: x, type: 'quantitative', title: x, axis: { format: '.0%' } },
      y: { field: y, type: 'quantitative', title: y, axis: { format: '.0%' } },
    },
  };
}

/** Top margin drivers by instrument, per model (attributed margin summed over the book). */
export function driversChart(top: Row[]): Spec {
  return {
    description: 'top margin drivers by instrument',
    data: { values: top },
    facet: { row: { field: 'model', type: 'nominal', sort: MODEL_ORDER, title: null } },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    spec: {
      width: 420,
      height: { step: 14 },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'instrument', type: 'nominal', sort: { field: 'amount', order: 'descending' }, title: null },
        x: { field: 'amount', type: 'quantitative', title: 'attributed margin', axis: { format: ',' } },
        color: { field: 'currency', type: 'nominal' },
        tooltip: [
          { field: 'instrument', type: 'nominal' },
          { field: 'currency', type: 'nominal' },
          { field: 'amount', type: 'quantitative', format: ',.2f' },
        ],
      },
    },
  };
}

/**
 * Heat map of the losses of every deribit-pm scenario (price move × vol rule): `values` rows carry the grid
 * `label`, `vol_rule`, `moves` and `loss`; positive = a loss (red), negative = a gain (blue).
 */
export function gridLossChart(values: Row[], currency: string): Spec {
  const cells = values.map((r) => ({ ...r, ...gridColumn(String(r.label)) }));
  const columns = [...new Set([...cells].sort((a, b) => a.order - b.order).map((v) => v.column))];
  const fiat = currency === 'USD' || currency === 'USDC';
  // in the cells: millions for USD amounts (a 52-pixel cell holds "1,302.5"), 3 significant digits for coin
  const cellText = fiat ? "format(datum.loss / 1e6, ',.1f')" : "format(datum.loss, ',.3~r')";
  return {
    description: `losses per deribit-pm scenario (${currency})`,
    data: { values: cells },
    transform: [{ calculate: cellText, as: 'cell' }, { joinaggregate: [{ op: 'max', field: 'loss', as: 'maxLoss' }] }],
    width: { step: 52 },
    height: { step: 30 },
    encoding: {
      x: {
        field: 'column',
        type: 'ordinal',
        sort: columns,
        title: `price move (grid step or extended move)${fiat ? `; in the cells: millions of ${currency}` : ''}`,
        axis: { labelAngle: -40 },
      },
      y: { field: 'vol_rule', type: 'ordinal', sort: ['up', 'none', 'down'], title: 'vol rule' },
    },
    layer: [
      {
        mark: { type: 'rect', tooltip: true, stroke: '#fff' },
        encoding: {
          color: {
            field: 'loss',
            type: 'quantitative',
            title: `loss (${currency})`,
            scale: { scheme: 'redblue', reverse: true, domainMid: 0 },
            legend: { format: fiat ? ',.0f' : ',.4~f' },
          },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'scenario' },
            { field: 'moves', type: 'nominal', title: 'moves' },
            {
              field: 'loss',
              type: 'quantitative',
              format: fiat ? ',.0f' : ',.4~f',
              title: `loss (${currency}; negative: a gain)`,
            },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'cell', type: 'nominal' },
          color: { condition: { test: 'datum.loss > 0.6 * datum.maxLoss', value: '#fff' }, value: '#222' },
        },
      },
    ],
  };
}
