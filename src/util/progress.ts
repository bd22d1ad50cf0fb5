/**
 * Progress on stderr for long phases: counts, rate and an estimate of time left. Silent when stderr is
 * not a terminal or with --quiet, so logs and pipes stay clean.
 */
export interface Progress {
  /** start a phase of `total` units (0 when unknown) */
  start(phase: string, total?: number): void;
  /** `done` units of the current phase are complete */
  update(done: number): void;
  /** end the current phase */
  end(): void;
}

export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = !opts.quiet && stream.isTTY === true;
  let phase = '';
  let total = 0;
  let t0 = 0;
  let last = 0;
  const write = (s: string) => {
    if (enabled) stream.write(`\r\x1b[K${s}`);
  };
  return {
    start(p, t = 0) {
      phase = p;
      total = t;
      t0 = performance.now();
      last = 0;
      write(`${phase} …`);
    },
    update(done) {
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      const el = (now - t0) / 1000;
      if (total > 0 && done > 0) {
        const left = (el * (total - done)) / done;
        write(
          `${phase}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${((100 * done) / total).toFixed(0)}%), ~${left.toFixed(1)} s left`,
        );
      } else write(`${phase}: ${done.toLocaleString('en-US')}`);
    },
    end() {
      if (enabled) stream.write(`\r\x1b[K${phase}: done in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
    },
  };
}
