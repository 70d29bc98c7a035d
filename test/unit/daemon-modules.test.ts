/**
 * The daemon's single-job modules (launcher, watcher and its exit waits, collector, adoption, the
 * monitor cycle) driven for real, on a real QueueStore in a temp workspace, with an in-memory host
 * (src/testing/fake-host.ts) and a manual clock: the decisions they take at the host boundary, without
 * tmux, ssh or git.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import { chargedAttempts } from '../../src/core/failures.js';
import type { TaskId } from '../../src/core/ids.js';
import { enterRunning, updateTask } from '../../src/core/task.js';
import { SetupHooks } from '../../src/daemon/setup-hooks.js';
import { adopt } from '../../src/daemon/adoption.js';
import { Collector } from '../../src/daemon/collector.js';
import type { DaemonContext } from '../../src/daemon/context.js';
import { Fleet } from '../../src/daemon/fleet.js';
import { probeFinished } from '../../src/daemon/health.js';
import { Launcher } from '../../src/daemon/launcher.js';
import { monitorCycle } from '../../src/daemon/monitor.js';
import { Spend } from '../../src/daemon/spend-state.js';
import { AttemptRegistry } from '../../src/daemon/registry.js';
import { Watcher } from '../../src/daemon/watcher.js';
import { LinkError } from '../../src/hosts/runner.js';
import { BranchError } from '../../src/hosts/worker.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { FakeHost } from '../../src/testing/fake-host.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

const CONFIG = `repos:
  app: { path: /tmp/nightshift-unit-app, main: main }
hosts:
  w1: { kind: local }
  w2: { kind: local }
providers:
  cmd: { kind: command, command: [agent], hosts: [w1, w2], concurrency: 2 }
`;

const BASE = 'b'.repeat(40);
const REFUSED = 'ssh: connect to host w1 port 22: Connection refused';

interface Daemon {
  ws: TestWorkspace;
  clock: ManualClock;
  store: QueueStore;
  toggles: ToggleStore;
  fleet: Fleet;
  attempts: AttemptRegistry;
  ctx: DaemonContext;
  w1: FakeHost;
  w2: FakeHost;
  launcher: Launcher;
  watcher: Watcher;
  collector: Collector;
  events: NightshiftEvent[];
  logs: string[];
}

let d: Daemon;

function daemon(): Daemon {
  const ws = makeWorkspace(CONFIG);
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 22), 1_000_000);
  const events: NightshiftEvent[] = [];
  const log = new EventLog(ws.paths.events);
  log.subscribe((e) => events.push(e));
  const store = new QueueStore(ws.paths, clock, log);
  store.ensureLayout();
  const toggles = new ToggleStore(ws.paths);
  const w1 = new FakeHost('w1');
  const w2 = new FakeHost('w2');
  const fleet = new Fleet({
    config: ws.config,
    clock,
    env: {},
    hosts: new Map(),
    events: log,
    random: () => 0.5,
    wake: () => undefined,
  });
  // Both hosts prepared, the provider's probe passed: dispatch may start work.
  for (const name of ['w1', 'w2'])
    fleet.hostState.set(name, { ready: true, over: [], sampledMono: -Infinity });
  fleet.update('cmd', (h) => probeFinished(h, true, 'answered', clock.monotonic(), () => 1));
  const attempts = new AttemptRegistry();
  const logs: string[] = [];
  const ctx: DaemonContext = {
    paths: ws.paths,
    config: ws.config,
    clock,
    env: {},
    hosts: new Map([
      ['w1', w1],
      ['w2', w2],
    ]),
    store,
    toggles,
    events: log,
    fleet,
    attempts,
    spend: new Spend(clock.now()),
    redact: (text) => text,
    random: () => 0.5,
    setupHooks: new SetupHooks({ config: ws.config, clock, log: (line) => logs.push(line) }),
    backoff: { initialMs: 1_000, factor: 2, maxMs: 60_000 },
    log: (line) => logs.push(line),
    wake: () => undefined,
    pollSoon: () => undefined,
    stopping: () => false,
  };
  const launcher = new Launcher(ctx, () => undefined);
  const collector = new Collector(
    ctx,
    (id) => launcher.localRepoOf(store.get(id)),
    (err) => {
      throw err;
    },
  );
  const watcher = new Watcher(ctx, (live, worker, exit) => collector.exited(live, worker, exit));
  return {
    ws,
    clock,
    store,
    toggles,
    fleet,
    attempts,
    ctx,
    w1,
    w2,
    launcher,
    watcher,
    collector,
    events,
    logs,
  };
}

/** Queues a spec whose base is already resolved (no git needed to launch it). */
function queue(id: string, extra?: string): TaskId {
  const parsed = parseSpec(
    Buffer.from(specText({ id, body: `Do ${id} well. ${'x'.repeat(80)}`, ...(extra ? { extra } : {}) })),
    {
      file: `${id}.md`,
      config: d.ws.config,
    },
  );
  d.store.enqueue(parsed);
  d.store.transition(parsed.id, (t) => updateTask(t, d.clock.now(), 'base resolved', { baseSha: BASE }));
  return parsed.id;
}

