/**
 * The engine's seeded random numbers: the same seed gives the same bits on every run, machine and
 * backend (scenarios are generated once, on the CPU, single-threaded).
 *
 * - Generator: xoshiro128** (Blackman & Vigna, 2018; 128-bit state, period 2^128 − 1), the shared core in
 *   src/random/xoshiro128.ts: 32-bit integer arithmetic only (`Math.imul`, shifts, `>>> 0`).
 * - Seeding: a seed 0 ≤ seed < 2^53 is split into its low and high 32 bits; SplitMix32 (the 32-bit
 *   finaliser of MurmurHash3 applied to a Weyl sequence with step 0x9E3779B9) started at the low word gives
 *   state words s0, s1; its state is then XORed with the high word and it gives s2, s3.
 * - Uniforms: 53-bit doubles in [0, 1) from two outputs, (a >>> 5) · 2^26 + (b >>> 6), divided by 2^53
 *   (exact in float64).
 * - Normals: Marsaglia's polar method (pairs; the second of a pair is kept for the next call). It uses
 *   only `Math.log` and `Math.sqrt`: sqrt is correctly rounded (IEEE 754) and V8 implements `Math.log`
 *   with its own port of fdlibm (`ieee754::log`), not the platform's libm, so the bits are the same on
 *   x86-64 and arm64.
 */
import { Xoshiro128 } from '../random/xoshiro128.js';

/** SplitMix32 step: advances `state[0]` and returns a 32-bit output (unsigned). */
function splitMix32(state: Uint32Array): number {
  state[0] = (state[0]! + 0x9e3779b9) >>> 0;
  let z = state[0]!;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded stream of 32-bit integers, uniforms and standard normals (the core is {@link Xoshiro128}). */
export class Xoshiro128ss extends Xoshiro128 {
  private spare = NaN;

  /** @throws RangeError when the seed is not an integer in [0, 2^53). */
  constructor(seed: number) {
    super();
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    const sm = new Uint32Array([lo]);
    const s0 = splitMix32(sm);
    const s1 = splitMix32(sm);
    sm[0] = (sm[0]! ^ hi) >>> 0;
    const s2 = splitMix32(sm);
    const s3 = splitMix32(sm);
    if ((s0 | s1 | s2 | s3) === 0) this.setState(1, s1, s2, s3);
    else this.setState(s0, s1, s2, s3);
  }

  /**
   * A generator with the raw state words (for checking against the reference implementation).
   * @throws RangeError when every word is 0 (the one state xoshiro cannot leave).
   */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128ss {
    if ((s0 | s1 | s2 | s3) >>> 0 === 0) throw new RangeError('xoshiro128** state must not be all zero');
    const g = new Xoshiro128ss(0);
    g.setState(s0, s1, s2, s3);
    return g;
  }

  /** A standard normal (Marsaglia's polar method). */
  nextNormal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = NaN;
      return z;
    }
    for (;;) {
      const u = 2 * this.nextUniform() - 1;
      const v = 2 * this.nextUniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }
}
