/**
 * Issue 15 (hardening): the bad inputs and bad environments a trial found unhandled, each run as a real
 * process (`node dist/bundle/main.js …`, the command as package.json's bin names it) on real files, with
 * the exit code it must give (README.md, "Exit codes": 0 ok, 2 bad input, 3 the environment, 1 only for
 * a bug) and the words of its message.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir, writeBook, writeMarket, type Cols } from '../fixtures/io/arrowTables.js';
import { query } from '../report/helpers.js';
import { environmentProblem } from '../../src/cli/main.js';
import { EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_OK } from '../../src/errors.js';
import { COMMAND as CLI } from '../helpers/command.js';

const ROOT = join(import.meta.dirname, '../..');
const SAMPLE = [
  '--market',
  join(ROOT, 'data/sample/market'),
  '--positions',
  join(ROOT, 'data/sample/book/positions.arrow'),
  '--balances',
  join(ROOT, 'data/sample/book/balances.arrow'),
];

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function start(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { result: Promise<Result> } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Result>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(child, { result });
}

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('me-harden-');
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A small market and book (test/fixtures/io/arrowTables.ts), `edit` applied first. */
function smallInputs(
  edit?: (p: Cols, b: Cols) => void,
  editMarket?: (u: Cols, i: Cols) => void,
): { d: string; args: string[] } {
  const d = dir();
  const market = writeMarket(editMarket, 'file', join(d));
  const book = writeBook(d, edit);
  return { d, args: ['--market', market, '--positions', book.positions, '--balances', book.balances] };
}

const RUN = ['--models', 'deribit-pm', '--backend', 'cpu', '--quiet'];

/** The one line of `stderr` that names `what`, asserted to be there exactly once. */
function onceIn(stderr: string, what: string | RegExp): void {
  const lines = stderr.split('\n').filter((l) => (typeof what === 'string' ? l.includes(what) : what.test(l)));
  expect(lines, stderr).toHaveLength(1);
}

const partials = (d: string) => readdirSync(d).filter((f) => f.includes('.partial-') || f.endsWith('.creating'));

