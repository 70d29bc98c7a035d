import { workspaceId } from '../../src/config/workspace-identity.js';
import { sessionName } from '../../src/hosts/session-names.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { render } from 'ink-testing-library';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runTui } from '../../src/cli/commands/tui.js';
import { makeContext } from '../../src/cli/context.js';
import { enterReview, enterRunning, updateTask } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { waitFor } from '../../src/testing/wait.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { App } from '../../src/tui/app/App.js';
import { SLOW_RENDER_MS, SlowFrames, startTui } from '../../src/tui/app/run.js';
import { providerRows } from '../../src/tui/state/view.js';
import { WorkspaceSource } from '../../src/client/live/workspace-source.js';
import { tid } from '../../src/testing/ids.js';

let ws: TestWorkspace;
let clock: ManualClock;
let writer: QueueStore;
let source: WorkspaceSource | null = null;

beforeEach(() => {
  ws = makeWorkspace();
  clock = new ManualClock(Date.UTC(2026, 10, 26, 22));
  // Another process's store (the daemon's, say): the TUI's source must see what it writes.
  writer = new QueueStore(ws.paths, clock, new EventLog(ws.paths.events));
  writer.ensureLayout();
  for (const id of ['alpha', 'beta']) {
    writer.enqueue(
      parseSpec(
        Buffer.from(
          specText({
            id,
            title: `Task ${id}`,
            body: `Do the ${id} thing, with tests, and stop when they pass.`,
          }),
        ),
        {
          file: `${id}.md`,
          config: ws.config,
        },
      ),
    );
  }
});
afterEach(async () => {
  await source?.close();
  source = null;
  ws.cleanup();
});

it('loads tasks, config, gates and events from a real workspace', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const snap = source.getSnapshot();
  expect(snap.tasks.map((t) => t.id).sort()).toEqual(['alpha', 'beta']);
  expect(snap.providers.map((p) => `${p.name}:${p.ceiling}`)).toEqual(['scripted:2', 'other:1']);
  expect(snap.hosts).toEqual([{ name: 'local', kind: 'local' }]);
  expect(snap.gates.find((g) => g.name === 'tests')).toEqual({
    name: 'tests',
    enabled: true,
    runnable: true,
  });
  expect(snap.gates.find((g) => g.name === 'lint')).toEqual({
    name: 'lint',
    enabled: false,
    runnable: false,
  });
  expect(snap.daemon).toBeNull();
  expect(snap.events.filter((e) => e.type === 'task.created')).toHaveLength(2);
  expect(source.specText(tid('alpha'))).toContain('title: Task alpha');
  expect(source.specText(tid('nope'))).toBeNull();
});

it('reads the diff file of a review round when there is one', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  expect(source.diff('alpha', 0)).toEqual({
    label: path.join('logs', 'alpha', 'diff-round-0.patch'),
    text: null,
  });
  mkdirSync(path.join(ws.paths.logs, 'alpha'), { recursive: true });
  writeFileSync(path.join(ws.paths.logs, 'alpha', 'diff-round-0.patch'), '+new line\n');
  expect(source.diff('alpha', 0).text).toBe('+new line\n');
  expect(source.attemptLog('alpha', 1)).toBeNull();
});

it('sends requests through the workspace client and sees their effect', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const outcome = await source.submit({ kind: 'freeze', provider: null });
  expect(outcome).toMatchObject({ ok: true });
  expect(source.reloadNow().toggles.frozen).toBe(true);
  const refused = await source.submit({ kind: 'retry', task: tid('alpha') });
  expect(refused).toMatchObject({
    ok: false,
    message: 'task alpha is pending; only failed tasks can be retried',
  });
});

it('refuses a probe request with no daemon to run it, saying how to probe instead', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const outcome = await source.submit({ kind: 'probe', provider: 'scripted' });
  expect(outcome.ok).toBe(false);
  expect(outcome.message).toMatch(/no daemon is running to probe scripted: .*nightshift providers --probe/);
  const unknown = await source.submit({ kind: 'probe', provider: 'nobody' });
  expect(unknown.message).toMatch(/unknown provider "nobody"; the config names: scripted, other/);
});

it('follows changes another process makes, through the watcher', async () => {
  // No full re-read within the test: only the watcher can say which task changed.
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, pollMs: 50, fullReadMs: 600_000 });
  let updates = 0;
  source.subscribe(() => updates++);
  writer.transition(tid('alpha'), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  const snap = await waitFor('alpha to show as running', () => {
    const s = source?.getSnapshot();
    return s?.tasks.find((t) => t.id === 'alpha')?.state === 'running' ? s : null;
  });
  expect(snap.tasks.find((t) => t.id === 'beta')?.state).toBe('pending');
  expect(updates).toBeGreaterThan(0);
});

it('tells no one of a re-read that found nothing new: the records and the snapshot stay the same', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const first = source.getSnapshot();
  let updates = 0;
  source.subscribe(() => updates++);
  // The safety net's full re-read, twice, of a workspace nothing wrote to.
  expect(source.reloadNow()).toBe(first);
  expect(source.reloadNow()).toBe(first);
  expect(updates).toBe(0);
  // A change is told, and only the changed record is new.
  writer.transition(tid('alpha'), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  const next = source.reloadNow();
  expect(updates).toBe(1);
  expect(next.tasks.find((t) => t.id === 'alpha')?.state).toBe('running');
  expect(next.tasks.find((t) => t.id === 'beta')).toBe(first.tasks.find((t) => t.id === 'beta'));
});

