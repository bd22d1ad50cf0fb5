/**
 * Writing output files so that a failure never leaves a half-written one: each file is written to a
 * temporary name in the same directory and renamed into place only when every file of the set has been
 * written completely.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a set of files atomically per file (temp file + rename), renaming only after all are written.
 * Creates the directories as needed. On any error the temporary files are removed and the error rethrown;
 * files that existed before are left as they were unless every write succeeded.
 * @throws the underlying file-system error (e.g. EACCES, ENOSPC).
 */
export function writeFilesAtomic(files: { path: string; bytes: Uint8Array }[]): void {
  const temps: string[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.tmp-${process.pid}`);
      temps.push(tmp);
      writeFileSync(tmp, f.bytes);
    }
    files.forEach((f, i) => renameSync(temps[i]!, f.path));
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
}
