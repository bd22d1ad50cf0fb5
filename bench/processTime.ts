/**
 * Timing a command as a process, as a user runs it: from spawn to exit (this process's clock), with the
 * user + system CPU of every thread and the peak RSS from GNU time (`/usr/bin/time -f`, which waits for
 * the child and reads its rusage). bench/ab.ts (`--process`) and bench/scaling.ts use it.
 */
import { spawn, spawnSync } from 'node:child_process';

/** One timed process. */
export interface ProcessSample {
  /** spawn to exit, s */
  wall: number;
  /** user + system CPU of every thread, s (null when killed: GNU time was killed with it) */
  cpu: number | null;
  /** of which system (the kernel's: page faults, I/O), s (null when killed) */
  sys: number | null;
  /** peak resident set, MiB (null when killed) */
  rssMiB: number | null;
  stdout: string;
  stderr: string;
  /** exit status; null when killed */
  status: number | null;
  timedOut: boolean;
}

const TIME_FORMAT = '@@time %e %U %S %M';

function parse(stderr: string): { cpu: number; sys: number; rssMiB: number } | null {
  const line = stderr.split('\n').find((l) => l.startsWith('@@time '));
  if (!line) return null;
  const [, , user, sys, rssKiB] = line.split(' ').map(Number);
  return { cpu: user! + sys!, sys: sys!, rssMiB: Math.round(rssKiB! / 1024) };
}

/**
 * What a failed child said: its stderr without the TRACE lines (src/util/trace.ts) and GNU time's line, the last
 * 2,000 characters.
 */
export function childError(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !l.startsWith('TRACE ') && !l.startsWith('@@time'))
    .join('\n')
    .slice(-2000);
}

/**
 * Runs `sh mainJs ARGS` (the command's polyglot first lines exec node with the engine's flags, as
 * `margin-engine` does) under GNU time (under `nice -n NICE` when given) and waits.
 * @throws Error with the child's stderr when it fails
 */
export function timeProcessSync(mainJs: string, args: string[], nice?: number): ProcessSample {
  const t0 = performance.now();
  const cmd = ['/usr/bin/time', '-f', TIME_FORMAT, 'sh', mainJs, ...args];
  // `nice`: the child's scheduling priority (negative, as root, puts it ahead of a shared machine's other work)
  if (nice !== undefined) cmd.unshift('nice', '-n', String(nice));
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const wall = (performance.now() - t0) / 1000;
  const t = parse(r.stderr);
  if (r.status !== 0 || !t)
    throw new Error(`${mainJs} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr.slice(-2000)}`);
  return { wall, ...t, stdout: r.stdout, stderr: r.stderr, status: 0, timedOut: false };
}

/**
 * The same (`nice` likewise), asynchronously, with a time limit: past `timeoutSeconds` the whole process group (GNU
 * time, sh's exec'd node and its threads) is killed and the sample says so. Never throws for the
 * child's failure: read `status`.
 */
export function timeProcess(
  mainJs: string,
  args: string[],
  timeoutSeconds: number,
  env: NodeJS.ProcessEnv = process.env,
  nice?: number,
): Promise<ProcessSample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const cmd = ['/usr/bin/time', '-f', TIME_FORMAT, 'sh', mainJs, ...args];
    if (nice !== undefined) cmd.unshift('nice', '-n', String(nice));
    const child = spawn(cmd[0]!, cmd.slice(1), {
      detached: true, // its own process group, killed as one
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutSeconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      const wall = (performance.now() - t0) / 1000;
      const t = timedOut ? null : parse(stderr);
      resolve({
        wall,
        cpu: t?.cpu ?? null,
        sys: t?.sys ?? null,
        rssMiB: t?.rssMiB ?? null,
        stdout,
        stderr,
        status: timedOut ? null : status,
        timedOut,
      });
    });
  });
}
