/**
 * Grade feedback: rebuilt from the task records (so it survives a daemon restart), shown by
 * `nightshift providers` with no daemon, and used to route work to the better-graded provider.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  enterChanges,
  enterReview,
  enterRunning,
  newTask,
  updateTask,
  type TaskRecord,
} from '../../src/core/task.js';
import { chooseDispatches, type ProviderView } from '../../src/daemon/dispatch.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { gradesFromRecords } from '../../src/daemon/grades.js';
import { initialHealth, probeFinished } from '../../src/daemon/health.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog, nullSink } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { makeWorkspace, runCli, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

/** A task whose attempt on `provider` was reviewed with `grade` at minute `minute`. */
function graded(id: string, provider: string, grade: string | null, minute: number): TaskRecord {
  const now = Date.UTC(2026, 10, 26, 22, minute);
  let t = newTask({ id: tid(id), dedupKey: id, spec: taskSpec(), now }).task;
  t = enterRunning(t, { now, provider, host: 'local' }).task;
  t = enterReview(t, { now: now + 1, exitCode: 0 }).task;
  return updateTask(t, now + 2, 'reviewed', {
    review: {
      grade,
      verdict: 'approve',
      summary: 'ok',
      findings: [],
      approvedBy: 'architect',
      approvedAt: new Date(now + 2).toISOString(),
    },
  }).task;
}

it('rebuilds each provider’s last grades from the records, oldest first, by the attempt that was reviewed', () => {
  const tasks = [
    graded('a', 'good', 'A', 3),
    graded('b', 'good', 'B', 1),
    graded('c', 'weak', 'D', 2),
    graded('d', 'weak', null, 4), // gates-mode approval: no grade
    ...Array.from({ length: 12 }, (_, i) => graded(`e${i}`, 'many', i < 2 ? 'F' : 'A-', 10 + i)),
  ];
  const grades = gradesFromRecords(tasks);
  expect(grades.get('good')).toEqual([3.0, 4.0]);
  expect(grades.get('weak')).toEqual([1.0]);
  // Only the most recent 10: the two oldest (F) drop out.
  expect(grades.get('many')).toEqual(Array.from({ length: 10 }, () => 3.7));
  // A later attempt still running on another provider does not take the grade from the reviewed one.
  const sentBack = enterChanges(graded('f', 'good', 'C', 30), {
    now: Date.UTC(2026, 10, 26, 23),
    reason: 'changes',
  }).task;
  const back = enterRunning(sentBack, {
    now: Date.UTC(2026, 10, 26, 23, 1),
    provider: 'weak',
    host: 'local',
  }).task;
  expect(gradesFromRecords([back]).get('good')).toEqual([2.0]);
});

it('seeds the fleet’s grades at start-up, so routing has them after a restart', () => {
  const clock = new ManualClock();
  const ws = makeWorkspace();
  try {
    const fleet = new Fleet({
      config: ws.config,
      clock,
      env: {},
      hosts: new Map(),
      events: nullSink,
      random: () => 0.5,
      wake: () => undefined,
    });
    expect(fleet.averageGrade('scripted')).toBeNull();
    fleet.seedGrades([graded('a', 'scripted', 'A', 1), graded('b', 'scripted', 'B', 2)]);
    expect(fleet.averageGrade('scripted')).toBeCloseTo(3.5);
    // After a verdict the feedback is rebuilt from the records: a changes round's C, since replaced by the
    // task's later review, no longer counts, exactly as after a restart.
    fleet.seedGrades([graded('a', 'scripted', 'A', 1), graded('b', 'scripted', 'C', 2)]);
    expect(fleet.averageGrade('scripted')).toBeCloseTo(3.0);
    expect(fleet.averageGrade('other')).toBeNull();
  } finally {
    ws.cleanup();
  }
});

it('routes a task to the better-graded provider when everything else is equal', () => {
  const now = 1_000;
  const view = (name: string, grade: number | null): ProviderView => ({
    name,
    health: probeFinished(initialHealth(name, 2, now), true, 'answered', now, () => 0.5),
    hosts: ['h'],
    running: 0,
    frozen: false,
    grade,
  });
  const task = newTask({ id: tid('t'), dedupKey: 't', spec: taskSpec(), now }).task;
  const choose = (providers: ProviderView[]) =>
    chooseDispatches({
      now,
      frozen: false,
      pending: [task],
      tasks: new Map([[task.id, task]]),
      providers,
      hosts: new Map([['h', { name: 'h', over: [], running: 0 }]]),
      live: new Set(),
      notBefore: new Map(),
    }).decisions.map((d) => d.provider);
  // "a" wins ties by name; a better grade beats that, in either order.
  expect(choose([view('a', null), view('b', null)])).toEqual(['a']);
  expect(choose([view('a', 2.0), view('b', 3.3)])).toEqual(['b']);
  expect(choose([view('b', 3.3), view('a', 2.0)])).toEqual(['b']);
  expect(choose([view('a', null), view('b', 0)])).toEqual(['b']);
});

let ws: TestWorkspace;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

it('`nightshift providers` shows each provider’s average grade from the records, with no daemon', async () => {
  const clock = new ManualClock();
  const store = new QueueStore(ws.paths, clock, new EventLog(ws.paths.events));
  store.ensureLayout();
  for (const t of [
    graded('a', 'scripted', 'A', 1),
    graded('b', 'scripted', 'B+', 2),
    graded('c', 'other', 'C', 3),
  ]) {
    // Records as the daemon leaves them: enqueued, then moved to review with the graded review.
    store.enqueue({ id: t.id, dedupKey: t.dedupKey, spec: t.spec, text: '# spec\n', body: '', warnings: [] });
    store.transition(t.id, () => ({
      task: t,
      event: { type: 'task.updated', time: t.updatedAt, task: t.id, reason: 'graded' },
    }));
  }
  const json = await runCli(['providers', '--json'], { cwd: ws.root });
  expect(json.code, json.stderr).toBe(0);
  const rows = JSON.parse(json.stdout) as { name: string; grade: number | null }[];
  expect(rows.find((r) => r.name === 'scripted')?.grade).toBeCloseTo(3.65);
  expect(rows.find((r) => r.name === 'other')?.grade).toBeCloseTo(2.0);
  const table = await runCli(['providers'], { cwd: ws.root });
  expect(table.stdout).toMatch(/^scripted\s.*\s3\.6\s/m);
  expect(table.stdout).toMatch(/^other\s.*\s2\.0\s/m);
});
