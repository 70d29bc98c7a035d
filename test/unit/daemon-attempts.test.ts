/**
 * The daemon's decisions about attempts, without a host: the attempt state machine (core/attempt.ts),
 * the registry that replaced seven collections, the record's `collecting` step (behaviour 6), and the
 * liveness verdict with its breaker (behaviour 1).
 */
import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_EDGES,
  AttemptPhaseError,
  edge,
  holdsSlot,
  type AttemptPhase,
} from '../../src/core/attempt.js';
import { enterCollecting, enterFailed, enterReview, enterRunning, newTask } from '../../src/core/task.js';
import type { LiveAttempt } from '../../src/daemon/attempts.js';
import { judgeLiveness, type LivenessInput } from '../../src/daemon/liveness.js';
import { AttemptRegistry } from '../../src/daemon/registry.js';
import type { ExitRecord } from '../../src/hosts/worker.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';
import { parseConfig } from '../../src/config/load.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import { chargedAttempts, DEFAULT_BACKOFF } from '../../src/core/failures.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { decideFailure } from '../../src/daemon/outcomes.js';
import { ManualClock } from '../../src/lib/clock.js';

const PHASES = Object.keys(ATTEMPT_EDGES) as AttemptPhase[];

function live(taskId: string, provider = 'glm', host = 'w1'): LiveAttempt {
  return {
    taskId: tid(taskId),
    attempt: 1,
    provider,
    host,
    repo: 'app',
    startedMono: 0,
    progressMono: 0,
    logBytes: 0,
    mirroredBytes: 0,
    head: null,
    missing: 0,
    ending: false,
  };
}

const exit: ExitRecord = {
  attempt: 1,
  exitCode: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:05:00.000Z',
};

describe('the attempt state machine', () => {
  it('accepts exactly the edges of its table, and only launching or preparing from nothing', () => {
    for (const from of [null, ...PHASES]) {
      for (const to of [...PHASES, 'collected', 'launch-failed', 'lost', 'killed', 'dropped'] as const) {
        const allowed =
          from === null ? to === 'launching' || to === 'preparing' : ATTEMPT_EDGES[from].includes(to);
        if (allowed) expect(edge(tid('t'), from, to)).toBe(to);
        else expect(() => edge(tid('t'), from, to)).toThrow(AttemptPhaseError);
      }
    }
  });

  it('frees the slot when the executor exits, before its branch is collected', () => {
    expect(PHASES.filter(holdsSlot).sort()).toEqual(['ending', 'launching', 'running']);
  });
});

describe('the attempt registry', () => {
  it('walks an attempt from launch to collection and counts slots only while the executor runs', () => {
    const r = new AttemptRegistry();
    r.enterLaunching(tid('a'), 'w1', 'glm');
    expect(r.slots('provider').get('glm')).toBe(1);
    expect(r.inFlight().has(tid('a'))).toBe(true);
    const l = live('a');
    r.enterRunning(l);
    expect(r.running()).toEqual([l]);
    r.enterExited(l, exit);
    expect(l.ending).toBe(true);
    expect(r.slots('provider').get('glm')).toBeUndefined();
    expect(r.inFlight().has(tid('a'))).toBe(true);
    r.enterCollecting(tid('a'), Promise.resolve());
    r.enterDeferred(tid('a'));
    r.enterCollecting(tid('a'), Promise.resolve());
    r.end(tid('a'), 'collected');
    expect(r.get(tid('a'))).toBeUndefined();
    expect(r.busy()).toBe(false);
  });

  it('refuses an edge out of order (a second exit, a collection of a running attempt)', () => {
    const r = new AttemptRegistry();
    const l = live('a');
    r.enterRunning(l);
    expect(() => r.enterCollecting(tid('a'), Promise.resolve())).toThrow(
      /no edge from running to collecting/,
    );
    r.enterExited(l, exit);
    expect(() => r.enterExited(l, exit)).toThrow(/no edge from exited to exited/);
    expect(() => r.end(tid('b'), 'killed')).toThrow(/no attempt of b/);
  });

  it('keeps a preparation out of dispatch bookkeeping until it launches', () => {
    const r = new AttemptRegistry();
    r.enterPreparing(tid('a'), 'w1', {
      round: 0,
      atMono: 0,
      base: { sha: null },
      ready: Promise.resolve(true),
    });
    expect(r.inFlight().size).toBe(0);
    expect(r.busy()).toBe(false);
    expect(r.pending()).toHaveLength(1);
    r.enterLaunching(tid('a'), 'w1', 'glm');
    expect(r.inFlight().has(tid('a'))).toBe(true);
  });
});

