/**
 * Collects the row violations found while loading, under the `--on-invalid` policy: `fail` keeps every
 * violation and throws them together at the end; `skip` leaves the offending rows out and records each
 * such row once (its first violation) as a RejectedRow for the report.
 */
import { InputError, type Violation } from '../errors.js';
import type { RejectedRow } from '../model/book.js';

/** What to do with rows that break a rule: refuse the input (default) or leave them out and record them. */
export type OnInvalid = 'fail' | 'skip';

/** A violation list with the policy that decides what becomes of it. */
export class ViolationLog {
  readonly violations: Violation[] = [];
  readonly rejected: RejectedRow[] = [];
  constructor(readonly onInvalid: OnInvalid = 'fail') {}

  /** Records that `row` of `file` breaks `rule` in `column` (value already rendered with showValue). */
  add(file: string, row: number, column: string | null, value: string | null, rule: string): void {
    this.violations.push({ file, row, column, value, rule });
    if (this.onInvalid === 'skip') {
      const last = this.rejected[this.rejected.length - 1];
      if (!last || last.file !== file || last.row !== row) this.rejected.push({ file, row, column, value, rule });
    }
  }

  /**
   * Under `fail`, throws every violation recorded so far as one InputError.
   * @throws InputError listing the first 20 violations and their count.
   */
  throwIfFailing(): void {
    if (this.onInvalid === 'fail' && this.violations.length > 0) throw new InputError(this.violations);
  }
}
