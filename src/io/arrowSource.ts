/**
 * Opening an Arrow IPC input: detects the file format (magic `ARROW1` at both ends) or the stream
 * format (a continuation marker 0xFFFFFFFF first), then reads its record batches with apache-arrow's
 * RecordBatchReader: a file of up to WHOLE_READ_MAX bytes (512 MiB) is read whole, in one read, and its
 * batches are views of that buffer; a larger one streams from disk one batch at a time, so memory holds
 * one batch of raw input at a time.
 * Every failure (missing, unreadable, empty, not Arrow, truncated, corrupt) becomes an InputError that
 * names the file and what was expected; Arrow's own messages ("Unrecognized input") never reach the user.
 */
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  DataType,
  Message,
  MessageHeader,
  RecordBatchReader,
  type Data,
  type RecordBatch,
  type Schema,
} from 'apache-arrow';
import { ByteBuffer } from 'flatbuffers';
import { InputError, fileError } from '../errors.js';
import { WHOLE_READ_MAX, sameFile, takePrefetched } from './prefetch.js';

/**
 * apache-arrow decodes a file's schema and each message's metadata with flatbuffers, which trusts every
 * length it reads: one flipped byte in a vector's length made the schema decoder build 100 million
 * fields, and the process died out of memory (found by the fuzz suite, test/fuzz). A vector cannot have
 * more elements than its buffer has bytes: such a length throws, and the caller's InputError names the
 * file. Installed once, when this module loads; every correct buffer reads as before.
 */
const vectorLength = ByteBuffer.prototype.__vector_len;
ByteBuffer.prototype.__vector_len = function checkedVectorLength(this: ByteBuffer, offset: number): number {
  const n = vectorLength.call(this, offset);
  if (!(n >= 0 && n <= this.capacity()))
    throw new RangeError(`corrupt Arrow metadata: a vector of ${n} elements in ${this.capacity()} bytes`);
  return n;
};

/** What an Arrow input was written as. */
export type ArrowFormat = 'file' | 'stream';

/** An opened Arrow input: its schema and its record batches, read lazily from disk. */
export interface ArrowSource {
  file: string;
  format: ArrowFormat;
  schema: Schema;
  /**
   * whether the file was read whole (WHOLE_READ_MAX): its batches' buffers are then views of that one buffer, so a
   * view of a column keeps nothing alive the source does not hold anyway; streamed, each batch has its own buffer
   */
  readWhole: boolean;
  /** the record batches in order; the file is closed when the iteration ends or stops */
  batches(): AsyncGenerator<RecordBatch>;
  /** closes the file (also done by `batches()` when it finishes) */
  close(): Promise<void>;
}

const EXPECTED = 'expected an Arrow IPC file (starting and ending with ARROW1) or an Arrow IPC stream';
const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/**
 * Opens `file` and reads its schema. `wholeReadMax`: files up to this many bytes are read whole
 * (default WHOLE_READ_MAX), larger ones streamed.
 * @throws InputError naming the file when it is missing, unreadable, empty, not Arrow or truncated.
 */
