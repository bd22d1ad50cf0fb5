/**
 * Backend selection and honesty (docs/architecture.md "Backends"): auto tries webgpu, gl, cpu and records why
 * each did not run; per-phase choice is recorded; asking for an unavailable backend fails with a reason;
 * gpu.js's silent fallback is detected by kernel class; the self-check refuses a backend that disagrees
 * with float64; the worker is resolved to dist/ from source and from dist.
 */
import { describe, expect, test } from 'vitest';
import {
  calibrationSizes,
  createBackend,
  onDevice,
  BackendUnavailableError,
  type Backend,
} from '../../src/engine/createBackend.js';
import { CpuBackend } from '../../src/engine/cpuBackend.js';
import { checkKernelClass, type GpuKernel } from '../../src/engine/gpuDevice.js';
import { selfCheck } from '../../src/engine/selfCheck.js';
import { resolveWorker } from '../../src/util/workerPath.js';
import type { PnlMatrix } from '../../src/engine/types.js';
import { GL_REQUIRED, glUnavailableReason } from './glAvailability.js';

const glReason = await glUnavailableReason();

describe('createBackend', () => {
  test('auto: a run too small to repay a device start-up runs on cpu without starting one, and says why', async () => {
    // intraday's size: 1,606 instruments × 51 scenarios
    const b = await createBackend('auto', { workers: 1, expectedWork: { evaluations: 1606 * 51, scenarios: 51 } });
    try {
      expect(b.name).toBe('cpu');
      expect(b.report.tried.cpu).toBe('ok');
      for (const n of ['gl', 'webgpu'] as const)
        expect(b.report.tried[n]).toMatch(
          /^not started: this run revalues 81,906 instrument-scenario pairs over 51 scenarios/,
        );
    } finally {
      await b.close();
    }
  });

  test('auto: a run above the size still tries the devices', async () => {
    // eod's size: 1,606 instruments × 11,051 scenarios
    const b = await createBackend('auto', {
      workers: 1,
      expectedWork: { evaluations: 1606 * 11051, scenarios: 11051 },
      noCalibration: true,
    });
    try {
      for (const n of ['gl', 'webgpu'] as const) expect(b.report.tried[n]).not.toMatch(/^not started/);
      if (GL_REQUIRED || glReason === null) expect(b.report.tried.gl).toBe('ok');
    } finally {
      await b.close();
    }
  });

  test('auto: every backend tried is recorded with "ok" or a reason, and each phase names a backend that ran', async () => {
    const b = await createBackend('auto', { workers: 2 });
    try {
      const r = b.report;
      expect(Object.keys(r.tried).sort()).toEqual(['cpu', 'gl', 'webgpu']);
      for (const why of Object.values(r.tried)) expect(why!.length).toBeGreaterThan(0);
      expect(r.tried.cpu).toBe('ok');
      expect(r.tried[r.phases!.revalue]).toBe('ok');
      expect(r.tried[r.phases!.aggregate]).toBe('ok');
      expect(r.chosen).toBe(r.phases!.revalue);
      expect(b.name).toBe(r.chosen);
      for (const phase of ['revalue', 'aggregate'] as const) {
        const used = r.phases![phase];
        expect(r.phaseKernelClass![phase]).toBe(
          used === 'cpu' ? 'piscina' : used === 'gl' ? 'HeadlessGLKernel' : 'WebGPUKernel',
        );
      }
      if (r.phases!.revalue === 'cpu' && r.phases!.aggregate === 'cpu') {
        // the device measured slower for both: closed, and the cpu backend itself runs, lending its threads
        expect(b).toBeInstanceOf(CpuBackend);
        expect(b.threads?.workers).toBe(2);
      }
      if (GL_REQUIRED || glReason === null) {
        expect(r.tried.gl).toBe('ok');
        expect(r.calibration!.revalue.gl).toBeGreaterThan(0);
        expect(r.calibration!.aggregate.cpu).toBeGreaterThan(0);
        // each phase where the measurement says (onDevice)
        const c = r.calibration!;
        expect(r.phases!.revalue).toBe(onDevice(c.revalue.gl!, c.revalue.cpu!) ? 'gl' : 'cpu');
        expect(r.phases!.aggregate).toBe(onDevice(c.aggregate.gl!, c.aggregate.cpu!) ? 'gl' : 'cpu');
      } else {
        expect(r.tried.gl).toContain(glReason.replace(/^backend gl is not available: /, ''));
      }
    } finally {
      await b.close();
    }
  });

  test('webgpu: runs as WebGPUKernel where an adapter answers, else fails cleanly with the reason', async () => {
    let b: Backend | null = null;
    try {
      b = await createBackend('webgpu');
    } catch (e) {
      expect(e).toBeInstanceOf(BackendUnavailableError);
      const err = e as BackendUnavailableError;
      expect(err.backend).toBe('webgpu');
      expect(err.reason.length).toBeGreaterThan(10);
      expect(err.message).toBe(`backend webgpu is not available: ${err.reason}`);
      return;
    }
    try {
      expect(b.report.kernelClass).toBe('WebGPUKernel');
    } finally {
      await b.close();
    }
  });

  test('cpu: the pool, self-checked to the bit', async () => {
    const b = await createBackend('cpu', { workers: 2 });
    try {
      expect(b.report).toMatchObject({
        chosen: 'cpu',
        kernelClass: 'piscina',
        tried: { cpu: 'ok' },
        selfCheck: { cpu: 0 },
      });
    } finally {
      await b.close();
    }
  });

  test.skipIf(glReason !== null && !GL_REQUIRED)(
    `gl: runs as HeadlessGLKernel and passes its self-check${glReason ? ` (gl unavailable here: ${glReason})` : ''}`,
    async () => {
      const b = await createBackend('gl');
      try {
        expect(b.report.kernelClass).toBe('HeadlessGLKernel');
        expect(b.report.selfCheck!.gl).toBeLessThanOrEqual(1);
      } finally {
        await b.close();
      }
    },
  );

  test('auto puts a phase on a device only above twice the pool’s measured rate', () => {
    // the H200's measurements (bench/README.md "Session 21"): webgpu 1.19× the pool's aggregation, 0.5×
    // its revaluation; the 2-core machine's gl revaluation 1.28×; none of them runs on the device
    expect(onDevice(1.1e9, 0.92e9)).toBe(false);
    expect(onDevice(34e6, 66e6)).toBe(false);
    expect(onDevice(37.5e6, 29.2e6)).toBe(false);
    expect(onDevice(2.0e6, 1e6)).toBe(false);
    expect(onDevice(2.01e6, 1e6)).toBe(true);
    // a measurement that failed (NaN) never puts a phase on the device
    expect(onDevice(NaN, 1e6)).toBe(false);
  });

  test("auto's measurement grows with the pool's workers", () => {
    // 2 workers (and 1): the sizes measured on the 2-core machine since the first wave
    expect(calibrationSizes(2)).toEqual({ revalue: [256, 2048], aggregate: [64, 16, 1024] });
    expect(calibrationSizes(1)).toEqual({ revalue: [256, 2048], aggregate: [64, 16, 1024] });
    // 16 workers (the H200 machine): each worker keeps the share of work it has with 2
    expect(calibrationSizes(16)).toEqual({ revalue: [256, 16384], aggregate: [512, 16, 8192] });
  });

  test('auto measures once measureAfter has settled (a run passes its book’s load)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let settled = false;
    const starting = createBackend('auto', { workers: 2, measureAfter: gate }).then((b) => {
      settled = true;
      return b;
    });
    // long enough for the devices to start and self-check: with one started, the measurement waits
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const device = GL_REQUIRED || glReason === null;
    if (device) expect(settled).toBe(false);
    release();
    const b = await starting;
    try {
      if (device) expect(b.report.calibration!.revalue.cpu).toBeGreaterThan(0);
    } finally {
      await b.close();
    }
  }, 60_000);

  test('an unknown choice is refused', async () => {
    await expect(createBackend('tpu' as never)).rejects.toThrow(/backend must be auto, cpu, gl or webgpu, got "tpu"/);
  });
});

