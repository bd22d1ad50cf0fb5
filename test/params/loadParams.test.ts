/**
 * The parameter file (docs/methodology.md §6): defaults, overrides, validation messages naming the parameter
 * and the rule, the version check, and a hash that depends on values only.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import { canonicalJson, loadParams, paramsFromJson, paramsHash } from '../../src/params/loadParams.js';
import { PARAM_SPECS } from '../../src/params/paramSchema.js';
import { defaultParams, type Params } from '../../src/params/params.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { marketOf } from '../scenarios/fixtures.js';

function leafPaths(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  const r = o as Record<string, unknown>;
  // per-underlying maps are leaves (they have an `other` key)
  if ('other' in r) return [prefix];
  return Object.keys(r).flatMap((k) => leafPaths(r[k], prefix ? `${prefix}.${k}` : k));
}

describe('defaults and documentation', () => {
  test('no file: the defaults of docs/methodology.md §6', () => {
    const p = loadParams();
    expect(p).toEqual(defaultParams());
    expect(p.deribitPm.priceRange).toEqual({ BTC: 0.16, ETH: 0.18, other: 0.25 });
    expect(p.span.extremeCover).toBe(0.35);
    expect(p.var.alpha).toBe(0.99);
  });
  test('every parameter is documented (unit, source) and every documented one exists', () => {
    expect(PARAM_SPECS.map((s) => s.path).sort()).toEqual(leafPaths(defaultParams()).sort());
    for (const s of PARAM_SPECS) expect(s.unit.length * s.source.length * s.doc.length).toBeGreaterThan(0);
  });
  test('the defaults pass their own rules', () => {
    expect(paramsFromJson(JSON.parse(JSON.stringify(defaultParams())))).toEqual(defaultParams());
  });
});

describe('overrides', () => {
  test('a subset overrides; per-underlying maps merge key by key; snake_case keys accepted', () => {
    const p = paramsFromJson({
      version: 1,
      deribit_pm: { price_range: { BTC: 0.2, SOL: 0.3 } },
      var: { mcSeed: 7, filtered: false },
    });
    expect(p.deribitPm.priceRange).toEqual({ BTC: 0.2, ETH: 0.18, other: 0.25, SOL: 0.3 });
    expect(p.var.mcSeed).toBe(7);
    expect(p.var.filtered).toBe(false);
    expect(p.span).toEqual(defaultParams().span);
  });
  test('a per-underlying map may name an underlying a market lacks (one file for many snapshots): kept, unused', () => {
    const p = paramsFromJson({ version: 1, deribit_pm: { price_range: { XRP: 0.2 } } }, 'p.json');
    expect(p.deribitPm.priceRange).toEqual({ BTC: 0.16, ETH: 0.18, other: 0.25, XRP: 0.2 });
    const market = marketOf(['BTC', 'ETH']);
    const a = buildScenarios('deribit-pm', market, p),
      b = buildScenarios('deribit-pm', market, defaultParams());
    expect(Array.from(a.move)).toEqual(Array.from(b.move));
    expect(Array.from(buildScenarios('deribit-pm', marketOf(['XRP']), p).move)).toContain(0.2);
  });
  test('from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'params-'));
    const f = join(dir, 'p.json');
    writeFileSync(f, JSON.stringify({ version: 1, span: { extreme_cover: 0.3 } }));
    expect(loadParams(f).span.extremeCover).toBe(0.3);
    writeFileSync(f, '{ "version": 1, ');
    expect(() => loadParams(f)).toThrow(/p\.json: is not valid JSON/);
    expect(() => loadParams(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot be read/);
  });
});

describe('validation', () => {
  test.each([
    { json: { span: {} }, msg: /p\.json parameter version: is required \(this engine reads parameter version 1\)/ },
    {
      json: { version: 2 },
      msg: /p\.json parameter version: 2 is not supported: this engine reads parameter version 1/,
    },
    { json: { version: 1, spam: {} }, msg: /p\.json parameter spam: is not a parameter group/ },
    {
      json: { version: 1, var: { alpha: 1 } },
      msg: /p\.json parameter var\.alpha: 1 is out of range: must be > 0 and < 1/,
    },
    {
      json: { version: 1, var: { alpha: 0 } },
      msg: /p\.json parameter var\.alpha: 0 is out of range: must be > 0 and < 1/,
    },
    {
      json: { version: 1, var: { alpha: '0.99' } },
      msg: /p\.json parameter var\.alpha: "0\.99" must be a finite number/,
    },
    {
      json: { version: 1, var: { alphaa: 0.9 } },
      msg: /p\.json parameter var\.alphaa: is not a parameter \(known in var: alpha, /,
    },
    {
      json: { version: 1, liquidity: { max_concentration: 0.5 } },
      msg: /p\.json parameter liquidity\.max_concentration: 0\.5 is out of range: must be ≥ 1/,
    },
    {
      json: { version: 1, deribit_pm: { buckets_count: 2.5 } },
      msg: /p\.json parameter deribit_pm\.buckets_count: 2\.5 must be an integer/,
    },
    {
      json: { version: 1, deribit_pm: { buckets_count: 0 } },
      msg: /p\.json parameter deribit_pm\.buckets_count: 0 is out of range: must be ≥ 1/,
    },
    {
      json: { version: 1, deribit_pm: { price_range: { BTC: 0 } } },
      msg: /p\.json parameter deribit_pm\.price_range\.BTC: 0 is out of range: must be > 0 and < 1/,
    },
    {
      json: { version: 1, deribit_pm: { price_range: { btc: 0.1 } } },
      msg: /p\.json parameter deribit_pm\.price_range\.btc: is not an underlying name/,
    },
    {
      json: { version: 1, deribit_pm: { price_range: 0.1 } },
      msg: /p\.json parameter deribit_pm\.price_range: 0\.1 must be an object of underlying → number/,
    },
    {
      json: { version: 1, deribit_pm: { extended_moves: [0.5, 0] } },
      msg: /p\.json parameter deribit_pm\.extended_moves\[1\]: 0 is out of range: must be > -1 and ≠ 0/,
    },
    {
      json: { version: 1, var: { filtered: 'yes' } },
      msg: /p\.json parameter var\.filtered: "yes" must be true or false/,
    },
    {
      json: { version: 1, var: { mc_degrees_of_freedom: 2 } },
      msg: /p\.json parameter var\.mc_degrees_of_freedom: 2 is out of range: must be ≥ 3/,
    },
    {
      json: { version: 1, var: { ewma_lambda: 0.9, ewmaLambda: 0.9 } },
      msg: /p\.json parameter var\.ewmaLambda: is given twice \(also as var\.ewma_lambda\)/,
    },
    {
      json: { version: 1, span: { psr_window_days: 2 } },
      msg: /p\.json parameter span\.psrWindowDays: 2 must exceed span\.psrHorizonDays \(2\)/,
    },
    { json: [1], msg: /must be a JSON object of parameters/ },
  ])('refused: $msg', ({ json, msg }) => {
    expect(() => paramsFromJson(json, 'p.json')).toThrow(InputError);
    expect(() => paramsFromJson(json, 'p.json')).toThrow(msg);
  });
  test('every violation is reported', () => {
    const e = (() => {
      try {
        paramsFromJson({ version: 1, var: { alpha: 2, lookback_days: -1 }, span: { vsr: { BTC: 1 } } }, 'p.json');
      } catch (x) {
        return x as InputError;
      }
      return null;
    })();
    expect(e!.violations.map((v) => v.file)).toEqual([
      'p.json parameter var.alpha',
      'p.json parameter var.lookback_days',
      'p.json parameter span.vsr.BTC',
    ]);
  });
  test('messages say "parameter", never "column" (a parameter file has no columns)', () => {
    const e = (() => {
      try {
        paramsFromJson({ version: 1, deribit_pm: { price_range: { BTC: 0 }, bogus: 1 } }, 'p.json');
      } catch (x) {
        return x as InputError;
      }
      return null;
    })();
    expect(e!.message).toContain('p.json parameter deribit_pm.price_range.BTC: 0 is out of range: must be > 0 and < 1');
    expect(e!.message).toMatch(/p\.json parameter deribit_pm\.bogus: is not a parameter/);
    expect(e!.message).not.toMatch(/column/);
    expect(e!.violations.every((v) => v.row === null && v.column === null)).toBe(true);
  });
});

describe('hash', () => {
  test('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
  test('key order does not change the hash; a value does', () => {
    const p = defaultParams();
    const reverse = (x: unknown): unknown =>
      x !== null && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(
            Object.entries(x as Record<string, unknown>)
              .reverse()
              .map(([k, v]) => [k, reverse(v)]),
          )
        : x;
    const shuffled = reverse(p) as Params;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(p));
    expect(paramsHash(shuffled)).toBe(paramsHash(p));
    const q = defaultParams();
    q.span.psr.BTC = 0.13;
    expect(paramsHash(q)).not.toBe(paramsHash(p));
    expect(paramsHash(p)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('reference', () => {
  test('src/params/README.md holds the current parameter table', async () => {
    const { parameterTable } = await import('../../src/params/paramDoc.js');
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../src/params/README.md', import.meta.url), 'utf8');
    expect(readme.endsWith(parameterTable())).toBe(true);
  });
});
