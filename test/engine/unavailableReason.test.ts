/**
 * Why a backend did not run, said briefly in a summary and in full with --verbose
 * (src/engine/unavailableReason.ts).
 */
import { describe, expect, test } from 'vitest';
import { briefReason, reasonFor } from '../../src/engine/unavailableReason.js';

const DAWN =
  "the webgpu package (Dawn) does not load: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /work/node_modules/webgpu/dist/linux-x64.dawn.node)";

describe('briefReason', () => {
  test('an old C++ runtime: one short sentence naming the version it needs, no paths', () => {
    const b = briefReason(DAWN);
    expect(b).toBe(
      'unavailable on this system: its Dawn library needs a newer C++ runtime (libstdc++ with GLIBCXX_3.4.32)',
    );
    expect(b).not.toContain('/');
  });

  test('a short reason is kept as it is', () => {
    expect(briefReason('no X display (DISPLAY is not set)')).toBe('no X display (DISPLAY is not set)');
    expect(reasonFor('no X display (DISPLAY is not set)', false)).toBe('no X display (DISPLAY is not set)');
  });

  test('--verbose gives the full reason; without it a shortened one says where the full one is', () => {
    expect(reasonFor(DAWN, true)).toBe(DAWN);
    expect(reasonFor(DAWN, false)).toMatch(/GLIBCXX_3\.4\.32\) \(--verbose: the full reason\)$/);
  });
});
