/**
 * `margin-engine serve` as a process (the built CLI): it listens on 127.0.0.1 by default, refuses any
 * other address without --token-file, asks the token when given, and shuts down cleanly on SIGTERM (the
 * request in flight is answered, exit code 0).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMAND as CLI } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const BOOK = [
  '--market',
  join(ROOT, 'data/sample/market'),
  '--positions',
  join(ROOT, 'data/sample/book/positions.arrow'),
  '--balances',
  join(ROOT, 'data/sample/book/balances.arrow'),
];
const dir = mkdtempSync(join(tmpdir(), 'me-serve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the service; resolves with the process, its base URL and its stderr so far. */
function start(args: string[]): Promise<{ child: ChildProcess; url: string; err: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...BOOK, '--port', '0', ...args], { stdio: 'pipe' });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += String(d);
      const m = /listening on (http:\/\/\S+):(\d+)/.exec(err);
      if (m) resolve({ child, url: `${m[1]!.replace('0.0.0.0', '127.0.0.1')}:${m[2]}`, err: () => err });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

describe('margin-engine serve', () => {
  test('binds 127.0.0.1 by default; SIGTERM answers the request in flight, then exits 0', async () => {
    const { child, url, err } = await start(['--market-root', join(ROOT, 'data')]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/v1/health`);
    expect(health.status).toBe(200);
    // a slow request (the book re-margined, hundreds of ms), certainly read by the server before the signal
    const inFlight = fetch(`${url}/v1/market`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'sample/market' }),
    });
    await new Promise((r) => setTimeout(r, 150));
    const code = exited(child);
    child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect((await answer.json()).accounts).toBe(1000);
    expect(await code).toBe(0);
    expect(err()).toContain('closed');
    expect(
      err()
        .split('\n')
        .filter((l) => l.startsWith('{"t"')).length,
    ).toBe(2); // one line per request
  }, 60_000);

  test('another address without --token-file: exit 2 naming --token-file, nothing listens', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', ...BOOK, '--host', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--token-file');
    expect(r.stderr).toContain('0.0.0.0');
  });

  test('a token too short: exit 2', () => {
    const f = join(dir, 'short');
    writeFileSync(f, 'abc\n');
    const r = spawnSync(process.execPath, [CLI, 'serve', ...BOOK, '--token-file', f], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('at least 16 characters');
  });

  test('0.0.0.0 with a token file: 401 without the token, 200 with it; the token is not logged', async () => {
    const token = 'Zm9vYmFyYmF6cXV4LXRva2VuLTEyMzQ1';
    const f = join(dir, 'token');
    writeFileSync(f, `${token}\n`);
    const { child, url, err } = await start(['--host', '0.0.0.0', '--token-file', f]);
    expect((await fetch(`${url}/v1/health`)).status).toBe(401);
    expect((await fetch(`${url}/v1/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const code = exited(child);
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(err()).not.toContain(token);
  }, 60_000);
});
