/**
 * A small, strict argument parser: `--name value`, `--name=value`, boolean `--flag`. Unknown options and
 * missing values are bad input (exit 2) with a message naming the option.
 */
import { InputError } from '../errors.js';

export interface OptionSpec {
  /** boolean flags take no value */
  flag?: boolean;
  /** may be given several times (values collected in order) */
  multiple?: boolean;
}

export interface Parsed {
  options: Record<string, string | boolean | string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): Parsed {
  const options: Record<string, string | boolean | string[]> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const s = spec[name];
    if (!s) throw usageError(command, `unknown option --${name}`);
    if (s.flag) {
      if (eq >= 0) throw usageError(command, `--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw usageError(command, `--${name} needs a value`);
    if (s.multiple) ((options[name] ??= []) as string[]).push(value);
    else options[name] = value;
  }
  return { options, positional };
}

export function usageError(command: string, rule: string): InputError {
  return new InputError(
    { file: `margin-engine ${command}`, row: null, column: null, value: null, rule },
    `margin-engine ${command}: ${rule} (see --help)`,
  );
}

/** The value of a required string option, or a usage error naming it. */
export function required(p: Parsed, name: string, command: string): string {
  const v = p.options[name];
  if (typeof v !== 'string' || v === '') throw usageError(command, `--${name} is required`);
  return v;
}

export function optional(p: Parsed, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * An integer option written in decimal digits (no sign, exponent or fraction), at least `min` (default
 * 0), or a usage error naming it and the value.
 */
export function integerOption(p: Parsed, name: string, command: string, fallback?: number, min = 0): number {
  const v = p.options[name];
  if (v === undefined) {
    if (fallback === undefined) throw usageError(command, `--${name} is required`);
    return fallback;
  }
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw usageError(
      command,
      `--${name} must be ${min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`} (decimal digits), got ${JSON.stringify(v)}`,
    );
  return n;
}
