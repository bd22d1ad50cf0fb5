/**
 * kernels/source.ts hands kernels/ functions to gpu.js as source text: module-loader indirections on calls
 * are removed, so the same functions transpile whether node, tsx or vitest loaded them. That the device
 * forms then transpile and agree with the float64 reference on every backend is test/kernels/parity.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { DEVICE_BLACK76_FUNCTIONS, DEVICE_REVALUE_FUNCTIONS, kernelSource } from '../../kernels/source.js';

describe('kernelSource', () => {
  test('strips module-loader indirections from calls so gpu.js sees plain names', () => {
    const src = kernelSource(DEVICE_BLACK76_FUNCTIONS[3]!);
    expect(src).toMatch(/^function black76DeltaNorm32\(/);
    expect(src).toMatch(/[^.\w]normCdf32\(d1\)/);
    expect(src).not.toMatch(/__vite|\(0,/);
  });
  test('the revaluation device functions are listed callees first and call plain names', () => {
    const names = DEVICE_REVALUE_FUNCTIONS.map((f) => /^function (\w+)\(/.exec(kernelSource(f))?.[1]);
    expect(names).toEqual(['normCdf32', 'black76Norm32', 'movedValue32']);
    const moved = kernelSource(DEVICE_REVALUE_FUNCTIONS[2]!);
    expect(moved).toMatch(/[^.\w]black76Norm32\(/);
    expect(moved).not.toMatch(/__vite|\(0,/);
  });
});
