/**
 * Turns UTF-8 byte strings into dense ids (0, 1, 2, … in first-seen order) without decoding them:
 * an open-addressing hash table keyed by the bytes themselves (FNV-1a), each distinct string copied
 * once into a private store and decoded to a JavaScript string only when asked for. Each slot holds
 * id, hash, start and length side by side, so a lookup touches one slot line and the stored bytes.
 */

const EMPTY = -1;
const decoder = new TextDecoder('utf-8');
/** Int32s per slot: id, hash, start in store, length */
const W = 4;

/** A byte-string interner: `intern(bytes, start, end)` returns the string's dense id. */
export class Utf8Interner {
  /** number of distinct strings seen */
  count = 0;
  private slots: Int32Array;
  private mask: number;
  /** per id: start and length in the store (for get and rehash) */
  private spans: Int32Array;
  private hashes: Int32Array;
  private store: Uint8Array;
  private storeLength = 0;
  private decoded: (string | undefined)[] = [];

  constructor(expected = 1024) {
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size * W).fill(EMPTY);
    this.mask = size - 1;
    this.spans = new Int32Array(2 * expected);
    this.hashes = new Int32Array(expected);
    this.store = new Uint8Array(Math.max(64, expected * 16));
  }

  /** The id of `bytes[start, end)`, adding it when new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    const len = end - start;
    const slots = this.slots;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const base = s * W;
      const id = slots[base]!;
      if (id === EMPTY) break;
      if (slots[base + 1] === h && slots[base + 3] === len) {
        const a = slots[base + 2]!;
        const store = this.store;
        let i = 0;
        while (i < len && store[a + i] === bytes[start + i]) i++;
        if (i === len) return id;
      }
      s = (s + 1) & mask;
    }
    return this.add(bytes, start, end, h, s);
  }

  /** The id of a JavaScript string, adding it when new. */
  internString(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.intern(b, 0, b.length);
  }

  /** The string with this id (decoded once, then cached). */
  get(id: number): string {
    let v = this.decoded[id];
    if (v === undefined) {
      const a = this.spans[2 * id]!;
      v = decoder.decode(this.store.subarray(a, a + this.spans[2 * id + 1]!));
      this.decoded[id] = v;
    }
    return v;
  }

  private add(bytes: Uint8Array, start: number, end: number, h: number, slot: number): number {
    const id = this.count++;
    if (id === this.hashes.length) {
      const spans = new Int32Array(4 * id);
      spans.set(this.spans);
      this.spans = spans;
      const hashes = new Int32Array(2 * id);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const len = end - start;
    if (this.storeLength + len > this.store.length) {
      const bigger = new Uint8Array(Math.max(this.store.length * 2, this.storeLength + len));
      bigger.set(this.store.subarray(0, this.storeLength));
      this.store = bigger;
    }
    this.store.set(bytes.subarray(start, end), this.storeLength);
    this.spans[2 * id] = this.storeLength;
    this.spans[2 * id + 1] = len;
    this.hashes[id] = h;
    const base = slot * W;
    this.slots[base] = id;
    this.slots[base + 1] = h;
    this.slots[base + 2] = this.storeLength;
    this.slots[base + 3] = len;
    this.storeLength += len;
    if (this.count * 2 > this.slots.length / W) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = (this.slots.length / W) * 2;
    const slots = new Int32Array(size * W).fill(EMPTY);
    const mask = size - 1;
    for (let id = 0; id < this.count; id++) {
      const h = this.hashes[id]!;
      let s = h & mask;
      while (slots[s * W] !== EMPTY) s = (s + 1) & mask;
      const base = s * W;
      slots[base] = id;
      slots[base + 1] = h;
      slots[base + 2] = this.spans[2 * id]!;
      slots[base + 3] = this.spans[2 * id + 1]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
