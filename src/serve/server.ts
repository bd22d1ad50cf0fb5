/**
 * The what-if service (docs/methodology.md §9, §10): Fastify, every body and parameter validated by its
 * JSON schema (Ajv, no coercion, no silently dropped fields), JSON answers.
 *
 * - POST /v1/whatif {account, trades: [{instrument, quantity, price?}], models?}: the `whatif` command's
 *   answer; the book is not changed (a what-if builds its own one-account book).
 * - GET /v1/accounts/{id}[?top=N][&distance=true]: the account's margins and status per model, per unit,
 *   and its top drivers; with distance=true also its distance to liquidation per model (§7: per unit,
 *   underlying or ALL, direction; searched on request, tens to hundreds of milliseconds), else null.
 * - POST /v1/market: a new market snapshot, either JSON {path} (a directory holding instruments.arrow and
 *   underlyings.arrow, under the directory named at start-up) or the Arrow files themselves as
 *   multipart/form-data with exactly two file parts, `instruments` and `underlyings` (each at most
 *   MARKET_PART_LIMIT bytes, the body at most MARKET_BODY_LIMIT; 413 beyond). The parts are written to a
 *   fresh temporary directory, loaded by the same loader as a path, and the directory is removed whatever
 *   happens. The book is re-margined and the state replaced whole; the answer says how long it took and
 *   how many accounts changed status. A snapshot that fails validation is refused whole (400 naming the
 *   file or part, row, column, value and rule) and the old one stays in force.
 * - GET /v1/health; GET /v1/openapi.json (an OpenAPI 3.0 document of these routes, from their schemas).
 *
 * Bad input answers 400 (413 for a body over BODY_LIMIT) with {error, field, value?, rule}, and the
 * service keeps serving. With a token every request must carry `Authorization: Bearer <token>` (compared
 * in constant time; 401 otherwise); the token is never logged. One log line per request (JSON: time,
 * method, url, status, ms).
 */
import multipart from '@fastify/multipart';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import type { ScenarioModelName } from '../margin/models.js';
import type { ModelName } from '../margin/types.js';
import { MAX_TRADES } from '../margin/whatif.js';
import { checkModels, resolveTrades } from '../margin/whatifTrades.js';
import { loadWhatIf, type LoadedWhatIf, type WhatIfLoadOptions } from './load.js';

/** Largest request body accepted (bytes); larger ones get 413. */
export const BODY_LIMIT = 64 * 1024;
/** Largest Arrow file part of a multipart POST /v1/market (bytes; the full Deribit chain is ~0.2 MB). */
export const MARKET_PART_LIMIT = 8 * 1024 * 1024;
/** Largest multipart POST /v1/market body (bytes), both parts and their headers. */
export const MARKET_BODY_LIMIT = 12 * 1024 * 1024;
/** The parts of a multipart market snapshot: each the Arrow IPC file of the same name (docs/data.md). */
export const MARKET_PARTS = ['instruments', 'underlyings'] as const;

const MODEL_NAMES: readonly ModelName[] = ['deribit-pm', 'span', 'var-hs', 'var-mc', 'standard'];

export interface ServeOptions {
  /** what the state was loaded from (a new market reloads the same book against it) */
  load: WhatIfLoadOptions;
  /** POST /v1/market takes paths under this directory only; null: the route refuses every request */
  marketRoot: string | null;
  /** the bearer token every request must carry; null: none asked (loopback only, checked by the CLI) */
  token: string | null;
  /** one line per request */
  log: (line: string) => void;
}

/** A JSON error answer: the field, the value when there is one, and the rule it breaks. */
interface ErrorBody {
  error: string;
  field: string;
  /** the input row (0-based) and column, when the rule is about one cell of an Arrow file */
  row?: number;
  column?: string;
  value?: string;
  rule: string;
}