const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(() => {
  d = daemon();
});
afterEach(() => d.ws.cleanup());

describe('Launcher', () => {
  it('a launch moves the task to running and the registry to running, and asks the host to start it', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    const t = d.store.get(id);
    expect(t.state).toBe('running');
    expect(t.attempts).toHaveLength(1);
    expect(t.attempts[0]).toMatchObject({ n: 1, provider: 'cmd', host: 'w1', outcome: 'running' });
    expect(d.attempts.phase(id)).toBe('running');
    expect(d.attempts.get(id)?.live).toMatchObject({ taskId: id, attempt: 1, host: 'w1', repo: 'app' });
    expect(d.w1.launches).toHaveLength(1);
    expect(d.w1.launches[0]).toMatchObject({ taskId: id, attempt: 1, repo: 'app', argv: ['agent'] });
    expect(d.w1.launches[0]?.prompt).toContain('Do alpha well.');
    // The worktree is prepared on the recorded base before the launch.
    expect(d.w1.calls.find((c) => c.member === 'pushBase')?.args).toContain(BASE);
    expect(d.w1.called().indexOf('createWorktree')).toBeLessThan(d.w1.called().indexOf('launch'));
    expect(d.w2.launches).toHaveLength(0);
  });

  it('a launch whose link fails is the worker’s failure: no attempt charged, the host takes no launch until it answers', async () => {
    const id = queue('alpha', 'attempts: 1');
    d.w1.linkDown(REFUSED, 'launch');
    await d.launcher.dispatch();
    const t = d.store.get(id);
    // One attempt per spec, yet the task is retried: the failure is not the spec's.
    expect(t.state).toBe('pending');
    expect(t.attempts[0]).toMatchObject({ host: 'w1', code: 'link-down', attribution: 'worker' });
    expect(t.attempts[0]?.reason).toMatch(/^launch on w1 failed: /);
    expect(t.attempts[0]?.reason).toContain(REFUSED);
    expect(chargedAttempts(t.attempts)).toBe(0);
    expect(d.attempts.phase(id)).toBeNull();
    expect(d.fleet.isReady('w1')).toBe(false);
    expect(d.events.filter((e) => e.type === 'host.status' && e.host === 'w1')).toHaveLength(1);
    // What the host lost is set up again at its next launch.
    expect(d.w1.called()).toContain('forgetSetup');

    d.clock.advance(120_000); // past the retry's backoff
    await d.launcher.dispatch();
    const again = d.store.get(id);
    expect(again.state).toBe('running');
    expect(again.attempts.at(-1)).toMatchObject({ n: 2, host: 'w2', outcome: 'running' });
    expect(d.w1.launches).toHaveLength(0);
    expect(d.w2.launches).toHaveLength(1);
  });
});