export async function openArrow(file: string, wholeReadMax: number = WHOLE_READ_MAX): Promise<ArrowSource> {
  // the bytes read ahead (prefetch.ts), taken whatever follows: used below when they are this file's
  const ahead = takePrefetched(file);
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw fileError(file, describeOpenError(e as NodeJS.ErrnoException));
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw fileError(file, `is a directory; ${EXPECTED}`);
    if (st.size === 0) throw fileError(file, `is empty; ${EXPECTED}`);
    const head = Buffer.alloc(8);
    await fh.read(head, 0, Math.min(8, st.size), 0);
    let format: ArrowFormat;
    if (hasMagic(head, 0)) {
      format = 'file';
      const tail = Buffer.alloc(6);
      if (st.size < 12)
        throw fileError(file, `is truncated: an Arrow IPC file of ${st.size} bytes has no footer; ${EXPECTED}`);
      await fh.read(tail, 0, 6, st.size - 6);
      if (!hasMagic(tail, 0))
        throw fileError(
          file,
          `is truncated or corrupt: the Arrow IPC file does not end with ARROW1 (its footer is missing); ${EXPECTED}`,
        );
    } else if (st.size >= 8 && head.readUInt32LE(0) === 0xffffffff) {
      format = 'stream';
    } else {
      throw fileError(file, `is not Arrow (it starts with ${describeHead(head, Math.min(8, st.size))}); ${EXPECTED}`);
    }
    let reader: RecordBatchReader;
    let whole: Buffer | null = null;
    if (st.size <= wholeReadMax) {
      // read ahead by the command (prefetch.ts) from this file, unchanged since; else read now
      const prefetched = await ahead;
      if (prefetched && sameFile(prefetched, st)) whole = prefetched.bytes;
      else
        try {
          whole = readFileSync(fh.fd);
        } catch (e) {
          throw fileError(
            file,
            `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${EXPECTED}`,
          );
        }
    }
    try {
      if (whole) {
        reader = RecordBatchReader.from(whole);
        reader.open();
      } else {
        reader = await RecordBatchReader.from(fh);
        await reader.open();
      }
    } catch (e) {
      throw fileError(
        file,
        `is corrupt or truncated: its Arrow ${format} schema cannot be read${detail(e)}; ${EXPECTED}`,
      );
    }
    if (!reader.schema) throw fileError(file, `is corrupt or truncated: no Arrow schema found; ${EXPECTED}`);
    if (reader.isFile()) {
      const buf = whole;
      await checkFileBlocks(file, reader, st.size, async (at, n) => {
        if (buf) return buf.subarray(at, at + n);
        const b = Buffer.alloc(n);
        await fh.read(b, 0, n, at);
        return b;
      });
    }
    const schema = reader.schema;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => undefined);
    };
    // a dictionary is shared by the batches that follow it: its chunks are checked once, not per batch
    const checkedDictionaries = new WeakSet<Data>();
    async function* batches(): AsyncGenerator<RecordBatch> {
      let k = 0;
      try {
        for (;;) {
          let r: IteratorResult<RecordBatch>;
          try {
            r = await reader.next();
          } catch (e) {
            throw fileError(
              file,
              `is corrupt or truncated: record batch ${k} of the Arrow ${format} cannot be read${detail(e)}; ${EXPECTED}`,
            );
          }
          if (r.done) break;
          checkBatch(file, k, r.value, checkedDictionaries);
          k++;
          yield r.value;
        }
      } finally {
        await close();
      }
    }
    return { file, format, schema, readWhole: whole !== null, batches, close };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Checks that every record batch block of an Arrow file's footer lies inside the file and holds a
 * record batch message. apache-arrow's file reader seeks to a block and, when the message found there
 * is not a record batch (a flipped byte, a footer that points elsewhere), seeks to the same block
 * again, for ever: the check turns that into an InputError.
 */
async function checkFileBlocks(
  file: string,
  reader: RecordBatchReader,
  size: number,
  readAt: (at: number, n: number) => Promise<Uint8Array>,
): Promise<void> {
  const footer = reader.footer;
  const count = reader.numRecordBatches;
  for (let i = 0; i < count; i++) {
    const block = footer?.getRecordBatch(i);
    const bad = (why: string) =>
      fileError(file, `is corrupt or truncated: record batch ${i} of the Arrow file ${why}; ${EXPECTED}`);
    if (!block || !(block.offset >= 8 && block.offset + 8 <= size)) throw bad('lies outside the file');
    const prefix = Buffer.from(await readAt(block.offset, 8));
    // a message starts with the continuation marker and the metadata length (older files: the length alone)
    const marked = prefix.readInt32LE(0) === -1;
    const length = marked ? prefix.readInt32LE(4) : prefix.readInt32LE(0);
    const start = block.offset + (marked ? 8 : 4);
    if (!(length > 0 && start + length <= size)) throw bad('has no readable message');
    let message: Message;
    try {
      message = Message.decode(await readAt(start, length));
    } catch {
      throw bad('has no readable message');
    }
    if (message.headerType !== MessageHeader.RecordBatch) throw bad('is not a record batch message');
    if (!(message.bodyLength >= 0 && start + length + message.bodyLength <= size)) throw bad('runs past the end');
  }
}

/**
 * Checks the buffers of each column of a record batch against its length: a string column's offsets rise
 * from 0 and end inside its bytes, a fixed-width column has a value per row. apache-arrow builds a batch
 * from the lengths its metadata gives without checking them; a flipped byte in an offset made the
 * reading of the account column throw a RangeError deep in the loader (exit 1, found by the fuzz suite).
 * @throws InputError naming the file, the batch and the column
 */