/** An answer other than 200 decided while reading a multipart body (the connection is then closed). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.rule);
  }
}

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    field: { type: 'string' },
    row: { type: 'integer' },
    column: { type: 'string' },
    value: { type: 'string' },
    rule: { type: 'string' },
  },
  required: ['error', 'field', 'rule'],
} as const;

const modelsSchema = {
  type: 'array',
  items: { type: 'string', enum: MODEL_NAMES },
  minItems: 1,
  uniqueItems: true,
} as const;

const whatIfBody = {
  type: 'object',
  additionalProperties: false,
  required: ['account', 'trades'],
  properties: {
    account: { type: 'string', minLength: 1, maxLength: 200 },
    trades: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_TRADES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['instrument', 'quantity'],
        properties: {
          instrument: { type: 'string', minLength: 1, maxLength: 200 },
          quantity: { type: 'number', not: { const: 0 } },
          price: { type: 'number', minimum: 0 },
        },
      },
    },
    models: modelsSchema,
  },
} as const;

const marketBody = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: { path: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const;

/** The multipart form of POST /v1/market, for the OpenAPI document (the handler checks the parts). */
const marketMultipart = {
  type: 'object',
  additionalProperties: false,
  required: [...MARKET_PARTS],
  properties: Object.fromEntries(
    MARKET_PARTS.map((p) => [
      p,
      {
        type: 'string',
        format: 'binary',
        description: `${p}.arrow (an Arrow IPC file, docs/data.md), at most ${MARKET_PART_LIMIT} bytes`,
      },
    ]),
  ),
} as const;

const accountParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const accountQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    top: { type: 'string', pattern: '^[0-9]{1,2}$' },
    // the account's distance to liquidation (§7): a search of some hundred re-margins, so asked for
    distance: { type: 'string', enum: ['true', 'false'] },
  },
} as const;

/** The routes' schemas, for validation and for the OpenAPI document. */
const ROUTES = [
  { method: 'post', url: '/v1/whatif', summary: 'an account before and after hypothetical trades', body: whatIfBody },
  {
    method: 'get',
    url: '/v1/accounts/{id}',
    summary: "an account's margins, status and top drivers",
    params: accountParams,
    query: accountQuery,
  },
  {
    method: 'post',
    url: '/v1/market',
    summary:
      'a new market snapshot: the book re-margined. JSON {path} (a directory under --market-root) or ' +
      `multipart/form-data with exactly the file parts instruments and underlyings (Arrow IPC files; ` +
      `each at most ${MARKET_PART_LIMIT} bytes, the body at most ${MARKET_BODY_LIMIT}). A snapshot that ` +
      'fails validation is refused whole (400) and the old market stays in force',
    body: marketBody,
    multipart: marketMultipart,
  },
  { method: 'get', url: '/v1/health', summary: 'liveness and what is loaded' },
  { method: 'get', url: '/v1/openapi.json', summary: 'this document' },
] as const;

