#!/bin/sh
//usr/bin/env true; exec node --no-concurrent-recompilation "$0" "$@"
/**
 * margin-engine: the command-line entry. Each command lives in its own module (src/cli/<command>.ts)
 * exporting `help` and `main(argv) -> exit code`; they are loaded lazily so `--help` is instant and a
 * command never pays for another's dependencies.
 * Exit codes: 0 ok, 2 bad input, 1 internal error.
 * The first two lines start node with the engine's V8 flags when the file is run as a command: a shell
 * runs it (#!/bin/sh) and the second line, a comment to node, execs node on this file (nodeFlags.ts).
 */
import { InputError, EXIT_BAD_INPUT, EXIT_INTERNAL } from '../errors.js';

interface CommandModule {
  help: string;
  main(argv: string[]): Promise<number>;
}

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
};

export const HELP = `margin-engine — portfolio margin for crypto derivatives (Arrow in, GPU/worker-pool revaluation, DuckDB out)

Usage: margin-engine <command> [options]     margin-engine <command> --help

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 ok, 2 bad input, 1 internal error.
`;

export async function cli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
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
    return await mod.main(rest);
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
  const detail = rest.filter((line) => !headline.includes(line)).map((line) => `  ${line}`);
  return [headline, ...detail].join('\n') + '\n';
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

// Run when executed directly (node dist/src/cli/main.js, or the npm bin link).
const invoked = process.argv[1] ?? '';
if (/(?:main\.[jt]s|margin-engine)$/.test(invoked)) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`margin-engine: internal error: ${(e as Error).message}\n`);
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
