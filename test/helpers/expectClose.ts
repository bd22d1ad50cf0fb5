import { expect } from 'vitest';

/**
 * Asserts |actual − expected| ≤ tol (absolute), and on failure prints every input, the expected and
 * calculated values, the error and the tolerance (QuantLib's style of failure report).
 */
export function expectClose(actual: number, expected: number, tol: number, inputs: Record<string, unknown> = {}): void {
  const err = Math.abs(actual - expected);
  if (!(err <= tol)) {
    const lines = Object.entries(inputs).map(([k, v]) => `  ${k}: ${String(v)}`);
    expect.fail(
      [
        `value not within tolerance`,
        ...lines,
        `  expected:   ${expected}`,
        `  calculated: ${actual}`,
        `  error:      ${err}`,
        `  tolerance:  ${tol}`,
      ].join('\n'),
    );
  }
}
