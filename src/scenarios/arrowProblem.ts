/**
 * Synchronous checks of bytes that claim to be Arrow IPC, for scenario files (read whole with
 * readFileSync). They mirror the checks of the input loader's `openArrow` (src/io/arrowSource.ts, async
 * and private there) so that both say the same thing: the file format starts and ends with the magic
 * `ARROW1` (and is at least 12 bytes: magic, padding, footer length, magic), the stream format starts with
 * the continuation marker 0xFFFFFFFF; anything else is described by its first bytes. apache-arrow's own
 * messages ("Cannot read properties of null", "Expected to read … metadata bytes") never reach the user
 * alone.
 */

/** What the input loader and scenario files expect, word for word as in src/io/arrowSource.ts. */
export const ARROW_EXPECTED = 'expected an Arrow IPC file (starting and ending with ARROW1) or an Arrow IPC stream';

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** Whether `b` holds the magic `ARROW1` at byte `at`. */
function hasMagic(b: Uint8Array, at: number): boolean {
  if (at < 0 || at + 6 > b.length) return false;
  for (let i = 0; i < 6; i++) if (b[at + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * The Arrow IPC format `bytes` start like: `file` (magic ARROW1), `stream` (continuation 0xFFFFFFFF, ≥ 8 bytes) or
 * null.
 */
export function arrowFormatOf(bytes: Uint8Array): 'file' | 'stream' | null {
  if (hasMagic(bytes, 0)) return 'file';
  if (bytes.length >= 8 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff)
    return 'stream';
  return null;
}

/** `the text "hello,wo"` when the first (up to 8) bytes are printable ASCII, else `the bytes 00 01 …` in hex. */
export function describeHead(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8));
  const printable = head.every((c) => c >= 0x20 && c < 0x7f);
  return printable
    ? `the text ${JSON.stringify(String.fromCharCode(...head))}`
    : `the bytes ${head.map((c) => c.toString(16).padStart(2, '0')).join(' ')}`;
}

/**
 * What is wrong with `bytes` as an Arrow IPC file or stream before any parsing, as the rule of a file-level
 * violation (`is empty; expected …`, `is not Arrow (it starts with the text "scenario"); expected …`,
 * `is truncated: …`), or null when the framing looks right (the content may still be corrupt: see
 * {@link arrowLibraryDetail}).
 */
export function describeArrowProblem(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return `is empty; ${ARROW_EXPECTED}`;
  const format = arrowFormatOf(bytes);
  if (format === 'file') {
    if (bytes.length < 12)
      return `is truncated: an Arrow IPC file of ${bytes.length} bytes has no footer; ${ARROW_EXPECTED}`;
    if (!hasMagic(bytes, bytes.length - 6))
      return `is truncated or corrupt: the Arrow IPC file does not end with ARROW1 (its footer is missing); ${ARROW_EXPECTED}`;
    return null;
  }
  if (format === 'stream') return null;
  return `is not Arrow (it starts with ${describeHead(bytes)}); ${ARROW_EXPECTED}`;
}

/**
 * apache-arrow's message for a parse failure as a parenthesised detail to append to our own rule, or ''
 * when it says nothing useful: "Unrecognized input", empty, longer than 200 characters (the input loader's
 * filter), or a JavaScript TypeError from inside the library ("Cannot read properties of null …").
 */
export function arrowLibraryDetail(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (e instanceof TypeError || /unrecognized input|cannot read propert/i.test(m) || m.length > 200 || m.trim() === '')
    return '';
  return ` (${m.replace(/\s+/g, ' ')})`;
}
