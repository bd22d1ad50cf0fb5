#!/usr/bin/env node
/**
 * The engine's Arrow inputs as the CSV files the numpy peer (bench/peer/margin_peer.py) reads, written once into a
 * cache folder: `MARKET/instruments.csv`, `MARKET/underlyings.csv`, `positions.csv`, `balances.csv`.
 * `npx tsx bench/peer/exportCsv.ts --market DIR --positions F --balances F --out DIR [--force]`.
 *
 * Every column of each table, in the Arrow file's order and under its name; a null cell is an empty field;
 * timestamps are epoch milliseconds (integers); numbers are written with JavaScript's shortest round-trip
 * form (so a reader that parses to the nearest double gets the engine's bits back); strings are quoted only
 * when they need it (RFC 4180). A folder is reused when its stamp (the four sources' paths, sizes and
 * modification times) is unchanged.
 */
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { DataType, tableFromIPC, type Table, type Vector } from 'apache-arrow';
import { parseArgs, optional } from '../../src/cli/args.js';

/** Where the CSV files of one market and book are. */
export interface PeerCsv {
  /** folder holding instruments.csv and underlyings.csv (the peer's --market) */
  market: string;
  positions: string;
  balances: string;
  /** seconds the export took now; null when the cached files were reused */
  exportSeconds: number | null;
}

/** The Arrow sources of one run: a market folder (instruments.arrow, underlyings.arrow) and a book's two files. */
export interface ArrowInputs {
  marketDir: string;
  positions: string;
  balances: string;
}

const STAMP = 'stamp.json';

/**
 * Writes (or reuses) the CSV form of `inputs` under `outDir`.
 * @throws Error when a source cannot be read as Arrow IPC
 */
export function exportCsv(inputs: ArrowInputs, outDir: string, force = false): PeerCsv {
  const sources = {
    instruments: join(inputs.marketDir, 'instruments.arrow'),
    underlyings: join(inputs.marketDir, 'underlyings.arrow'),
    positions: inputs.positions,
    balances: inputs.balances,
  };
  const stamp = JSON.stringify(
    Object.fromEntries(
      Object.entries(sources).map(([k, f]) => {
        const s = statSync(f);
        return [k, { path: resolve(f), size: s.size, mtimeMs: s.mtimeMs }];
      }),
    ),
  );
  const market = join(outDir, 'market');
  const out: Omit<PeerCsv, 'exportSeconds'> = {
    market,
    positions: join(outDir, 'positions.csv'),
    balances: join(outDir, 'balances.csv'),
  };
  const stampFile = join(outDir, STAMP);
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)
    return { ...out, exportSeconds: null };
  const t0 = performance.now();
  rmSync(stampFile, { force: true });
  mkdirSync(market, { recursive: true });
  writeTableCsv(sources.instruments, join(market, 'instruments.csv'));
  writeTableCsv(sources.underlyings, join(market, 'underlyings.csv'));
  writeTableCsv(sources.positions, out.positions);
  writeTableCsv(sources.balances, out.balances);
  writeFileSync(stampFile, stamp);
  return { ...out, exportSeconds: (performance.now() - t0) / 1000 };
}

/** One Arrow IPC file (file or stream format) as CSV with a header row. */
export function writeTableCsv(arrowFile: string, csvFile: string): void {
  let table: Table;
  try {
    table = tableFromIPC(readFileSync(arrowFile));
  } catch (e) {
    throw new Error(`${arrowFile}: not an Arrow IPC file (${(e as Error).message})`, { cause: e });
  }
  const names = table.schema.fields.map((f) => f.name);
  const fd = openSync(csvFile, 'w');
  try {
    writeSync(fd, names.map(quote).join(',') + '\n');
    for (const batch of table.batches) {
      const cols = names.map((_, j) => cellsOf(batch.getChildAt(j)!));
      const lines: string[] = new Array<string>(batch.numRows);
      for (let i = 0; i < batch.numRows; i++) {
        let line = cols[0]![i]!;
        for (let j = 1; j < cols.length; j++) line += ',' + cols[j]![i]!;
        lines[i] = line;
      }
      // in pieces: one string per batch could exceed V8's string limit on a large book
      for (let i = 0; i < lines.length; i += 65536) writeSync(fd, lines.slice(i, i + 65536).join('\n') + '\n');
    }
  } finally {
    closeSync(fd);
  }
}

/** A column's cells as CSV fields. */
function cellsOf(v: Vector): string[] {
  const n = v.length;
  const out = new Array<string>(n);
  const type = v.type;
  if (DataType.isDictionary(type)) {
    // each dictionary entry rendered once, then looked up by index (a book's accounts and instruments repeat)
    const rendered = new Map<unknown, string>();
    for (let i = 0; i < n; i++) {
      const x = v.get(i);
      let s = rendered.get(x);
      if (s === undefined) rendered.set(x, (s = field(x)));
      out[i] = s;
    }
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = field(v.get(i));
  return out;
}

/** One cell as a CSV field: null empty, numbers and bigints as written by String, dates as epoch ms. */
function field(x: unknown): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'number' || typeof x === 'bigint') return String(x);
  if (x instanceof Date) return String(x.getTime());
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  return quote(String(x));
}

function quote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function main(argv: string[]): number {
  const p = parseArgs(argv, { market: {}, positions: {}, balances: {}, out: {}, force: { flag: true } }, 'export csv');
  const marketDir = optional(p, 'market');
  const positions = optional(p, 'positions');
  const balances = optional(p, 'balances');
  const out = optional(p, 'out');
  if (!marketDir || !positions || !balances || !out)
    throw new Error('usage: exportCsv --market DIR --positions F --balances F --out DIR [--force]');
  const r = exportCsv({ marketDir, positions, balances }, out, p.options.force === true);
  process.stdout.write(
    `${r.exportSeconds === null ? 'reused' : `written in ${r.exportSeconds.toFixed(2)} s`}: ` +
      `--market ${r.market} --positions ${r.positions} --balances ${r.balances}\n`,
  );
  return 0;
}

if (/exportCsv\.[jt]s$/.test(process.argv[1] ?? '')) process.exitCode = main(process.argv.slice(2));
