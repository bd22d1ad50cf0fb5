/**
 * Turns 64-bit integer keys (Int64 account ids) into dense ids in first-seen order: an open-addressing
 * hash table over the two 32-bit halves, each slot holding the id and both halves side by side (one
 * memory access per lookup), so no BigInt is created per row.
 */

const EMPTY = -1;
/** Int32s per slot: id, low half, high half, unused */
const W = 4;

/** An Int64 key interner: `intern(lo, hi)` returns the key's dense id. */
export class Int64Interner {
  /** number of distinct keys seen */
  count = 0;
  private slots: Int32Array;
  private mask: number;
  /** per id: low and high 32-bit halves */
  private halves: Int32Array;

  constructor(expected = 1024) {
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size * W).fill(EMPTY);
    this.mask = size - 1;
    this.halves = new Int32Array(2 * Math.max(16, expected));
  }

  /** The id of the key whose two's-complement halves are `lo` (low 32 bits) and `hi`, adding it when new. */
  intern(lo: number, hi: number): number {
    const slots = this.slots;
    let s = hash(lo, hi) & this.mask;
    for (;;) {
      const base = s * W;
      const id = slots[base]!;
      if (id === EMPTY) break;
      if (slots[base + 1] === lo && slots[base + 2] === hi) return id;
      s = (s + 1) & this.mask;
    }
    const id = this.count++;
    if (2 * id + 2 > this.halves.length) {
      const bigger = new Int32Array(this.halves.length * 2);
      bigger.set(this.halves);
      this.halves = bigger;
    }
    this.halves[2 * id] = lo;
    this.halves[2 * id + 1] = hi;
    const base = s * W;
    slots[base] = id;
    slots[base + 1] = lo;
    slots[base + 2] = hi;
    if (this.count * 2 > slots.length / W) this.rehash();
    return id;
  }

  /** The id of a key, or -1 when it was never interned. */
  find(lo: number, hi: number): number {
    let s = hash(lo, hi) & this.mask;
    for (;;) {
      const base = s * W;
      const id = this.slots[base]!;
      if (id === EMPTY) return -1;
      if (this.slots[base + 1] === lo && this.slots[base + 2] === hi) return id;
      s = (s + 1) & this.mask;
    }
  }

  /** The key with this id as a bigint. */
  get(id: number): bigint {
    return (BigInt(this.halves[2 * id + 1]!) << 32n) | BigInt(this.halves[2 * id]! >>> 0);
  }

  private rehash(): void {
    const size = (this.slots.length / W) * 2;
    const slots = new Int32Array(size * W).fill(EMPTY);
    const mask = size - 1;
    for (let id = 0; id < this.count; id++) {
      const lo = this.halves[2 * id]!;
      const hi = this.halves[2 * id + 1]!;
      let s = hash(lo, hi) & mask;
      while (slots[s * W] !== EMPTY) s = (s + 1) & mask;
      slots[s * W] = id;
      slots[s * W + 1] = lo;
      slots[s * W + 2] = hi;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function hash(lo: number, hi: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(hi ^ (h >>> 16), 0xc2b2ae35);
  return h ^ (h >>> 13);
}
