/**
 * mulberry32 (Tommy Ettinger, 2017): a small seeded generator of uniforms in [0, 1) for test inputs (no
 * Math.random, so a pinned seed gives every run the same data). Used by test/engine/seededBook.ts,
 * test/fixtures/io/syntheticBook.ts and test/io/buildBook.test.ts.
 */

/** A stream of uniforms in [0, 1) (32 random bits each) started from `seed` (taken modulo 2^32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
