/** What every fuzz case must end as: a bad-input error naming a file, or margins that are all finite. */
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';
import type { RunOutcome } from '../../src/pipeline/runMargin.js';

/** Seed of the CI run (FUZZ_SEED overrides) and the number of cases: `n` in CI, FUZZ_RUNS when set. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261202);
export function fuzzRuns(n: number): number {
  const env = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(env) && env > 0 ? Math.max(n, Math.round((env * n) / 100)) : n;
}
/** FUZZ_RUNS=500 runs each property 5 times as many cases as in CI (at least as many). */
export const LONG = Number(process.env.FUZZ_RUNS) > 0;
/** A property's time limit: vitest's in CI, more for a long run. */
export const TIMEOUT = LONG ? 60_000 * Math.max(1, Number(process.env.FUZZ_RUNS) / 50) : 60_000;

/**
 * `e` is an InputError (exit 2) with at least one violation, each naming a file (one of `files` or a path
 * under one of them), with a rule; a violation about a row also names its column.
 */
export function expectInputError(e: unknown, files: readonly string[]): void {
  if (!(e instanceof InputError)) throw e;
  expect(e.violations.length).toBeGreaterThan(0);
  for (const v of e.violations) {
    expect(
      files.some((f) => v.file === f || v.file.startsWith(f)),
      `violation names ${v.file}, not one of ${files.join(', ')}`,
    ).toBe(true);
    expect(v.rule.length).toBeGreaterThan(0);
    if (v.row !== null) {
      expect(Number.isInteger(v.row) && v.row >= 0).toBe(true);
      expect(v.column, `row ${v.row} of ${v.file} without a column: ${v.rule}`).not.toBeNull();
    }
  }
  expect(e.message.length).toBeGreaterThan(0);
}

/** Every amount of every model's rows and every account summary is finite (the ratio may be +Infinity). */
export function expectFiniteMargins(o: RunOutcome): void {
  for (const m of o.margin) {
    for (const [name, a] of Object.entries({ im: m.im, mm: m.mm, equity: m.equity, available: m.available })) {
      const i = a.findIndex((x) => !Number.isFinite(x));
      expect(i, `${m.model} ${name}[${i}] = ${a[i]}`).toBe(-1);
    }
    expect(m.marginRatio.findIndex((x) => Number.isNaN(x))).toBe(-1);
  }
  for (const s of o.summaries) {
    for (const [name, a] of Object.entries({ equityUsd: s.equityUsd, imUsd: s.imUsd, mmUsd: s.mmUsd })) {
      const i = a.findIndex((x) => !Number.isFinite(x));
      expect(i, `${s.model} summary ${name}[${i}] = ${a[i]}`).toBe(-1);
    }
  }
}