describe('Watcher and Collector', () => {
  it('an exit seen by a poll frees the slot at once and records collecting with the exit’s endedAt', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    d.clock.advance(60_000);
    const endedAt = iso(d.clock.now() - 30_000);
    d.w1.write(id, 1, 'all done\n');
    d.w1.exit(id, 1, { endedAt, exitCode: 0 });
    // The collection stops at the session's close, so the state during it can be seen.
    const release = d.w1.hold('closeSession');
    expect(await d.watcher.poll()).toEqual([]);
    await waitFor('the collection to reach the session', () => d.w1.called().includes('closeSession'));
    expect(d.attempts.slots('provider').get('cmd') ?? 0).toBe(0);
    expect(d.attempts.slots('host').get('w1') ?? 0).toBe(0);
    expect(d.attempts.phase(id)).toBe('collecting');
    const t = d.store.get(id);
    expect(t.state).toBe('running');
    expect(t.attempts[0]).toMatchObject({ outcome: 'collecting', endedAt, exitCode: 0 });
    // The log came home before the session was closed.
    expect(d.w1.called().indexOf('readLogBytes')).toBeLessThan(d.w1.called().indexOf('closeSession'));

    d.clock.advance(10_000);
    release();
    await waitFor('the collection to end', () => d.attempts.phase(id) === null);
    const done = d.store.get(id);
    expect(done.state).toBe('review');
    // endedAt stays the executor's exit, not the end of the collection.
    expect(done.attempts[0]?.endedAt).toBe(endedAt);
  });

  it('a collection whose fetch loses the link is deferred, keeps the task running, and completes when the link is back', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    d.w1.exit(id, 1, { endedAt: iso(d.clock.now()), exitCode: 0 });
    d.w1.failOn('fetchBranch', new LinkError(REFUSED, { host: 'w1' }));
    await d.watcher.poll();
    await waitFor('the collection to be deferred', () => d.attempts.phase(id) === 'deferred');
    expect(d.collector.hasDeferred()).toBe(true);
    let t = d.store.get(id);
    expect(t.state).toBe('running');
    expect(t.attempts[0]).toMatchObject({ outcome: 'collecting' });
    expect(t.attempts[0]?.code ?? null).toBeNull();
    expect(t.failure).toBeNull();
    expect(d.logs.join('\n')).toMatch(/collecting alpha on w1 deferred at the branch fetch \(link down\)/);

    // Still down: a retry defers again and blames nobody.
    d.collector.retryDeferred();
    await waitFor(
      'the retry to be deferred again',
      () =>
        d.w1.calls.filter((c) => c.member === 'fetchBranch').length === 2 &&
        d.attempts.phase(id) === 'deferred',
    );
    expect(d.store.get(id).state).toBe('running');

    d.w1.linkUp();
    d.collector.retryDeferred();
    await waitFor('the collection to end', () => d.attempts.phase(id) === null);
    t = d.store.get(id);
    expect(t.state).toBe('review');
    expect(d.w1.calls.filter((c) => c.member === 'fetchBranch')).toHaveLength(3);
    expect(d.collector.hasDeferred()).toBe(false);
  });

  it('a branch that is not on its base fails the task as not-descendant (the spec’s doing)', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    d.w1.exit(id, 1, { endedAt: iso(d.clock.now()), exitCode: 0 });
    d.w1.failOn('fetchBranch', new BranchError('ns/alpha is not a descendant of its base'));
    await d.watcher.poll();
    await waitFor('the collection to end', () => d.attempts.phase(id) === null);
    expect(d.store.get(id).attempts[0]).toMatchObject({ code: 'not-descendant', attribution: 'spec' });
  });

  it('a dead pane without an exit record fails the task as session-lost only when a second poll agrees', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    d.w1.script(id, 1, { kind: 'dead', exitStatus: 137 });
    d.w1.screen = 'Killed\n';

    expect(await d.watcher.poll()).toHaveLength(1);
    expect(d.store.get(id).state).toBe('running');
    expect(d.attempts.phase(id)).toBe('running');
    expect(d.w1.kills).toEqual([]);

    expect(await d.watcher.poll()).toEqual([]);
    const t = d.store.get(id);
    expect(t.attempts[0]).toMatchObject({ code: 'session-lost', outcome: 'lost', attribution: 'worker' });
    expect(t.attempts[0]?.reason).toMatch(
      /ended \(status 137\) without an exit record; last screen kept in /,
    );
    expect(chargedAttempts(t.attempts)).toBe(0);
    expect(t.state).toBe('pending');
    expect(d.attempts.phase(id)).toBeNull();
    // The worktree is salvaged and the dead pane cleared for the next attempt.
    expect(d.w1.kills).toEqual(['alpha#1']);
  });

  it('checkLiveness kills attempts past their timeout even when all of them pass it together', async () => {
    const a = queue('alpha', 'timeout: 10m\nidle: 1h');
    const b = queue('bravo', 'timeout: 10m\nidle: 1h');
    await d.launcher.dispatch();
    expect(d.attempts.running()).toHaveLength(2);
    d.clock.advance(11 * 60_000);
    await d.watcher.checkLiveness();
    for (const id of [a, b]) {
      const t = d.store.get(id);
      expect(t.attempts[0]).toMatchObject({ code: 'timeout', outcome: 'timeout' });
      expect(d.attempts.phase(id)).toBeNull();
    }
    expect([...d.w1.kills, ...d.w2.kills].sort()).toEqual(['alpha#1', 'bravo#1']);
    expect(d.toggles.read().frozen).toBe(false);
  });

  it('checkLiveness still kills timeouts while the breaker holds back idle kills', async () => {
    d.fleet.update('cmd', (h) => ({ ...h, limit: 3, ceiling: 3 }));
    const a = queue('alpha', 'timeout: 10m\nidle: 1h');
    const b = queue('bravo', 'timeout: 10m\nidle: 1h');
    const c = queue('charlie', 'timeout: 2h\nidle: 5m');
    await d.launcher.dispatch();
    expect(d.attempts.running()).toHaveLength(3);
    d.clock.advance(11 * 60_000);
    await d.watcher.checkLiveness();
    expect(d.store.get(a).attempts[0]?.code).toBe('timeout');
    expect(d.store.get(b).attempts[0]?.code).toBe('timeout');
    // The idle one is held (the hosts or the provider may be at fault) and dispatch is frozen.
    expect(d.store.get(c).state).toBe('running');
    expect(d.attempts.phase(c)).toBe('running');
    expect(d.toggles.read().frozen).toBe(true);
    const breaker = d.events.filter((e) => e.type === 'monitor.breaker');
    expect(breaker).toHaveLength(1);
    expect(breaker[0]?.reason).toMatch(/held back the idle kill of charlie; 2 past their timeout killed/);
  });
});