describe('bounds on quantities and amounts (docs/data.md E10–E12)', () => {
  test.each([
    ['quantity', 1e300],
    ['quantity', 1e160],
    ['quantity', -2e9],
  ])('a %s of %s is refused with exit 2, naming the row', (column, value) => {
    const { d, args } = smallInputs((p) => {
      p.quantity!.values[4] = value;
    });
    const r = cli(['run', ...args, ...RUN, '--db', join(d, 'r.duckdb')]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain(`positions.arrow row 4, column quantity: ${value} is not in [-1000000000, 1000000000]`);
    expect(r.stderr).toContain('(E10)');
    expect(existsSync(join(d, 'r.duckdb'))).toBe(false);
    expect(r.stdout).toBe('');
  });

  test('a balance of 1e300 is refused (E11); a quantity of exactly 1e9 and an amount of 1e15 are accepted', () => {
    const bad = smallInputs((_, b) => {
      b.amount!.values[2] = 1e300;
    });
    const r = cli(['validate', ...bad.args]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain(
      'balances.arrow row 2, column amount: 1e+300 is not in [-1000000000000000, 1000000000000000]',
    );
    const edge = smallInputs((p, b) => {
      p.quantity!.values[4] = 1e9;
      b.amount!.values[2] = -1e15;
    });
    const ok = cli(['run', ...edge.args, ...RUN, '--db', join(edge.d, 'r.duckdb')]);
    expect(ok.code, ok.stderr).toBe(EXIT_OK);
    expect(ok.stdout).not.toMatch(/Infinity|\d{40}/);
  });

  test('ask below bid, negative open interest and a negative entry price are refused, each with its rule', () => {
    const { args } = smallInputs(
      (p) => {
        p.entry_price!.values[0] = -5;
      },
      (_, i) => {
        i.ask_price!.values[2] = 78000; // bid 78490
        i.open_interest!.values[1] = -1;
      },
    );
    const r = cli(['validate', ...args]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain(
      'instruments.arrow row 2, column ask_price: 78000 is not >= bid_price 78490: the ask must not be below the bid (E13)',
    );
    expect(r.stderr).toContain(
      'instruments.arrow row 1, column open_interest: -1 is not >= 0: open_interest must not be negative (E12)',
    );
    // the instruments are refused first (the book is read against them): then the entry price alone
    const book = smallInputs((p) => {
      p.entry_price!.values[0] = -5;
    });
    const e = cli(['validate', ...book.args]);
    expect(e.code, e.stderr).toBe(EXIT_BAD_INPUT);
    expect(e.stderr).toContain(
      'positions.arrow row 0, column entry_price: -5 is not >= 0: entry_price must not be negative',
    );
  });
});

describe('parameters and memory', () => {
  test('var.mc_scenarios 1e9 is out of its range: exit 2 at once, naming the parameter', () => {
    const d = dir();
    const p = join(d, 'p.json');
    writeFileSync(p, JSON.stringify({ version: 1, var: { mc_scenarios: 1e9 } }));
    const t0 = Date.now();
    const r = cli(
      ['run', ...SAMPLE, '--models', 'var-mc', '--history', join(ROOT, 'data/history')].concat([
        '--params',
        p,
        '--db',
        join(d, 'r.duckdb'),
        '--quiet',
      ]),
    );
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain('parameter var.mc_scenarios: 1000000000 is out of range: must be ≥ 1 and ≤ 1000000');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  test('scenarios --count beyond the parameter range is refused the same way', () => {
    const r = cli([
      'scenarios',
      '--family',
      'monte-carlo',
      '--market',
      join(ROOT, 'data/sample/market'),
      '--history',
      join(ROOT, 'data/history'),
      '--count',
      '1000000000',
      '--out',
      join(dir(), 'mc.arrow'),
    ]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain('count must be at most 1000000 for monte-carlo, got 1000000000');
  });

  test('a run that will not fit in memory is refused before it builds anything, saying how much it needs', () => {
    const d = dir();
    const p = join(d, 'p.json');
    writeFileSync(p, JSON.stringify({ version: 1, var: { mc_scenarios: 1_000_000 } }));
    const env = { ...process.env, MARGIN_ENGINE_MEMORY_BYTES: String(2 * 2 ** 30) };
    const r = cli(
      ['run', ...SAMPLE, '--models', 'var-mc', '--history', join(ROOT, 'data/history'), '--params', p].concat([
        '--db',
        join(d, 'r.duckdb'),
        '--quiet',
      ]),
      env,
    );
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toMatch(
      /the run: needs about [\d.]+ GiB of memory \(scenarios: monte-carlo 1,000,000; 506 instruments\), more than the 2\.0 GiB it may use \(MARGIN_ENGINE_MEMORY_BYTES=2147483648\)/,
    );
    expect(existsSync(join(d, 'r.duckdb'))).toBe(false);
  });
});

describe('the report file', () => {
  test('a truncated report (its first 4 KB) is bad input: exit 2, not a readable report', () => {
    const { d, args } = smallInputs();
    const f = join(d, 'r.duckdb');
    expect(cli(['run', ...args, ...RUN, '--db', f]).code).toBe(EXIT_OK);
    truncateSync(f, 4096);
    const r = cli(['run', ...args, ...RUN, '--db', f]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    expect(r.stderr).toContain(`${f}: is not a readable report: it is truncated or corrupt`);
    expect(r.stderr).not.toContain('internal error');
  });

  test('a new report another live process is creating is refused up front (exit 2), and its lock left alone', () => {
    const { d, args } = smallInputs();
    const f = join(d, 'r.duckdb');
    // a live process holding the lock of FILE (as a run creating it does: src/util/partialFiles.ts)
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(`${f}.creating`, `${holder.pid}\n`);
      const r = cli(['run', ...args, ...RUN, '--db', f]);
      expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
      expect(r.stderr).toContain(`${f}: is being created by another process (pid ${holder.pid}`);
      expect(readFileSync(`${f}.creating`, 'utf8')).toBe(`${holder.pid}\n`);
      expect(existsSync(f)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
    // its process gone (kill -9), the lock is stale: the next run takes it over and creates the file
    rmSync(`${f}.creating`); // (the holder's pid could be reused; a dead pid is tested below)
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${f}.creating`, `${dead.stdout}\n`);
    const r = cli(['run', ...args, ...RUN, '--db', f]);
    expect(r.code, r.stderr).toBe(EXIT_OK);
    expect(partials(d)).toEqual([]);
  });

  test('two runs creating the same new report at once: never an internal error, never a lost run', async () => {
    const d = dir();
    const f = join(d, 'r.duckdb');
    const a = start(['run', ...SAMPLE, ...RUN, '--db', f]);
    const b = start(['run', ...SAMPLE, ...RUN, '--db', f]);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    const codes = [ra.code, rb.code].sort();
    // either one is refused up front (exit 2, "being created" or "in use"), or the second came after
    // the first had published the file and appended to it
    expect(
      [
        [0, 0],
        [0, 2],
      ],
      `${ra.stderr}\n${rb.stderr}`,
    ).toContainEqual(codes);
    const runs = await query(f, 'SELECT count(*)::INTEGER AS n FROM runs');
    expect(runs[0]!.n).toBe(codes[1] === 0 ? 2 : 1);
    const refused = [ra, rb].find((r) => r.code === EXIT_BAD_INPUT);
    if (refused) expect(refused.stderr).toMatch(/is being created by another process|is in use by another process/);
    expect(partials(d)).toEqual([]);
  }, 120_000);
});

describe('interrupted runs leave no partial file', () => {
  /** Starts a run creating a new report (var-mc: long enough to be interrupted), once its partial exists. */
  async function startFirstRun(d: string): Promise<ChildProcess & { result: Promise<Result> }> {
    const f = join(d, 'r.duckdb');
    const child = start([
      'run',
      ...SAMPLE,
      '--models',
      'deribit-pm,var-mc',
      '--history',
      join(ROOT, 'data/history'),
      '--backend',
      'cpu',
      '--db',
      f,
    ]);
    const t0 = Date.now();
    while (!readdirSync(d).some((n) => n.includes('.partial-'))) {
      if (Date.now() - t0 > 60_000) throw new Error('the run never created its partial file');
      await new Promise((r) => setTimeout(r, 20));
    }
    return child;
  }

  test.each(['SIGINT', 'SIGTERM'] as const)(
    '%s removes the partial file and the lock; the process ends by the signal',
    async (signal) => {
      const d = dir();
      const child = await startFirstRun(d);
      child.kill(signal);
      const r = await child.result;
      expect(r.signal ?? r.code, r.stderr).toBe(signal);
      expect(partials(d)).toEqual([]);
      expect(existsSync(join(d, 'r.duckdb'))).toBe(false);
    },
    120_000,
  );

  test('after kill -9 the next run removes the dead process partials, and the lock', async () => {
    const d = dir();
    const child = await startFirstRun(d);
    child.kill('SIGKILL');
    await child.result;
    expect(partials(d).length).toBeGreaterThan(0); // what kill -9 leaves
    const r = cli(['run', ...SAMPLE, ...RUN, '--db', join(d, 'r.duckdb')]);
    expect(r.code, r.stderr).toBe(EXIT_OK);
    expect(partials(d)).toEqual([]);
  }, 120_000);
});

describe('the environment: exit 3', () => {
  test('--backend gl without an X display says how to start Xvfb', () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const { d, args } = smallInputs();
    const r = cli(
      ['run', ...args, '--models', 'deribit-pm', '--backend', 'gl', '--quiet', '--db', join(d, 'r.duckdb')],
      env,
    );
    expect(r.code, r.stderr).toBe(EXIT_ENVIRONMENT);
    expect(r.stderr).toMatch(/^margin-engine run: backend gl is not available: .*Xvfb/m);
    expect(r.stderr).not.toContain('internal error');
    const p = cli(
      [
        'price',
        '--in',
        join(ROOT, 'test/fixtures/pricing/price_small.csv'),
        '--out',
        join(d, 'p.csv'),
        '--backend',
        'gl',
      ],
      env,
    );
    expect(p.code, p.stderr).toBe(EXIT_ENVIRONMENT);
    expect(p.stderr).toContain('Xvfb');
  });

  test('a real ENOSPC (writing to /dev/full) is classified as a full disk', () => {
    let err: unknown = null;
    const fd = openSync('/dev/full', 'w');
    try {
      writeSync(fd, Buffer.alloc(4096));
    } catch (e) {
      err = e;
    } finally {
      closeSync(fd);
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(environmentProblem(err, 'run')).toMatch(/the disk is full \(ENOSPC.*the report is unchanged/);
    // DuckDB's words, as they reach the main thread from the report's
    const duck = new Error('IO Error: Could not write file "/x/r.duckdb.partial-1-2": No space left on device');
    expect(environmentProblem(duck, 'run')).toMatch(/^\/x\/r\.duckdb\.partial-1-2: the disk is full/);
    expect(environmentProblem(new Error('boom'), 'run')).toBeNull();
    // a run committed whose file could not be closed (checkpointed): it is in the WAL, not "unchanged"
    const closing = new Error(
      '/x/r.duckdb: run 3 was committed, but closing the file failed (IO Error: No space left on device); …',
    );
    expect(environmentProblem(closing, 'run')).toMatch(/^\/x\/r\.duckdb: the disk is full \(run 3 was committed/);
    expect(environmentProblem(closing, 'run')).not.toContain('unchanged');
  });

  // a real full disk: a small tmpfs (needs the right to mount, e.g. root in a container)
  const mnt = tempDir('me-harden-mnt-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3584k', 'tmpfs', mnt]).status === 0;
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  test.skipIf(!mounted)(
    'a full disk: exit 3, the disk named full, a new report not created, an old one unchanged',
    async () => {
      const f = join(mnt, 'new.duckdb');
      const r = cli(['run', ...SAMPLE, ...RUN, '--db', f]);
      expect(r.code, r.stderr).toBe(EXIT_ENVIRONMENT);
      expect(r.stderr).toMatch(/the disk is full .*the report is unchanged/);
      expect(r.stderr).not.toContain('internal error');
      expect(readdirSync(mnt)).toEqual([]);
      // an existing report that fills the disk with its next run: left as it was
      const small = smallInputs();
      const g = join(mnt, 'old.duckdb');
      expect(cli(['run', ...small.args, ...RUN, '--db', g]).code).toBe(EXIT_OK);
      const filler = join(mnt, 'filler');
      const free = spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]!.trim();
      writeFileSync(filler, Buffer.alloc(Math.max(0, Number(free) - 64 * 1024)));
      const before = createHash('sha256').update(readFileSync(g)).digest('hex');
      const r2 = cli(['run', ...SAMPLE, ...RUN, '--db', g]);
      expect(r2.code, r2.stderr).toBe(EXIT_ENVIRONMENT);
      expect(r2.stderr).toMatch(/the disk is full .*the report is unchanged/);
      rmSync(filler);
      expect(createHash('sha256').update(readFileSync(g)).digest('hex')).toBe(before);
      expect(await query(g, 'SELECT count(*)::INTEGER AS n FROM runs')).toEqual([{ n: 1 }]);
    },
    120_000,
  );
});

describe('warnings and messages', () => {
  test.each([
    [
      'an empty positions table',
      (p: Cols) => Object.values(p).forEach((c) => (c.values = [])),
      'the table has no rows',
    ],
    [
      'every quantity 0',
      (p: Cols) => (p.quantity!.values = p.quantity!.values.map(() => 0)),
      'every quantity is 0 (7 rows dropped)',
    ],
  ])('%s: exit 0 with a warning in the summary and in runs.warnings', async (_, edit, why) => {
    const { d, args } = smallInputs((p) => edit(p));
    const f = join(d, 'r.duckdb');
    const r = cli(['run', ...args, ...RUN, '--db', f]);
    expect(r.code, r.stderr).toBe(EXIT_OK);
    const warning = `the book has no positions: ${why}; every margin of the run is 0`;
    expect(r.stdout).toContain(`warning: ${join(d, 'positions.arrow')}: ${warning}`);
    const rows = await query(f, 'SELECT warnings FROM runs');
    expect(rows).toHaveLength(1);
    expect((rows[0]!.warnings as string[]).some((w) => w.endsWith(warning))).toBe(true);
  });

  test('a file of the wrong table: its message once', () => {
    const r = cli([
      'run',
      '--market',
      join(ROOT, 'data/sample/market'),
      '--positions',
      join(ROOT, 'data/sample/book/balances.arrow'),
      '--balances',
      join(ROOT, 'data/sample/book/balances.arrow'),
      ...RUN,
      '--db',
      join(dir(), 'r.duckdb'),
    ]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    onceIn(r.stderr, 'required column instrument is missing');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a history file of binary bytes: escaped and cut, said once', () => {
    const d = dir();
    const h = join(d, 'history');
    mkdirSync(h);
    for (const f of readdirSync(join(ROOT, 'data/history'))) copyFileSync(join(ROOT, 'data/history', f), join(h, f));
    const bytes = Buffer.alloc(600);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 73 + 11) % 256 === 10 ? 0x80 : (i * 73 + 11) % 256;
    writeFileSync(join(h, 'BTC-USD_1d.csv'), bytes);
    const r = cli(['run', ...SAMPLE, '--models', 'var-hs', '--history', h, '--quiet', '--db', join(d, 'r.duckdb')]);
    expect(r.code, r.stderr).toBe(EXIT_BAD_INPUT);
    onceIn(r.stderr, 'BTC-USD_1d.csv: has no column datetime');
    // nothing but printable text: control bytes and the replacement character of non-UTF-8 bytes are escaped
    expect(r.stderr.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\ufffd]/);
    expect(r.stderr).toMatch(/… \(\d+ more characters\)/);
    expect(r.stderr.length).toBeLessThan(1500);
  });

  test('no arguments: the usage on stderr, exit 2; --help: exit 0, the exit codes listed', () => {
    const r = cli([]);
    expect(r.code).toBe(EXIT_BAD_INPUT);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^margin-engine: a command is required\n\n.*Usage: margin-engine <command>/s);
    const h = cli(['--help']);
    expect(h.code).toBe(EXIT_OK);
    for (const [code, words] of [
      [EXIT_OK, 'ok'],
      [EXIT_BAD_INPUT, 'bad input'],
      [EXIT_ENVIRONMENT, 'the environment'],
      [EXIT_INTERNAL, 'internal error'],
    ] as const)
      expect(h.stdout).toMatch(new RegExp(`^  ${code}  ${words}`, 'm'));
    expect(cli(['run', '--help']).stdout).toContain('3 the environment');
  });
});
