import { defineConfig } from 'vitest/config';

/** The long kill -9 soaks: their own project, out of `npm test` (see README, Development). */
const SOAK = ['test/e2e/queue-crash.test.ts', 'test/e2e/daemon-crash.test.ts'];
/** Makes node_modules/ink nightshift's Ink first (scripts/patch-ink.js): tests run the Ink that ships. */
const globalSetup = ['test/setup/ink.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup,
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          testTimeout: 20_000,
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
          testTimeout: 180_000,
          hookTimeout: 60_000,
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
          testTimeout: 1_200_000,
          hookTimeout: 60_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