describe('adopt', () => {
  /** A task the queue says runs attempt 1 on w1, which this daemon has not in hand (a restart). */
  function runningOnRecord(id: string): TaskId {
    const taskId = queue(id, 'attempts: 1');
    d.store.transition(taskId, (t) => enterRunning(t, { now: d.clock.now(), provider: 'cmd', host: 'w1' }));
    return taskId;
  }

  it('a vanished attempt whose executor never started is launch-interrupted and uses no attempt', async () => {
    const id = runningOnRecord('alpha');
    await adopt(d.ctx, d.collector, () => undefined);
    const t = d.store.get(id);
    expect(t.attempts[0]).toMatchObject({
      code: 'launch-interrupted',
      outcome: 'lost',
      attribution: 'supervisor',
    });
    expect(t.attempts[0]?.reason).toMatch(/its executor never started/);
    expect(chargedAttempts(t.attempts)).toBe(0);
    // One attempt per spec, and the task is retried all the same.
    expect(t.state).toBe('pending');
    // Nothing ran: nothing to salvage.
    expect(d.w1.kills).toEqual([]);
  });

  it('a vanished attempt whose executor did start is session-lost, and its worktree is salvaged', async () => {
    const id = runningOnRecord('alpha');
    d.w1.script(id, 1, { kind: 'running' });
    d.w1.script(id, 1, { kind: 'vanished' });
    await adopt(d.ctx, d.collector, () => undefined);
    expect(d.store.get(id).attempts[0]).toMatchObject({ code: 'session-lost', outcome: 'lost' });
    expect(d.w1.kills).toEqual(['alpha#1']);
  });

  it('a live session is adopted as running, and an exited one collected', async () => {
    const live = runningOnRecord('alpha');
    const exited = runningOnRecord('bravo');
    d.w1.script(live, 1, { kind: 'running' });
    const endedAt = iso(d.clock.now());
    d.w1.exit(exited, 1, { endedAt, exitCode: 0 });
    const watched: string[] = [];
    await adopt(d.ctx, d.collector, (host) => watched.push(host));
    expect(d.attempts.phase(live)).toBe('running');
    expect(watched).toEqual(['w1']);
    expect(d.store.get(exited)).toMatchObject({ state: 'review' });
    expect(d.store.get(exited).attempts[0]?.endedAt).toBe(endedAt);
  });
});

