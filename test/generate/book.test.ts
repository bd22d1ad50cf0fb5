// The portfolio generator (docs/performance.md, "Workloads"; issue 2, item 6): determinism, and the
// properties it promises — heavy-tailed account sizes, the strategy mix, strikes near the money and
// near-dated expiries, coin quantities in lots, entry prices near the mark, coin and USDC collateral
// sized against the engine's deribit-pm so that a few percent of accounts are thin (docs/methodology.md §4a, §5),
// checked with the engine's own margin code (src/margin, float64 reference aggregation). Books are read back with the
// project's own loader (src/io/loadBook.ts), which checks every docs/data.md rule.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { InputError } from '../../src/errors.js';
import { main as generateMain } from '../../src/cli/generate.js';
import { generateBook } from '../../src/generate/book.js';
import { STRATEGIES } from '../../src/generate/strategies.js';
import { computeMargin, MARGIN_MODELS } from '../../src/margin/models.js';
import { standardRows } from '../../src/margin/standard.js';
import { buildRunTables } from '../../src/margin/runTables.js';
import { accountSummary } from '../../src/margin/summary.js';
import { STATUS_LIQUIDATION, STATUS_MARGIN_CALL, STATUS_OK } from '../../src/margin/types.js';
import { defaultParams } from '../../src/params/params.js';
import { buildScenarios } from '../../src/scenarios/build.js';
import { revalue } from '../margin/fixtures.js';
import { loadBook, type LoadedBook } from '../../src/io/loadBook.js';
import { loadMarket } from '../../src/io/loadMarket.js';
import { KIND_FUTURE, KIND_OPTION, KIND_PERPETUAL, OPTION_CALL, type Market } from '../../src/model/market.js';
import { COMMAND } from '../helpers/command.js';

