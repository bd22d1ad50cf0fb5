/**
 * Opening a gpu.js device for one of the float32 backends, and telling which kernel class really ran.
 *
 * - `gl`: gpu.js mode 'headlessgl' (the `gl` package; on a CPU-only machine Mesa llvmpipe under an X
 *   display such as Xvfb: DISPLAY must be set).
 * - `webgpu`: gpu.js mode 'webgpu' over Dawn from the `webgpu` package (`navigator.gpu = create([])`);
 *   needs glibc ≥ 2.38 (GLIBCXX_3.4.32) and a driver that gives an adapter.
 *
 * gpu.js can silently fall back to its own CPU kernels. {@link checkKernelClass} is called after a
 * kernel's first run and refuses anything but the expected class, so GPU work is never reported when it
 * happened elsewhere.
 */
import { BackendUnavailableError } from './backend.js';

/** The part of a gpu.js kernel the engine uses. */
export interface GpuKernel {
  (...args: unknown[]): unknown;
  /** the backend kernel instance; its constructor name is the class that ran */
  kernel?: { constructor: { name: string } };
  destroy?(removeCanvasReferences?: boolean): void;
}

/** The part of a gpu.js `GPU` the engine uses. */
export interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  addFunction(source: string, settings?: { argumentTypes?: string[]; returnType?: string }): unknown;
  destroy(): unknown;
}

export type DeviceBackend = 'gl' | 'webgpu';

/** gpu.js kernel class expected per backend. */
export const EXPECTED_KERNEL_CLASS: Record<DeviceBackend, string> = { gl: 'HeadlessGLKernel', webgpu: 'WebGPUKernel' };

interface GpuModule {
  GPU: (new (settings: { mode: string }) => GpuInstance) & {
    isHeadlessGLSupported: boolean;
    isWebGPUAvailable(): Promise<boolean>;
  };
}

async function loadGpuJs(): Promise<GpuModule> {
  const mod = (await import('gpu.js')) as unknown as GpuModule & { default?: GpuModule };
  return mod.GPU ? mod : mod.default!;
}

/**
 * Opens a gpu.js instance for `backend`.
 * @throws BackendUnavailableError with the reason (no X display, gl not built, Dawn does not load, no adapter).
 */
export async function openGpu(backend: DeviceBackend): Promise<GpuInstance> {
  let gpujs: GpuModule;
  try {
    gpujs = await loadGpuJs();
  } catch (e) {
    throw new BackendUnavailableError(backend, `gpu.js does not load: ${firstLine(e)}`);
  }
  if (backend === 'gl') {
    if (!gpujs.GPU.isHeadlessGLSupported) {
      const display = process.env.DISPLAY ? `DISPLAY=${process.env.DISPLAY}` : 'DISPLAY is not set';
      throw new BackendUnavailableError(
        'gl',
        `headless-gl could not open a WebGL context (${display}; the gl package needs an X display such as Xvfb: ` +
          'start one with `Xvfb :99 -screen 0 1280x1024x24 &` and `export DISPLAY=:99`, or use --backend cpu)',
      );
    }
    return new gpujs.GPU({ mode: 'headlessgl' });
  }
  const g = globalThis as unknown as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } };
  if (!g.navigator?.gpu) {
    try {
      const webgpu = (await import('webgpu')) as unknown as {
        create(flags: string[]): unknown;
        globals: Record<string, unknown>;
      };
      Object.assign(globalThis, webgpu.globals);
      const gpu = dawnShim(webgpu.create([]) as DawnGpu);
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...(g.navigator ?? {}), gpu },
        configurable: true,
        writable: true,
      });
    } catch (e) {
      throw new BackendUnavailableError('webgpu', `the webgpu package (Dawn) does not load: ${firstLine(e)}`);
    }
  }
  let adapter: unknown;
  try {
    adapter = await g.navigator!.gpu!.requestAdapter();
  } catch (e) {
    throw new BackendUnavailableError('webgpu', `requestAdapter failed: ${firstLine(e)}`);
  }
  if (!adapter) throw new BackendUnavailableError('webgpu', 'navigator.gpu.requestAdapter() gave no adapter');
  return new gpujs.GPU({ mode: 'webgpu' });
}

export interface DawnQueue {
  writeBuffer(buffer: unknown, offset: number, data: ArrayBufferView | ArrayBuffer, ...rest: number[]): void;
}
export interface DawnDevice {
  queue: DawnQueue;
}
export interface DawnAdapter {
  requestDevice(descriptor?: unknown): Promise<DawnDevice>;
}
export interface DawnGpu {
  requestAdapter(options?: unknown): Promise<DawnAdapter | null>;
}

/** Queue prototypes whose writeBuffer dawnShim wraps already (once each, however many instances are shimmed). */
const PATCHED_QUEUES = new WeakSet<object>();

