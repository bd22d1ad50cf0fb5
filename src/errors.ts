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

/** Renders a value for a message: strings quoted, numbers as JavaScript prints them, null as `null`. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
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

/** Exit codes of every command: 0 ok, 2 bad input, 1 internal error. */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_BAD_INPUT = 2;
