import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests run real daemons and assert sub-second reactions (drift repair within a
    // second): one file at a time keeps 2 cores from being shared by several suites' processes.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