const SAMPLE = 'data/sample/market'; // 3 BTC + 3 ETH expiries of the 2026-02-01 Deribit chain (data/README.md)
const FULL = 'data/full/market'; // the whole chain
const tmp = mkdtempSync(join(tmpdir(), 'me-generate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = (out: string, seed: number, accounts = 2000) =>
  generateMain([
    '--market',
    SAMPLE,
    '--accounts',
    String(accounts),
    '--seed',
    String(seed),
    '--out',
    join(tmp, out),
    '--quiet',
  ]);
const bytes = (dir: string, file: string) => readFileSync(join(tmp, dir, file));

let market: Market;
let loaded: LoadedBook;
beforeAll(async () => {
  expect(await run('a', 42)).toBe(0);
  expect(await run('b', 42)).toBe(0);
  expect(await run('c', 43)).toBe(0);
  market = (await loadMarket(SAMPLE)).market;
  loaded = await loadBook(market, join(tmp, 'a', 'positions.arrow'), join(tmp, 'a', 'balances.arrow'));
});

describe('determinism', () => {
  test.each(['positions.arrow', 'balances.arrow'])('same arguments → byte-identical %s', (f) => {
    expect(bytes('a', f).equals(bytes('b', f))).toBe(true);
  });
  test.each(['positions.arrow', 'balances.arrow'])('another seed → different %s', (f) => {
    expect(bytes('a', f).equals(bytes('c', f))).toBe(false);
  });
  test('only the two files are left in the output directory (no temp files)', () => {
    expect(readdirSync(join(tmp, 'a')).sort()).toEqual(['balances.arrow', 'positions.arrow']);
  });
});

describe('the files', () => {
  const pt = () => tableFromIPC(bytes('a', 'positions.arrow'));
  const bt = () => tableFromIPC(bytes('a', 'balances.arrow'));
  test.each([
    ['positions', 'account', 'Dictionary<Int32, Utf8>'],
    ['positions', 'instrument', 'Dictionary<Int32, Utf8>'],
    ['positions', 'quantity', 'Float64'],
    ['positions', 'entry_price', 'Float64'],
    ['balances', 'account', 'Dictionary<Int32, Utf8>'],
    ['balances', 'currency', 'Utf8'],
    ['balances', 'amount', 'Float64'],
  ])('%s.%s is %s', (table, col, type) => {
    const t = table === 'positions' ? pt() : bt();
    expect(String(t.schema.fields.find((f) => f.name === col)?.type)).toBe(type);
  });
  test('rows sorted by account; keys like A000123', () => {
    for (const t of [pt(), bt()]) {
      const keys = t.getChild('account')!.toArray() as string[];
      expect(keys[0]).toMatch(/^A\d{6}$/);
      for (let k = 1; k < keys.length; k++) expect(keys[k - 1]! <= keys[k]!).toBe(true);
    }
  });
  test('the loader accepts the book as it is: no violation, no merged or zero rows, no warning', () => {
    expect(loaded.stats.rejected).toEqual([]);
    expect(loaded.stats.warnings).toEqual([]);
    expect(loaded.stats.mergedPositionRows).toBe(0);
    expect(loaded.stats.droppedZeroRows).toBe(0);
    expect(loaded.book.accountCount).toBe(2000);
  });
  test('every instrument referenced exists in the market', () => {
    const names = new Set(pt().getChild('instrument')!.toArray() as string[]);
    for (const n of names) expect(market.instruments.id.has(n)).toBe(true);
  });
});

describe('account sizes: heavy tail (lognormal, median 3, mean ≈ 10)', () => {
  const sizes = () => {
    const b = loaded.book;
    return Array.from({ length: b.accountCount }, (_, a) => b.accountStart[a + 1]! - b.accountStart[a]!).sort(
      (x, y) => x - y,
    );
  };
  test('median small, a long tail, max large', () => {
    const s = sizes();
    const mean = s.reduce((x, y) => x + y, 0) / s.length;
    expect(s[s.length >> 1]).toBeLessThanOrEqual(4);
    expect(s.filter((n) => n <= 3).length / s.length).toBeGreaterThan(0.4);
    expect(s[s.length - 1]).toBeGreaterThanOrEqual(200);
    expect(mean).toBeGreaterThan(7);
    expect(mean).toBeLessThan(13);
  });
  test('--accounts N gives about 10·N positions on the full chain', async () => {
    const { market: full } = await loadMarket(FULL);
    const book = generateBook(full, { accounts: 5000, seed: 3 });
    expect(book.stats.positions / 5000).toBeGreaterThan(8);
    expect(book.stats.positions / 5000).toBeLessThan(12);
  });
});

describe('strategy mix in a 2,000-account book', () => {
  let cached: ReturnType<typeof generateBook> | undefined;
  const book = () => (cached ??= generateBook(market, { accounts: 2000, seed: 42 }));
  test.each(STRATEGIES.map((s, k) => [s, k]))('%s is traded by some accounts (generator stats)', (_s, k) => {
    expect(book().stats.strategyAccounts[k as number]).toBeGreaterThan(20);
  });

  // the same strategies seen in the written book, from the positions alone
  type Leg = { id: number; q: number };
  let legsCache: Leg[][] | undefined;
  const accounts = (): Leg[][] => {
    const b = loaded.book;
    return (legsCache ??= Array.from({ length: b.accountCount }, (_, a) => {
      const legs: Leg[] = [];
      for (let p = b.accountStart[a]!; p < b.accountStart[a + 1]!; p++)
        legs.push({ id: b.instrumentId[p]!, q: b.quantity[p]! });
      return legs;
    }));
  };
  const ins = () => market.instruments;
  const isOpt = (l: Leg) => ins().kind[l.id] === KIND_OPTION;
  const isFut = (l: Leg) => ins().kind[l.id] === KIND_FUTURE || ins().kind[l.id] === KIND_PERPETUAL;
  const same = (a: Leg, b: Leg, f: (i: number) => number) => f(a.id) === f(b.id);
  const pairs = (legs: Leg[], ok: (a: Leg, b: Leg) => boolean) =>
    legs.some((a, i) => legs.some((b, j) => i !== j && ok(a, b)));
  const expiry = (i: number) => ins().expiryMs[i]!,
    strike = (i: number) => ins().strike[i]!,
    type = (i: number) => ins().optionType[i]!;
  test.each<[string, (legs: Leg[]) => boolean]>([
    [
      'straddle: call and put, same strike and expiry, same quantity',
      (legs) =>
        pairs(
          legs,
          (a, b) =>
            isOpt(a) &&
            isOpt(b) &&
            type(a.id) === OPTION_CALL &&
            type(b.id) !== OPTION_CALL &&
            same(a, b, strike) &&
            same(a, b, expiry) &&
            a.q === b.q,
        ),
    ],
    [
      'vertical: same type and expiry, two strikes, opposite quantities',
      (legs) =>
        pairs(
          legs,
          (a, b) =>
            isOpt(a) && isOpt(b) && same(a, b, type) && same(a, b, expiry) && !same(a, b, strike) && a.q === -b.q,
        ),
    ],
    [
      'calendar: same type and strike, two expiries, opposite quantities',
      (legs) =>
        pairs(
          legs,
          (a, b) =>
            isOpt(a) && isOpt(b) && same(a, b, type) && same(a, b, strike) && !same(a, b, expiry) && a.q === -b.q,
        ),
    ],
    [
      'basis: two futures/perpetuals of one underlying, opposite quantities',
      (legs) =>
        pairs(
          legs,
          (a, b) => isFut(a) && isFut(b) && ins().underlying[a.id] === ins().underlying[b.id] && a.q === -b.q,
        ),
    ],
    [
      'covered call: long future/perpetual and a short call of the same size',
      (legs) =>
        pairs(
          legs,
          (a, b) =>
            isFut(a) &&
            a.q > 0 &&
            isOpt(b) &&
            type(b.id) === OPTION_CALL &&
            b.q === -a.q &&
            ins().underlying[a.id] === ins().underlying[b.id],
        ),
    ],
    [
      'naked short option: an account holding one short option only',
      (legs) => legs.length === 1 && isOpt(legs[0]!) && legs[0]!.q < 0,
    ],
    [
      'outright option: an account holding one long option only',
      (legs) => legs.length === 1 && isOpt(legs[0]!) && legs[0]!.q > 0,
    ],
    [
      'outright future: an account holding one future or perpetual only',
      (legs) => legs.length === 1 && isFut(legs[0]!),
    ],
    [
      'delta-hedged book: three or more options and a future or perpetual',
      (legs) => legs.filter(isOpt).length >= 3 && legs.some(isFut),
    ],
  ])('%s', (_name, seen) => {
    expect(accounts().filter(seen).length).toBeGreaterThan(5);
  });
});

describe('what the positions look like', () => {
  // issue 18: options are drawn in proportion to their open interest (no longer near the money): the
  // book's gross |q| is spread over strikes as the market's open interest is
  test('strikes follow open interest: the gross-weighted median |log(K/F)| is within 0.05 of the OI-weighted one; no option without OI is held', () => {
    const b = loaded.book,
      ins = market.instruments;
    const wmedian = (pairs: Array<[number, number]>) => {
      pairs.sort((x, y) => x[0] - y[0]);
      const total = pairs.reduce((t, [, w]) => t + w, 0);
      let acc = 0;
      for (const [m, w] of pairs) if ((acc += w) >= total / 2) return m;
      return NaN;
    };
    const logM = (i: number) => Math.abs(Math.log(ins.strike[i]! / ins.forward[i]!));
    const book: Array<[number, number]> = [];
    for (let p = 0; p < b.instrumentId.length; p++) {
      const i = b.instrumentId[p]!;
      if (ins.kind[i] !== KIND_OPTION) continue;
      expect(ins.openInterest[i]).toBeGreaterThan(0);
      book.push([logM(i), Math.abs(b.quantity[p]!)]);
    }
    const oi: Array<[number, number]> = [];
    for (let i = 0; i < ins.count; i++)
      if (ins.kind[i] === KIND_OPTION && ins.openInterest[i]! > 0) oi.push([logM(i), ins.openInterest[i]!]);
    expect(Math.abs(wmedian(book) - wmedian(oi))).toBeLessThan(0.05);
  });
  test('expiries near-dated on the full chain: most option positions expire within 3 months', async () => {
    const { market: full } = await loadMarket(FULL);
    const book = generateBook(full, { accounts: 2000, seed: 5 });
    let near = 0,
      all = 0;
    book.posInstrument.forEach((i) => {
      if (full.instruments.kind[i] !== KIND_OPTION) return;
      all++;
      if (full.instruments.tYears[i]! < 0.25) near++;
    });
    expect(near / all).toBeGreaterThan(0.6);
  });
  test('quantities in whole lots (0.1 BTC, 1 ETH); 95% of sizes within 1..500 lots', () => {
    const b = loaded.book,
      ins = market.instruments;
    const lot = (u: number) => (market.underlyings[u] === 'BTC' ? 0.1 : 1);
    let within = 0;
    for (let p = 0; p < b.quantity.length; p++) {
      const l = lot(ins.underlying[b.instrumentId[p]!]!);
      const k = b.quantity[p]! / l;
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
      if (Math.abs(k) >= 1 - 1e-9 && Math.abs(k) <= 500 + 1e-9) within++;
    }
    expect(within / b.quantity.length).toBeGreaterThan(0.95);
  });
  test('entry prices: none for options, within 15% of the mark for futures and perpetuals', () => {
    const b = loaded.book,
      ins = market.instruments;
    let futures = 0;
    for (let p = 0; p < b.quantity.length; p++) {
      const i = b.instrumentId[p]!;
      if (ins.kind[i] === KIND_OPTION) expect(b.entryPrice[p]).toBeNaN();
      else {
        futures++;
        expect(Math.abs(b.entryPrice[p]! / ins.markPrice[i]! - 1)).toBeLessThan(0.15);
      }
    }
    expect(futures).toBeGreaterThan(100);
  });
});

describe('collateral', () => {
  test('currencies: BTC and ETH coin and USDC only, amounts ≥ 0; some accounts hold USDC', () => {
    const t = tableFromIPC(bytes('a', 'balances.arrow'));
    const cur = t.getChild('currency')!.toArray() as string[];
    expect(new Set(cur)).toEqual(new Set(['BTC', 'ETH', 'USDC']));
    const amounts = t.getChild('amount')!.toArray() as Float64Array;
    expect(amounts.every((x) => x >= 0)).toBe(true);
    const usdcAccounts = new Set((t.getChild('account')!.toArray() as string[]).filter((_, k) => cur[k] === 'USDC'))
      .size;
    expect(usdcAccounts / 2000).toBeGreaterThan(0.1);
  });
  test('an account with positions settled in a coin has a balance row in that coin', () => {
    const b = loaded.book;
    const t = tableFromIPC(bytes('a', 'balances.arrow'));
    const rows = new Set(
      (t.getChild('account')!.toArray() as string[]).map((a, k) => `${a}|${t.getChild('currency')!.get(k)}`),
    );
    for (let u = 0; u < b.unitCount; u++) {
      expect(rows.has(`${b.accountKey[b.unitAccount[u]!]}|${b.unitCurrencies[b.unitCurrency[u]!]}`)).toBe(true);
    }
  });

  // the engine's own margin of the written book (deribit-pm with default parameters over the scalar
  // float64 kernels and the reference aggregator; standard margin), per account as `run` reports it
  let engineCache:
    { pm: ReturnType<typeof accountSummary>; std: ReturnType<typeof accountSummary>; cover: number[] } | undefined;
  const engine = async () => {
    if (engineCache) return engineCache;
    const params = defaultParams();
    const scenarios = buildScenarios('deribit-pm', market, params);
    const tables = buildRunTables(loaded.book, loaded.balances, market, params);
    const rows = await computeMargin(
      MARGIN_MODELS['deribit-pm'],
      { ...tables, scenarios },
      revalue(market, scenarios, params),
    );
    const std = standardRows(tables);
    // per account: the smallest equity / IM over its units with positions
    const cover = new Array<number>(loaded.book.accountCount).fill(Infinity);
    for (let r = 0; r < rows.count; r++)
      if (rows.im[r]! > 0) cover[rows.account[r]!] = Math.min(cover[rows.account[r]!]!, rows.equity[r]! / rows.im[r]!);
    engineCache = {
      pm: accountSummary(rows, std, tables),
      std: accountSummary(std, std, tables),
      cover,
    };
    return engineCache;
  };
  const share = (status: Uint8Array, which: number) => status.filter((x) => x === which).length / status.length;
  test('deribit-pm: most accounts healthy (≥ 90% ok; median cover ≥ 1.5 × IM, most within 1.2–5×); 2–10% thin, some past MM', async () => {
    const { pm, cover } = await engine();
    const mc = share(pm.status, STATUS_MARGIN_CALL),
      liq = share(pm.status, STATUS_LIQUIDATION);
    expect(share(pm.status, STATUS_OK)).toBeGreaterThan(0.9);
    expect(mc + liq).toBeGreaterThan(0.02);
    expect(mc + liq).toBeLessThan(0.1);
    expect(mc).toBeGreaterThan(0.01); // drawn 3% (src/generate/collateral.ts)
    expect(liq).toBeGreaterThan(0.005); // drawn 2%
    const c = [...cover].sort((x, y) => x - y);
    expect(c[c.length >> 1]).toBeGreaterThanOrEqual(1.5);
    expect(c.filter((x) => x >= 1.2 && x <= 5).length / c.length).toBeGreaterThan(0.6);
  });
  test('the generator counts the same margin calls and liquidations as the engine', async () => {
    const { pm, std } = await engine();
    const s = generateBook(market, { accounts: 2000, seed: 42 }).stats; // the book of run('a', 42)
    expect(s.marginCallAccounts).toBe(pm.status.filter((x) => x === STATUS_MARGIN_CALL).length);
    expect(s.liquidationAccounts).toBe(pm.status.filter((x) => x === STATUS_LIQUIDATION).length);
    expect(s.standardMarginCallAccounts).toBe(std.status.filter((x) => x === STATUS_MARGIN_CALL).length);
    expect(s.standardLiquidationAccounts).toBe(std.status.filter((x) => x === STATUS_LIQUIDATION).length);
  });
  test('standard margin is worse than deribit-pm, but not absurd (< 15% of accounts liquidated)', async () => {
    const { pm, std } = await engine();
    expect(share(std.status, STATUS_LIQUIDATION)).toBeGreaterThan(share(pm.status, STATUS_LIQUIDATION));
    expect(share(std.status, STATUS_LIQUIDATION)).toBeLessThan(0.15);
    expect(share(std.status, STATUS_OK)).toBeGreaterThan(0.8);
  });
});

describe('the generate command refuses bad arguments', () => {
  test.each([
    [['--market', SAMPLE, '--accounts', '0', '--seed', '1', '--out', 'x'], /--accounts must be at least 1/],
    [['--market', SAMPLE, '--accounts', '-5', '--seed', '1', '--out', 'x'], /--accounts must be at least 1, got "-5"/],
    [
      ['--market', SAMPLE, '--accounts', '99999999', '--seed', '1', '--out', 'x'],
      /--accounts must be at most 2,000,000 \(the generator holds the book in memory\), got "99999999"/,
    ],
    [['--market', SAMPLE, '--accounts', '1e3', '--seed', '1', '--out', 'x'], /--accounts must be an integer/],
    [
      ['--market', SAMPLE, '--accounts', '10', '--reference-accounts', '0', '--seed', '1', '--out', 'x'],
      /--reference-accounts must be at least 1, got "0"/,
    ],
    [['--market', SAMPLE, '--accounts', '10', '--seed', '-3', '--out', 'x'], /--seed must be a non-negative integer/],
    [['--accounts', '10', '--seed', '1', '--out', 'x'], /--market is required/],
    [
      ['--market', join(tmp, 'nowhere'), '--accounts', '10', '--seed', '1', '--out', join(tmp, 'x')],
      /underlyings\.arrow/,
    ],
  ])('%j', async (argv, msg) => {
    await expect(generateMain(argv)).rejects.toThrow(msg);
    expect(existsSync('x')).toBe(false);
  });
  test('exit 2 through the CLI, the flag named, nothing written', () => {
    const out = join(tmp, 'never');
    const r = spawnSync(
      process.execPath,
      [COMMAND, 'generate', '--market', SAMPLE, '--accounts', '-7', '--seed', '1', '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--accounts must be at least 1, got "-7"/);
    expect(existsSync(out)).toBe(false);
  });
  test('a market without open interest: exit 2 naming instruments.arrow and open_interest, nothing written', async () => {
    // the sample market with every open_interest set to 0
    const dir = join(tmp, 'no-oi');
    mkdirSync(dir);
    copyFileSync(join(SAMPLE, 'underlyings.arrow'), join(dir, 'underlyings.arrow'));
    const t = tableFromIPC(readFileSync(join(SAMPLE, 'instruments.arrow')));
    const cols = Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)!]));
    cols.open_interest = vectorFromArray(new Float64Array(t.numRows));
    writeFileSync(join(dir, 'instruments.arrow'), tableToIPC(new Table(cols), 'file'));
    const out = join(tmp, 'no-oi-book');
    const err = await generateMain(['--market', dir, '--accounts', '10', '--seed', '1', '--out', out]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(join(dir, 'instruments.arrow'));
    expect((err as Error).message).toMatch(/no option has open_interest > 0/);
    expect(existsSync(out)).toBe(false);
    const noOi = (await loadMarket(dir)).market;
    expect(() => generateBook(noOi, { accounts: 10, seed: 1 })).toThrow(/the market has no open interest/);
  });
  test.each([
    [{ accounts: 0, seed: 1 }, /accounts must be an integer from 1 to 2000000, got 0/],
    [{ accounts: 2_000_001, seed: 1 }, /accounts must be an integer from 1 to 2000000/],
    [{ accounts: 10, seed: 1, referenceAccounts: 0 }, /referenceAccounts must be a positive integer, got 0/],
  ])('generateBook(%j) throws', (opts, msg) => {
    expect(() => generateBook(market, opts)).toThrow(msg);
  });
});
