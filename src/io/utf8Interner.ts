/**
 * Turns UTF-8 byte strings into dense ids (0, 1, 2, … in first-seen order) without decoding them:
 * an open-addressing hash table keyed by the bytes themselves. Each slot holds the id, hash, length,
 * store offset and the first 16 bytes packed into four int32s, so a lookup of a key up to 16 bytes
 * touches one slot and nothing else (longer keys compare their tail in the store). Each distinct
 * string is copied once into a private store and decoded to a JavaScript string only when asked for.
 *
 * A first dictionary can be adopted whole (`adopt`): its entries take ids 0..n-1 in order by one copy of
 * their bytes, and go into the hash table only if a later lookup needs it. An adopted dictionary that
 * holds the same string twice keeps both ids (the later one is never returned by a lookup); callers
 * that number keys by their text (AccountKeys.finish) merge them.
 */

const EMPTY = -1;
/** An interner's hash table before its first lookup. */
const NO_SLOTS = new Int32Array(0);
const decoder = new TextDecoder('utf-8');
/** Int32s per slot: id, hash, length, start in store, then 4 words of inline bytes */
const W = 8;

/** Little-endian int32 of bytes [i, min(i + 4, end)), zero-padded. */
function word(b: Uint8Array, i: number, end: number): number {
  if (i + 4 <= end) return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
  let w = 0;
  for (let k = 0; i + k < end; k++) w |= b[i + k]! << (8 * k);
  return w;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Whether `b[a, a + alen)` is greater than `b[p, p + plen)`, byte by byte (a longer string after its prefix). */
function greaterBytes(b: Uint8Array, a: number, alen: number, p: number, plen: number): boolean {
  const n = Math.min(alen, plen);
  for (let i = 0; i < n; i++) {
    const x = b[a + i]!;
    const y = b[p + i]!;
    if (x !== y) return x > y;
  }
  return alen > plen;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A byte-string interner: `intern(bytes, start, end)` returns the string's dense id. */
export class Utf8Interner {
  /** number of distinct strings seen */
  count = 0;
  /**
   * the hash table, made at the first lookup or reserve (at least `initialSize` slots): an interner that only adopts a
   * dictionary (a book's accounts, keys in order) never looks one up, and a table made up front was 4 MB written
   * with EMPTY for nothing (~1,000 page faults of the load's main thread at 100,000 accounts, perf)
   */
  private slots: Int32Array = NO_SLOTS;
  private mask = 0;
  private readonly initialSize: number;
  /** per id: its slot's 8 int32s (for rehash), and start and length in the store (for get) */
  private entries: Int32Array;
  private store: Uint8Array;
  private storeLength = 0;
  private decoded: (string | undefined)[] = [];
  /** ids [0, pending) were adopted and are not in the hash table yet */
  private pending = 0;
  /** what the last `find` computed: the key's hash and first 16 bytes, and the slot its probe ended on */
  private keyHash = 0;
  private key0 = 0;
  private key1 = 0;
  private key2 = 0;
  private key3 = 0;
  private keySlot = 0;

  /** `expected`: distinct strings to make room for up front (the table grows past it as needed). */
  constructor(expected = 1024) {
    this.initialSize = tableSize(expected);
    this.entries = new Int32Array(Math.max(16, expected) * W);
    this.store = new Uint8Array(Math.max(64, expected * 16));
  }

  /**
   * Makes room for `total` distinct strings in all (seen so far included), in one step: a caller that
   * knows how many may come (a dictionary's length, a batch's row count) saves the repeated doublings.
   * Never shrinks.
   */
  reserve(total: number): void {
    if (this.pending > 0) this.materialize();
    if (total * W > this.entries.length) {
      const bigger = new Int32Array(total * W);
      bigger.set(this.entries.subarray(0, this.count * W));
      this.entries = bigger;
    }
    const size = tableSize(total);
    if (this.slots === NO_SLOTS) this.rehash(Math.max(size, this.initialSize));
    else if (size > this.slots.length / W) this.rehash(size);
  }

  /** The id of `bytes[start, end)`, adding it when new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    if (this.pending > 0) this.materialize();
    else if (this.slots === NO_SLOTS) this.rehash(this.initialSize);
    const id = this.find(bytes, start, end);
    return id !== EMPTY ? id : this.add(bytes, start, end);
  }

  /**
   * The id of `bytes[start, end)` in the hash table, or EMPTY; either way the key's hash and inline
   * words and the slot the probe ended on are left in the `key*` fields (for `add` and `materialize`).
   */
  private find(bytes: Uint8Array, start: number, end: number): number {
    const len = end - start;
    const e16 = len < 16 ? end : start + 16;
    const k0 = word(bytes, start, e16);
    const k1 = word(bytes, start + 4, e16);
    const k2 = word(bytes, start + 8, e16);
    const k3 = word(bytes, start + 12, e16);
    let h = mix(mix(mix(mix(len, k0), k1), k2), k3);
    for (let i = start + 16; i < end; i += 4) h = mix(h, word(bytes, i, end));
    h = finish(h);
    this.keyHash = h;
    this.key0 = k0;
    this.key1 = k1;
    this.key2 = k2;
    this.key3 = k3;
    const slots = this.slots;
    const mask = this.mask;
    let s = h & mask;
    for (;;) {
      const base = s * W;
      const id = slots[base]!;
      if (id === EMPTY) break;
      if (
        slots[base + 1] === h &&
        slots[base + 2] === len &&
        slots[base + 4] === k0 &&
        slots[base + 5] === k1 &&
        slots[base + 6] === k2 &&
        slots[base + 7] === k3
      ) {
        if (len <= 16) {
          this.keySlot = s;
          return id;
        }
        const a = slots[base + 3]!;
        const store = this.store;
        let i = 16;
        while (i < len && store[a + i] === bytes[start + i]) i++;
        if (i === len) {
          this.keySlot = s;
          return id;
        }
      }
      s = (s + 1) & mask;
    }
    this.keySlot = s;
    return EMPTY;
  }

  /** The id of a JavaScript string, adding it when new. */
  internString(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.intern(b, 0, b.length);
  }

  /**
   * Takes the `n` strings `bytes[offsets[k], offsets[k + 1])` as ids 0..n-1 in one step (one copy of
   * the bytes, no hashing); only while the interner is empty. Returns false (and does nothing) otherwise.
   */
  adopt(bytes: Uint8Array, offsets: Int32Array, n: number): boolean {
    if (this.count !== 0 || offsets.length < n + 1) return false;
    const base = offsets[0]!;
    const total = offsets[n]! - base;
    if (n * W > this.entries.length) this.entries = new Int32Array(n * W);
    if (total > this.store.length) this.store = new Uint8Array(total);
    this.store.set(bytes.subarray(base, base + total), 0);
    const e = this.entries;
    for (let k = 0; k < n; k++) {
      const eb = k * W;
      e[eb] = k;
      e[eb + 2] = offsets[k + 1]! - offsets[k]!;
      e[eb + 3] = offsets[k]! - base;
    }
    this.count = n;
    this.pending = n;
    this.storeLength = total;
    return true;
  }

  /** Puts the adopted ids into the hash table (a repeated string stays out: its first id answers lookups). */
  private materialize(): void {
    const n = this.pending;
    this.pending = 0;
    const size = Math.max(tableSize(this.count), this.initialSize);
    if (size > this.slots.length / W) {
      this.slots = new Int32Array(size * W).fill(EMPTY);
      this.mask = size - 1;
    }
    const e = this.entries;
    for (let id = 0; id < n; id++) {
      const eb = id * W;
      const start = e[eb + 3]!;
      const repeat = this.find(this.store, start, start + e[eb + 2]!) !== EMPTY;
      e[eb + 1] = this.keyHash;
      e[eb + 4] = this.key0;
      e[eb + 5] = this.key1;
      e[eb + 6] = this.key2;
      e[eb + 7] = this.key3;
      if (repeat) {
        e[eb] = -2;
        continue;
      } // kept as an id (its text decodes), never returned by a lookup
      const sb = this.keySlot * W;
      for (let k = 0; k < W; k++) this.slots[sb + k] = e[eb + k]!;
    }
  }

  /**
   * Every string, by id (decoded once, then cached). When the stored bytes are all ASCII they are
   * decoded in one call and sliced, instead of one decoder call per string.
   */
  all(): string[] {
    const n = this.count;
    const store = this.store;
    let ascii = true;
    for (let i = 0; i < this.storeLength; i++)
      if (store[i]! >= 0x80) {
        ascii = false;
        break;
      }
    if (!ascii) return Array.from({ length: n }, (_, id) => this.get(id));
    const text = Buffer.from(store.buffer, store.byteOffset, this.storeLength).toString('latin1');
    const e = this.entries;
    const out = new Array<string>(n);
    const decoded = this.decoded;
    for (let id = 0; id < n; id++) {
      const a = e[id * W + 3]!;
      out[id] = decoded[id] ?? text.slice(a, a + e[id * W + 2]!);
    }
    // every string is the cache's now (a copy: not grown one id at a time, and not the array handed out)
    this.decoded = out.slice();
    return out;
  }

  /**
   * The bytes of the used ids' strings (`used[id]` 1) in id order, when every stored byte is ASCII and each of
   * those strings is greater than the one before it (by bytes, which for ASCII is the order of the JavaScript
   * strings, UTF-16 code units): the ids are then in the strings' order and no two are equal. Null otherwise.
   * Nothing is decoded: a loader whose keys came in order numbers them without making a string of each.
   */
  orderedAsciiBytes(used: Uint8Array): { bytes: Uint8Array; offsets: Int32Array } | null {
    const store = this.store;
    for (let i = 0; i < this.storeLength; i++) if (store[i]! >= 0x80) return null;
    const e = this.entries;
    const n = Math.min(this.count, used.length);
    let m = 0;
    let total = 0;
    for (let id = 0; id < n; id++) {
      if (!used[id]) continue;
      m++;
      total += e[id * W + 2]!;
    }
    const bytes = new Uint8Array(total);
    const offsets = new Int32Array(m + 1);
    let k = 0;
    let w = 0;
    let pa = -1;
    let plen = 0;
    for (let id = 0; id < n; id++) {
      if (!used[id]) continue;
      const a = e[id * W + 3]!;
      const len = e[id * W + 2]!;
      if (pa >= 0 && !greaterBytes(store, a, len, pa, plen)) return null;
      for (let i = 0; i < len; i++) bytes[w + i] = store[a + i]!;
      w += len;
      offsets[++k] = w;
      pa = a;
      plen = len;
    }
    return { bytes, offsets };
  }

  /** The string with this id (decoded once, then cached). */
  get(id: number): string {
    let v = this.decoded[id];
    if (v === undefined) {
      const a = this.entries[id * W + 3]!;
      v = decoder.decode(this.store.subarray(a, a + this.entries[id * W + 2]!));
      this.decoded[id] = v;
    }
    return v;
  }

  /** Adds `bytes[start, end)` under the next id at the slot and key that `find` just left. */
  private add(bytes: Uint8Array, start: number, end: number): number {
    const slot = this.keySlot;
    const id = this.count++;
    if ((id + 1) * W > this.entries.length) {
      const bigger = new Int32Array(this.entries.length * 2);
      bigger.set(this.entries);
      this.entries = bigger;
    }
    const len = end - start;
    if (this.storeLength + len > this.store.length) {
      const bigger = new Uint8Array(Math.max(this.store.length * 2, this.storeLength + len));
      bigger.set(this.store.subarray(0, this.storeLength));
      this.store = bigger;
    }
    this.store.set(bytes.subarray(start, end), this.storeLength);
    const e = this.entries;
    const eb = id * W;
    e[eb] = id;
    e[eb + 1] = this.keyHash;
    e[eb + 2] = len;
    e[eb + 3] = this.storeLength;
    e[eb + 4] = this.key0;
    e[eb + 5] = this.key1;
    e[eb + 6] = this.key2;
    e[eb + 7] = this.key3;
    const slots = this.slots;
    const sb = slot * W;
    for (let k = 0; k < W; k++) slots[sb + k] = e[eb + k]!;
    this.storeLength += len;
    if (this.count * 2 > this.slots.length / W) this.rehash((this.slots.length / W) * 2);
    return id;
  }

  /** Moves every entry into a table of `size` slots (a power of two); copies int by int, no views. */
  private rehash(size: number): void {
    const slots = new Int32Array(size * W).fill(EMPTY);
    const mask = size - 1;
    const e = this.entries;
    for (let id = 0; id < this.count; id++) {
      const eb = id * W;
      if (e[eb] !== id) continue; // an adopted repeat: not in the table
      let s = e[eb + 1]! & mask;
      while (slots[s * W] !== EMPTY) s = (s + 1) & mask;
      const sb = s * W;
      for (let k = 0; k < W; k++) slots[sb + k] = e[eb + k]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Slots for `expected` keys at a load factor of at most 1/2: a power of two, at least 16. */
function tableSize(expected: number): number {
  let size = 16;
  while (size < expected * 2) size *= 2;
  return size;
}
