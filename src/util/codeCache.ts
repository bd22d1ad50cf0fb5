/**
 * Loads a CommonJS file of the bundle (dist/bundle/cli.cjs, the command's code; reportWorker.cjs, the report
 * worker's: scripts/bundle.mjs) with a V8 code cache: the compiled code V8 wrote for the file after the build's
 * training run used it (`trainCodeCache`; the top level alone, `writeCodeCache`, where that run failed), so that a
 * command starts, and calls its functions, without parsing and compiling ~1 MB of JavaScript.
 * Node 20 keeps no such cache itself: it has none for ES modules (module.enableCompileCache is Node 22), and its
 * `require` compiles every time.
 *
 * V8 takes the cache only when it was written by the same V8 under the same V8 flags for a source of the
 * same length; otherwise it compiles the source as usual and the command runs as fast as it would without
 * one (`cache: 'rejected'`). V8 (a release build) does not check the cache's bytes themselves: a damaged
 * cache with a sound header stops the process in V8 ("Fatal error ... unreachable code", seen with a
 * flipped byte), and a cache of another source of the same length would run that source's code. So the file
 * starts with the SHA-256 of the source and the cache (~1 ms to check); a cache that does not match is not
 * given to V8. Nothing here writes a cache while a command runs, except in the build's training run
 * (trainCodeCache): the file is the build's.
 *
 * The file is run as Node runs a CommonJS module (its own `exports`, `require`, `module`, `__filename`,
 * `__dirname`), in this thread's context. It has no dynamic `import()`: a script of node:vm cannot import
 * without an experimental option, so the build turns its imports of packages into `require`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/** What a module's code is wrapped in (one line: the file's line numbers stay as they are). */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';

/** The cache file: the SHA-256 of the source and V8's cache, then V8's cache. */
const DIGEST_BYTES = 32;

function digest(source: string, cache: Uint8Array): Buffer {
  return createHash('sha256').update(source).update(cache).digest();
}

export interface LoadedCommonJs {
  /** the module's `module.exports` */
  exports: unknown;
  /** the compiled script (its code cache: `writeCodeCache`) */
  script: Script;
  /** the module's source */
  source: string;
  /** whether V8 took the cache: none given, accepted, or rejected (and the source compiled) */
  cache: 'none' | 'accepted' | 'rejected';
}

/**
 * Runs the CommonJS module `file` with the code cache in `cacheFile` when there is one (null or a missing
 * file: none).
 */
export function loadCommonJs(file: string, cacheFile: string | null): LoadedCommonJs {
  const source = readFileSync(file, 'utf8');
  let stored: Buffer | null = null;
  if (cacheFile !== null) {
    try {
      stored = readFileSync(cacheFile);
    } catch {
      stored = null; // no cache: compiled from the source
    }
  }
  let cachedData: Buffer | undefined;
  if (stored !== null && stored.length > DIGEST_BYTES) {
    const payload = stored.subarray(DIGEST_BYTES);
    if (digest(source, payload).equals(stored.subarray(0, DIGEST_BYTES))) cachedData = payload;
  }
  const script = new Script(WRAP_HEAD + source + WRAP_TAIL, { filename: file, cachedData });
  const cache =
    stored === null ? 'none' : cachedData === undefined || script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script, source, cache };
}

/**
 * Writes the code V8 compiled so far for a module loadCommonJs ran to `cacheFile`, behind the digest of its
 * source and the cache (the build, scripts/bundle.mjs).
 */
export function writeCodeCache(loaded: Pick<LoadedCommonJs, 'script' | 'source'>, cacheFile: string): void {
  const cache = loaded.script.createCachedData();
  writeFileSync(cacheFile, Buffer.concat([digest(loaded.source, cache), cache]));
}

/**
 * The folder of a training run (scripts/bundle.mjs): with this variable set, each bundled file a thread runs writes
 * its code cache there, named `<file>.cache`, once the run's work is done (the main thread at its exit, the report
 * worker after its COMMIT: writeTrainedCodeCache), from every function the run compiled. The build's first cache
 * holds the top level only (what loading the file compiles); a run then parses and compiles each function it calls
 * the first time it calls it (~50 ms of the main thread's CPU and ~15 ms of the report thread's in an intraday run,
 * perf), which a cache written after a run has already.
 */
export const CODE_CACHE_TRAINING_ENV = 'MARGIN_ENGINE_CODE_CACHE_TRAINING';

/** This thread's writer of its trained cache (one bundled file a thread: the command's, or the report worker's). */
const TRAINED_WRITER = Symbol.for('margin-engine.writeTrainedCodeCache');

/**
 * In a training run ({@link CODE_CACHE_TRAINING_ENV}: an absolute path to an existing folder), makes `loaded` (the
 * bundled `file`) this thread's file whose code cache writeTrainedCodeCache writes, and writes it at the thread's
 * exit as well (a worker that is stopped never sees its exit: it calls writeTrainedCodeCache itself). Otherwise
 * (the variable unset, relative, or not a folder) does nothing. A write that fails says so on stderr and changes
 * nothing else: the run's outcome and exit status are its own (the build then keeps the top-level caches).
 */
export function trainCodeCache(loaded: Pick<LoadedCommonJs, 'script' | 'source'>, file: string): void {
  const dir = process.env[CODE_CACHE_TRAINING_ENV];
  if (!dir || !isAbsolute(dir) || !isFolder(dir)) return;
  const target = join(dir, `${basename(file)}.cache`);
  const write = () => {
    try {
      writeCodeCache(loaded, target);
    } catch (e) {
      process.stderr.write(`code cache training: ${target} not written: ${(e as Error).message}\n`);
    }
  };
  (globalThis as Record<symbol, unknown>)[TRAINED_WRITER] = write;
  process.on('exit', write);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes this thread's trained code cache now (trainCodeCache); nothing outside a training run. */
export function writeTrainedCodeCache(): void {
  const write = (globalThis as Record<symbol, unknown>)[TRAINED_WRITER];
  if (typeof write === 'function') write();
}
