/**
 * Errors the engine reports to its users. Every input problem is a {@link Violation}: the file, the
 * row (0-based, or null when the problem is not about one row), the column, the value found and the
 * rule it breaks. Message builders live here and nowhere else.
 */

/** One broken rule in one input cell (or one file-level problem when `row` is null). */
export interface Violation {
  file: string;
  row: number | null;
  column: string | null;
  value: string | null;
  rule: string;
}

/** The longest text a message quotes from an input; longer text is cut, saying how much was left out. */
export const MAX_QUOTED_CHARS = 100;

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\uFFFD]/gu;

/**
 * Code points that would not print as themselves (controls, the replacement character of bytes that were
 * not UTF-8, unassigned, …) as `\uXXXX`.
 */
function escapeNonPrintable(text: string): string {
  return text.replace(NON_PRINTABLE, (ch) => {
    const code = ch.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The first `max` characters of `text`, and how many more there were. */
function cut(text: string, max: number): [string, number] {
  if (text.length <= max) return [text, 0];
  const chars = [...text];
  return chars.length <= max ? [text, 0] : [chars.slice(0, max).join(''), chars.length - max];
}

/**
 * Text from an input made safe to print in a message: non-printable code points escaped as `\uXXXX`, and
 * cut after `max` characters, saying how many were left out. Binary bytes never reach the terminal raw.
 */
export function printable(text: string, max = MAX_QUOTED_CHARS): string {
  const [head, more] = cut(text, max);
  return escapeNonPrintable(head) + (more > 0 ? `… (${more} more characters)` : '');
}

/**
 * Renders a value for a message: strings quoted (escaped and cut as {@link printable} does), numbers as
 * JavaScript prints them, null as `null`.
 */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    const [head, more] = cut(v, MAX_QUOTED_CHARS);
    return escapeNonPrintable(JSON.stringify(head)) + (more > 0 ? `… (${more} more characters)` : '');
  }
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** `positions.arrow row 18211, column quantity: NaN is not a finite number` */
export function formatViolation(v: Violation): string {
  const where = [v.file];
  if (v.row !== null) where.push(`row ${v.row}`);
  let head = where.join(' ');
  if (v.column !== null) head += `${v.row !== null ? ',' : ''} column ${v.column}`;
  const value = v.value !== null ? `${v.value} ` : '';
  return `${head}: ${value}${v.rule}`;
}

/** Bad input: exit code 2. Carries every violation found (the message lists the first 20 and a count). */
export class InputError extends Error {
  readonly violations: Violation[];
  constructor(violations: Violation[] | Violation, summary?: string) {
    const list = Array.isArray(violations) ? violations : [violations];
    const shown = list.slice(0, 20).map(formatViolation);
    const more = list.length > 20 ? [`… and ${list.length - 20} more (${list.length} in all)`] : [];
    super([summary ?? `${list.length} input violation${list.length === 1 ? '' : 's'}`, ...shown, ...more].join('\n  '));
    this.name = 'InputError';
    this.violations = list;
  }
}

/** A file-level input error (unreadable, not Arrow, wrong schema): names the file and what was expected. */
export function fileError(
  file: string,
  rule: string,
  column: string | null = null,
  value: string | null = null,
): InputError {
  return new InputError({ file, row: null, column, value, rule }, `${file}: ${rule}`);
}

/**
 * A problem of the environment the command runs in, not of its input nor of the engine: the disk is
 * full, no X display for `--backend gl`, another process is writing the same report. Exit code 3; the
 * message names the file, option or resource and what to do.
 */
export class EnvironmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvironmentError';
  }
}

/**
 * Exit codes of every command (README.md, "Exit codes"): 0 ok, 2 bad input (a file, row, column or
 * option is named), 3 the environment (disk full, no display, a concurrent writer), 1 an internal error
 * (a bug). A refused or failed run writes nothing.
 */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_ENVIRONMENT = 3;
