/**
 * The command line of a bench tool (`node dist/bench/<tool>.js`, `npm run bench`; bench/README.md): `--help` or
 * `-h` prints the tool's usage (exit 0); a usage error, the InputError parseArgs (src/cli/args.ts) throws for an
 * unknown option or a missing value, prints its message (exit 2); any other failure its stack (exit 1).
 */
import { InputError } from '../src/errors.js';

/** Runs `main` as tool `name`'s command line; resolves to the exit code. */
export async function runTool(
  name: string,
  usage: string,
  main: (argv: string[]) => number | Promise<number>,
  argv: string[] = process.argv.slice(2),
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    return 0;
  }
  try {
    return await main(argv);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`${e.message.split('\n')[0]}\n`);
      return 2;
    }
    process.stderr.write(`bench ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
