/**
 * The end-to-end workloads of docs/performance.md — `intraday` and `eod` — and their generated book.
 *
 * Both run `runMargin` (what `margin-engine run` calls) over the full chain in data/full/market and a book
 * of 100,000 accounts (≈ 1,000,000 positions) generated once by the project's own `generate` command with
 * a fixed seed into the git-ignored cache bench/.cache/. `standard` is always computed by the pipeline.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ModelName } from '../src/margin/types.js';

export type EndToEndName = 'intraday' | 'eod';

export interface EndToEndWorkload {
  name: EndToEndName;
  /** what --models gets (standard is added by the pipeline) */
  models: ModelName[];
  /** --history, or undefined */
  historyDir?: string;
  accounts: number;
  seed: number;
  marketDir: string;
  /** docs/performance.md targets on the 2-core CPU-only machine */
  target: { endToEndSeconds: number; peakRssGiB: number };
  /**
   * docs/performance.md "What to beat": the vectorised numpy/scipy implementation on the same machine,
   * bench/peer/margin_peer.py as measured by bench/peer.ts (its lean npz report)
   */
  numpyBaseline: {
    endToEndSeconds: number;
    peakRssGiB: number;
    phases: Record<string, number>;
    positions: number;
    scenarios: number;
  };
}

export const ROOT = process.cwd();

/** The two workloads, over the full chain, 100,000 accounts, seed 7. */
export const END_TO_END: Record<EndToEndName, EndToEndWorkload> = {
  intraday: {
    name: 'intraday',
    models: ['deribit-pm', 'span'],
    accounts: 100_000,
    seed: 7,
    marketDir: join(ROOT, 'data', 'full', 'market'),
    target: { endToEndSeconds: 1, peakRssGiB: 2 },
    // bench/results/peer-intraday-2026-12-05T01-06-49-919Z.json: 20 rounds, numpy 2.4, pandas 3.0, npz report (with
    // a CSV report 2.42 s, 0.73 GiB); the process's median wall, its phases' medians inside it
    numpyBaseline: {
      endToEndSeconds: 1.377,
      peakRssGiB: 0.56,
      phases: { read: 0.319, compute: 0.605, write: 0.023 },
      positions: 1_024_441,
      scenarios: 51,
    },
  },
  eod: {
    name: 'eod',
    models: ['deribit-pm', 'span', 'var-hs', 'var-mc'],
    historyDir: join(ROOT, 'data', 'history'),
    accounts: 100_000,
    seed: 7,
    marketDir: join(ROOT, 'data', 'full', 'market'),
    target: { endToEndSeconds: 30, peakRssGiB: 6 },
    // bench/results/peer-eod-2026-12-05T01-40-13-165Z.json: 3 rounds, numpy 2.4, pandas 3.0, npz report (with a CSV
    // report 13.40 s, 1.08 GiB); its var sets: 1,000 historical and 10,000 Monte Carlo scenarios
    numpyBaseline: {
      endToEndSeconds: 11.84,
      peakRssGiB: 0.92,
      phases: { read: 0.312, compute: 11.107, write: 0.026 },
      positions: 1_024_441,
      scenarios: 11_051,
    },
  },
};

/** The benchmark cache directory (git-ignored): generated books, DuckDB files, reference margins, logs. */
export const CACHE_DIR = join(ROOT, 'bench', '.cache');

/** The command's input options for a workload's market and book: --market, --positions, --balances. */
export function inputArgs(w: EndToEndWorkload, book: { positions: string; balances: string }): string[] {
  return ['--market', w.marketDir, '--positions', book.positions, '--balances', book.balances];
}

/**
 * The generated book for `accounts` and `seed` over `marketDir`, generating it with `margin-engine
 * generate` (dist/src/cli/main.js) when it is not cached for the current generator version (see
 * generatorVersion; always regenerated from a dirty tree). Returns the two Arrow paths, the generation
 * time when it was generated now, and the generator version.
 * @throws Error when the generator fails (run `npm run build` first).
 */
export function ensureBook(w: EndToEndWorkload): {
  positions: string;
  balances: string;
  dir: string;
  generatedSeconds: number | null;
  generator: string;
} {
  const dir = join(CACHE_DIR, `book-a${w.accounts}-s${w.seed}`);
  const positions = join(dir, 'positions.arrow');
  const balances = join(dir, 'balances.arrow');
  const stampFile = join(dir, 'generator.txt');
  const generator = generatorVersion();
  const cached =
    existsSync(positions) &&
    existsSync(balances) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8') === generator;
  if (cached && !generator.endsWith('-dirty')) return { positions, balances, dir, generatedSeconds: null, generator };
  mkdirSync(dir, { recursive: true });
  rmSync(stampFile, { force: true });
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'dist', 'src', 'cli', 'main.js'),
      'generate',
      '--market',
      w.marketDir,
      '--accounts',
      String(w.accounts),
      '--seed',
      String(w.seed),
      '--out',
      dir,
      '--quiet',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  writeFileSync(stampFile, generator);
  return { positions, balances, dir, generatedSeconds: (performance.now() - t0) / 1000, generator };
}

/**
 * The last commit touching the generator's sources (src and kernels: it sizes collateral with the engine's margin),
 * "-dirty" when they have uncommitted changes: a cached book is reused only for the same clean version.
 */
function generatorVersion(): string {
  const paths = ['src', 'kernels'];
  try {
    const head = execFileSync('git', ['log', '-1', '--format=%H', '--', ...paths], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ...paths], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown-dirty';
  }
}
