/**
 * The temporary files a command writes before it publishes a new file (a new report is built as
 * `FILE.partial-<pid>-…` and renamed into place once committed): removed when the command is
 * interrupted (SIGINT, SIGTERM), and, after a kill -9 or a crash, by the next command that writes the
 * same file (those of processes that no longer run). A new file is created by one process at a time:
 * `FILE.creating` holds the creator's pid while it works (docs/report.md, "Writing a new report").
 */
import { closeSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Whether a process `pid` runs (a process of another user counts as running). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `path` and what DuckDB adds beside it (its WAL, its spill directory); never throws. */
export function removeWithCompanions(path: string): void {
  for (const p of [path, `${path}.wal`, `${path}.tmp`]) {
    try {
      rmSync(p, { force: true, recursive: true });
    } catch {
      /* gone, or not ours to remove: nothing more to do */
    }
  }
}

/** The pid in a partial file's name `<file>.partial-<pid>[-…]`, or null when `name` is not one of `file`'s. */
function partialPid(file: string, name: string): number | null {
  const prefix = `${basename(file)}.partial-`;
  if (!name.startsWith(prefix)) return null;
  const m = /^(\d+)(?:[-.]|$)/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : null;
}

/**
 * Removes the partial files of `file` (and their WAL and spill directory) left by processes that no
 * longer run; returns the paths removed. Partials of running processes (this one included) are kept.
 */
export function removeStalePartials(file: string): string[] {
  const dir = dirname(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = partialPid(file, name);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    removeWithCompanions(join(dir, name));
    removed.push(join(dir, name));
  }
  return removed;
}

/** The lock of a new file being created: `FILE.creating`, holding the creator's pid. */
export function createLockPath(file: string): string {
  return `${file}.creating`;
}

/**
 * Takes the right to create `file`: writes this process's pid to `FILE.creating`, exclusively. A lock
 * whose process no longer runs is taken over. Returns null when taken, else the pid of the running
 * process that holds it. Release it with {@link releaseCreateLock}.
 */
export function acquireCreateLock(file: string): number | null {
  const lock = createLockPath(file);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      continue; // released meanwhile: try again
    }
    if (holder === process.pid) return null;
    // a lock being written has no pid yet: its writer runs
    if (Number.isNaN(holder) || holder === 0 || pidAlive(holder)) return Number.isNaN(holder) ? 0 : holder;
    rmSync(lock, { force: true }); // its process died (kill -9): taken over
  }
  return 0;
}

/** Releases the lock of `file` when this process holds it. */
export function releaseCreateLock(file: string): void {
  const lock = createLockPath(file);
  try {
    if (Number(readFileSync(lock, 'utf8').trim()) === process.pid) rmSync(lock, { force: true });
  } catch {
    /* not there */
  }
}

const cleanups = new Set<() => void>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

function onSignal(signal: NodeJS.Signals): void {
  for (const f of cleanups) {
    try {
      f();
    } catch {
      /* the others still run */
    }
  }
  cleanups.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // the signal again, now without this handler: the process ends as the signal ends it (exit 130, 143)
  process.kill(process.pid, signal);
}

/**
 * Runs `cleanup` (synchronously) if the process receives SIGINT or SIGTERM before the returned
 * function is called; the process then ends by that signal as it would have.
 */
export function cleanupOnSignal(cleanup: () => void): () => void {
  if (cleanups.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}
