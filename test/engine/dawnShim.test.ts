/**
 * gpuDevice.ts's dawnShim against a stand-in with the two behaviours of Dawn 0.2.9 seen on the H200
 * (bench/README.md, "Session 20"): a device whose `onuncapturederror` setter refuses a function, and a queue
 * whose writeBuffer must never see a view over a SharedArrayBuffer (Dawn crashed the process on one). The
 * real Dawn cannot load on this machine (glibc 2.36); test/engine/webgpuBrowser.test.ts runs the backend on
 * a real WebGPU device.
 */
import { expect, test } from 'vitest';
import { dawnShim, type DawnAdapter, type DawnGpu } from '../../src/engine/gpuDevice.js';

class StandInQueue {
  written: Array<{ shared: boolean; values: number[]; rest: number[] }> = [];
  writeBuffer(_buffer: unknown, _offset: number, data: ArrayBufferView | ArrayBuffer, ...rest: number[]): void {
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data);
    this.written.push({
      shared: view.buffer instanceof SharedArrayBuffer,
      values: Array.from(view as unknown as ArrayLike<number>),
      rest,
    });
  }
}

class StandInDevice {
  readonly queue = new StandInQueue();
  set onuncapturederror(_f: unknown) {
    throw new TypeError('object is not of the correct interface type');
  }
}

function standInGpu(): { gpu: DawnGpu; devices: StandInDevice[] } {
  const devices: StandInDevice[] = [];
  const adapter = {
    limits: { maxBufferSize: 42 },
    requestDevice: async () => {
      const d = new StandInDevice();
      devices.push(d);
      return d as unknown as Awaited<ReturnType<DawnAdapter['requestDevice']>>;
    },
  };
  return { gpu: { requestAdapter: async () => adapter }, devices };
}

test('a shimmed device takes gpu.js handler assignment; the bare one throws as Dawn did', async () => {
  const { gpu } = standInGpu();
  const bare = (await (await gpu.requestAdapter())!.requestDevice()) as unknown as { onuncapturederror: unknown };
  expect(() => (bare.onuncapturederror = () => undefined)).toThrow(/correct interface type/);
  const adapter = (await dawnShim(gpu).requestAdapter())!;
  expect((adapter as unknown as { limits: { maxBufferSize: number } }).limits.maxBufferSize).toBe(42);
  const device = (await adapter.requestDevice()) as unknown as { onuncapturederror: unknown };
  const handler = () => undefined;
  device.onuncapturederror = handler;
  expect(device.onuncapturederror).toBe(handler);
});

test('writeBuffer gets a copy of a view over shared memory, ordinary views as they are', async () => {
  const { gpu, devices } = standInGpu();
  const device = await (await dawnShim(gpu).requestAdapter())!.requestDevice();
  const shared = new Float32Array(new SharedArrayBuffer(16));
  shared.set([1, 2, 3, 4]);
  const plain = new Float32Array([5, 6]);
  device.queue.writeBuffer({}, 0, shared.subarray(1), 1, 2);
  device.queue.writeBuffer({}, 0, plain);
  // a second shim over the same kind of queue does not wrap its writeBuffer again
  const wrapped = StandInQueue.prototype.writeBuffer;
  await (await dawnShim(standInGpu().gpu).requestAdapter())!.requestDevice();
  expect(StandInQueue.prototype.writeBuffer).toBe(wrapped);
  const q = devices[0]!.queue;
  expect(q.written).toEqual([
    // same type and elements, so dataOffset and size (in elements) still mean the same
    { shared: false, values: [2, 3, 4], rest: [1, 2] },
    { shared: false, values: [5, 6], rest: [] },
  ]);
});
