/**
 * The V8 flags the engine runs under: the `margin-engine` command (src/cli/main.ts), `npm run demo` and
 * the benchmark's child processes pass them to node (they are process-wide and must be given on node's
 * command line: V8 reads them when an isolate starts). The command's first two lines are a shell and
 * JavaScript polyglot: `#!/bin/sh`, then a line that is a comment to node and, to any POSIX shell,
 * `exec node <flags> "$0" "$@"` (an `env -S` shebang would be simpler, but BusyBox's env, Alpine's,
 * has no -S). Started as `node dist/src/cli/main.js`, node runs without them; `margin-engine
 * --version` prints the flags node runs under.
 *
 * `--no-concurrent-recompilation`: V8 optimises hot functions on the thread that runs them instead of
 * on its background threads. A run's hot loops each run once, on three threads (main, cpu pool, report)
 * over two cores; the background compilations competed with them for the cores and cost more CPU than
 * they saved. Measured on the 2-core machine (intraday, cpu, 4 runs each, in one session): the whole
 * process used 1.36–1.40 s of CPU against 1.55–1.69 s without the flag (V8's background threads from
 * ~400 ms down to ~100 ms), and a run took 0.86–0.91 s against 0.95–1.03 s. Tried beside it, without
 * gain: --single-threaded-gc, --v8-pool-size=1, --single-threaded, --maglev, --max-semi-space-size.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];
