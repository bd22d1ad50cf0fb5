/** SHA-256 of input files, recorded with every run so a number can be traced to the bytes it came from. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Lowercase hex SHA-256 of a file's bytes, streamed in 4 MiB reads (memory bounded; 64 KiB reads took
 * 2–3× as long on a 25 MB positions file, mostly per-chunk overhead).
 */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