describe('silent fallback detection', () => {
  const fake = (cls: string): GpuKernel =>
    Object.assign(() => 0, { kernel: new ({ [cls]: class {} } as Record<string, new () => object>)[cls]!() });
  test.each([
    ['gl', 'CPUKernel'],
    ['gl', 'WebAssemblyKernel'],
    ['webgpu', 'HeadlessGLKernel'],
    ['webgpu', 'CPUKernel'],
  ] as const)('%s kernel that ran as %s is refused', (backend, cls) => {
    expect(() => checkKernelClass(backend, fake(cls))).toThrow(new RegExp(`ran the kernel as ${cls}.*silent fallback`));
  });
  test.each([
    ['gl', 'HeadlessGLKernel'],
    ['webgpu', 'WebGPUKernel'],
  ] as const)('%s kernel that ran as %s is accepted', (backend, cls) => {
    expect(checkKernelClass(backend, fake(cls))).toBe(cls);
  });
});

describe('self-check', () => {
  /** the cpu backend with its revaluation perturbed by `rel` × the value */
  class Perturbed extends CpuBackend {
    constructor(private readonly rel: number) {
      super(1);
    }
    override async revalue(...a: Parameters<CpuBackend['revalue']>): Promise<PnlMatrix> {
      const m = await super.revalue(...a);
      for (let j = 0; j < m.data.length; j++) m.data[j] = m.data[j]! * (1 + this.rel) + this.rel;
      return m;
    }
  }
  test.each([
    [0, true, 'exact', true],
    [1e-15, true, 'exact (one ulp off is refused)', false],
    [1e-9, false, 'float32 bound', true],
    [1e-3, false, 'float32 bound', false],
  ])('perturbation %d, %s check (%s): passes = %s', async (rel, exact, _what, passes) => {
    const b = new Perturbed(rel);
    try {
      const r = await selfCheck(b, exact);
      expect(r.ok).toBe(passes);
      if (!passes) expect(r.detail).toMatch(/row \d+ scenario \d+|group \d+/);
    } finally {
      await b.close();
    }
  });
});

describe('worker resolution', () => {
  test('from source (import.meta.url ends in .ts) the worker is the built dist/src/engine copy', () => {
    const p = resolveWorker('poolWorker', new URL('../../src/engine/cpuBackend.ts', import.meta.url).href);
    expect(p).toMatch(/[/\\]dist[/\\]src[/\\]engine[/\\]poolWorker\.js$/);
  });
  test('from dist the worker is the sibling file', () => {
    const p = resolveWorker('poolWorker', new URL('../../dist/src/engine/cpuBackend.js', import.meta.url).href);
    expect(p).toMatch(/[/\\]dist[/\\]src[/\\]engine[/\\]poolWorker\.js$/);
  });
  test('a missing built worker fails with the path and "run npm run build"', () => {
    expect(() =>
      resolveWorker('noSuchWorker', new URL('../../src/engine/cpuBackend.ts', import.meta.url).href),
    ).toThrow(/noSuchWorker\.js not found at .*dist.*run npm run build/);
  });
});
