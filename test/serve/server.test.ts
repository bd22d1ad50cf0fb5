/**
 * The what-if service against a real listening server (Fastify on 127.0.0.1, an ephemeral port, requests
 * over TCP with fetch; no inject): answers equal the state's own, bad input gets 400 / 413 naming the
 * field and rule with the state unchanged, a request never changes the stored book, a market snapshot
 * that fails validation is refused whole, one log line per request, bearer tokens.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadWhatIf, type LoadedWhatIf, type WhatIfLoadOptions } from '../../src/serve/load.js';
import { BODY_LIMIT, buildServer } from '../../src/serve/server.js';
import { createBackend } from '../../src/engine/createBackend.js';
import { DIRECTION_NAMES, JOINT, liquidationDistances } from '../../src/margin/distance.js';
import { subPortfolio } from '../../src/margin/remargin.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import type { Family, ScenarioSet } from '../../src/scenarios/types.js';

const ROOT = join(import.meta.dirname, '../..');
const LOAD: WhatIfLoadOptions = {
  marketDir: join(ROOT, 'data/sample/market'),
  positions: join(ROOT, 'data/sample/book/positions.arrow'),
  balances: join(ROOT, 'data/sample/book/balances.arrow'),
  models: ['deribit-pm', 'span'],
  onInvalid: 'fail',
};
const TOKEN = 'test-token-0123456789abcdef';

let dir: string;
let loaded: LoadedWhatIf;
let app: FastifyInstance;
let base: string;
const log: string[] = [];
let authApp: FastifyInstance;
let authBase: string;
const authLog: string[] = [];

async function listen(a: FastifyInstance): Promise<string> {
  await a.listen({ host: '127.0.0.1', port: 0 });
  const addr = a.server.address();
  if (typeof addr !== 'object' || !addr) throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-serve-'));
  mkdirSync(join(dir, 'root'));
  cpSync(LOAD.marketDir, join(dir, 'root/good'), { recursive: true });
  mkdirSync(join(dir, 'root/bad'));
  cpSync(join(LOAD.marketDir, 'underlyings.arrow'), join(dir, 'root/bad/underlyings.arrow'));
  writeFileSync(join(dir, 'root/bad/instruments.arrow'), 'not an arrow file');
  symlinkSync(join(ROOT, 'data/sample'), join(dir, 'root/escape'));
  loaded = await loadWhatIf(LOAD, true);
  app = buildServer(loaded, { load: LOAD, marketRoot: join(dir, 'root'), token: null, log: (l) => log.push(l) });
  base = await listen(app);
  authApp = buildServer(loaded, { load: LOAD, marketRoot: null, token: TOKEN, log: (l) => authLog.push(l) });
  authBase = await listen(authApp);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await authApp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const WHATIF = {
  account: 'A000007',
  trades: [
    { instrument: 'BTC-PERPETUAL', quantity: -0.5 },
    { instrument: 'BTC-27MAR26-100000-C', quantity: 1, price: 0.01 },
  ],
};

function digest(x: LoadedWhatIf): string {
  const t = x.state.tables;
  const h = createHash('sha256');
  for (const a of [t.book.quantity, t.book.entryPrice, t.book.instrumentId, t.balances.amount, t.accountEquityUsd])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

describe('POST /v1/whatif', () => {
  test("the answer is the state's what-if, bit for bit", async () => {
    const r = await post(`${base}/v1/whatif`, WHATIF);
    expect(r.status).toBe(200);
    const got = await r.json();
    const a = loaded.accountId.get('A000007')!;
    const trades = WHATIF.trades.map((t) => ({
      instrument: loaded.market.instruments.id.get(t.instrument)!,
      quantity: t.quantity,
      price: t.price ?? NaN,
    }));
    expect(got).toEqual(JSON.parse(JSON.stringify(loaded.state.whatIf(a, trades))));
    expect(got.models.map((m: { model: string }) => m.model)).toEqual(['deribit-pm', 'span', 'standard']);
  });

  test.each([
    ['unknown account', { ...WHATIF, account: 'nobody' }, 'body.account', 'is not an account'],
    [
      'unknown instrument',
      { ...WHATIF, trades: [{ instrument: 'NOPE', quantity: 1 }] },
      'body.trades[0].instrument',
      'is not an instrument',
    ],
    [
      'zero quantity',
      { ...WHATIF, trades: [{ instrument: 'BTC-PERPETUAL', quantity: 0 }] },
      'body.trades[0].quantity',
      'non-zero',
    ],
    [
      'quantity not a number',
      { ...WHATIF, trades: [{ instrument: 'BTC-PERPETUAL', quantity: 'NaN' }] },
      'body.trades[0].quantity',
      'number',
    ],
    [
      'too many trades',
      { ...WHATIF, trades: Array.from({ length: 21 }, () => ({ instrument: 'BTC-PERPETUAL', quantity: 1 })) },
      'body.trades',
      '20',
    ],
    ['no trades', { ...WHATIF, trades: [] }, 'body.trades', '1'],
    ['unknown model', { ...WHATIF, models: ['nope'] }, 'body.models[0]', 'allowed values'],
    ['model not loaded', { ...WHATIF, models: ['var-hs'] }, 'body.models', 'is not a loaded model'],
    ['an unknown field', { ...WHATIF, extra: 1 }, 'body.extra', 'is not a field'],
    ['a missing field', { trades: WHATIF.trades }, 'body.account', 'required'],
    ['malformed JSON', '{"account": "A000007", "trades": [', 'body', 'not valid JSON'],
    [
      'a negative price',
      { ...WHATIF, trades: [{ instrument: 'BTC-PERPETUAL', quantity: 1, price: -1 }] },
      'body.trades[0].price',
      '>= 0',
    ],
  ])('%s: 400 naming the field and the rule, the state unchanged', async (_what, body, field, rule) => {
    const before = digest(loaded);
    const r = await post(`${base}/v1/whatif`, body);
    expect(r.status).toBe(400);
    const e = await r.json();
    expect(e.error).toBe('bad_request');
    expect(e.field).toBe(field);
    expect(e.rule).toContain(rule);
    expect(digest(loaded)).toBe(before);
    expect((await post(`${base}/v1/whatif`, WHATIF)).status).toBe(200); // still serving
  });

  test(`a body over ${BODY_LIMIT} bytes: 413 naming the limit`, async () => {
    const r = await post(`${base}/v1/whatif`, { ...WHATIF, account: 'x'.repeat(BODY_LIMIT + 10) });
    expect(r.status).toBe(413);
    const e = await r.json();
    expect(e.field).toBe('body');
    expect(e.rule).toContain(String(BODY_LIMIT));
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
  });

  test('requests never change the stored book: the same answer before and after 40 what-ifs', async () => {
    const before = digest(loaded);
    const first = await (await post(`${base}/v1/whatif`, WHATIF)).json();
    await Promise.all(
      Array.from({ length: 40 }, (_, j) =>
        post(`${base}/v1/whatif`, {
          account: `A${String(j * 13).padStart(6, '0')}`,
          trades: [{ instrument: 'ETH-PERPETUAL', quantity: j + 1 }],
        }),
      ),
    );
    expect(digest(loaded)).toBe(before);
    expect(await (await post(`${base}/v1/whatif`, WHATIF)).json()).toEqual(first);
  });
});

describe('GET /v1/accounts/{id}', () => {
  test("margins and status equal the book's full margins; drivers are the largest shares", async () => {
    expect((await (await fetch(`${base}/v1/accounts/A000007?top=3`)).json()).distanceToLiquidation).toBeNull();
    const r = await fetch(`${base}/v1/accounts/A000007?top=3&distance=true`);

    expect(r.status).toBe(200);
    const x = await r.json();
    const a = loaded.accountId.get('A000007')!;
    for (const m of x.models) {
      const s = loaded.summaries.get(m.model)!;
      const close = (p: number, q: number) =>
        expect(Math.abs(p - q)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(q)));
      close(m.margins.im, s.imUsd[a]);
      close(m.margins.mm, s.mmUsd[a]);
      close(m.margins.equity, s.equityUsd[a]);
      expect(m.drivers.length).toBeLessThanOrEqual(3);
      for (let j = 1; j < m.drivers.length; j++) expect(m.drivers[j - 1].im).toBeGreaterThanOrEqual(m.drivers[j].im);
    }
    // the search on the cpu pool (docs/methodology.md §7) over this account and 4 others, this account's rows
    const backend = await createBackend('cpu', { workers: 1 });
    try {
      const st = loaded.state.tables;
      const sets = new Map<Family, ScenarioSet>(
        (['deribit-pm', 'span'] as const).map((f) => [f, buildScenarios(f, st.market, st.params, {})]),
      );
      const ids = Int32Array.from(new Set([a, ...Array.from({ length: 4 }, (_, k) => k)])).sort();
      const sub = subPortfolio(st.book, st.balances, st.market, ids);
      const all = await liquidationDistances(
        sub.book,
        sub.balances,
        sub.market,
        st.params,
        sets,
        ['deribit-pm', 'span'],
        backend,
      );
      for (const d of all) {
        const got = x.distanceToLiquidation[d.model] as Array<Record<string, unknown>>;
        const mine = [...Array(d.count).keys()].filter((r) => ids[d.account[r]!] === a);
        expect(mine.length).toBeGreaterThan(0);
        expect(got.length).toBe(mine.length);
        mine.forEach((r, j) => {
          const n = (v: number) => (Number.isNaN(v) ? null : v);
          expect(got[j]).toEqual({
            unit: d.unitNames[d.unit[r]!],
            underlying: d.underlying[r] === JOINT ? 'ALL' : st.market.underlyings[d.underlying[r]!],
            direction: DIRECTION_NAMES[d.direction[r]!],
            move: n(d.move[r]!),
            price: n(d.price[r]!),
            equity: n(d.equity[r]!),
            mm: n(d.mm[r]!),
          });
        });
      }
    } finally {
      await backend.close();
    }
  });

  test('an unknown account: 400 naming it', async () => {
    const r = await fetch(`${base}/v1/accounts/nobody`);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ field: 'path.id', value: '"nobody"' });
  });
});

describe('POST /v1/market', () => {
  test('a path outside the root, or escaping it by a link, is refused; nothing is read', async () => {
    for (const path of ['/etc', join(ROOT, 'data/sample/market'), '../', 'escape/market', 'missing']) {
      const r = await post(`${base}/v1/market`, { path });
      expect(r.status, path).toBe(400);
      expect((await r.json()).field).toBe('body.path');
    }
  });

  test('a snapshot that fails validation is refused whole: the old market stays in force', async () => {
    const health = await (await fetch(`${base}/v1/health`)).json();
    const answer = await (await post(`${base}/v1/whatif`, WHATIF)).json();
    const r = await post(`${base}/v1/market`, { path: 'bad' });
    expect(r.status).toBe(400);
    expect((await r.json()).field).toContain('instruments.arrow');
    expect((await (await fetch(`${base}/v1/health`)).json()).loadedAt).toBe(health.loadedAt);
    expect(await (await post(`${base}/v1/whatif`, WHATIF)).json()).toEqual(answer);
  });

  test('a valid snapshot re-margins the book: how long, how many statuses changed', async () => {
    const r = await post(`${base}/v1/market`, { path: 'good' });
    expect(r.status).toBe(200);
    const x = await r.json();
    expect(x.accounts).toBe(1000);
    expect(x.statusChanged).toBe(0); // the same snapshot
    expect(x.tookMs).toBeGreaterThan(0);
    expect((await post(`${base}/v1/whatif`, WHATIF)).status).toBe(200);
  });

  test('off without a market root', async () => {
    const r = await post(`${authBase}/v1/market`, { path: 'good' }, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(400);
    expect((await r.json()).rule).toContain('--market-root');
  });
});

describe('the rest', () => {
  test('/v1/openapi.json describes every route with its request schema', async () => {
    const doc = await (await fetch(`${base}/v1/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/v1/accounts/{id}', '/v1/health', '/v1/market', '/v1/openapi.json', '/v1/whatif'].sort(),
    );
    const schema = doc.paths['/v1/whatif'].post.requestBody.content['application/json'].schema;
    expect(schema.properties.trades.maxItems).toBe(20);
  });

  test('an unknown route: 404 JSON', async () => {
    const r = await fetch(`${base}/v2/nothing`);
    expect(r.status).toBe(404);
    expect((await r.json()).field).toBe('url');
  });

  test('one log line per request', async () => {
    const n = log.length;
    await fetch(`${base}/v1/health`);
    await post(`${base}/v1/whatif`, { nope: 1 });
    await post(`${base}/v1/whatif`, WHATIF);
    await new Promise((r) => setTimeout(r, 50));
    expect(log.length - n).toBe(3);
    const lines = log.slice(n).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.status)).toEqual([200, 400, 200]);
    expect(lines.map((l) => l.url)).toEqual(['/v1/health', '/v1/whatif', '/v1/whatif']);
  });
});

describe('bearer token', () => {
  test('401 without it or with a wrong one (any length), 200 with it; the token is never logged', async () => {
    expect((await fetch(`${authBase}/v1/health`)).status).toBe(401);
    for (const wrong of ['x', TOKEN.slice(0, -1), TOKEN + 'x', TOKEN.toUpperCase()]) {
      const r = await fetch(`${authBase}/v1/health`, { headers: { authorization: `Bearer ${wrong}` } });
      expect(r.status).toBe(401);
      expect((await r.json()).field).toBe('authorization');
    }
    expect((await fetch(`${authBase}/v1/health`, { headers: { authorization: TOKEN } })).status).toBe(401);
    const ok = await post(`${authBase}/v1/whatif`, WHATIF, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(authLog.length).toBeGreaterThanOrEqual(7);
    expect(authLog.join('\n')).not.toContain(TOKEN.slice(4, 20));
  });
});
