/**
 * The xoshiro128** 1.1 generator core (Blackman & Vigna, 2018, https://prng.di.unimi.it/xoshiro128starstar.c;
 * 128-bit state, period 2^128 − 1) shared by the generator's stream (src/generate/prng.ts) and the
 * engine's scenario stream (src/scenarios/prng.ts). Each of those seeds the state its own way and adds its
 * own draws; this holds only the state, the next-output step and the 53-bit uniform both use.
 *
 * Pure 32-bit integer arithmetic (`Math.imul`, shifts, `>>> 0`): no BigInt, no floating point in the step,
 * so a state gives the same outputs on every platform; no Math.random, no clock.
 */

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** A xoshiro128** stream over four 32-bit state words; subclasses seed it with {@link setState}. */
export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Set the four state words (taken modulo 2^32). The caller keeps them from being all zero. */
  protected setState(s0: number, s1: number, s2: number, s3: number): void {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** The next 32-bit output, an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A uniform double in [0, 1) with 53 random bits from two outputs: (a >>> 5) · 2^26 + (b >>> 6),
   * divided by 2^53 (exact in float64).
   */
  nextUniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }
}
