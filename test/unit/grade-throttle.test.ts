/**
 * Grades as negative feedback: a provider whose recent reviewed attempts average below the configured
 * floor (`defaults.gradeFloor`) runs one attempt at a time until its grades recover, and says why.
 */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import { enterReview, enterRunning, newTask, updateTask, type TaskRecord } from '../../src/core/task.js';
import { chooseDispatches, type ProviderView } from '../../src/daemon/dispatch.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { gradeThrottle, MIN_GRADES_TO_THROTTLE } from '../../src/daemon/grades.js';
import {
  attemptSucceeded,
  canDispatch,
  initialHealth,
  liveLimit,
  probeFinished,
  withGradeCap,
  type ProviderHealth,
} from '../../src/daemon/health.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { makeWorkspace, runCli, type TestWorkspace } from '../../src/testing/workspace.js';
import { ProvidersPane } from '../../src/tui/components/ProvidersPane.js';
import { emptySnapshot } from '../../src/tui/data/memory-source.js';
import { providerRows } from '../../src/tui/state/view.js';
import { tid } from '../../src/testing/ids.js';

const D = 1.0;
const A = 4.0;

/** A task whose attempt on `provider` was reviewed with `grade` at minute `minute`. */
function graded(id: string, provider: string, grade: string, minute: number): TaskRecord {
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

/** A healthy provider with room for `ceiling` attempts. */
function healthy(name: string, ceiling: number): ProviderHealth {
  let h = probeFinished(initialHealth(name, ceiling, 0), true, 'answered', 0, () => 1);
  for (let i = 0; i < 20; i++) h = attemptSucceeded(h, i);
  expect(h.limit).toBe(ceiling);
  return h;
}

describe('the throttle decision', () => {
  it('holds a provider averaging below the floor at one attempt, with the average and floor in the reason', () => {
    const t = gradeThrottle([D, D, 2.0], 2.0);
    expect(t?.limit).toBe(1);
    expect(t?.reason).toMatch(/recent grades average 1\.33 over the last 3, below the floor 2\.00/);
  });

  it('never throttles at or above the floor, on too few grades, or with the floor off', () => {
    expect(gradeThrottle([2.0, 2.0, 2.0], 2.0)).toBeNull();
    expect(gradeThrottle([A, A, D], 2.0)).toBeNull();
    expect(
      gradeThrottle(
        Array.from({ length: MIN_GRADES_TO_THROTTLE - 1 }, () => 0),
        2.0,
      ),
    ).toBeNull();
    expect(gradeThrottle(undefined, 2.0)).toBeNull();
    expect(gradeThrottle([0, 0, 0, 0], null)).toBeNull();
  });

  it('cuts the live limit under the cap, keeps the earned limit, and gives it back when grades recover', () => {
    let h = healthy('glm', 4);
    h = withGradeCap(h, gradeThrottle([D, D, D], 2.0), 100);
    expect(liveLimit(h)).toBe(1);
    expect(h.limit).toBe(4);
    expect(canDispatch(h, 0)).toBe(true);
    expect(canDispatch(h, 1)).toBe(false);
    expect(h.limitHistory.at(-1)).toMatchObject({ at: 100, limit: 1 });
    expect(h.limitHistory.at(-1)?.reason).toMatch(/below the floor/);
    // Applying the same cap again records nothing new.
    expect(withGradeCap(h, gradeThrottle([D, D, D], 2.0), 200).limitHistory).toHaveLength(
      h.limitHistory.length,
    );
    h = withGradeCap(h, gradeThrottle([D, D, D, A, A, A, A], 2.0), 300);
    expect(liveLimit(h)).toBe(4);
    expect(canDispatch(h, 3)).toBe(true);
    expect(h.limitHistory.at(-1)).toMatchObject({ at: 300, limit: 4 });
    expect(h.limitHistory.at(-1)?.reason).toMatch(/grades recovered/);
  });

  it('starts only one attempt on a throttled provider, and the waiting reason names the grades', () => {
    const now = 1_000;
    const health = withGradeCap(healthy('weak', 4), gradeThrottle([D, D, D], 2.0), now);
    const view: ProviderView = { name: 'weak', health, hosts: ['h'], running: 0, frozen: false, grade: D };
    const pending = ['a', 'b', 'c', 'd'].map(
      (id, i) => newTask({ id: tid(id), dedupKey: id, spec: taskSpec(), now: now + i }).task,
    );
    const r = chooseDispatches({
      now,
      frozen: false,
      pending,
      tasks: new Map(pending.map((t) => [t.id, t])),
      providers: [view],
      hosts: new Map([['h', { name: 'h', over: [], running: 0 }]]),
      live: new Set(),
      notBefore: new Map(),
    });
    expect(r.decisions.map((d) => d.task)).toEqual(['a']);
    expect(r.waiting.get(tid('b'))).toMatch(/weak: at its live limit 1 \(recent grades average 1\.00/);
  });
});

describe('the fleet applies the throttle from the records', () => {
  it('caps a badly graded provider at start-up and after verdicts, lifts the cap as grades recover', () => {
    const clock = new ManualClock();
    const config = parseConfig(
      'providers:\n  weak: { kind: scripted, concurrency: 4 }\n  good: { kind: scripted, concurrency: 4 }\n',
      'nightshift.config.yaml',
    );
    expect(config.defaults.gradeFloor).toBe(2.0);
    const events: NightshiftEvent[] = [];
    const fleet = new Fleet({
      config,
      clock,
      env: {},
      hosts: new Map(),
      events: { emit: (e) => events.push(e) },
      random: () => 0.5,
      wake: () => undefined,
    });
    const bad = [1, 2, 3].map((m) => graded(`w${m}`, 'weak', 'D', m));
    fleet.seedGrades([...bad, graded('g1', 'good', 'A', 4)]);
    expect(fleet.health.get('weak')?.gradeCap?.limit).toBe(1);
    expect(fleet.health.get('good')?.gradeCap).toBeNull();
    const capped = events.filter((e) => e.type === 'provider.health');
    expect(capped).toHaveLength(1);
    expect(capped[0]).toMatchObject({ provider: 'weak', limit: 1 });
    // Recovery: enough good grades lift the average back over the floor.
    const good = [10, 11, 12, 13].map((m) => graded(`w${m}`, 'weak', 'A', m));
    fleet.seedGrades([...bad, ...good]);
    expect(fleet.health.get('weak')?.gradeCap).toBeNull();
    expect(events.filter((e) => e.type === 'provider.health').at(-1)).toMatchObject({
      provider: 'weak',
      limit: 2,
    });
  });

  it('reads the floor from the config: a letter, points, or null for off', () => {
    const floor = (v: string) =>
      parseConfig(`defaults: { gradeFloor: ${v} }\n`, 'nightshift.config.yaml').defaults.gradeFloor;
    expect(floor('B-')).toBeCloseTo(2.7);
    expect(floor('1.5')).toBe(1.5);
    expect(floor('null')).toBeNull();
    expect(() => floor('5')).toThrow(/gradeFloor/);
    expect(() => floor('E')).toThrow(/gradeFloor/);
  });
});

describe('the throttle is shown', () => {
  let ws: TestWorkspace;
  beforeEach(() => {
    ws = makeWorkspace();
  });
  afterEach(() => ws.cleanup());

  function recordTasks(tasks: TaskRecord[]): void {
    const store = new QueueStore(ws.paths, new ManualClock(), new EventLog(ws.paths.events));
    store.ensureLayout();
    for (const t of tasks) {
      store.enqueue({
        id: t.id,
        dedupKey: t.dedupKey,
        spec: t.spec,
        text: '# spec\n',
        body: '',
        warnings: [],
      });
      store.transition(t.id, () => ({
        task: t,
        event: { type: 'task.updated', time: t.updatedAt, task: t.id, reason: 'graded' },
      }));
    }
  }

  it('`nightshift providers` prints the reason, from the records with no daemon', async () => {
    recordTasks([1, 2, 3].map((m) => graded(`w${m}`, 'scripted', 'D', m)));
    const json = await runCli(['providers', '--json'], { cwd: ws.root });
    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as { name: string; throttle: string | null }[];
    expect(rows.find((r) => r.name === 'scripted')?.throttle).toMatch(
      /recent grades average 1\.00 over the last 3, below the floor 2\.00/,
    );
    const table = await runCli(['providers'], { cwd: ws.root });
    expect(table.stdout).toMatch(/^scripted\s.*held at 1: .*below the floor 2\.00/m);
  });

  it('the TUI’s providers view shows the daemon’s throttle and its capped limit', () => {
    const throttle = 'held at 1: recent grades average 1.00 over the last 3, below the floor 2.00';
    const snap = emptySnapshot({
      providers: [{ name: 'glm', kind: 'claude-code', hosts: ['oci'], ceiling: 4 }],
      daemon: { pid: 1, host: 'h', kind: 'daemon', since: new Date(0).toISOString() },
      daemonState: {
        pid: 1,
        host: 'h',
        startedAt: '',
        updatedAt: '',
        providers: [
          {
            name: 'glm',
            breaker: 'closed',
            reason: 'probe passed: answered',
            limit: 1,
            ceiling: 4,
            running: 1,
            lastProbe: { ok: true, reason: 'answered' },
            limitHistory: [],
            throttle,
          },
        ],
        hosts: [],
        waiting: {},
      },
    });
    const rows = providerRows(snap, 0);
    expect(rows[0]).toMatchObject({ limit: 1, ceiling: 4, throttle });
    const r = render(
      createElement(ProvidersPane, {
        providers: rows,
        hosts: [],
        cursor: 0,
        focused: true,
        width: 200,
        height: 10,
      }),
    );
    try {
      expect(r.lastFrame()).toMatch(/limit 1 of 4/);
      expect(r.lastFrame()).toMatch(/held at 1: recent grades average 1\.00/);
    } finally {
      r.unmount();
    }
  });
});
