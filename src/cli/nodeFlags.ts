/**
 * The V8 flags the engine runs under: the `margin-engine` command (src/cli/main.ts), `npm run demo` and
 * the benchmark's child processes pass them to node (they are process-wide and must be given on node's
 * command line: V8 reads them when an isolate starts). The command's first two lines are a shell and
 * JavaScript polyglot: `#!/bin/sh`, then a line that is a comment to node and, to any POSIX shell,
 * `exec node <flags> "$0" "$@"` (an `env -S` shebang would be simpler, but BusyBox's env, Alpine's,
 * has no -S). Started as `node dist/bundle/main.js`, node runs without them; `margin-engine
 * --version` prints the flags node runs under.
 *
 * `--no-concurrent-recompilation`: V8 optimises hot functions on the thread that runs them instead of
 * on its background threads. A run's hot loops each run once, on three threads (main, cpu pool, report)
 * over two cores; the background compilations competed with them for the cores and cost more CPU than
 * they saved. Measured on the 2-core machine (intraday, cpu, 4 runs each, in one session): the whole
 * process used 1.36–1.40 s of CPU against 1.55–1.69 s without the flag (V8's background threads from
 * ~400 ms down to ~100 ms), and a run took 0.86–0.91 s against 0.95–1.03 s. Tried beside it, without
 * gain: --single-threaded-gc, --v8-pool-size=1, --single-threaded, --maglev, --max-semi-space-size.
 *
 * The command's shell line also unsets NODE_EXTRA_CA_CERTS ({@link DROPPED_ENV}) before it execs node.
 * Node 20 reads that file, and builds its whole root certificate store with it, eagerly at start-up, on
 * the main thread, before any of the engine's code runs; the engine opens no TLS connection (its one
 * network use is `serve`, plain HTTP), so the certificates are never read. Measured on the 2-core
 * machine, whose environment sets it to Debian's bundle (215 KB): an empty script reaches its first line
 * 104–109 ms after the process starts with the variable, 24–27 ms without (69–73 ms with it pointing at
 * /dev/null: the root store alone). Worker threads do not pay it. A future command that makes a TLS
 * request must keep the variable (users behind a proxy's certificate authority set it for that).
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];

/** Environment variables the command's shell line unsets before it execs node (see above). */
export const DROPPED_ENV: readonly string[] = ['NODE_EXTRA_CA_CERTS'];
