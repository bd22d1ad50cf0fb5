/**
 * The temporary files a command writes before it publishes a new file (a new report is built as
 * `FILE.partial-<pid>-…` and renamed into place once committed): removed when the command is
 * interrupted (SIGINT, SIGTERM), and, after a kill -9 or a crash, by the next command that writes the
 * same file (those of processes that no longer run). A new file is created by one process at a time:
 * `FILE.creating` holds the creator's pid while it works (docs/report.md, "Writing a new report").
 */
import { closeSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

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

/**
 * The creation gate, shared by the process's threads: `gate[0]` counts the threads creating a partial
 * file now (copying the report template to it, or DuckDB opening it by its name), and is CLOSED (negative) once
 * the signal's clean-up has begun. The clean-up waits for the creators to finish before it removes their
 * files: a file removed between its copy and DuckDB's open would be created afresh by the open, and left
 * behind when the signal ends the process (seen once in 30 interrupted runs before the gate).
 *
 * A creation on another thread is waited for at most GATE_WAIT_MS (a thread that died inside the gate leaves its
 * count: a signal then waits that long). One on the main thread finishes on a later turn of this thread, so the
 * clean-up is deferred to its end, to GATE_WAIT_MS, or to a second signal, whichever comes first.
 */
const CLOSED = -1;
let gate: Int32Array = new Int32Array(new SharedArrayBuffer(4));
/** creations in flight on the main thread */
let mainCreating = 0;
/** the signal whose clean-up waits for the main thread's creations, and its time limit */
let deferred: NodeJS.Signals | null = null;
let deferLimit: NodeJS.Timeout | null = null;
/** how long the clean-up waits for a creation in flight (a copy and an open take milliseconds) */
const GATE_WAIT_MS = 5_000;

/** This process's creation gate, for a worker thread that creates partial files ({@link adoptCreationGate}). */
export function creationGate(): Int32Array {
  return gate;
}

/** Makes this worker thread use the main thread's creation gate (`creationGate()`, passed in its data). */
export function adoptCreationGate(shared: Int32Array): void {
  gate = shared;
}

/**
 * Runs `create` (which creates a partial file and opens it) inside the creation gate: a SIGINT or SIGTERM
 * clean-up meanwhile waits until it has finished, and removes what it created.
 * @throws Error when the clean-up has begun (the process is ending): nothing is created
 */
export async function creatingPartial<T>(create: () => Promise<T>): Promise<T> {
  for (;;) {
    const n = Atomics.load(gate, 0);
    if (n < 0) throw new Error('the process is ending (SIGINT or SIGTERM): no new file is created');
    if (Atomics.compareExchange(gate, 0, n, n + 1) === n) break;
  }
  if (isMainThread) mainCreating++;
  try {
    return await create();
  } finally {
    // out of the gate (unless the clean-up closed it meanwhile)
    for (;;) {
      const n = Atomics.load(gate, 0);
      if (n <= 0 || Atomics.compareExchange(gate, 0, n, n - 1) === n) break;
    }
    Atomics.notify(gate, 0);
    if (isMainThread && --mainCreating === 0 && deferred) cleanUpAndEnd(deferred);
  }
}

/**
 * Closes the gate once no other thread is inside it (`own`: this thread's creations in flight, not waited for),
 * waiting at most GATE_WAIT_MS.
 */
function closeGate(own: number): void {
  const deadline = Date.now() + GATE_WAIT_MS;
  for (;;) {
    const n = Atomics.compareExchange(gate, 0, own, CLOSED);
    if (n === own || n < 0) return;
    const left = deadline - Date.now();
    if (left <= 0) return;
    Atomics.wait(gate, 0, n, left);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (mainCreating > 0 && deferred === null) {
    deferred = signal;
    deferLimit = setTimeout(() => cleanUpAndEnd(signal), GATE_WAIT_MS);
    return;
  }
  cleanUpAndEnd(signal);
}

/** Runs the clean-ups, then ends the process by `signal`. */
function cleanUpAndEnd(signal: NodeJS.Signals): void {
  if (deferLimit) clearTimeout(deferLimit);
  deferLimit = null;
  deferred = null;
  closeGate(mainCreating);
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
 * function is called; the process then ends by that signal as it would have. Partial files are created
 * inside {@link creatingPartial}, so that `cleanup` finds them.
 */
export function cleanupOnSignal(cleanup: () => void): () => void {
  if (cleanups.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}
