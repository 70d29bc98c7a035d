import { defineConfig } from 'vitest/config';
import { deadlineStretch } from './src/testing/wait.js';

/** The long kill -9 soaks: their own project, out of `npm test` (see README, Development). */
const SOAK = ['test/e2e/queue-crash.test.ts', 'test/e2e/daemon-crash.test.ts'];
/** Makes node_modules/ink nightshift's Ink first (scripts/patch-ink.js): tests run the Ink that ships. */
const globalSetup = ['test/setup/ink.ts'];
/**
 * A test's timeout catches a hang, not a slow machine: like waitFor's deadlines, the timeouts below are
 * stretched by the load per core when the run starts (x1 quiet, up to x4), so a busy machine makes the
 * suite slower, not red.
 */
const stretch = (ms: number) => Math.round(ms * deadlineStretch().factor);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup,
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          testTimeout: stretch(20_000),
          hookTimeout: stretch(20_000),
          // vitest's default is one worker per core less one: a single worker on a 2-core machine, which
          // ran the unit files one after another while much of their time is spent waiting on timers
          // (the architect's timeouts and retries, a gate's kill grace) and children. Two overlap those.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          globalSetup,
          // Runs after the unit project, with fewer workers.
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.test.ts'],
          exclude: SOAK,
          testTimeout: stretch(180_000),
          hookTimeout: stretch(60_000),
          // e2e tests spawn processes, tmux servers and sshd: keep them from starving each other on 2 cores.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // `npm run test:soak`: hundreds of kill -9 rounds each; .ci/run runs them after `npm test`.
          name: 'soak',
          globalSetup,
          sequence: { groupOrder: 2 },
          include: SOAK,
          testTimeout: stretch(1_200_000),
          hookTimeout: stretch(60_000),
          maxWorkers: 1,
        },
      },
    ],
  },
});
