/**
 * Issue 17's numpy peer (bench/peer/margin_peer.py, an independent implementation of docs/methodology.md §1–6)
 * computes the engine's numbers: on each book below the engine runs into a DuckDB report, the peer reads the same
 * inputs as CSV (bench/peer/exportCsv.ts), and every (model, account, unit) row of account_margin must be in the
 * peer's output and the reverse, with MM, IM, equity and the liquidity add-on equal to 1e-9 relative (1e-9 absolute
 * floor), the same status, and the same worst scenario wherever the unit loses something (bench/peer.ts,
 * comparePeer, says why a unit that loses nothing may name another). A peer with one parameter changed must fail.
 *
 * The peer runs under MARGIN_ENGINE_PEER_PYTHON (default /usr/bin/python3: Debian's python3-numpy, python3-pandas,
 * python3-scipy).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { comparePeer, peerArgs, type PeerComparison } from '../../bench/peer.js';
import { exportCsv, type PeerCsv } from '../../bench/peer/exportCsv.js';
import { COMMAND } from '../helpers/command.js';
import { tempDir, writeBook, writeMarket } from '../fixtures/io/arrowTables.js';
import { writeSynthetic } from '../fixtures/io/syntheticBook.js';

const ROOT = join(import.meta.dirname, '../..');
const PYTHON = process.env.MARGIN_ENGINE_PEER_PYTHON ?? '/usr/bin/python3';

interface Inputs {
  marketDir: string;
  positions: string;
  balances: string;
}

let dir: string;
/** Each book's engine report and CSV inputs, made once. */
const made = new Map<string, { db: string; csv: PeerCsv }>();

/**
 * The books: the bundled sample (the real Deribit chain of data/sample/market, 1,000 generated accounts); a synthetic
 * one with linear (USDC) instruments on BTC and ETH (USDC units of two underlyings), duplicate rows, Int64 accounts,
 * no quotes, open interest or rates; the small hand-made one (a rate of 1 %, a zero row, USDT, a negative balance,
 * a zero balance, an account of USDC alone).
 */
function books(): Record<string, Inputs> {
  const syn = join(dir, 'synthetic');
  mkdirSync(syn);
  writeSynthetic(syn, { instruments: 120, accounts: 300, positions: 3000, seed: 5, accountType: 'int64' });
  const small = join(dir, 'small');
  mkdirSync(small);
  writeMarket(undefined, 'file', small);
  // dave holds nothing (a zero balance), erin only USDC: units of balances alone
  writeBook(small, (_p, b) => {
    b.account!.values.push('dave', 'erin');
    b.currency!.values.push('ETH', 'USDC');
    b.amount!.values.push(0, 2500);
  });
  const own = (d: string) => ({
    marketDir: d,
    positions: join(d, 'positions.arrow'),
    balances: join(d, 'balances.arrow'),
  });
  return {
    sample: {
      marketDir: join(ROOT, 'data/sample/market'),
      positions: join(ROOT, 'data/sample/book/positions.arrow'),
      balances: join(ROOT, 'data/sample/book/balances.arrow'),
    },
    synthetic: own(syn),
    small: own(small),
  };
}

