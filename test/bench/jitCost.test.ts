/**
 * bench/jitCost.ts reads V8's --trace-opt / --trace-deopt lines: on lines as node 20 prints them, and on the real
 * output of a small script whose one function has two long loops (optimised at the first, deopted after it, so
 * compiled more than once).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { formatJitCost, parseJitTrace } from '../../bench/jitCost.js';

const LINES = `[marking 0x1 <JSFunction readPositions (sfi = 0x2)> for optimization to TURBOFAN, ConcurrencyMode::kConcurrent, reason: hot and stable]
[compiling method 0x09ee8c906dc1 <JSFunction readPositions (sfi = 0x197dc15a3519)> (target TURBOFAN) OSR, mode: ConcurrencyMode::kSynchronous]
[completed compiling 0x09ee8c906dc1 <JSFunction readPositions (sfi = 0x197dc15a3519)> (target TURBOFAN) OSR - took 0.005, 2.400, 0.016 ms]
[bailout (kind: deopt-eager, reason: Insufficient type feedback for binary operation): begin. deoptimizing 0x09ee8c906dc1 <JSFunction readPositions (sfi = 0x197dc15a3519)>, 0x287e48e61ca1 <Code TURBOFAN>, opt id 37, bytecode offset 1826]
[completed compiling 0x09ee8c906dc1 <JSFunction readPositions (sfi = 0x197dc15a3519)> (target TURBOFAN) - took 0.007, 13.943, 0.087 ms]
[completed compiling 0x0eaef8d22779 <JSFunction normalizeString (sfi = 0x118e17626151)> (target TURBOFAN) - took 0.007, 2.814, 0.013 ms]
not a trace line`;

describe('jitCost', () => {
  test('sums the compiles per function, on-stack replacements marked, and counts the deopts by reason', () => {
    const cost = parseJitTrace(LINES);
    expect(cost.compiles).toEqual([
      { name: 'readPositions', target: 'TURBOFAN', osr: true, ms: 0.005 + 2.4 + 0.016 },
      { name: 'readPositions', target: 'TURBOFAN', osr: false, ms: 0.007 + 13.943 + 0.087 },
      { name: 'normalizeString', target: 'TURBOFAN', osr: false, ms: 0.007 + 2.814 + 0.013 },
    ]);
    expect([...cost.deopts]).toEqual([['Insufficient type feedback for binary operation: readPositions', 1]]);
    const text = formatJitCost(cost, 5);
    expect(text).toMatch(/^3 optimising compiles \(3 TURBOFAN\), 19\.3 ms \(1 on-stack replacements\); 2 functions/);
    expect(text).toContain('16.5 ms  readPositions: o2.4 14.0');
    expect(text).toContain('1 deopts');
  });

  test("reads node's own output: a function of two long loops run once is compiled more than once", () => {
    const script = `
      function twoLoops(n) {
        let s = 0;
        for (let i = 0; i < n; i++) s += i % 7;
        const a = new Float64Array(n);
        for (let i = 0; i < n; i++) a[i] = s * 0.5 + i;
        return a[n - 1];
      }
      console.log(twoLoops(3e6));`;
    const r = spawnSync(
      process.execPath,
      ['--no-concurrent-recompilation', '--trace-opt', '--trace-deopt', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const mine = parseJitTrace(r.stdout).compiles.filter((c) => c.name === 'twoLoops');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine[0]!.osr).toBe(true);
    expect(mine.every((c) => c.ms > 0)).toBe(true);
  });
});