describe('an attempt that exited and is being collected (behaviour 6)', () => {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const running = enterRunning(newTask({ id: tid('a'), dedupKey: 'k', spec: taskSpec(), now: start }).task, {
    now: start,
    provider: 'glm',
    host: 'w1',
  }).task;

  it("records the executor's own exit time, not the collection's", () => {
    const collecting = enterCollecting(running, { now: start + 400_000, endedAt: exit.endedAt, exitCode: 0 });
    expect(collecting.task.state).toBe('running');
    expect(collecting.task.attempts[0]).toMatchObject({ outcome: 'collecting', endedAt: exit.endedAt });
    const review = enterReview(collecting.task, { now: start + 500_000, exitCode: 0 }).task;
    expect(review.attempts[0]).toMatchObject({ outcome: 'exited', endedAt: exit.endedAt, exitCode: 0 });
    const failed = enterFailed(collecting.task, {
      now: start + 500_000,
      code: 'main-touched',
      attribution: 'spec',
      reason: 'x',
    }).task;
    expect(failed.attempts[0]?.endedAt).toBe(exit.endedAt);
  });

  it("keeps a worker's skewed clock between the attempt's start and now", () => {
    const early = enterCollecting(running, {
      now: start + 1000,
      endedAt: '2025-12-31T00:00:00.000Z',
      exitCode: 0,
    });
    expect(early.task.attempts[0]?.endedAt).toBe(new Date(start).toISOString());
    const late = enterCollecting(running, {
      now: start + 1000,
      endedAt: '2026-02-01T00:00:00.000Z',
      exitCode: 0,
    });
    expect(late.task.attempts[0]?.endedAt).toBe(new Date(start + 1000).toISOString());
  });

  it('is refused twice, and for a task that is not running', () => {
    const collecting = enterCollecting(running, { now: start + 1, endedAt: exit.endedAt, exitCode: 0 }).task;
    expect(() => enterCollecting(collecting, { now: start + 2, endedAt: exit.endedAt, exitCode: 0 })).toThrow(
      /no running attempt/,
    );
  });
});

describe('the liveness verdict and the monitor breaker (behaviour 1)', () => {
  const MIN = 60_000;
  const attempt = (id: string, startedMono: number, progressMono: number): LivenessInput => ({
    id: tid(id),
    startedMono,
    progressMono,
    timeoutMs: 60 * MIN,
    idleMs: 10 * MIN,
  });

  it('kills attempts past their timeout even when most of them pass it together', () => {
    // The seed's hung provider: three of four past their start-to-close timeout at once.
    const now = 61 * MIN;
    const v = judgeLiveness(
      [attempt('a', 0, now), attempt('b', 0, now), attempt('c', 0, now), attempt('d', 50 * MIN, now)],
      now,
      null,
      15 * MIN,
    );
    expect(v.kill.map((d) => `${d.id}:${d.code}`)).toEqual(['a:timeout', 'b:timeout', 'c:timeout']);
    expect(v.freeze).toBe(false);
    expect(v.report).toBeNull();
  });

  it('holds back idle kills when most attempts fall silent at once, and freezes only when the episode begins', () => {
    const now = 20 * MIN;
    const silent = [attempt('a', 0, 0), attempt('b', 0, 0), attempt('c', 0, now)];
    const first = judgeLiveness(silent, now, null, 15 * MIN);
    expect(first.kill).toEqual([]);
    expect(first.held.map((d) => d.id)).toEqual(['a', 'b']);
    expect(first.freeze).toBe(true);
    expect(first.report).toMatch(/2 of 3 running tasks look stuck/);
    // The next check (a minute later, after a person thawed): no second freeze, no second report.
    const second = judgeLiveness(silent, now + MIN, first.episode, 15 * MIN);
    expect(second.freeze).toBe(false);
    expect(second.report).toBeNull();
    expect(second.kill).toEqual([]);
    // Once per monitor cycle while it lasts.
    const later = judgeLiveness(silent, now + 16 * MIN, second.episode, 15 * MIN);
    expect(later.report).toMatch(/\(still\)/);
    expect(later.freeze).toBe(false);
  });

  it('ends the episode when the silence ends, so a new one freezes again', () => {
    const now = 20 * MIN;
    const first = judgeLiveness([attempt('a', 0, 0), attempt('b', 0, 0)], now, null, 15 * MIN);
    const calm = judgeLiveness(
      [attempt('a', 0, now), attempt('b', 0, now)],
      now + MIN,
      first.episode,
      15 * MIN,
    );
    expect(calm.episode).toBeNull();
    const again = judgeLiveness(
      [attempt('a', 0, 0), attempt('b', 0, 0)],
      now + 2 * MIN,
      calm.episode,
      15 * MIN,
    );
    expect(again.freeze).toBe(true);
  });

  it('kills a lone idle attempt (a breaker needs at least two running)', () => {
    const v = judgeLiveness([attempt('a', 0, 0)], 20 * MIN, null, 15 * MIN);
    expect(v.kill.map((d) => d.code)).toEqual(['idle']);
  });
});

