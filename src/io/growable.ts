/**
 * Typed arrays that grow by doubling while a table of unknown length streams in; `view()` is the
 * filled part (a view, not a copy).
 */

/** A growable Int32Array. */
export class GrowableInt32 {
  array: Int32Array;
  length = 0;
  constructor(capacity = 1 << 16) { this.array = new Int32Array(capacity); }
  /** Makes room for `n` more values and returns the offset to write them at. */
  reserve(n: number): number {
    if (this.length + n > this.array.length) {
      const bigger = new Int32Array(Math.max(this.array.length * 2, this.length + n));
      bigger.set(this.array.subarray(0, this.length));
      this.array = bigger;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  view(): Int32Array { return this.array.subarray(0, this.length); }
}

/** A growable Float64Array. */
export class GrowableFloat64 {
  array: Float64Array;
  length = 0;
  constructor(capacity = 1 << 16) { this.array = new Float64Array(capacity); }
  /** Makes room for `n` more values and returns the offset to write them at. */
  reserve(n: number): number {
    if (this.length + n > this.array.length) {
      const bigger = new Float64Array(Math.max(this.array.length * 2, this.length + n));
      bigger.set(this.array.subarray(0, this.length));
      this.array = bigger;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  view(): Float64Array { return this.array.subarray(0, this.length); }
}
