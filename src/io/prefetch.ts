/**
 * Whole-file reads begun ahead of their use. `margin-engine run` calls {@link prefetchFile} for the book's files
 * as soon as its arguments are read: each file is read by one `read` on the thread pool (its page faults and
 * copy off the main thread) while the main thread imports the pipeline and loads the market, and openArrow
 * (arrowSource.ts) takes the buffer ({@link takePrefetched}) instead of reading the file itself.
 *
 * Nothing here reports an error: a file that cannot be opened or read, or that changed size meanwhile, is read
 * again by openArrow, which says what is wrong with it. This module imports only node:fs, so that the command
 * can call it before it imports the loaders.
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

const pending = new Map<string, Promise<Buffer | null>>();

/**
 * Starts reading `file` whole when it is a regular file of at most `maxBytes` bytes (once per path; a second
 * call, or a larger file, does nothing).
 */
export function prefetchFile(file: string, maxBytes: number): void {
  if (pending.has(file)) return;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return;
  }
  let size: number;
  try {
    const st = fstatSync(fd);
    size = st.isFile() ? st.size : 0;
  } catch {
    size = 0;
  }
  if (size === 0 || size > maxBytes) {
    closeSync(fd);
    return;
  }
  const buf = Buffer.allocUnsafeSlow(size);
  pending.set(
    file,
    new Promise((resolve) =>
      read(fd, buf, 0, size, 0, (err, n) => {
        closeSync(fd);
        resolve(err || n !== size ? null : buf);
      }),
    ),
  );
}

/**
 * The prefetched content of `file` (taken: a second call returns null), or null when none was started or it
 * could not be read whole. The caller checks it against the file it opened (its size).
 */
export function takePrefetched(file: string): Promise<Buffer | null> | null {
  const p = pending.get(file);
  if (!p) return null;
  pending.delete(file);
  return p;
}
