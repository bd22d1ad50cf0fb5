/**
 * Early write-back of a report file: DuckDB writes each full row group of a run's appends into the file as it
 * fills (RunWriter.open: write_buffer_row_group_count = 1), into the page cache; its COMMIT then syncs every
 * page still dirty. `request()` has them synced now, by an fdatasync on the thread pool (libuv's), while the run
 * computes its next model, so that the COMMIT, the run's tail, finds fewer pages to write.
 *
 * The descriptor is this module's own and stays open until `close()`, which the writer calls only after DuckDB
 * has closed the file: closing any descriptor of a file drops every POSIX lock the process holds on it
 * (fcntl's semantics), DuckDB's included. Nothing here changes the file, and a sync that fails (a full disk) is
 * left to DuckDB's own COMMIT to report.
 *
 * Measured on the 2-core machine (intraday, a fresh report of ~21 MB, strace): DuckDB's fsyncs at COMMIT took
 * 15.6–15.8 ms without, 8–9 ms with (bench/README.md, session 29).
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

export class WriteBack {
  private fd: number | null = null;
  /** the sync in flight, then the one asked for while it ran (at most one waits) */
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private readonly file: string) {}

  /** Has the file's dirty pages written to the disk now (one sync at a time; a request during one queues one more). */
  request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    try {
      this.fd ??= openSync(this.file, 'r');
    } catch {
      return; // no early write-back: the COMMIT syncs everything, as it would anyway
    }
    const fd = this.fd;
    this.running = new Promise<void>((resolve) => fdatasync(fd, () => resolve())).then(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
  }

  /** Waits for a sync in flight and closes the descriptor: after DuckDB has closed the file (module comment). */
  async close(): Promise<void> {
    this.closed = true;
    this.again = false;
    while (this.running) await this.running;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
