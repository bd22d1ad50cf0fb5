/**
 * Progress on stderr (src/util/progress.ts): a live line on a terminal; in a log (stderr not a terminal)
 * a line every interval while a phase lasts longer, then its end; nothing for short phases or --quiet;
 * a phase at 100 % that still works says what it does.
 */
import { describe, expect, test } from 'vitest';
import { createProgress } from '../../src/util/progress.js';

/** A stream that keeps what is written. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream & {
    isTTY: boolean;
    chunks: string[];
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress in a log (stderr not a terminal)', () => {
  test('a long phase: a line per interval with done/total and time left, then its end', async () => {
    const s = sink(false);
    const p = createProgress({ stream: s, intervalMs: 40 });
    p.start('revaluation', 1000);
    p.update(250);
    await sleep(100);
    p.update(600);
    await sleep(60);
    p.end();
    const lines = s.chunks.join('').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatch(/^margin-engine: revaluation: 250\/1,000 \(25 %\), ~[\d.]+ s left$/);
    expect(lines.some((l) => /600\/1,000 \(60 %\)/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^margin-engine: revaluation: done in [\d.]+ s$/);
    expect(s.chunks.join('')).not.toContain('\r');
  });

  test('a short phase prints nothing', async () => {
    const s = sink(false);
    const p = createProgress({ stream: s, intervalMs: 1000 });
    p.start('load', 10);
    p.update(10);
    await sleep(20);
    p.end();
    expect(s.chunks).toEqual([]);
  });

  test('at 100 %, a phase that still works says what it does', async () => {
    const s = sink(false);
    const p = createProgress({ stream: s, intervalMs: 30 });
    p.start('report (rows written)', 500, 'committing the run');
    p.update(500);
    await sleep(80);
    p.end();
    expect(s.chunks.join('')).toMatch(/report \(rows written\): all 500 done; committing the run \([\d.]+ s\)/);
  });

  test('--quiet: nothing, on a terminal or not', async () => {
    for (const tty of [true, false]) {
      const s = sink(tty);
      const p = createProgress({ stream: s, intervalMs: 10, quiet: true });
      p.start('x', 10);
      p.update(5);
      await sleep(30);
      p.end();
      expect(s.chunks).toEqual([]);
    }
  });
});

test('on a terminal: one line redrawn in place, and its end', () => {
  const s = sink(true);
  const p = createProgress({ stream: s });
  p.start('aggregation', 100);
  p.update(50);
  p.end();
  const out = s.chunks.join('');
  expect(out.startsWith('\r\x1b[Kaggregation …')).toBe(true);
  expect(out).toContain('\r\x1b[Kaggregation: 50/100 (50 %)');
  expect(out).toMatch(/\r\x1b\[Kaggregation: done in [\d.]+ s\n$/);
});