/** The OpenAPI 3.0 document of the routes. */
export function openApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      responses: {
        200: { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } },
        400: { description: 'bad input', content: { 'application/json': { schema: errorSchema } } },
        401: { description: 'no or wrong bearer token', content: { 'application/json': { schema: errorSchema } } },
        413: {
          description:
            'multipart' in r
              ? `JSON body over ${BODY_LIMIT} bytes, multipart body over ${MARKET_BODY_LIMIT} bytes or a part over ${MARKET_PART_LIMIT}`
              : `body over ${BODY_LIMIT} bytes`,
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    };
    if ('body' in r)
      op.requestBody = {
        required: true,
        content: {
          'application/json': { schema: r.body },
          ...('multipart' in r ? { 'multipart/form-data': { schema: r.multipart } } : {}),
        },
      };
    if ('params' in r)
      op.parameters = [
        { name: 'id', in: 'path', required: true, schema: r.params.properties.id },
        { name: 'top', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 99 } },
      ];
    (paths[r.url] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.0.3',
    info: { title: 'margin-engine what-if service', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

/** Fastify's validation error → the field (as a JSON path) and the rule. */
function validationBody(e: FastifyError): ErrorBody {
  const v = e.validation?.[0];
  const where = e.validationContext ?? 'body';
  let field: string = where;
  if (v) {
    const path = v.instancePath.replace(/^\//, '').split('/').filter(Boolean);
    const missing = (v.params as { missingProperty?: string; additionalProperty?: string }) ?? {};
    if (missing.missingProperty) path.push(missing.missingProperty);
    if (missing.additionalProperty) path.push(missing.additionalProperty);
    field = [where, ...path].map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  }
  const rule = v
    ? (v.params as { additionalProperty?: string }).additionalProperty
      ? 'is not a field of this request'
      : v.keyword === 'not' && field.endsWith('quantity')
        ? 'must be a finite, non-zero number'
        : (v.message ?? 'is invalid')
    : e.message;
  return { error: 'bad_request', field, rule };
}

/**
 * An InputError → its first violation. `uploaded`: the temporary directory a multipart snapshot was
 * written to; a file in it is named by its part (`body.instruments`), never by the temporary path.
 */
function inputErrorBody(e: InputError, uploaded: string | null = null): ErrorBody {
  const v = e.violations[0]!;
  let field = v.file;
  if (uploaded !== null) {
    const part = MARKET_PARTS.find((p) => v.file === join(uploaded, `${p}.arrow`));
    if (part) field = `body.${part}`;
    else field = field.split(uploaded + sep).join('');
  }
  return {
    error: 'bad_request',
    field,
    ...(v.row !== null ? { row: v.row } : {}),
    ...(v.column !== null ? { column: v.column } : {}),
    ...(v.value !== null ? { value: v.value } : {}),
    rule: v.rule,
  };
}

const tooLarge = (field: string, limit: number) =>
  new Refusal(413, { error: 'payload_too_large', field, rule: `must be at most ${limit} bytes` });

const badPart = (name: string, rule: string) => new Refusal(400, { error: 'bad_request', field: `body.${name}`, rule });

/**
 * Reads a multipart market snapshot into `dir` (instruments.arrow, underlyings.arrow): exactly the two
 * file parts, each at most MARKET_PART_LIMIT bytes, the body at most MARKET_BODY_LIMIT.
 * @throws Refusal (400 naming the part, 413 naming the part or the body)
 */
async function receiveSnapshot(req: FastifyRequest, dir: string): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (declared > MARKET_BODY_LIMIT) throw tooLarge('body', MARKET_BODY_LIMIT);
  let received = 0; // chunked bodies have no content-length: count what arrives
  const count = (c: Buffer) => {
    received += c.length;
  };
  req.raw.on('data', count);
  const seen = new Set<string>();
  const expected = `exactly two file parts, ${MARKET_PARTS.join(' and ')} (Arrow IPC files)`;
  try {
    const parts = req.parts({
      limits: { fileSize: MARKET_PART_LIMIT, files: 3, fields: 3, parts: 4, fieldSize: 1024, headerPairs: 64 },
    });
    for await (const part of parts) {
      const name = part.fieldname;
      if (!(MARKET_PARTS as readonly string[]).includes(name))
        throw badPart(name, `is not a part of a market snapshot: it takes ${expected}`);
      if (seen.has(name)) throw badPart(name, `appears twice: a market snapshot takes ${expected}`);
      if (part.type !== 'file') throw badPart(name, 'must be a file part (an Arrow IPC file), not a text field');
      seen.add(name);
      const fh = await open(join(dir, `${name}.arrow`), 'wx');
      try {
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          if (received > MARKET_BODY_LIMIT) throw tooLarge('body', MARKET_BODY_LIMIT);
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
      if (part.file.truncated) throw tooLarge(`body.${name}`, MARKET_PART_LIMIT);
    }
  } catch (e) {
    if (e instanceof Refusal) throw e;
    const err = e as FastifyError;
    if (err.code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge('body', MARKET_PART_LIMIT);
    if (err.statusCode === 413)
      throw new Refusal(400, { error: 'bad_request', field: 'body', rule: `a market snapshot takes ${expected}` });
    throw new Refusal(400, {
      error: 'bad_request',
      field: 'body',
      rule: `is not valid multipart/form-data (${err.message})`,
    });
  } finally {
    req.raw.off('data', count);
  }
  if (received > MARKET_BODY_LIMIT) throw tooLarge('body', MARKET_BODY_LIMIT);
  for (const p of MARKET_PARTS) if (!seen.has(p)) throw badPart(p, `is missing: a market snapshot takes ${expected}`);
}

/**
 * The service over `loaded` (replaced by POST /v1/market). Not listening yet: the caller listens and
 * closes it (close() waits for the requests in flight).
 */
export function buildServer(initial: LoadedWhatIf, opts: ServeOptions): FastifyInstance {
  let current = initial;
  let loadedAt = new Date().toISOString();
  let reloading = false;
  const tokenDigest = opts.token !== null ? createHash('sha256').update(opts.token).digest() : null;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: false } },
    return503OnClosing: true,
  });

  // one line per request, never a header (the token stays out of the log)
  app.addHook('onResponse', async (req, reply) => {
    opts.log(
      JSON.stringify({
        t: new Date().toISOString(),
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 1000) / 1000,
      }),
    );
  });

  if (tokenDigest) {
    app.addHook('onRequest', async (req, reply) => {
      const h = req.headers.authorization ?? '';
      const given = h.startsWith('Bearer ') ? h.slice(7) : null;
      // constant time: equal-length digests compared with timingSafeEqual, whatever was sent
      const ok = given !== null && timingSafeEqual(createHash('sha256').update(given).digest(), tokenDigest);
      if (!ok) {
        reply.header('www-authenticate', 'Bearer');
        return reply.code(401).send({
          error: 'unauthorized',
          field: 'authorization',
          rule: 'requires the header Authorization: Bearer <token> with the service token',
        } satisfies ErrorBody);
      }
    });
  }

  app.setErrorHandler((e: FastifyError, _req, reply) => {
    if (e instanceof InputError) return reply.code(400).send(inputErrorBody(e));
    if (e.validation) return reply.code(400).send(validationBody(e));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply
        .code(413)
        .send({ error: 'payload_too_large', field: 'body', rule: `must be at most ${BODY_LIMIT} bytes` });
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply
        .code(415)
        .send({ error: 'unsupported_media_type', field: 'content-type', rule: 'must be application/json' });
    if ((e.statusCode ?? 500) < 500)
      return reply.code(400).send({
        error: 'bad_request',
        field: 'body',
        rule:
          e instanceof SyntaxError || e.code?.startsWith('FST_ERR_CTP')
            ? `is not valid JSON (${e.message})`
            : e.message,
      });
    reply.code(500).send({ error: 'internal', field: '', rule: e.message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', field: 'url', value: req.url, rule: 'is not a route of this service' });
  });

  const accountOf = (key: string, field: string): number => {
    const a = current.accountId.get(key);
    if (a === undefined)
      throw new InputError({
        file: field,
        row: null,
        column: null,
        value: JSON.stringify(key),
        rule: 'is not an account of the book',
      });
    return a;
  };

  app.post('/v1/whatif', { schema: { body: whatIfBody } }, async (req) => {
    const body = req.body as {
      account: string;
      trades: Array<{ instrument: string; quantity: number; price?: number }>;
      models?: ModelName[];
    };
    const st = current;
    const a = accountOf(body.account, 'body.account');
    const trades = resolveTrades(st.market, body.trades, (j, name) =>
      j < 0 ? 'body.trades' : `body.trades[${j}].${name}`,
    );
    const models = body.models ?? st.state.modelNames;
    checkModels(st.state.modelNames, models, 'body.models');
    return st.state.whatIf(a, trades, models);
  });

  app.get('/v1/accounts/:id', { schema: { params: accountParams, querystring: accountQuery } }, async (req) => {
    const { id } = req.params as { id: string };
    const query = req.query as { top?: string; distance?: string };
    const top = Number(query.top ?? 5);
    const st = current;
    const a = accountOf(id, 'path.id');
    const view = st.state.account(a, st.state.modelNames, top);
    const distance = query.distance === 'true' ? await st.state.distance(a, st.state.modelNames) : null;
    return { ...view, distanceToLiquidation: distance, loadedAt };
  });

  const remargin = async (dir: string) => {
    const t0 = performance.now();
    // the book is kept when the snapshot has the same instruments (load.ts, sameBookMarket)
    const next = await loadWhatIf({ ...opts.load, marketDir: dir }, true, current);
    const changed = statusChanges(current, next);
    current = next; // whole or not at all: a refused snapshot never gets here
    loadedAt = new Date().toISOString();
    return {
      tookMs: Math.round((performance.now() - t0) * 10) / 10,
      accounts: next.accountId.size,
      statusChanged: changed,
      bookKept: next.bookKept,
      timingsMs: next.timingsMs,
      loadedAt,
    };
  };

  const busy = {
    error: 'busy',
    field: 'body',
    rule: 'another market update is in progress',
  } satisfies ErrorBody;

  // multipart parsing only on this route (the others keep answering 415 to anything but JSON)
  app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: MARKET_PART_LIMIT } });
    scope.post(
      '/v1/market',
      { schema: { body: { content: { 'application/json': { schema: marketBody } } } } },
      async (req, reply) => {
        if (req.isMultipart()) {
          if (reloading) return reply.code(409).header('connection', 'close').send(busy);
          reloading = true;
          let tmp: string | null = null;
          let refused: { status: number; body: ErrorBody; close: boolean };
          try {
            tmp = await mkdtemp(join(tmpdir(), 'margin-engine-market-'));
            const t0 = performance.now();
            await receiveSnapshot(req, tmp);
            const receivedMs = Math.round((performance.now() - t0) * 10) / 10;
            return { ...(await remargin(tmp)), receivedMs };
          } catch (e) {
            if (e instanceof Refusal) refused = { status: e.status, body: e.body, close: true };
            else if (e instanceof InputError) refused = { status: 400, body: inputErrorBody(e, tmp), close: false };
            else throw e;
          } finally {
            reloading = false;
            // removed before the answer leaves, whatever happened
            if (tmp !== null) await rm(tmp, { recursive: true, force: true });
          }
          // the rest of an unread body is not read: the connection is closed after the answer
          if (refused.close) reply.header('connection', 'close');
          return reply.code(refused.status).send(refused.body);
        }
        const { path } = req.body as { path: string };
        if (opts.marketRoot === null)
          return reply.code(400).send({
            error: 'bad_request',
            field: 'body.path',
            rule: 'market updates by path are off: the service was started without --market-root',
          } satisfies ErrorBody);
        const dir = underRoot(opts.marketRoot, path);
        if (dir === null)
          return reply.code(400).send({
            error: 'bad_request',
            field: 'body.path',
            value: JSON.stringify(path),
            rule: 'must be an existing directory under the market root named at start-up',
          } satisfies ErrorBody);
        if (reloading) return reply.code(409).send({ ...busy, field: 'body.path' });
        reloading = true;
        try {
          return await remargin(dir);
        } finally {
          reloading = false;
        }
      },
    );
  });

  app.get('/v1/health', async () => ({
    status: 'ok',
    accounts: current.accountId.size,
    instruments: current.market.instruments.count,
    models: current.state.modelNames,
    snapshotTime: new Date(current.market.snapshotTimeMs).toISOString(),
    loadedAt,
  }));

  app.get('/v1/openapi.json', async () => openApi());
  return app;
}

/** The real path of `path` (relative paths are relative to the root) if it is a directory inside `root`. */
function underRoot(root: string, path: string): string | null {
  try {
    const r = realpathSync(root);
    const p = realpathSync(isAbsolute(path) ? path : resolve(r, path));
    const rel = relative(r, p);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
    return statSync(p).isDirectory() ? p : null;
  } catch {
    return null;
  }
}

/** Accounts (by key) whose status under some model differs between two loads. */
function statusChanges(a: LoadedWhatIf, b: LoadedWhatIf): number {
  let n = 0;
  for (const [key, ib] of b.accountId) {
    const ia = a.accountId.get(key);
    if (ia === undefined) continue;
    for (const [model, sb] of b.summaries) {
      const sa = a.summaries.get(model);
      if (sa && sa.status[ia] !== sb.status[ib]) {
        n++;
        break;
      }
    }
  }
  return n;
}

export type { ScenarioModelName };