/**
 * `navigator.gpu` over Dawn (the `webgpu` package, 0.2.9 as gpu.js pins it) made fit for gpu.js's WebGPU
 * mode. Seen on an NVIDIA H200 (bench/README.md, "Session 20"), each failing every kernel before this:
 * - gpu.js sets `device.onuncapturederror = fn`, and this Dawn's setter refuses a function ("object is not of
 *   the correct interface type / invalid value to onuncapturederror"): each device gets an own, plain
 *   `onuncapturederror` property, so the assignment succeeds and Dawn's setter is never called. An uncaptured
 *   device error is then not printed; a wrong result still fails the self-check and the float32 checks.
 * - `queue.writeBuffer` of a view over a SharedArrayBuffer crashes the process (a segmentation fault): such
 *   a view is copied into an ordinary buffer first (the engine's matrices live on shared memory).
 */
export function dawnShim(gpu: DawnGpu): DawnGpu {
  const device = (d: DawnDevice): DawnDevice => {
    Object.defineProperty(d, 'onuncapturederror', { value: null, writable: true, configurable: true });
    const proto = Object.getPrototypeOf(d.queue) as DawnQueue;
    if (!PATCHED_QUEUES.has(proto)) {
      const writeBuffer = proto.writeBuffer;
      proto.writeBuffer = function (this: DawnQueue, buffer, offset, data, ...rest) {
        // a typed array's slice() is the same type over an ordinary ArrayBuffer: element offsets stay right
        const own =
          ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer && !(data instanceof DataView)
            ? (data as unknown as { slice(): ArrayBufferView }).slice()
            : data;
        writeBuffer.call(this, buffer, offset, own, ...rest);
      };
      PATCHED_QUEUES.add(proto);
    }
    return d;
  };
  return {
    requestAdapter: async (options?: unknown) => {
      const adapter = await gpu.requestAdapter(options);
      if (!adapter) return adapter;
      return new Proxy(adapter, {
        get(target, key) {
          if (key === 'requestDevice') {
            return async (descriptor?: unknown) => device(await target.requestDevice(descriptor));
          }
          const v = Reflect.get(target, key, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
  };
}

/**
 * The class of the kernel that ran, checked against the backend's.
 * @throws BackendUnavailableError when gpu.js fell back (e.g. to CPUKernel), naming the class that ran.
 */
export function checkKernelClass(backend: DeviceBackend, k: GpuKernel): string {
  const ran = k.kernel?.constructor.name ?? 'unknown';
  if (ran !== EXPECTED_KERNEL_CLASS[backend]) {
    throw new BackendUnavailableError(
      backend,
      `gpu.js ran the kernel as ${ran}, not ${EXPECTED_KERNEL_CLASS[backend]} (silent fallback)`,
    );
  }
  return ran;
}

interface WebGpuBufferLike {
  destroy(): void;
}
interface WebGpuMappable extends WebGpuBufferLike {
  mapAsync(mode: number, offset: number, size: number): Promise<void>;
  getMappedRange(offset: number, size: number): ArrayBuffer;
  unmap(): void;
}
interface WebGpuReadDevice {
  createBuffer(d: { size: number; usage: number }): WebGpuMappable;
  createCommandEncoder(): {
    copyBufferToBuffer(a: WebGpuBufferLike, ao: number, b: WebGpuBufferLike, bo: number, n: number): void;
    finish(): unknown;
  };
  queue: { submit(buffers: unknown[]): void };
}

/**
 * The first `floats` values of a gpu.js webgpu pipeline result (a WebGPUBufferResult), read back as one flat
 * Float32Array in the buffer's own order, or null when `result` is not one (gl's textures).
 *
 * gpu.js's own `toArray()` shapes what it reads: an `Array(4)` output becomes one subarray per element (4 M
 * objects for a 2048 × 4096 tile), which cost most of a revaluation on the H200 (bench/README.md, "Session 20").
 * The buffer holds an `Array(n)` output with stride n, row after row: the same order as gl's raw RGBA texels.
 */
export async function readWebGpuFloats(result: unknown, floats: number): Promise<Float32Array | null> {
  const r = result as { buffer?: WebGpuBufferLike; context?: { device?: WebGpuReadDevice } } | null;
  const device = r?.context?.device;
  if (!r?.buffer || !device) return null;
  const g = globalThis as unknown as {
    GPUBufferUsage: { MAP_READ: number; COPY_DST: number };
    GPUMapMode: { READ: number };
  };
  const bytes = floats * 4;
  const staging = device.createBuffer({ size: bytes, usage: g.GPUBufferUsage.MAP_READ | g.GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(r.buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(g.GPUMapMode.READ, 0, bytes);
    // unmap detaches the mapped range: copy first
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

/** Copies a gpu.js 2D result (rows of Float32Array, or one flat array) into `out` as [y * width + x]. */
export function flatten2D(result: unknown, width: number, height: number, out: Float32Array): void {
  if (Array.isArray(result)) {
    for (let y = 0; y < height; y++) out.set((result[y] as Float32Array).subarray(0, width), y * width);
  } else {
    out.set((result as Float32Array).subarray(0, width * height));
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e)
    .split('\n')[0]!
    .slice(0, 300);
}