function checkBatch(file: string, k: number, batch: RecordBatch, checkedDictionaries: WeakSet<Data>): void {
  batch.schema.fields.forEach((field, i) => {
    const data = batch.data.children[i];
    if (!data) return;
    const why = checkData(data) ?? dictionaryProblem(data, checkedDictionaries);
    if (why)
      throw fileError(file, `is corrupt: record batch ${k}, column ${field.name}: ${why}; ${EXPECTED}`, field.name);
  });
}

/**
 * What is wrong with a dictionary-encoded column's dictionary, or null: each of its chunks (the first, then
 * any delta) checked once per file. Every record batch refers to the whole dictionary so far: a book's
 * account dictionary holds an entry per account, and checking it again in each of the 155 batches of the
 * 1,000,000-account book took ~0.2–0.4 s of the load.
 */
function dictionaryProblem(data: Data, checked: WeakSet<Data>): string | null {
  for (const chunk of data.dictionary?.data ?? []) {
    if (checked.has(chunk)) continue;
    const why = checkData(chunk);
    if (why) return why;
    checked.add(chunk);
  }
  return null;
}

/** What is wrong with the buffers of one column chunk, or null. */
function checkData(data: Data | undefined): string | null {
  if (!data) return null;
  const n = data.length;
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (offsets && (DataType.isUtf8(data.type) || DataType.isLargeUtf8(data.type) || DataType.isBinary(data.type))) {
    const bytes = data.values as Uint8Array;
    if (offsets.length < n + 1) return `${offsets.length} offsets for ${n} rows`;
    const prev = Number(offsets[0]);
    if (!(prev >= 0)) return `offset ${prev} of row 0 is negative`;
    // the loop over the rows in a function of its own, one per offset type: V8 optimises that loop alone (this
    // function, with Arrow's type tests inlined, took ~6 ms of TurboFan on the main thread's load: jitCost.ts)
    const fall = offsets instanceof Int32Array ? firstFall32(offsets, n) : firstFall(offsets, n);
    if (fall >= 0) return `the offsets fall at row ${fall}`;
    const end = Number(offsets[n]);
    if (end > bytes.length) return `the strings end at byte ${end} of a ${bytes.length}-byte buffer`;
    return null;
  }
  const values = data.values as ArrayLike<unknown> | undefined;
  if (
    values &&
    !DataType.isBool(data.type) &&
    !DataType.isDictionary(data.type) &&
    data.stride > 0 &&
    values.length < n * data.stride
  )
    return `${values.length} values for ${n} rows`;
  return null;
}

/** The first row r < n whose end offset `offsets[r + 1]` is below its start, or −1 (32-bit offsets). */
function firstFall32(offsets: Int32Array, n: number): number {
  for (let r = 0; r < n; r++) if (!(offsets[r + 1]! >= offsets[r]!)) return r;
  return -1;
}

/** firstFall32 for offsets of any width (64-bit as BigInt). */
function firstFall(offsets: ArrayLike<number | bigint>, n: number): number {
  for (let r = 0; r < n; r++) if (!(Number(offsets[r + 1]) >= Number(offsets[r]))) return r;
  return -1;
}

function hasMagic(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 6; i++) if (b[at + i] !== MAGIC[i]) return false;
  return true;
}

function describeOpenError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `not found; ${EXPECTED}`;
    case 'EACCES':
    case 'EPERM':
      return `cannot be read (permission denied); ${EXPECTED}`;
    case 'EISDIR':
      return `is a directory; ${EXPECTED}`;
    default:
      return `cannot be opened (${e.code ?? e.message}); ${EXPECTED}`;
  }
}

function describeHead(b: Uint8Array, n: number): string {
  const bytes = Array.from(b.subarray(0, n));
  const printable = bytes.every((c) => c >= 0x20 && c < 0x7f);
  return printable
    ? `the text ${JSON.stringify(String.fromCharCode(...bytes))}`
    : `the bytes ${bytes.map((c) => c.toString(16).padStart(2, '0')).join(' ')}`;
}

/** Arrow's own messages are kept out unless they say something useful about the bytes. */
function detail(e: unknown): string {
  if (e instanceof InputError) throw e;
  const m = e instanceof Error ? e.message : String(e);
  if (/unrecognized input/i.test(m) || m.length > 200 || m === '') return '';
  return ` (${m.replace(/\s+/g, ' ')})`;
}
