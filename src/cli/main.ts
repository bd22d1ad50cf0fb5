#!/bin/sh
//usr/bin/env true; unset NODE_EXTRA_CA_CERTS; exec node --no-concurrent-recompilation "$0" "$@"
/**
 * margin-engine: the command-line entry. Each command lives in its own module (src/cli/<command>.ts)
 * exporting `help` and `main(argv) -> exit code`; they are loaded lazily so `--help` is instant and a
 * command never pays for another's dependencies.
 * Exit codes (EXIT_* of src/errors.ts, README.md "Exit codes"): 0 ok, 2 bad input, 3 the environment
 * (disk full, no X display, another process writing the report), 1 internal error (a bug).
 * The first two lines start node with the engine's V8 flags when the file is run as a command: a shell
 * runs it (#!/bin/sh) and the second line, a comment to node, execs node on this file (nodeFlags.ts), without
 * NODE_EXTRA_CA_CERTS (nodeFlags.ts says why).
 */
import { EnvironmentError, InputError, EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL } from '../errors.js';

interface CommandModule {
  help: string;
  main(argv: string[]): Promise<number>;
  /** the process exits as soon as `main` returns, without waiting for threads and handles to wind down */
  exitOnReturn?: boolean;
}

/** Set by `cli` when the command that ran asks to exit on return (`run`: its report is committed). */
let exitPromptly = false;

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: { summary: 'compute margins for a book and write a run to a DuckDB report', load: () => import('./run.js') },
  demo: { summary: 'run the full pipeline on the bundled sample (out/demo.duckdb)', load: () => import('./demo.js') },
  validate: {
    summary: 'check a market snapshot, positions and balances against every rule',
    load: () => import('./validate.js'),
  },
  import: {
    summary: 'import Deribit CSVs into instruments.arrow and underlyings.arrow',
    load: () => import('./import.js'),
  },
  generate: {
    summary: 'generate a realistic seeded book (positions.arrow, balances.arrow)',
    load: () => import('./generate.js'),
  },
  scenarios: { summary: 'build and export a scenario set', load: () => import('./scenarios.js') },
  price: {
    summary: 'batch Black-76 pricer (prices, Greeks, implied vols) on a chosen backend',
    load: () => import('./price.js'),
  },
  export: { summary: 'export a table or view of a report to Parquet', load: () => import('./export.js') },
  sql: { summary: 'run a read-only SQL query on a report (table, CSV or JSON)', load: () => import('./sql.js') },
  report: { summary: 'write a run of a report as one self-contained HTML page', load: () => import('./report.js') },
  whatif: {
    summary: "an account's margins before and after hypothetical trades",
    load: () => import('./whatif.js'),
  },
  serve: { summary: 'the what-if service over HTTP (JSON)', load: () => import('./serve.js') },
  cascade: {
    summary: 'cascading-liquidation stress: how a shock grows through forced liquidations',
    load: () => import('./cascade.js'),
  },
  surface: {
    summary: 'fit the implied-volatility surface (SVI) of a market and write it',
    load: () => import('./surface.js'),
  },
};

export const HELP = `margin-engine — portfolio margin for crypto derivatives (Arrow in, GPU/worker-pool revaluation, DuckDB out)

Usage: margin-engine <command> [options]     margin-engine <command> --help

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join('\n')}

Exit codes:
  0  ok
  2  bad input: a file, row, column, value or option is wrong (the message names it; nothing written)
  3  the environment: the disk is full, no X display for --backend gl, another process is writing the
     same report (the message names the file or resource; the report is left as it was)
  1  internal error: a bug (MARGIN_ENGINE_DEBUG=1 prints its stack)
`;

