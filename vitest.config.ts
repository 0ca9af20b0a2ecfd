import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration and chaos tests spawn processes and use real files: run files in separate
    // processes, two at a time (this machine has two cores).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for the UI and child processes; a loaded CI machine needs more than 1 s.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
