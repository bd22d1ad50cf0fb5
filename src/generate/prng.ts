/**
 * The generator's seeded pseudo-random numbers: xoshiro128** 1.1 (Blackman & Vigna, 2018,
 * https://prng.di.unimi.it/xoshiro128starstar.c), its 128-bit state filled by splitmix32 from the seed.
 * Pure 32-bit integer arithmetic (Math.imul), so a seed gives the same stream on every platform;
 * no Math.random, no clock.
 */

/** splitmix32: a 32-bit mixing step; returns the next output and advances `state[0]`. */
function splitmix32(state: Uint32Array): number {
  state[0] = (state[0]! + 0x9e3779b9) >>> 0;
  let z = state[0]!;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A seeded xoshiro128** stream with the draws the generator needs. */
export class Prng {
  private readonly s = new Uint32Array(4);

  /**
   * @param seed a non-negative integer up to 2^53 (its high and low 32 bits both count).
   * @throws RangeError when the seed is not a non-negative safe integer.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const st = new Uint32Array([seed >>> 0]);
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    st[0] = (st[0]! ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** A stream started from an explicit xoshiro128** state (not all zero), for checking against the reference. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    const p = new Prng(0);
    for (let i = 0; i < 4; i++) p.s[i] = state[i]! >>> 0;
    return p;
  }

  /** The next 32-bit output, an integer in [0, 2^32). */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
