/**
 * POST /v1/market with the snapshot in the body (multipart/form-data, parts `instruments` and
 * `underlyings`, each an Arrow IPC file) against a real listening server: the book re-margined exactly
 * as by the path form, a snapshot failing validation refused whole (400 naming part, row, column, rule)
 * with the old market in force, 413 over the part and body limits, 400 naming a missing, unknown,
 * repeated or text part; the temporary directory is always removed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as A from 'apache-arrow';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadWhatIf, type WhatIfLoadOptions } from '../../src/serve/load.js';
import { buildServer, MARKET_BODY_LIMIT, MARKET_PART_LIMIT } from '../../src/serve/server.js';

const ROOT = join(import.meta.dirname, '../..');
const MARKET = join(ROOT, 'data/sample/market');
const LOAD: WhatIfLoadOptions = {
  marketDir: MARKET,
  positions: join(ROOT, 'data/sample/book/positions.arrow'),
  balances: join(ROOT, 'data/sample/book/balances.arrow'),
  models: ['deribit-pm', 'span'],
  onInvalid: 'fail',
};
const TOKEN = 'test-token-0123456789abcdef';
const WHATIF = {
  account: 'A000007',
  trades: [
    { instrument: 'BTC-PERPETUAL', quantity: -0.5 },
    { instrument: 'BTC-27MAR26-100000-C', quantity: 1, price: 0.01 },
  ],
};
const ACCOUNTS = ['A000007', 'A000123', 'A000500', 'A000999'];

let dir: string;
let savedTmp: string | undefined;
let app: FastifyInstance;
let base: string;
let authApp: FastifyInstance;
let authBase: string;

/** `src` rewritten with `column` mapped by `f` (every other column, and every type, as read). */
function rewrite(src: string, dst: string, column: string, f: (v: unknown, row: number) => unknown): void {
  const t = A.tableFromIPC(readFileSync(src));
  const cols: Record<string, A.Vector> = {};
  for (const field of t.schema.fields) {
    const v = t.getChild(field.name)!;
    const values = Array.from({ length: v.length }, (_, r) => (field.name === column ? f(v.get(r), r) : v.get(r)));
    cols[field.name] = A.vectorFromArray(values as never[], field.type as never);
  }
  writeFileSync(dst, A.tableToIPC(new A.Table(cols), 'file'));
}

async function listen(a: FastifyInstance): Promise<string> {
  await a.listen({ host: '127.0.0.1', port: 0 });
  const addr = a.server.address();
  if (typeof addr !== 'object' || !addr) throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'me-market-'));
  // the server's temporary directories land here, so the test sees that each is removed
  mkdirSync(join(dir, 'tmp'));
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = join(dir, 'tmp');
  mkdirSync(join(dir, 'root'));
  cpSync(MARKET, join(dir, 'root/good'), { recursive: true });
  // a moved market: every index 7 % higher (the same instruments)
  mkdirSync(join(dir, 'root/moved'));
  cpSync(join(MARKET, 'instruments.arrow'), join(dir, 'root/moved/instruments.arrow'));
  rewrite(join(MARKET, 'underlyings.arrow'), join(dir, 'root/moved/underlyings.arrow'), 'index_price', (v) => {
    return (v as number) * 1.07;
  });
  // a market failing validation at instruments.arrow row 5, column mark_price
  mkdirSync(join(dir, 'bad'));
  rewrite(join(MARKET, 'instruments.arrow'), join(dir, 'bad/instruments.arrow'), 'mark_price', (v, r) =>
    r === 5 ? -1 : v,
  );
  const loaded = await loadWhatIf(LOAD, true);
  app = buildServer(loaded, { load: LOAD, marketRoot: join(dir, 'root'), token: null, log: () => {} });
  base = await listen(app);
  authApp = buildServer(loaded, { load: LOAD, marketRoot: null, token: TOKEN, log: () => {} });
  authBase = await listen(authApp);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await authApp?.close();
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(dir, { recursive: true, force: true });
});

const file = (path: string) => new Blob([readFileSync(path)], { type: 'application/vnd.apache.arrow.file' });

/** A form of the given parts: a Blob as a file part, a string as a text field. */
function form(parts: Array<[string, Blob | string]>): FormData {
  const f = new FormData();
  for (const [name, v] of parts) {
    if (typeof v === 'string') f.append(name, v);
    else f.append(name, v, `${name}.arrow`);
  }
  return f;
}

