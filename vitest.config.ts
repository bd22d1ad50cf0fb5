import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // gpu.js contexts and worker pools do not like being shared between test files run in one thread
    pool: 'forks',
    env: { TZ: 'UTC' },
  },
});