it('draws its first frame before the watcher is ready, and catches up on what changed meanwhile', async () => {
  source = await WorkspaceSource.open({
    root: ws.root,
    clock,
    env: {},
    pollMs: 50,
    fullReadMs: 600_000,
    waitForWatcher: false,
  });
  expect(
    source
      .getSnapshot()
      .tasks.map((t) => t.id)
      .sort(),
  ).toEqual(['alpha', 'beta']);
  // Written while the watcher may still be scanning: the read after its scan must see it.
  writer.transition(tid('beta'), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  await waitFor('beta to show as running', () =>
    source?.getSnapshot().tasks.find((t) => t.id === 'beta')?.state === 'running' ? true : null,
  );
});

it('logs every frame and update for benchmarks, and only slow frames otherwise', () => {
  const every = path.join(ws.root, 'every.log');
  const frames = new SlowFrames(every, () => clock.now(), true);
  frames.note(3.25);
  frames.update(4.5, 4);
  frames.note(SLOW_RENDER_MS + 10);
  frames.close();
  const lines = readFileSync(every, 'utf8').trim().split('\n');
  expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
    `slow frame ${(SLOW_RENDER_MS + 10).toFixed(1)} ms`,
    'frame 3.25 ms',
    'update 4.50 ms cpu 4.00 ms',
    `frame ${(SLOW_RENDER_MS + 10).toFixed(2)} ms`,
  ]);
  const slowOnly = path.join(ws.root, 'slow.log');
  const slow = new SlowFrames(slowOnly, () => clock.now());
  slow.note(3.25);
  slow.note(SLOW_RENDER_MS + 1);
  slow.close();
  expect(readFileSync(slowOnly, 'utf8').trim().split('\n')).toHaveLength(1);
  expect(slow.summary()).toMatch(/1 frame\(s\) over/);
});

it('builds the attach argv from the host config and the socket in the environment', async () => {
  source = await WorkspaceSource.open({
    root: ws.root,
    clock,
    env: { NIGHTSHIFT_TMUX_SOCKET: 'ns-test' },
    watch: false,
  });
  const target = { taskId: tid('alpha'), attempt: 1, host: 'local', running: true };
  const socket = path.join(ws.root, 'hosts', 'local', 'tmux', 'ns-test');
  expect(source.attachArgv(target, false)).toEqual([
    'tmux',
    '-S',
    socket,
    'attach-session',
    '-t',
    `=${sessionName(workspaceId(ws.paths), tid('alpha'))}`,
  ]);
  expect(source.attachArgv(target, true)).toEqual([
    'tmux',
    '-S',
    socket,
    'attach-session',
    '-r',
    '-t',
    `=${sessionName(workspaceId(ws.paths), tid('alpha'))}`,
  ]);
  expect(() => source?.attachArgv({ ...target, host: 'mars' }, false)).toThrow(
    /host "mars" is not in the config/,
  );
});

it('draws the screen from the workspace', async () => {
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const r = render(
    <App
      source={source}
      readOnly
      env={{}}
      terminal={{ handOver: () => ({ ok: true, code: 0, message: '' }) }}
      size={{ rows: 24, cols: 100 }}
    />,
  );
  try {
    await waitFor('the board', () => {
      const f = r.lastFrame() ?? '';
      return (
        f.includes('alpha') && f.includes('beta') && f.includes('scripted') && f.includes('task.created')
      );
    });
    expect(r.lastFrame()).toContain(ws.root.slice(0, 10));
  } finally {
    r.unmount();
  }
});

it('refuses to start without a terminal, and says what to use instead', async () => {
  const io = { stdout: () => undefined, stderr: () => undefined, cwd: ws.root, env: {}, clock };
  const ctx = makeContext(io, new Command());
  const stdin = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream;
  await expect(startTui({ root: ws.root, clock, env: {}, readOnly: true, stdin })).rejects.toThrow(
    /needs a terminal/,
  );
  // The CLI entry resolves the workspace from the context and fails the same way under a test runner.
  if (!process.stdin.isTTY) await expect(runTui(ctx, { readOnly: true })).rejects.toThrow(/needs a terminal/);
});

it('shows the providers as `nightshift providers` does: one view, assembled once in client/', async () => {
  // No daemon, alpha running on scripted (a daemon that died mid-night), beta graded B on scripted.
  writer.transition(tid('alpha'), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  writer.transition(tid('beta'), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  writer.transition(tid('beta'), (t) => enterReview(t, { now: clock.now(), exitCode: 0 }));
  writer.transition(tid('beta'), (t) =>
    updateTask(t, clock.now(), 'graded', {
      review: { grade: 'B', verdict: 'changes', summary: '', findings: [], approvedBy: null },
    }),
  );
  const cli = await runCli(['providers', '--json'], { cwd: ws.root, clock });
  expect(cli.code, cli.stderr).toBe(0);
  const fields = ['name', 'breaker', 'reason', 'limit', 'ceiling', 'running', 'lastProbe', 'grade'];
  const pick = (row: object) =>
    Object.fromEntries(Object.entries(row).filter(([k]) => fields.includes(k))) as Record<string, unknown>;
  source = await WorkspaceSource.open({ root: ws.root, clock, env: {}, watch: false });
  const tui = providerRows(source.getSnapshot(), clock.now()).map(pick);
  expect(tui).toEqual((JSON.parse(cli.stdout) as object[]).map(pick));
  expect(tui[0]).toMatchObject({ name: 'scripted', breaker: 'no daemon', running: 1, grade: 3 });
});
