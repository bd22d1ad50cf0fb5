/** `margin-engine serve`: the what-if service over HTTP (src/serve/server.ts; docs/methodology.md §9, §10). */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { ScenarioModelName } from '../margin/models.js';
import { parseModels } from '../pipeline/runMargin.js';
import { loadWhatIf } from '../serve/load.js';
import { BODY_LIMIT, MARKET_BODY_LIMIT, MARKET_PART_LIMIT, buildServer } from '../serve/server.js';
import { MAX_TRADES } from '../margin/whatif.js';
import { integerOption, optional, parseArgs, required, usageError } from './args.js';

export const help = `margin-engine serve — the what-if service: margins, drivers and what-ifs over HTTP (JSON)

Usage:
  margin-engine serve --market DIR --positions FILE --balances FILE [--models LIST] [--history DIR]
                      [--params FILE] [--port P] [--host 127.0.0.1] [--token-file FILE]
                      [--market-root DIR] [--on-invalid fail|skip]

Loads the book once and keeps each instrument's P&L row per scenario and each unit's aggregated vector in
memory. Routes (OpenAPI document at /v1/openapi.json):
  POST /v1/whatif        {account, trades: [{instrument, quantity, price?}], models?} (at most ${MAX_TRADES} trades)
  GET  /v1/accounts/ID   margins, status and top drivers per model (?top=N, default 5); &distance=true adds
                         its distance to liquidation per model (a search on request: ~0.1-0.3 s)
  POST /v1/market        a new market snapshot, the book re-margined: JSON {path} (a directory with
                         instruments.arrow and underlyings.arrow under --market-root), or the Arrow
                         files as multipart/form-data, exactly the file parts instruments and
                         underlyings (each at most ${MARKET_PART_LIMIT} bytes, the body at most
                         ${MARKET_BODY_LIMIT}; 413 beyond). A snapshot failing validation is refused
                         whole (400) and the old market stays in force. A snapshot of the
                         same instruments keeps the loaded book (positions and balances are
                         not read again); otherwise they are re-read against it
  GET  /v1/health

  --models LIST       as for run (default deribit-pm,span; standard always)
  --port P            default 8080 (0: any free port; the port is printed on stderr)
  --host H            default 127.0.0.1. Any other address needs --token-file
  --token-file FILE   a bearer token (the file's first line); every request must send
                      Authorization: Bearer <token> (401 otherwise). Never logged
  --market-root DIR   POST /v1/market {path} reads only directories under DIR (without it, paths are
                      refused; snapshots in the body are always accepted, under the token rule)

Bad input: 400 (413 for a body over ${BODY_LIMIT} bytes) with {error, field, value, rule}; the state is
unchanged. A request never changes the stored book. One log line per request on stderr. SIGTERM or
SIGINT: stops accepting, finishes the requests in flight, exits 0.

Exit codes: 0 stopped by a signal, 2 bad input (nothing started), 1 internal error.
`;

const SPEC = {
  market: {},
  positions: {},
  balances: {},
  models: {},
  history: {},
  params: {},
  port: {},
  host: {},
  'token-file': {},
  'market-root': {},
  'on-invalid': {},
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC, 'serve');
  if (p.positional.length > 0) throw usageError('serve', `unexpected argument ${JSON.stringify(p.positional[0])}`);
  const onInvalid = optional(p, 'on-invalid') ?? 'fail';
  if (onInvalid !== 'fail' && onInvalid !== 'skip')
    throw usageError('serve', `--on-invalid must be fail or skip, got ${JSON.stringify(onInvalid)}`);
  const host = optional(p, 'host') ?? '127.0.0.1';
  const port = integerOption(p, 'port', 'serve', 8080, 0);
  if (port > 65535) throw usageError('serve', `--port must be at most 65535, got ${port}`);
  const tokenFile = optional(p, 'token-file');
  let token: string | null = null;
  if (tokenFile !== undefined) {
    token = (readFileSync(tokenFile, 'utf8').split(/\r?\n/)[0] ?? '').trim();
    if (token.length < 16)
      throw new InputError({
        file: '--token-file',
        row: null,
        column: null,
        value: JSON.stringify(tokenFile),
        rule: 'must hold a token of at least 16 characters on its first line',
      });
  }
  if (!LOOPBACK.has(host) && token === null)
    throw new InputError({
      file: '--token-file',
      row: null,
      column: null,
      value: null,
      rule: `is required to bind ${JSON.stringify(host)}, an address other than the loopback (127.0.0.1, ::1)`,
    });
  const models = parseModels(optional(p, 'models') ?? 'deribit-pm,span').filter(
    (m) => m !== 'standard',
  ) as ScenarioModelName[];
  const load = {
    marketDir: required(p, 'market', 'serve'),
    positions: required(p, 'positions', 'serve'),
    balances: required(p, 'balances', 'serve'),
    models,
    historyDir: optional(p, 'history'),
    paramsFile: optional(p, 'params'),
    onInvalid: onInvalid as 'fail' | 'skip',
  };
  const loaded = await loadWhatIf(load, true);
  const app = buildServer(loaded, {
    load,
    marketRoot: optional(p, 'market-root') ?? null,
    token,
    log: (line) => process.stderr.write(line + '\n'),
  });
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  process.stderr.write(
    `margin-engine serve: listening on http://${host.includes(':') ? `[${host}]` : host}:${bound} (${loaded.accountId.size} accounts, models ${loaded.state.modelNames.join(', ')}, loaded in ${Math.round(Object.values(loaded.timingsMs).reduce((x, y) => x + y, 0))} ms)\n`,
  );
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.stderr.write(`margin-engine serve: ${signal}: closing\n`);
      // close() ends the connections idle at that moment and waits for the others; a keep-alive
      // connection whose request was in flight turns idle once answered, and a client may hold it for
      // the server's keep-alive time (72 s): end such connections as they turn idle
      const idle = setInterval(() => app.server.closeIdleConnections(), 50);
      const finish = () => {
        clearInterval(idle);
        done();
      };
      app.close().then(finish, finish);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stderr.write('margin-engine serve: closed\n');
  return 0;
}
