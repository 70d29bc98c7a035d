/**
 * Grades throttle, wired end to end: a daemon whose records grade a provider below the floor runs one
 * attempt at a time on it, publishes why, and `nightshift providers` prints the reason.
 */
import { afterEach, expect, it } from 'vitest';
import { enterFailed, enterReview, enterRunning, newTask, updateTask } from '../../src/core/task.js';
import { readDaemonState } from '../../src/daemon/state-file.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { runCli } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

it('holds a provider graded below the floor at one attempt, and says why in providers', async () => {
  night = makeNight({
    providers: '  good: { kind: scripted, hosts: [local], concurrency: 4 }',
    extra: 'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h, gradeFloor: C }',
  });
  // Earlier work of this provider, reviewed and graded D three times (then rejected).
  const store = new QueueStore(night.paths, systemClock, new EventLog(night.paths.events));
  store.ensureLayout();
  for (const id of [tid('old-1'), tid('old-2'), tid('old-3')]) {
    const now = Date.now();
    let t = newTask({ id, dedupKey: id, spec: taskSpec(), now }).task;
    t = enterRunning(t, { now, provider: 'good', host: 'local' }).task;
    t = enterReview(t, { now: now + 1, exitCode: 0 }).task;
    t = updateTask(t, now + 2, 'reviewed', {
      review: {
        grade: 'D',
        verdict: 'reject',
        summary: 'poor',
        findings: [],
        approvedBy: null,
        approvedAt: null,
      },
    }).task;
    const failed = enterFailed(t, {
      now: now + 3,
      code: 'rejected',
      attribution: 'spec',
      reason: 'rejected',
    }).task;
    store.enqueue({ id, dedupKey: id, spec: t.spec, text: '# spec\n', body: '', warnings: [] });
    store.transition(id, () => ({
      task: failed,
      event: { type: 'task.updated', time: failed.updatedAt, task: id, reason: 'graded D, rejected' },
    }));
  }

  const sup = night.supervisor();
  await sup.start();
  for (const id of ['n1', 'n2', 'n3'])
    night.dropSpec(`${id}.md`, scriptedSpec(id, `sleep 2\nwrite ${id}.txt "x\\n"\ncommit "${id}"\nexit 0`));
  const paths = night.paths;
  // While one runs, the others wait on the capped limit, and the daemon says so.
  const state = await waitFor(
    'a task waiting on the grades’ cap',
    () => {
      const s = readDaemonState(paths);
      return Object.values(s?.waiting ?? {}).some((w) => /live limit 1 \(recent grades average 1\.00/.test(w))
        ? s
        : null;
    },
    60_000,
  );
  expect(state.providers.find((p) => p.name === 'good')).toMatchObject({
    limit: 1,
    ceiling: 4,
    throttle: 'held at 1: recent grades average 1.00 over the last 3, below the floor 2.00',
  });
  expect(sup.store.list().filter((t) => t.state === 'running').length).toBeLessThanOrEqual(1);

  const table = await runCli(['providers'], { cwd: night.root, clock: systemClock });
  expect(table.code, table.stderr).toBe(0);
  expect(table.stdout).toMatch(/^good\s+scripted\s+closed\s+1\/4\s.*held at 1: recent grades average 1\.00/m);
  const json = await runCli(['providers', '--json'], { cwd: night.root, clock: systemClock });
  const rows = JSON.parse(json.stdout) as { name: string; limit: number; throttle: string | null }[];
  const good = rows.find((r) => r.name === 'good');
  expect(good?.limit).toBe(1);
  expect(good?.throttle).toMatch(/below the floor 2\.00/);
});
