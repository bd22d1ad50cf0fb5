/**
 * Account keys shared by the positions and balances files: each row's key (Utf8, Dictionary<Utf8> or
 * an integer type) becomes a provisional id while the files stream in; `finish` then numbers the
 * accounts that are used densely in key order (Int64 numerically, strings by UTF-16 code unit, as
 * JavaScript compares them) so that ids are deterministic whatever the row order.
 */
import type { Data } from 'apache-arrow';
import type { ResolvedColumn } from './columnSpec.js';
import { DictionaryMapper, internInts, internStrings } from './columnValues.js';
import { Utf8Interner } from './utf8Interner.js';
import { Int64Interner } from './int64Interner.js';
import type { AccountKeyList } from '../model/book.js';

/** Accounts' key type: strings or 64-bit integers. */
export type AccountKeyType = 'utf8' | 'int64';

/** The key type an account column's storage gives. */
export function accountKeyType(col: ResolvedColumn): AccountKeyType {
  return col.storage === 'int' || col.storage === 'int64' ? 'int64' : 'utf8';
}

/**
 * The final numbering: key per dense id (as strings, or as their bytes when the keys came in order: ASCII text
 * keys, see Utf8Interner.orderedAsciiBytes), and provisional id -> dense id (-1 when unused).
 */
export interface AccountNumbering {
  accountKey: AccountKeyList;
  remap: Int32Array;
}

/** Interns account keys of one key type across files. */
export class AccountKeys {
  // only the interner of the key type is made (each allocates a few MB up front)
  private stringsOrNull: Utf8Interner | null = null;
  private intsOrNull: Int64Interner | null = null;
  private get strings(): Utf8Interner {
    return (this.stringsOrNull ??= new Utf8Interner(1 << 16));
  }
  private get ints(): Int64Interner {
    return (this.intsOrNull ??= new Int64Interner(1 << 16));
  }
  private readonly dicts = new Map<string, DictionaryMapper>();
  constructor(readonly type: AccountKeyType) {}

  /** Number of distinct keys seen so far (provisional ids are 0..count-1). */
  get count(): number {
    return this.type === 'utf8' ? this.strings.count : this.ints.count;
  }

  /**
   * Writes the provisional id of each row's key to `out[at…]`, -1 for null keys. `source` names the file (one
   * dictionary cache per file).
   */
  intern(source: string, col: ResolvedColumn, data: Data, out: Int32Array, at: number): void {
    if (this.type === 'int64') {
      internInts(col, data, this.ints, out, at);
      return;
    }
    let d = this.dicts.get(source);
    if (!d) {
      d = new DictionaryMapper(this.strings);
      this.dicts.set(source, d);
    }
    internStrings(col, data, this.strings, d, out, at);
  }

  /** The key of a provisional id, as text (Int64 as a decimal string). */
  key(id: number): string {
    return this.type === 'utf8' ? this.strings.get(id) : this.ints.get(id).toString();
  }

  /** Numbers the used keys (`used[id] = 1`) densely in key order. */
  finish(used: Uint8Array): AccountNumbering {
    const n = this.count;
    const remap = new Int32Array(n).fill(-1);
    if (this.type === 'int64') {
      let m = 0;
      for (let id = 0; id < n; id++) if (used[id]) m++;
      const keys = new BigInt64Array(m);
      let k = 0;
      for (let id = 0; id < n; id++) if (used[id]) keys[k++] = this.ints.get(id);
      keys.sort();
      const accountKey = new Array<string>(m);
      for (let j = 0; j < m; j++) {
        const v = keys[j]!;
        remap[this.ints.find(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0)] = j;
        accountKey[j] = v.toString();
      }
      return { accountKey, remap };
    }
    // keys in order already (the first of a sorted dictionary, as an exporter writes them): numbered as they are,
    // kept as bytes, no string made (100,000 strings and their comparisons cost ~15 ms of the load, and the
    // report's copy of them ~6 ms more: the report appends the bytes as they are)
    const ordered = this.strings.orderedAsciiBytes(used);
    if (ordered !== null) {
      let j = 0;
      for (let id = 0; id < n; id++) if (used[id]) remap[id] = j++;
      return { accountKey: ordered, remap };
    }
    const ids: number[] = [];
    const text = this.strings.all();
    let sorted = true;
    for (let id = 0; id < n; id++) {
      if (!used[id]) continue;
      if (ids.length > 0 && !(text[ids[ids.length - 1]!]! < text[id]!)) sorted = false;
      ids.push(id);
    }
    // keys often arrive in order (a sorted dictionary): then the ids are already in key order, each key
    // greater than the one before, so no two are equal and the keys are taken as they are (the comparisons
    // below cost ~14 ms of the load at 100,000 accounts)
    if (sorted) {
      const accountKey = new Array<string>(ids.length);
      for (let j = 0; j < ids.length; j++) {
        accountKey[j] = text[ids[j]!]!;
        remap[ids[j]!] = j;
      }
      return { accountKey, remap };
    }
    ids.sort((a, b) => (text[a]! < text[b]! ? -1 : text[a]! > text[b]! ? 1 : a - b));
    // equal keys under two provisional ids (a dictionary that repeats a string, adopted whole by the
    // interner) are one account
    const accountKey: string[] = [];
    for (const id of ids) {
      const t = text[id]!;
      if (accountKey.length === 0 || accountKey[accountKey.length - 1] !== t) accountKey.push(t);
      remap[id] = accountKey.length - 1;
    }
    return { accountKey, remap };
  }
}
