/**
 * The creation gate of src/util/partialFiles.ts: a SIGINT's clean-up waits for a partial file's creation
 * in flight (on a worker thread, or on the main thread) before it removes the files. Run in a child
 * process (the signal ends it) from the build, as the command runs it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';

const MODULE = pathToFileURL(join(import.meta.dirname, '../../dist/src/util/partialFiles.js')).href;

/**
 * A process that registers a clean-up, begins a 300 ms creation (`where`: on a worker thread or on its
 * main thread), is sent SIGINT once the creation has begun, and prints what the clean-up saw.
 */
function interrupted(where: 'worker' | 'main') {
  const script = `
    import { Worker } from 'node:worker_threads';
    import { cleanupOnSignal, creationGate, creatingPartial } from ${JSON.stringify(MODULE)};
    const done = new Int32Array(new SharedArrayBuffer(4));
    const t0 = Date.now();
    cleanupOnSignal(() => process.stdout.write('creation finished: ' + Atomics.load(done, 0) + ', after ' + (Date.now() - t0) + ' ms\\n'));
    setTimeout(() => undefined, 10_000);
    if (${JSON.stringify(where)} === 'worker') {
      const w = new Worker(\`
        import { workerData, parentPort } from 'node:worker_threads';
        const m = await import(workerData.url);
        m.adoptCreationGate(workerData.gate);
        await m.creatingPartial(async () => {
          parentPort.postMessage('inside');
          await new Promise((r) => setTimeout(r, 300));
          Atomics.store(workerData.done, 0, 1);
        });\`, { eval: true, workerData: { url: ${JSON.stringify(MODULE)}, gate: creationGate(), done } });
      w.on('message', () => process.kill(process.pid, 'SIGINT'));
    } else {
      await creatingPartial(async () => {
        process.kill(process.pid, 'SIGINT');
        await new Promise((r) => setTimeout(r, 300));
        Atomics.store(done, 0, 1);
      });
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A process whose main thread begins a creation that never ends, is sent `signals` SIGINTs, prints the clean-up. */
function stuck(signals: number) {
  const script = `
    import { cleanupOnSignal, creatingPartial } from ${JSON.stringify(MODULE)};
    const t0 = Date.now();
    cleanupOnSignal(() => process.stdout.write('cleaned up after ' + (Date.now() - t0) + ' ms\\n'));
    setTimeout(() => undefined, 30_000);
    creatingPartial(() => {
      for (let k = 0; k < ${signals}; k++) setTimeout(() => process.kill(process.pid, 'SIGINT'), 50 + 100 * k);
      return new Promise(() => undefined);
    });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Number(/after (\d+)/.exec(r.stdout)?.[1]) };
}

describe('a SIGINT during the creation of a partial file', () => {
  test.each(['worker', 'main'] as const)(
    'on the %s thread: the clean-up runs once the creation has finished',
    (where) => {
      const r = interrupted(where);
      expect(r.signal, r.stderr).toBe('SIGINT');
      expect(r.stdout).toMatch(/^creation finished: 1, after \d+ ms\n$/);
      expect(Number(/after (\d+)/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(250);
    },
  );

  test('on the main thread, a creation that does not end: the clean-up runs at a second signal', () => {
    const r = stuck(2);
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(r.ms).toBeGreaterThanOrEqual(140);
    expect(r.ms).toBeLessThan(2_000);
  });

  test('on the main thread, a creation that does not end: the clean-up runs after 5 s', () => {
    const r = stuck(1);
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(r.ms).toBeGreaterThanOrEqual(4_900);
    expect(r.ms).toBeLessThan(10_000);
  }, 20_000);
});
