/**
 * `margin-engine price`: batch Black-76 pricer (prices, forward Greeks, coin prices, implied vols) on a
 * chosen backend. Logic in src/pricing/priceBatch.ts; CSV format in src/pricing/priceCsv.ts.
 */
import { reasonFor } from '../engine/unavailableReason.js';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, required, optional, usageError } from './args.js';
import { fileError } from '../errors.js';
import { parsePriceCsv, formatPriceCsv } from '../pricing/priceCsv.js';
import { priceBatch } from '../pricing/priceBatch.js';
import type { BackendChoice } from '../engine/types.js';

export const help = `margin-engine price --in CSV --out CSV [--backend auto|cpu|gl|webgpu] [--implied] [--verbose]

Prices European options on forwards with Black-76 (docs/methodology.md §1).

Input columns: type (C or P), forward, strike (same currency), t_years (≥ 0; 0 = intrinsic),
vol (decimal per year), discount (factor applied to the undiscounted price). Other columns are kept.
With --implied: a price column too (discounted, same currency as forward), and vol is ignored.

Output: the input columns plus price, delta_fwd (∂price/∂forward), gamma_fwd, vega (per 1.00 of vol),
price_coin (price / forward: an inverse option's coin price) and, with --implied, implied_vol (empty
when not recoverable; the reasons go to stderr; Greeks are then at the implied vol). Same row order.

--backend  cpu: float64 in-process (the reference). gl / webgpu: float32 on gpu.js after a self-check
           against float64 (price within 5e-6 × forward). auto (default): webgpu, gl, then cpu.
           The backend that ran is reported on stderr, and briefly why the others did not
           (--verbose: in full).
Exit codes: 0 ok, 2 bad input (file, row, column and value named), 3 the environment (disk full, no X
display for --backend gl), 1 internal error.`;

const BACKENDS = ['auto', 'cpu', 'gl', 'webgpu'] as const;

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { in: {}, out: {}, backend: {}, implied: { flag: true }, verbose: { flag: true } },
    'price',
  );
  const inPath = required(p, 'in', 'price');
  const outPath = required(p, 'out', 'price');
  const backend = (optional(p, 'backend') ?? 'auto') as BackendChoice;
  if (!(BACKENDS as readonly string[]).includes(backend))
    throw usageError('price', `--backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`);
  const implied = p.options.implied === true;
  let text: string;
  try {
    text = await readFile(inPath, 'utf8');
  } catch (e) {
    throw fileError(inPath, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const table = parsePriceCsv(text, inPath, implied);
  const result = await priceBatch(table.input, { backend, implied });
  await writeFile(outPath, formatPriceCsv(table, result.output));
  const tried = Object.entries(result.backend.tried)
    .filter(([n]) => n !== result.backend.chosen)
    .map(([n, why]) => `${n}: ${reasonFor(why, p.options.verbose === true)}`);
  process.stderr.write(
    `price: ${table.input.count} rows on backend ${result.backend.chosen} (${result.backend.kernelClass})${tried.length ? `; not used: ${tried.join('; ')}` : ''}\n`,
  );
  if (implied && result.notRecoverable.size > 0) {
    process.stderr.write(`price: implied vol not recoverable on ${result.notRecoverable.size} row(s):\n`);
    let shown = 0;
    for (const [row, reason] of result.notRecoverable) {
      if (shown++ >= 20) {
        process.stderr.write(`  … and ${result.notRecoverable.size - 20} more\n`);
        break;
      }
      process.stderr.write(`  row ${row}: ${reason}\n`);
    }
  }
  return 0;
}
