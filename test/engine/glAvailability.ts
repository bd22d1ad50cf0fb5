/**
 * Whether the gl backend can run here, decided once per test file. In CI (CI=true) it must: the gl tests
 * then never skip, and a missing gl makes them fail with the reason. Elsewhere they skip, saying why.
 */
import { openGpu } from '../../src/engine/gpuDevice.js';

export const GL_REQUIRED = process.env.CI === 'true';

/** null when gl opens, else the reason it does not. */
export async function glUnavailableReason(): Promise<string | null> {
  try {
    const gpu = await openGpu('gl');
    gpu.destroy();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