function runEngine(name: string, inputs: Inputs): string {
  const db = join(dir, `${name}.duckdb`);
  const args = ['run', '--market', inputs.marketDir, '--positions', inputs.positions, '--balances', inputs.balances];
  const r = spawnSync(process.execPath, [COMMAND, ...args, '--models', 'deribit-pm,span', '--db', db, '--quiet'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`engine on ${name}: exit ${r.status}\n${r.stderr}`);
  return db;
}

/** Runs the peer on a book's CSV files into `out`; returns its JSON line (phase times, counts). */
function runPeer(csv: PeerCsv, out: string, extra: string[] = []): Record<string, number> {
  const r = spawnSync(PYTHON, [...peerArgs(csv, out), ...extra], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${peerArgs(csv, out).join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

function expectAgreement(c: PeerComparison): void {
  expect(c.examples).toEqual([]);
  expect(c.engineRows).toBeGreaterThan(0);
  expect(c.peerRows).toBe(c.engineRows);
  expect([c.unmatched, c.valueMismatches, c.worstMismatches, c.statusMismatches]).toEqual([0, 0, 0, 0]);
  expect(c.maxRelMm).toBeLessThan(1e-9);
  expect(c.maxRelIm).toBeLessThan(1e-9);
}

beforeAll(() => {
  dir = tempDir('me-peer-');
  for (const [name, inputs] of Object.entries(books()))
    made.set(name, { db: runEngine(name, inputs), csv: exportCsv(inputs, join(dir, `${name}-csv`)) });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the numpy peer and the engine', () => {
  test.each(['sample', 'synthetic', 'small'])('agree on every unit of the %s book', async (name) => {
    const { db, csv } = made.get(name)!;
    const out = join(dir, `${name}-peer.csv`);
    const info = runPeer(csv, out);
    expect(info.scenarios).toBe(35 + 16);
    expectAgreement(await comparePeer(db, out));
  });

  test('its npz report (the lean one bench/peer.ts also times) holds the rows of its CSV report', () => {
    const { csv } = made.get('synthetic')!;
    const out = join(dir, 'synthetic-peer.npz');
    const info = runPeer(csv, out, ['--format', 'npz']);
    expect(info.rows).toBeGreaterThan(0);
    // the CSV of the same inputs, rebuilt from the npz columns, must equal the CSV the peer writes (floats by bits)
    const code = `
import sys, numpy as np, pandas as pd
z, c = np.load(sys.argv[1]), pd.read_csv(sys.argv[2], float_precision='round_trip', keep_default_na=False)
acc, names = z['accounts'], z['status_names']
def rows(model, p, units, mm, im, worst, eq, liq):
    a = z[p + '_account'] if p != 'standard' else z['pm_account']
    u = z[p + '_unit'] if p != 'standard' else z['pm_unit']
    return pd.DataFrame(dict(model=model, account=acc[a], unit=units[u], mm=mm, im=im, worst_scenario=worst,
                             equity=eq, status=names[z[p + '_status']], liquidity_addon=liq))
pmw = [str(w) if w >= 0 else '' for w in z['pm_worst']]
got = pd.concat([
    rows('deribit-pm', 'pm', z['units_pm'], z['pm_mm'], z['pm_im'], pmw, z['pm_equity'], z['pm_liquidity']),
    rows('span', 'span', z['units_span'], z['span_mm'], z['span_im'], [str(w) for w in z['span_worst']],
         z['span_equity'], z['span_liquidity']),
    rows('standard', 'standard', z['units_pm'], z['standard_mm'], z['standard_im'], [''] * len(pmw), z['pm_equity'],
         z['pm_liquidity'])], ignore_index=True)
c['worst_scenario'] = c['worst_scenario'].astype(str)
c['account'] = c['account'].astype(str)
pd.testing.assert_frame_equal(got.astype({'account': str}), c, check_dtype=False, check_exact=True)
print(len(got))`;
    const csvOut = join(dir, 'synthetic-peer-for-npz.csv');
    runPeer(csv, csvOut);
    const r = spawnSync(PYTHON, ['-c', code, out, csvOut], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBe(info.rows);
  });

  test('a peer whose roll shock is off (min_annualised_move BTC 0.011, not 0.01) disagrees on BTC units', async () => {
    const { db, csv } = made.get('sample')!;
    const out = join(dir, 'sample-peer-roll.csv');
    runPeer(csv, out, ['--set', 'mam.BTC=0.011']);
    const c = await comparePeer(db, out);
    expect(c.valueMismatches).toBeGreaterThan(0);
    expect(new Set(c.examples.map((r) => `${String(r.model)} ${String(r.unit)}`))).toEqual(new Set(['deribit-pm BTC']));
  });

  test('one changed MM, a changed worst scenario and a missing row are each found', async () => {
    const { db } = made.get('sample')!;
    const good = join(dir, 'sample-peer.csv');
    const lines = readFileSync(good, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    const at = (name: string) => header.indexOf(name);
    // the first deribit-pm row that loses something: MM × (1 + 1e-8); the next one: its worst scenario + 1
    const rows = lines.map((l) => l.split(','));
    const [r1, r2] = rows.filter(
      (r) => r[at('model')] === 'deribit-pm' && r[at('worst_scenario')] !== '' && Number(r[at('mm')]) > 1,
    ) as [string[], string[]];
    r1[at('mm')] = String(Number(r1[at('mm')]) * (1 + 1e-8));
    r2[at('worst_scenario')] = String((Number(r2[at('worst_scenario')]) + 1) % 35);
    const bad = join(dir, 'sample-peer-bad.csv');
    writeFileSync(
      bad,
      rows
        .filter((_, i) => i !== rows.length - 1)
        .map((r) => r.join(','))
        .join('\n') + '\n',
    );
    const c = await comparePeer(db, bad);
    expect([c.unmatched, c.valueMismatches, c.worstMismatches, c.statusMismatches]).toEqual([1, 1, 1, 0]);
    expect(c.examples.map((r) => r.account).sort()).toEqual(
      [r1[at('account')], r2[at('account')], lines.at(-1)!.split(',')[at('account')]].sort(),
    );
  });
});
