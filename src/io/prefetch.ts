/**
 * Whole-file reads begun ahead of their use. `margin-engine run` calls {@link prefetchFile} for the book's files
 * as soon as its arguments are read: each file is read by one `read` on the thread pool (its page faults and
 * copy off the main thread) while the main thread imports the pipeline and loads the market, and openArrow
 * (arrowSource.ts) takes the buffer ({@link takePrefetched}) instead of reading the file itself.
 *
 * Nothing here reports an error: a file that cannot be opened or read is read again by openArrow, which says what
 * is wrong with it, and so is one replaced or changed meanwhile (another device, inode, size or time). This module
 * imports only node:fs, so that the command can call it before it imports the loaders.
 */
import { closeSync, fstatSync, openSync, read } from 'node:fs';

/**
 * Files up to this size (512 MiB: about 20 million positions) are read whole, in one read, and their
 * batches are views of that buffer: the raw file is then the one copy of each column the loader holds
 * beside the engine's arrays (docs/data.md, "Sizes"). Streaming costs a round trip through the event loop
 * per read (several per batch), and on a busy machine each one waits for the CPU: the intraday positions
 * (25 MB, 16 batches) took 120 ms to stream during a run against 40–75 ms alone. It also allocates every
 * batch's buffers anew: the 1,000,000-account book's positions (256 MB, 155 batches) loaded in 2.24–2.54 s
 * streamed against 1.90–1.91 s read whole, and the run's peak resident memory was higher streamed (2.02–2.08
 * against 1.70–1.71 GiB: the streamed buffers wait for the collector). Larger files stream, one batch at a time.
 * A whole read is one call: FileHandle.readFile reads 512 KiB per round trip through the thread pool, and the
 * main thread, with nothing else to do, waited ~20 ms idle for the intraday positions (a run 2.5 % faster read
 * at once, bench/README.md, session 28); `margin-engine run` starts it early, here, and openArrow reads the
 * other files synchronously.
 */
export const WHOLE_READ_MAX = 512 * 2 ** 20;

/** A file's identity: the bytes read ahead are the file's when the file opened later has the same. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** The bytes of a file read ahead, and the identity of the file they were read from. */
export interface Prefetched extends FileIdentity {
  bytes: Buffer;
}

const pending = new Map<string, Promise<Prefetched | null>>();

/**
 * Starts reading `file` whole when it is a regular file of at most `maxBytes` bytes (once per path; a second
 * call, or a larger file, does nothing). Never throws.
 */
export function prefetchFile(file: string, maxBytes: number): void {
  if (pending.has(file)) return;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return;
  }
  const close = () => {
    try {
      closeSync(fd);
    } catch {
      /* nothing was written through it */
    }
  };
  let id: FileIdentity;
  let bytes: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > maxBytes) {
      close();
      return;
    }
    id = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    bytes = Buffer.allocUnsafeSlow(st.size);
  } catch {
    close();
    return;
  }
  pending.set(
    file,
    new Promise((resolve) =>
      read(fd, bytes, 0, id.size, 0, (err, n) => {
        close();
        resolve(err || n !== id.size ? null : { ...id, bytes });
      }),
    ),
  );
}

/**
 * The bytes of `file` read ahead (taken: a second call returns null), or null when none was started or the read
 * failed. The caller uses them only for a file of the same identity (`sameFile`).
 */
export function takePrefetched(file: string): Promise<Prefetched | null> | null {
  const p = pending.get(file);
  if (!p) return null;
  pending.delete(file);
  return p;
}

/** Whether `a` and `b` are the same file, unchanged: device, inode, size and times. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