describe('Watcher.watchExits', () => {
  it('an exit signal polls and wakes at once; the wait ends when nothing runs on the host any more', async () => {
    const id = queue('alpha');
    await d.launcher.dispatch();
    let polls = 0;
    let wakes = 0;
    d.ctx.pollSoon = () => (polls += 1);
    d.ctx.wake = () => (wakes += 1);
    d.watcher.watchExits(d.w1);
    // A second call while the wait runs adds no second wait on the same host.
    d.watcher.watchExits(d.w1);
    await waitFor('the exit wait', () => d.w1.called().includes('waitForExit'));
    expect(d.w1.called().filter((m) => m === 'waitForExit')).toHaveLength(1);
    expect(polls).toBe(0);

    d.w1.exit(id, 1, { endedAt: iso(d.clock.now()), exitCode: 0 });
    await d.w1.wakeExitWaiters();
    await waitFor('a poll asked for', () => polls === 1 && wakes === 1);
    // Still running on record: it waits again.
    await waitFor('the wait renewed', () => d.w1.called().filter((m) => m === 'waitForExit').length === 2);

    await d.watcher.poll();
    await waitFor('the collection to end', () => d.attempts.phase(id) === null);
    // The attempt is gone from the host: the next signal ends the loop instead of renewing the wait.
    await d.w1.wakeExitWaiters();
    await d.watcher.stop();
    expect(d.w1.called().filter((m) => m === 'waitForExit')).toHaveLength(2);
    expect(polls).toBe(2);
  });

  it('a failed wait (the link is down) is retried after a pause, and signals work again once the link is back', async () => {
    queue('alpha');
    await d.launcher.dispatch();
    let polls = 0;
    d.ctx.pollSoon = () => (polls += 1);
    d.w1.linkDown(REFUSED);
    d.watcher.watchExits(d.w1);
    await waitFor(
      'two failed waits',
      () => d.w1.called().filter((m) => m === 'waitForExit').length >= 2,
      30_000,
    );
    // A failed wait is no exit: nothing is polled for it.
    expect(polls).toBe(0);
    d.w1.linkUp();
    const waits = d.w1.called().filter((m) => m === 'waitForExit').length;
    await waitFor(
      'a wait after the link came back',
      () => d.w1.called().filter((m) => m === 'waitForExit').length > waits,
      30_000,
    );
    await d.w1.wakeExitWaiters();
    await waitFor('the signal polled', () => polls === 1);
    d.ctx.stopping = () => true;
    await d.w1.wakeExitWaiters();
    await d.watcher.stop();
  });
});

describe('monitorCycle', () => {
  it('runs the judgment’s housekeeping, adoption and a poll in order, reports sessions no running task owns, and counts the queue', async () => {
    const id = queue('alpha');
    queue('bravo');
    await d.launcher.dispatch();
    // A session on w1 for a task that is not running (a leftover, or another daemon's), and one on w2
    // while w2 is not ready (it is not asked).
    d.w1.script(tid('ghost'), 1, { kind: 'running' });
    d.w2.script(tid('other'), 1, { kind: 'running' });
    d.fleet.hostState.set('w2', { ready: false, over: [], sampledMono: -Infinity });
    const order: string[] = [];
    await monitorCycle(d.ctx, {
      judgment: {
        retryParked: () => order.push('retryParked'),
        tidy: () => {
          order.push('tidy');
          return Promise.reject(new Error('git worktree prune failed'));
        },
      } as never,
      adopt: () => {
        order.push('adopt');
        return Promise.resolve();
      },
      poll: () => {
        order.push('poll');
        return Promise.resolve();
      },
    });
    expect(order).toEqual(['retryParked', 'tidy', 'adopt', 'poll']);
    // A failed clean-up is logged; the cycle goes on.
    expect(d.logs.some((l) => l.includes('cleanup failed') && l.includes('git worktree prune failed'))).toBe(
      true,
    );
    const stray = d.events.filter((e) => e.type === 'session.stray');
    expect(stray).toHaveLength(1);
    expect(stray[0]).toMatchObject({ host: 'w1', session: d.w1.session(tid('ghost')) });
    // The running task's own session is not stray.
    expect(d.attempts.phase(id)).toBe('running');
    const cycle = d.events.filter((e) => e.type === 'monitor.cycle');
    expect(cycle).toHaveLength(1);
    expect(cycle[0]).toMatchObject({ running: 2, pending: 0, reason: '2 attempt(s) live' });
    expect(d.w2.called()).not.toContain('tmux');
  });
});
