/**
 * The generator's seeded pseudo-random numbers: xoshiro128** 1.1 (Blackman & Vigna, 2018,
 * https://prng.di.unimi.it/xoshiro128starstar.c), its 128-bit state filled by splitmix32 from the seed.
 * The xoshiro128** step is the shared core (src/random/xoshiro128.ts); the seeding and the draws are the
 * generator's own. Pure 32-bit integer arithmetic (Math.imul), so a seed gives the same stream on every
 * platform; no Math.random, no clock.
 */
import { Xoshiro128 } from '../random/xoshiro128.js';

/** splitmix32: a 32-bit mixing step; returns the next output and advances `state[0]`. */
function splitmix32(state: Uint32Array): number {
  state[0] = (state[0]! + 0x9e3779b9) >>> 0;
  let z = state[0]!;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A seeded xoshiro128** stream (the core is {@link Xoshiro128}) with the draws the generator needs. */
export class Prng extends Xoshiro128 {
  /**
   * @param seed a non-negative integer up to 2^53 (its high and low 32 bits both count).
   * @throws RangeError when the seed is not a non-negative safe integer.
   */
  constructor(seed: number) {
    super();
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const st = new Uint32Array([seed >>> 0]);
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    st[0] = (st[0]! ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
    const s0 = splitmix32(st);
    const s1 = splitmix32(st);
    const s2 = splitmix32(st);
    const s3 = splitmix32(st);
    if ((s0 | s1 | s2 | s3) === 0)
      this.setState(1, s1, s2, s3); // the all-zero state is a fixed point
    else this.setState(s0, s1, s2, s3);
  }

  /** A stream started from an explicit xoshiro128** state (not all zero), for checking against the reference. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    const p = new Prng(0);
    p.setState(state[0], state[1], state[2], state[3]);
    return p;
  }

  /** The next 32-bit output, an integer in [0, 2^32) ({@link Xoshiro128.nextUint32}). */
  nextU32(): number {
    return this.nextUint32();
  }

  /** A uniform double in [0, 1) with 53 random bits ({@link Xoshiro128.nextUniform}). */
  float(): number {
    return this.nextUniform();
  }

  /** A uniform integer in [0, n), n ≥ 1. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal draw (Box–Muller, one value per two uniforms). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An index drawn with probability proportional to `weights[i]` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    return 0;
  }
}
