/**
 * Writing the report page of a run: read the run's aggregates (src/report/pageData.ts), render the page
 * (renderPage.ts) and write it under a temporary name beside the output, renamed into place once complete,
 * so a failure never leaves a partial HTML file.
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileError } from '../errors.js';
import { readPageData, type PageData } from '../report/pageData.js';
import { renderPage } from './renderPage.js';

export interface PageOutcome {
  file: string;
  runId: number;
  bytes: number;
}

/**
 * Writes the page of run `runId` (default: the latest) of report `db` to `out`, replacing it. `extend`
 * adds what the report alone does not hold (the command line's grid losses, src/cli/gridLosses.ts).
 * @throws InputError naming the report (missing, not a report, no such run) or the output (its directory
 * missing, not writable, or `out` a directory)
 */
export async function writeReportPage(
  db: string,
  out: string,
  runId?: number,
  extend?: (d: PageData) => Promise<PageData>,
): Promise<PageOutcome> {
  const dir = dirname(resolve(out));
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw fileError(out, `cannot be written: directory ${dir} does not exist`);
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory())
    throw fileError(out, 'is a directory, a file was expected');
  const read = await readPageData(db, runId);
  const data = extend ? await extend(read) : read;
  const html = renderPage(data);
  const tmp = join(dir, `.${basename(out)}.partial-${process.pid}`);
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw fileError(out, `cannot be written (${err.code ?? ''} ${err.message})`.replace('( ', '('));
  }
  return { file: out, runId: data.header.runId, bytes: Buffer.byteLength(html) };
}