export async function cli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // no command is a usage error: the usage on stderr, exit 2 (asked for with --help it is exit 0)
    process.stderr.write(`margin-engine: a command is required\n\n${HELP}`);
    return EXIT_BAD_INPUT;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (name === '--version') {
    // and the V8 flags node runs under (src/cli/nodeFlags.ts): the command gives them, `node main.js` not
    process.stdout.write(
      `margin-engine 0.1.0 (node ${process.version}${process.execArgv.length > 0 ? ` ${process.execArgv.join(' ')}` : ''})\n`,
    );
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`margin-engine: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return EXIT_BAD_INPUT;
  }
  let mod: CommandModule;
  try {
    mod = await entry.load();
  } catch (e) {
    process.stderr.write(
      `margin-engine ${name}: this command is not available in this build (${(e as Error).message})\n`,
    );
    return EXIT_INTERNAL;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(mod.help.endsWith('\n') ? mod.help : mod.help + '\n');
    return 0;
  }
  try {
    const code = await mod.main(rest);
    exitPromptly = mod.exitOnReturn === true;
    return code;
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(renderInputError(name, e));
      return EXIT_BAD_INPUT;
    }
    const fsProblem = fileSystemProblem(e);
    if (fsProblem) {
      process.stderr.write(`margin-engine ${name}: ${fsProblem}\n`);
      return EXIT_BAD_INPUT;
    }
    const environment = e instanceof EnvironmentError ? e.message : environmentProblem(e, name);
    if (environment) {
      process.stderr.write(`margin-engine ${name}: ${environment}\n`);
      return EXIT_ENVIRONMENT;
    }
    const err = e as Error;
    process.stderr.write(`margin-engine ${name}: internal error: ${err.message}\n`);
    if (process.env.MARGIN_ENGINE_DEBUG) process.stderr.write(`${err.stack}\n`);
    return EXIT_INTERNAL;
  }
}

/**
 * The message of a bad-input error, said once: without repeating the command's name when the message
 * already starts with it, and without detail lines that only repeat the headline.
 */
export function renderInputError(command: string, e: InputError): string {
  const prefix = `margin-engine ${command}:`;
  const lines = e.message.split('\n');
  // a lone violation without its own summary is its own headline
  if (e.violations.length === 1 && lines[0] === '1 input violation') lines.shift();
  const [head = '', ...rest] = lines.map((l) => l.trim());
  const headline = head.startsWith(prefix) ? head : `${prefix} ${head}`;
  // a file-level error's one violation repeats its headline with the column added: dropped when its
  // rule (and value) are in the headline already, kept when it adds a value
  const lone = e.violations.length === 1 ? e.violations[0]! : null;
  const repeats = (line: string) =>
    headline.includes(line) ||
    (lone !== null && headline.includes(lone.rule) && (lone.value === null || headline.includes(lone.value)));
  const detail = rest.filter((line) => !repeats(line)).map((line) => `  ${line}`);
  return [headline, ...detail].join('\n') + '\n';
}

/** The commands that write a run into a DuckDB report (one transaction, rolled back on failure). */
const REPORT_COMMANDS = ['run', 'demo', 'cascade'];

/** The message of a disk that is full, as the file system (errno) and DuckDB (its IO Error) say it. */
const DISK_FULL = /\b(ENOSPC|EDQUOT)\b|No space left on device|Disk quota exceeded/i;

/**
 * Problems of the environment rather than of the input or of the engine: a full disk (ENOSPC from node,
 * "No space left on device" from DuckDB, through the report's thread). Returns the message (exit 3), or
 * null. A command that writes a report (`command` run, demo, cascade) has rolled its transaction back
 * and not published a new file, which the message says.
 */
export function environmentProblem(e: unknown, command = ''): string | null {
  const err = e as (NodeJS.ErrnoException & { dest?: string }) | null;
  if (!err || typeof err !== 'object') return null;
  const text = `${err.code ?? ''} ${err.message ?? ''}`;
  if (!DISK_FULL.test(text)) return null;
  const path = err.dest ?? err.path ?? diskFullPath(err.message ?? '');
  const line = (err.message ?? '').split('\n')[0]!;
  const first = path && line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line;
  // (unless the run was committed and only closing the file failed: the message says so itself)
  const kept =
    REPORT_COMMANDS.includes(command) && !/ was committed, /.test(line)
      ? '; the report is unchanged (the run was rolled back; a new report is not created)'
      : '';
  return `${path ? `${path}: ` : ''}the disk is full (${first})${kept}. Free some space and run again`;
}

/** The file named in a "No space left on device" message of DuckDB or node, if it names one. */
function diskFullPath(message: string): string | null {
  // a quoted path (DuckDB), or a path before the first colon (the engine's own messages); not an errno code
  const path = /"([^"]+)"/.exec(message)?.[1] ?? /^([^:\s]+):/.exec(message)?.[1] ?? null;
  return path !== null && /[/\\.]/.test(path) ? path : null;
}

/**
 * Errors of the file system about a path the user named (cannot be written, is a directory, is not a
 * directory, exists, read-only file system) are bad input, not internal errors: exit 2 with the path.
 */
export function fileSystemProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EISDIR: 'is a directory, a file was expected',
    ENOTDIR: 'a directory was expected',
    EEXIST: 'already exists',
  };
  if (!err || typeof err.code !== 'string' || !(err.code in why)) return null;
  const path = err.dest ?? err.path;
  return `${path ? `${path}: ` : ''}${why[err.code]} (${err.syscall ?? 'file system'}: ${err.code})`;
}

// Run when executed directly (dist/bundle/main.js, which runs this module's bundle, cli.cjs: src/cli/launch.ts;
// or dist/src/cli/main.js; or the npm bin link). Loaded otherwise (the build writing cli.cjs's code cache, a
// test), it starts nothing.
const invoked = process.argv[1] ?? '';
if (/(?:main\.[jt]s|margin-engine)$/.test(invoked)) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // once the output is written: a run's pool and report threads have done their work
      if (exitPromptly) process.stdout.write('', () => process.exit(code));
    },
    (e) => {
      process.stderr.write(`margin-engine: internal error: ${(e as Error).message}\n`);
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
