/**
 * Typed arrays on shared memory for the cpu pool: arrays already on a SharedArrayBuffer are used as they
 * are (zero copy); others are copied once and the copy is remembered for as long as the original lives.
 */
type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;

const copies = new WeakMap<Typed, Typed>();

/**
 * A SharedArrayBuffer holding exactly the elements of `a` (the array's own buffer when it is shared and
 * the view covers it whole, else a cached copy).
 */
export function sharedBufferOf(a: Typed): SharedArrayBuffer {
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength)
    return a.buffer;
  let c = copies.get(a);
  if (c === undefined || c.length !== a.length) {
    const ctor = a.constructor as { new (b: SharedArrayBuffer): Typed; BYTES_PER_ELEMENT: number };
    c = new ctor(new SharedArrayBuffer(a.length * ctor.BYTES_PER_ELEMENT));
    c.set(a as never);
    copies.set(a, c);
  }
  return c.buffer as SharedArrayBuffer;
}