const snapshot = (d: string) =>
  form([
    ['instruments', file(join(d, 'instruments.arrow'))],
    ['underlyings', file(join(d, 'underlyings.arrow'))],
  ]);

const upload = (body: FormData, url = base, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/market`, { method: 'POST', body, headers });

const byPath = (path: string) =>
  fetch(`${base}/v1/market`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path }),
  });

/** What the service answers now: one what-if and a few accounts. */
async function answers(): Promise<unknown[]> {
  const out: unknown[] = [
    await (
      await fetch(`${base}/v1/whatif`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(WHATIF),
      })
    ).json(),
  ];
  for (const a of ACCOUNTS) {
    const x = (await (await fetch(`${base}/v1/accounts/${a}?top=5`)).json()) as Record<string, unknown>;
    delete x.loadedAt;
    out.push(x);
  }
  return out;
}

const leftovers = () => readdirSync(join(dir, 'tmp'));

describe('POST /v1/market with the Arrow files in the body', () => {
  test('re-margins the book exactly as the path form does; the temporary directory is removed', async () => {
    const before = await answers();
    const r = await upload(snapshot(join(dir, 'root/moved')));
    expect(r.status).toBe(200);
    const x = await r.json();
    expect(x.accounts).toBe(1000);
    expect(x.tookMs).toBeGreaterThan(0);
    expect(x.receivedMs).toBeGreaterThanOrEqual(0);
    const uploaded = await answers();
    expect(uploaded).not.toEqual(before); // the market moved: the answers changed
    expect(leftovers()).toEqual([]);

    expect((await byPath('good')).status).toBe(200);
    expect(await answers()).toEqual(before);
    const p = await byPath('moved');
    expect(p.status).toBe(200);
    expect((await p.json()).statusChanged).toBe(x.statusChanged);
    expect(await answers()).toEqual(uploaded); // the same bits through JSON as the path form's

    expect((await upload(snapshot(MARKET))).status).toBe(200);
    expect(await answers()).toEqual(before);
  });

  test('a snapshot failing validation is refused whole: 400 naming part, row, column and rule', async () => {
    const health = await (await fetch(`${base}/v1/health`)).json();
    const before = await answers();
    const r = await upload(
      form([
        ['instruments', file(join(dir, 'bad/instruments.arrow'))],
        ['underlyings', file(join(MARKET, 'underlyings.arrow'))],
      ]),
    );
    expect(r.status).toBe(400);
    const e = await r.json();
    expect(e).toMatchObject({ error: 'bad_request', field: 'body.instruments', row: 5, column: 'mark_price' });
    expect(e.rule).toBeTypeOf('string');
    expect(JSON.stringify(e)).not.toContain(join(dir, 'tmp')); // no temporary path in the answer
    expect((await (await fetch(`${base}/v1/health`)).json()).loadedAt).toBe(health.loadedAt);
    expect(await answers()).toEqual(before); // the old market stays in force
    expect(leftovers()).toEqual([]);
  });

  test('a part that is not an Arrow file: 400 naming the part', async () => {
    const r = await upload(
      form([
        ['instruments', new Blob(['not an arrow file'])],
        ['underlyings', file(join(MARKET, 'underlyings.arrow'))],
      ]),
    );
    expect(r.status).toBe(400);
    expect((await r.json()).field).toBe('body.instruments');
    expect(leftovers()).toEqual([]);
  });

  test.each([
    ['a missing part', [['instruments', 'i']], 'body.underlyings', 'is missing'],
    ['an unknown part', [['positions', 'i']], 'body.positions', 'is not a part'],
    [
      'a repeated part',
      [
        ['instruments', 'i'],
        ['instruments', 'i'],
      ],
      'body.instruments',
      'appears twice',
    ],
    ['a text field', [['underlyings', 'some text']], 'body.underlyings', 'must be a file part'],
    ['an empty form', [], 'body.instruments', 'is missing'],
  ] as Array<[string, Array<[string, string]>, string, string]>)(
    '%s: 400 naming the part, the state unchanged',
    async (_what, parts, field, rule) => {
      const before = await answers();
      // 'i': the sample's instruments.arrow as a file part; any other string: a text field
      const r = await upload(form(parts.map(([n, v]) => [n, v === 'i' ? file(join(MARKET, 'instruments.arrow')) : v])));
      expect(r.status).toBe(400);
      const e = await r.json();
      expect(e.field).toBe(field);
      expect(e.rule).toContain(rule);
      expect(await answers()).toEqual(before);
      expect(leftovers()).toEqual([]);
    },
  );

  test(`a part over ${MARKET_PART_LIMIT} bytes: 413 naming the part`, async () => {
    const r = await upload(
      form([
        ['instruments', new Blob([new Uint8Array(MARKET_PART_LIMIT + 1)])],
        ['underlyings', file(join(MARKET, 'underlyings.arrow'))],
      ]),
    );
    expect(r.status).toBe(413);
    const e = await r.json();
    expect(e.field).toBe('body.instruments');
    expect(e.rule).toContain(String(MARKET_PART_LIMIT));
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    expect(leftovers()).toEqual([]);
  });

  test(`a body over ${MARKET_BODY_LIMIT} bytes: 413 naming the body`, async () => {
    const half = new Uint8Array(Math.ceil(MARKET_BODY_LIMIT / 2) + 1);
    const r = await upload(
      form([
        ['instruments', new Blob([half])],
        ['underlyings', new Blob([half])],
      ]),
    );
    expect(r.status).toBe(413);
    const e = await r.json();
    expect(e.field).toBe('body');
    expect(e.rule).toContain(String(MARKET_BODY_LIMIT));
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    expect(leftovers()).toEqual([]);
  });

  test('a chunked body (no content-length) is counted as it arrives: 200 within the limit, 413 beyond', async () => {
    /** the encoded form sent as a stream: chunked transfer encoding, no content-length */
    const chunked = async (f: FormData) => {
      const encoded = new Response(f);
      const type = encoded.headers.get('content-type')!;
      const bytes = new Uint8Array(await encoded.arrayBuffer());
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let k = 0; k < bytes.length; k += 256 * 1024) c.enqueue(bytes.subarray(k, k + 256 * 1024));
          c.close();
        },
      });
      return fetch(`${base}/v1/market`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
        duplex: 'half',
      } as RequestInit);
    };
    const ok = await chunked(snapshot(MARKET));
    expect(ok.status).toBe(200);
    const big = new Uint8Array(Math.ceil(MARKET_BODY_LIMIT / 2) + 1);
    const r = await chunked(
      form([
        ['instruments', new Blob([big])],
        ['underlyings', new Blob([big])],
      ]),
    );
    expect(r.status).toBe(413);
    expect((await r.json()).field).toBe('body');
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    expect(leftovers()).toEqual([]);
  });

  test('the token rule holds: 401 without the bearer token; with it, accepted without --market-root', async () => {
    expect((await upload(snapshot(MARKET), authBase)).status).toBe(401);
    const r = await upload(snapshot(MARKET), authBase, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect((await r.json()).statusChanged).toBe(0);
  });

  test('the other routes still take JSON only: 415', async () => {
    const r = await fetch(`${base}/v1/whatif`, { method: 'POST', body: snapshot(MARKET) });
    expect(r.status).toBe(415);
  });

  test('the same snapshot again keeps the book: every account answers the same bits as before', async () => {
    const keys = Array.from({ length: 1000 }, (_, a) => `A${String(a).padStart(6, '0')}`);
    const all = async () =>
      Promise.all(
        keys.map(async (k) => {
          const r = await fetch(`${base}/v1/accounts/${k}?top=99`);
          expect(r.status, k).toBe(200);
          const x = (await r.json()) as Record<string, unknown>;
          delete x.loadedAt;
          return JSON.stringify(x); // JSON numbers round-trip every double: equal text, equal bits
        }),
      );
    const before = await all();
    for (const r of [await upload(snapshot(MARKET)), await byPath('good')]) {
      expect(r.status).toBe(200);
      const x = await r.json();
      expect(x.bookKept).toBe(true);
      expect(x.statusChanged).toBe(0);
      expect(await all()).toEqual(before);
    }
  });

  test('/v1/openapi.json documents both forms', async () => {
    const doc = await (await fetch(`${base}/v1/openapi.json`)).json();
    const content = doc.paths['/v1/market'].post.requestBody.content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(content['multipart/form-data'].schema.required).toEqual(['instruments', 'underlyings']);
    expect(doc.paths['/v1/market'].post.responses['413'].description).toContain(String(MARKET_PART_LIMIT));
  });
});