describe('a worker that fails (behaviour 11)', () => {
  const spec = taskSpec({ attempts: 1 });
  const running = enterRunning(newTask({ id: tid('a'), dedupKey: 'k', spec, now: 0 }).task, {
    now: 0,
    provider: 'glm',
    host: 'w2',
  }).task;

  it("uses none of the spec's attempts for a launch on a dead host, a dropped link or a lost session", () => {
    for (const code of ['launch-failed', 'link-down', 'session-lost'] as const) {
      const d = decideFailure(
        running,
        {
          code,
          reason: `launch on w2 failed: Connection refused`,
          outcome: 'failed',
          exitCode: null,
          now: 1,
        },
        DEFAULT_BACKOFF,
        () => 0.5,
      );
      expect(d.transition.task.state, code).toBe('pending');
      expect(chargedAttempts(d.transition.task.attempts), code).toBe(0);
      expect(d.transition.task.attempts[0]?.attribution, code).toBe('worker');
    }
  });

  it('takes the host out of dispatch until it answers, reporting the change once', () => {
    const events: NightshiftEvent[] = [];
    const fleet = new Fleet({
      config: parseConfig('providers:\n  glm: { kind: scripted }\n', 'nightshift.config.yaml'),
      clock: new ManualClock(),
      env: {},
      hosts: new Map(),
      events: { emit: (e) => events.push(e) },
      random: () => 0.5,
      wake: () => undefined,
    });
    fleet.linkDown('w2', 'ssh: connect to host 127.0.0.1 port 2222: Connection refused');
    fleet.linkDown('w2', 'ssh: connect to host 127.0.0.1 port 2222: Connection refused');
    expect(fleet.isReady('w2')).toBe(false);
    expect(fleet.over('w2')).toEqual([expect.stringMatching(/^unreachable: ssh: connect/)]);
    expect(events.filter((e) => e.type === 'host.status')).toHaveLength(1);
  });
});

describe('attempts on a host that stopped answering (behaviour 11)', () => {
  const MIN = 60_000;
  const on = (id: string, hostDownMs: number | null): LivenessInput => ({
    id: tid(id),
    startedMono: 0,
    progressMono: 0,
    timeoutMs: 60 * MIN,
    idleMs: 10 * MIN,
    hostDownMs,
  });

  it('neither times out nor idles an attempt whose host is unreachable: no output can arrive', () => {
    // Past its timeout and silent, but its host is down for 5 minutes of a 10-minute grace.
    const v = judgeLiveness([on('a', 5 * MIN)], 61 * MIN, null, 15 * MIN, 10 * MIN);
    expect(v.kill).toEqual([]);
    expect(v.lost).toEqual([]);
  });

  it('gives the attempt up as lost with its host past the grace, and judges the others alone', () => {
    const now = 61 * MIN;
    const v = judgeLiveness(
      [on('a', 11 * MIN), on('b', null), on('c', 11 * MIN)],
      now,
      null,
      15 * MIN,
      10 * MIN,
    );
    expect(v.lost.map((d) => d.id)).toEqual(['a', 'c']);
    expect(v.lost[0]?.reason).toMatch(/unreachable for 660 s \(defaults\.hostLostGrace\)/);
    // b is past its timeout: killed, and the breaker counts only what it can judge (1 of 1).
    expect(v.kill.map((d) => `${d.id}:${d.code}`)).toEqual(['b:timeout']);
    expect(v.freeze).toBe(false);
  });
});
