import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, type NightshiftError } from '../../src/core/errors.js';
import { enterFailed, enterRunning, enterReview, TASK_STATES, updateTask } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { makeRedactor } from '../../src/lib/redact.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { FatalIoError } from '../../src/queue/fsx.js';
import { REJECT_SETTLE_MS, SETTLE_MS, sweepInbox } from '../../src/queue/inbox.js';
import { WorkspaceLock } from '../../src/queue/lock.js';
import { hasOpenWriter } from '../../src/queue/writers.js';
import { applyPendingRequests, readOutcome, writeRequest } from '../../src/queue/requests.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

let ws: TestWorkspace;
let store: QueueStore;
let clock: ManualClock;

beforeEach(() => {
  ws = makeWorkspace();
  clock = new ManualClock();
  store = new QueueStore(ws.paths, clock, new EventLog(ws.paths.events));
  store.ensureLayout();
});
afterEach(() => ws.cleanup());

const parsed = (id: string, body?: string) =>
  parseSpec(Buffer.from(specText({ id, ...(body ? { body } : {}) })), {
    file: `${id}.md`,
    config: ws.config,
  });

function whereIs(id: string): string[] {
  return TASK_STATES.filter((s) => existsSync(path.join(ws.paths.stateDir(s), id)));
}

describe('QueueStore', () => {
  it('enqueues a task directory with an immutable spec.md and a task.json', () => {
    const task = store.enqueue(parsed('alpha'));
    const dir = ws.paths.taskDir('pending', 'alpha');
    expect(task.state).toBe('pending');
    expect(readFileSync(path.join(dir, 'spec.md'), 'utf8')).toContain('Add exponential backoff');
    expect(statSync(path.join(dir, 'spec.md')).mode & 0o777).toBe(0o444);
    expect(JSON.parse(readFileSync(path.join(dir, 'task.json'), 'utf8'))).toMatchObject({
      id: 'alpha',
      state: 'pending',
      branch: 'ns/alpha',
    });
    expect(readdirSync(ws.paths.tmp)).toEqual([]);
    const events = readFileSync(ws.paths.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toEqual(['task.created']);
  });

  it('moves the task directory on each transition and keeps exactly one copy', () => {
    store.enqueue(parsed('alpha'));
    store.transition(tid('alpha'), (t) =>
      enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
    );
    expect(whereIs('alpha')).toEqual(['running']);
    store.transition(tid('alpha'), (t) => enterReview(t, { now: clock.now(), exitCode: 0 }));
    expect(whereIs('alpha')).toEqual(['review']);
    expect(store.get(tid('alpha')).attempts[0]).toMatchObject({ outcome: 'exited', exitCode: 0 });
  });

  it('refuses a taken id, even after the task is done or failed', () => {
    store.enqueue(parsed('alpha'));
    const err = (() => {
      try {
        store.enqueue(
          parsed(
            'alpha',
            'A different body that is long enough to count as a real spec for the executor to read today.',
          ),
        );
      } catch (e) {
        return e as NightshiftError;
      }
      return null;
    })();
    expect(err?.code).toBe('id-taken');
    expect(err?.describe()).toMatch(/alpha.*already used by a pending task/);
  });

  it('refuses a duplicate spec with the id it duplicates, unless forced', () => {
    store.enqueue(parsed('alpha'));
    expect(() => store.enqueue(parsed('beta'))).toThrow(/duplicates task alpha \(pending\)/);
    expect(store.enqueue(parsed('beta'), { force: true }).id).toBe('beta');
  });

  it('finishes a move interrupted between its two renames', () => {
    store.enqueue(parsed('alpha'));
    // Simulate the crash: the new task.json is written (state running) but the directory is still in pending.
    const dir = ws.paths.taskDir('pending', 'alpha');
    const task = JSON.parse(readFileSync(path.join(dir, 'task.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'task.json'), JSON.stringify({ ...task, state: 'running' }));
    writeFileSync(path.join(ws.paths.tmp, 'task.json.123.tmp'), '{"half":');
    const report = store.recover();
    expect(report.completedMoves).toEqual([{ id: 'alpha', from: 'pending', to: 'running' }]);
    expect(report.sweptTmp).toEqual(['task.json.123.tmp']);
    expect(whereIs('alpha')).toEqual(['running']);
    expect(readdirSync(ws.paths.tmp)).toEqual([]);
  });

  it('refuses symlinks, FIFOs, stray files and corrupt records, and never follows them', () => {
    store.enqueue(parsed('alpha'));
    const outside = path.join(ws.root, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'task.json'), JSON.stringify({ id: 'evil', state: 'pending' }));
    symlinkSync(outside, path.join(ws.paths.stateDir('pending'), 'evil'));
    execFileSync('mkfifo', [path.join(ws.paths.stateDir('pending'), 'fifo')]);
    writeFileSync(path.join(ws.paths.stateDir('review'), 'stray.txt'), 'x');
    mkdirSync(path.join(ws.paths.stateDir('done'), 'broken'));
    writeFileSync(path.join(ws.paths.stateDir('done'), 'broken', 'task.json'), '{not json');
    mkdirSync(path.join(ws.paths.stateDir('done'), 'linked'));
    symlinkSync(path.join(outside, 'task.json'), path.join(ws.paths.stateDir('done'), 'linked', 'task.json'));

    const report = store.recover();
    const reasons = report.refused.map((r) => `${path.basename(r.path)}: ${r.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^evil: a symbolic link/),
        expect.stringMatching(/^fifo: a FIFO/),
        expect.stringMatching(/^stray.txt: a stray file/),
        expect.stringMatching(/^broken: task.json is not valid JSON/),
        expect.stringMatching(/^linked: is a symbolic link/),
      ]),
    );
    expect(store.list().map((t) => t.id)).toEqual(['alpha']);
  });

  it('get() names the missing task and how to find ids', () => {
    expect(() => store.get(tid('nope'))).toThrow(/no task "nope"/);
  });
});

describe('WorkspaceLock', () => {
  it('admits one holder, and takes over a lock whose process is gone', () => {
    const a = WorkspaceLock.tryAcquire(ws.paths.lock, 'cli', 0);
    expect(a).not.toBeNull();
    expect(WorkspaceLock.tryAcquire(ws.paths.lock, 'cli', 0)).toBeNull();
    a?.release();
    // A lock left by a process that no longer exists.
    const dead = execFileSync('sh', ['-c', 'echo $$']).toString().trim();
    writeFileSync(
      ws.paths.lock,
      JSON.stringify({ pid: Number(dead), host: os.hostname(), kind: 'daemon', since: 'x' }),
    );
    const b = WorkspaceLock.tryAcquire(ws.paths.lock, 'cli', 0);
    expect(b?.info.pid).toBe(process.pid);
    b?.release();
    expect(existsSync(ws.paths.lock)).toBe(false);
  });

  it('does not wait for a live daemon', async () => {
    const daemon = WorkspaceLock.tryAcquire(ws.paths.lock, 'daemon', 0);
    await expect(WorkspaceLock.acquire(ws.paths.lock, 'cli', () => Date.now(), 5000)).rejects.toThrow(
      /locked by daemon pid/,
    );
    daemon?.release();
  });

  it('leaves no stale-lock debris behind', () => {
    const lock = WorkspaceLock.tryAcquire(ws.paths.lock, 'cli', 0);
    lock?.release();
    expect(readdirSync(ws.paths.queue).filter((n) => n.startsWith('.lock') || n.startsWith('lock'))).toEqual(
      [],
    );
  });
});

describe('lock debris', () => {
  it('removes claim and stale files left by dead processes when the lock is taken', () => {
    const dead = Number(execFileSync('sh', ['-c', 'echo $$']).toString().trim());
    const debris = [`.lock.${dead}-abcd1234`, `lock.stale.${dead}-00ff00ff`];
    for (const name of debris) writeFileSync(path.join(ws.paths.queue, name), '{}');
    const alive = `.lock.${process.pid}-deadbeef`;
    writeFileSync(path.join(ws.paths.queue, alive), '{}');
    const lock = WorkspaceLock.tryAcquire(ws.paths.lock, 'cli', 0);
    lock?.release();
    const left = readdirSync(ws.paths.queue).filter((n) => n.includes('lock'));
    expect(left).toEqual([alive]);
  });
});

/** What was thrown, or null. */
function thrown(fn: () => unknown): NightshiftError | null {
  try {
    fn();
  } catch (e) {
    return e as NightshiftError;
  }
  return null;
}

/** A folder outside the queue holding one file, to prove nothing is read or deleted through a link. */
function victim(name: string): { dir: string; file: string } {
  const dir = path.join(ws.root, `victim-${name}`);
  mkdirSync(dir);
  const file = path.join(dir, 'precious.json');
  writeFileSync(file, '{"keep":true}');
  return { dir, file };
}

/** Replaces one of the queue's own directories with a symlink to `target`. */
function linkInPlace(dir: string, target: string): void {
  rmSync(dir, { recursive: true, force: true });
  symlinkSync(target, dir);
}

// The inbox's files were dropped a minute ago (settled): sweeps take them at once.
const deps = () => ({ paths: ws.paths, config: ws.config, store, clock, fileNow: () => Date.now() + 60_000 });
const applierDeps = () => ({ ...deps(), toggles: new ToggleStore(ws.paths) });

describe("the queue's own directories are never followed", () => {
  it('a symlinked queue/tmp is refused by recovery, naming the path, and its target is untouched', async () => {
    const v = victim('tmp');
    linkInPlace(ws.paths.tmp, v.dir);
    const err = thrown(() => store.recover());
    expect(err?.code).toBe(ErrorCode.unsafeFile);
    expect(err?.describe()).toContain(`${ws.paths.tmp}: is a symbolic link, not a directory`);
    expect(err?.describe()).toMatch(/Remove the link/);
    expect(readdirSync(v.dir)).toEqual(['precious.json']);
    // The CLI says the same and exits 2 for it.
    const r = await runCli(['ls'], { cwd: ws.root, clock });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(ws.paths.tmp);
    expect(readdirSync(v.dir)).toEqual(['precious.json']);
  });

  it('a symlinked queue/requests is refused before a request is read or deleted', async () => {
    const v = victim('requests');
    writeFileSync(path.join(v.dir, '000000000000001-1-aa.json'), '{"request":{"kind":"retry","task":"x"}}');
    linkInPlace(ws.paths.requests, v.dir);
    const err = await applyPendingRequests(applierDeps()).then(
      () => null,
      (e: unknown) => e as NightshiftError,
    );
    expect(err?.describe()).toMatch(/requests: is a symbolic link/);
    expect(thrown(() => store.ensureLayout())?.describe()).toMatch(/requests: is a symbolic link/);
    expect(readdirSync(v.dir).sort()).toEqual(['000000000000001-1-aa.json', 'precious.json']);
  });

  it('a symlinked specs/ inbox is refused: nothing in its target is queued or moved', () => {
    const v = victim('specs');
    writeFileSync(path.join(v.dir, 'good.md'), specText({ id: 'good' }));
    linkInPlace(ws.paths.specs, v.dir);
    expect(thrown(() => sweepInbox(deps()))?.describe()).toMatch(/specs: is a symbolic link/);
    expect(readdirSync(v.dir).sort()).toEqual(['good.md', 'precious.json']);
    expect(store.locate(tid('good'))).toBeNull();
  });

  it('a symlinked specs/.accepted is refused before anything is enqueued', () => {
    const v = victim('accepted');
    symlinkSync(v.dir, ws.paths.accepted);
    writeFileSync(path.join(ws.paths.specs, 'good.md'), specText({ id: 'good' }));
    expect(thrown(() => sweepInbox(deps()))?.describe()).toMatch(/\.accepted: is a symbolic link/);
    expect(store.locate(tid('good'))).toBeNull();
    expect(existsSync(path.join(ws.paths.specs, 'good.md'))).toBe(true);
    expect(readdirSync(v.dir)).toEqual(['precious.json']);
  });

  it('a symlinked state directory, queue/state or a FIFO in their place is refused', () => {
    const v = victim('pending');
    renameSync(ws.paths.stateDir('pending'), path.join(v.dir, 'moved'));
    symlinkSync(path.join(v.dir, 'moved'), ws.paths.stateDir('pending'));
    expect(thrown(() => store.recover())?.describe()).toMatch(/pending: is a symbolic link/);
    expect(
      thrown(() => new QueueStore(ws.paths, clock, undefined, { cache: false }).list())?.describe(),
    ).toMatch(/pending: is a symbolic link/);
    rmSync(ws.paths.stateDir('pending'));
    execFileSync('mkfifo', [ws.paths.stateDir('pending')]);
    expect(thrown(() => store.ensureLayout())?.describe()).toMatch(/pending: is a FIFO, not a directory/);

    const s = victim('state');
    rmSync(ws.paths.stateStore, { recursive: true, force: true });
    symlinkSync(s.dir, ws.paths.stateStore);
    expect(thrown(() => new ToggleStore(ws.paths))?.describe()).toMatch(/state: is a symbolic link/);
    expect(readdirSync(s.dir)).toEqual(['precious.json']);
  });
});

describe('the request applier', () => {
  it('keeps an unreadable request in requests/.rejected and records why; a linked one leaves its target alone', async () => {
    const v = victim('request-link');
    writeFileSync(path.join(ws.paths.requests, '000000000000001-1-aa.json'), '{not json');
    symlinkSync(v.file, path.join(ws.paths.requests, '000000000000002-1-bb.json'));
    execFileSync('mkfifo', [path.join(ws.paths.requests, '000000000000003-1-cc.json')]);
    const applied = await applyPendingRequests(applierDeps());
    expect(applied.map((a) => [a.name, a.outcome.ok])).toEqual([
      ['000000000000001-1-aa.json', false],
      ['000000000000002-1-bb.json', false],
      ['000000000000003-1-cc.json', false],
    ]);
    expect(applied[0]?.outcome.message).toMatch(
      /unreadable request .*aa\.json: .*kept in queue\/requests\/\.rejected/,
    );
    expect(applied[1]?.outcome.message).toMatch(/is a symbolic link/);
    expect(applied[2]?.outcome.message).toMatch(/not a regular file/);
    expect(readdirSync(ws.paths.requestsRejected).sort()).toEqual([
      '000000000000001-1-aa.json',
      '000000000000002-1-bb.json',
      '000000000000003-1-cc.json',
    ]);
    expect(readFileSync(path.join(ws.paths.requestsRejected, '000000000000001-1-aa.json'), 'utf8')).toBe(
      '{not json',
    );
    expect(readFileSync(v.file, 'utf8')).toBe('{"keep":true}');
    expect(readdirSync(ws.paths.requests).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(readOutcome(ws.paths, '000000000000001-1-aa.json')?.outcome.ok).toBe(false);
    const kinds = readFileSync(ws.paths.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; kind?: string })
      .filter((e) => e.type === 'request.applied')
      .map((e) => e.kind);
    expect(kinds).toEqual(['unreadable', 'unreadable', 'unreadable']);
  });

  it('refuses to approve again a task whose approval stands, and keeps its place in the merge queue', async () => {
    store.enqueue(parsed('alpha'));
    store.transition(tid('alpha'), (t) => enterRunning(t, { now: 1, provider: 'glm', host: 'oci' }));
    store.transition(tid('alpha'), (t) => enterReview(t, { now: 2, exitCode: 0 }));
    writeRequest(ws.paths, { kind: 'approve', task: tid('alpha') }, clock);
    const [first] = await applyPendingRequests(applierDeps());
    expect(first?.outcome).toMatchObject({ ok: true, message: 'approved alpha; it joins the merge queue' });
    const approvedAt = store.get(tid('alpha')).review?.approvedAt;
    clock.advance(10_000);
    writeRequest(ws.paths, { kind: 'approve', task: tid('alpha') }, clock);
    const [second] = await applyPendingRequests(applierDeps());
    expect(second?.outcome).toMatchObject({
      ok: false,
      exitCode: 1,
      message: 'task alpha is already approved (by human): it waits in the merge queue',
    });
    expect(store.get(tid('alpha')).review?.approvedAt).toBe(approvedAt);
    // Parked after its approval (a failed push, say): approving again queues it again.
    store.transition(tid('alpha'), (t) =>
      updateTask(t, clock.now(), 'push failed', { parked: 'push-failed' }),
    );
    writeRequest(ws.paths, { kind: 'approve', task: tid('alpha') }, clock);
    const [third] = await applyPendingRequests(applierDeps());
    expect(third?.outcome.ok).toBe(true);
    expect(store.get(tid('alpha'))).toMatchObject({
      parked: null,
      review: { approvedAt: new Date(clock.now()).toISOString() },
    });
  });

  it('lets a FatalIoError through instead of recording a failed request', async () => {
    store.enqueue(parsed('alpha'));
    const name = writeRequest(ws.paths, { kind: 'kill', task: tid('alpha') }, clock);
    const fatal = new FatalIoError(ErrorCode.io, 'fsync of queue/pending failed: EIO', {
      file: 'queue/pending',
    });
    await expect(
      applyPendingRequests({
        ...applierDeps(),
        hooks: {
          beforeKill: () => Promise.reject(fatal),
        },
      }),
    ).rejects.toBe(fatal);
    // Not applied, not recorded: the request is still there for the next (healthy) run.
    expect(readOutcome(ws.paths, name)).toBeNull();
    expect(readdirSync(ws.paths.requests)).toContain(name);
    expect(store.get(tid('alpha')).state).toBe('pending');
  });

  it('the inbox lets a FatalIoError through too, and leaves the spec in specs/', () => {
    class FailingStore extends QueueStore {
      override enqueue(): never {
        throw new FatalIoError(ErrorCode.io, 'fsync of queue/tmp failed: EIO', { file: 'queue/tmp' });
      }
    }
    const failing = new FailingStore(ws.paths, clock);
    writeFileSync(path.join(ws.paths.specs, 'good.md'), specText({ id: 'good' }));
    expect(() => sweepInbox({ ...deps(), store: failing })).toThrow(FatalIoError);
    expect(readdirSync(ws.paths.specs)).toContain('good.md');
  });
});

describe('the inbox', () => {
  it('waits for a spec to stop changing before it takes it, and longer before it refuses one', () => {
    const file = path.join(ws.paths.specs, 'slow.md');
    const text = specText({ id: 'slow' });
    writeFileSync(file, text.slice(0, 40)); // front matter opened, never closed yet: invalid so far
    const written = statSync(file).mtimeMs;
    // A writer that keeps the file open: only the file's stillness tells when it is done.
    const at = (ms: number) => ({ ...deps(), fileNow: () => written + ms, openWriter: () => true });
    // Just written: neither read nor refused.
    let result = sweepInbox(at(10));
    expect(result.settling).toEqual([{ file: 'slow.md', readyInMs: SETTLE_MS - 10 }]);
    expect(result.rejected).toEqual([]);
    // Settled but invalid: still kept, as it may yet be finished, until it has not changed for longer.
    result = sweepInbox(at(SETTLE_MS + 100));
    expect(result.rejected).toEqual([]);
    expect(result.settling).toEqual([{ file: 'slow.md', readyInMs: REJECT_SETTLE_MS - SETTLE_MS - 100 }]);
    expect(existsSync(file)).toBe(true);
    // The writer finishes: taken whole once settled.
    writeFileSync(file, text);
    const done = statSync(file).mtimeMs;
    expect(sweepInbox({ ...deps(), fileNow: () => done + 5, openWriter: () => null }).accepted).toEqual([]);
    result = sweepInbox({ ...deps(), fileNow: () => done + SETTLE_MS, openWriter: () => null });
    expect(result.accepted).toEqual([{ file: 'slow.md', task: 'slow' }]);
    expect(store.specText(tid('slow'))).toBe(text);
  });

  it('takes a fresh spec at once when no process has it open for writing, not while one does', async () => {
    const file = path.join(ws.paths.specs, 'quick.md');
    writeFileSync(file, specText({ id: 'quick' }));
    const fresh = { ...deps(), fileNow: () => statSync(file).mtimeMs + 5 };
    // The real /proc: a process holding it open for writing (a `cat > specs/x.md` still typing).
    const writer = spawn('sh', ['-c', 'exec 3>>"$1"; echo open; read x', 'sh', file], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => writer.stdout.once('data', resolve));
    try {
      expect(hasOpenWriter(file)).toBe(true);
      expect(sweepInbox(fresh).settling.map((f) => f.file)).toEqual(['quick.md']);
    } finally {
      writer.stdin.end('\n');
      await new Promise((resolve) => writer.once('close', resolve));
    }
    expect(hasOpenWriter(file)).toBe(false);
    expect(sweepInbox(fresh).accepted).toEqual([{ file: 'quick.md', task: 'quick' }]);
  });

  it('refuses an invalid spec once it has stayed unchanged past the refusal delay', () => {
    const file = path.join(ws.paths.specs, 'bad.md');
    writeFileSync(file, '---\ntitle: never closed\n');
    const written = statSync(file).mtimeMs;
    const result = sweepInbox({ ...deps(), fileNow: () => written + REJECT_SETTLE_MS });
    expect(result.settling).toEqual([]);
    expect(result.rejected.map((r) => r.file)).toEqual(['bad.md']);
  });

  it('never takes or reports scratch files: dotfiles, *.tmp, *.swp, *~', () => {
    for (const name of ['.x.md', 'x.md.tmp', '.x.md.swp', 'x.md.swp', 'x.md~', 'x.md.part'])
      writeFileSync(path.join(ws.paths.specs, name), specText({ id: 'x' }));
    const result = sweepInbox(deps());
    expect(result).toMatchObject({ accepted: [], rejected: [], ignored: [], refused: [], settling: [] });
  });

  it('refuses a spec whose id a failed task holds, naming the id, and the task stays failed', () => {
    const text = specText({ id: 'good' });
    writeFileSync(path.join(ws.paths.specs, 'good.md'), text);
    expect(sweepInbox(deps()).accepted).toEqual([{ file: 'good.md', task: 'good' }]);
    store.transition(tid('good'), (t) =>
      enterFailed(t, { now: clock.now(), code: 'killed', attribution: 'supervisor', reason: 'killed' }),
    );
    writeFileSync(path.join(ws.paths.specs, 'good.md'), text);
    const result = sweepInbox(deps());
    expect(result.accepted).toEqual([]);
    expect(result.rejected[0]?.reason).toMatch(/task id "good" is already used by a failed task/);
    expect(readFileSync(path.join(ws.paths.rejected, 'good.md.error.txt'), 'utf8')).toMatch(
      /good\.md, field "id": task id "good"/,
    );
    expect(store.get(tid('good')).state).toBe('failed');
  });

  it('takes the same file again after a crash between enqueue and the move, queuing nothing twice', () => {
    const text = specText({ id: 'good' });
    store.enqueue(parseSpec(Buffer.from(text), { file: 'good.md', config: ws.config }));
    writeFileSync(path.join(ws.paths.specs, 'good.md'), text); // still in the inbox: the crash
    expect(sweepInbox(deps()).accepted).toEqual([{ file: 'good.md', task: 'good' }]);
    expect(readFileSync(path.join(ws.paths.accepted, 'good.md'), 'utf8')).toBe(text);
    // An edited file with the same id while the first is pending is not that case: refused.
    writeFileSync(path.join(ws.paths.specs, 'good.md'), specText({ id: 'good', title: 'Something else' }));
    const again = sweepInbox(deps());
    expect(again.accepted).toEqual([]);
    expect(again.rejected[0]?.reason).toMatch(/already used by a pending task/);
  });

  it('takes the same file again after a crash when the spec quotes a configured secret', () => {
    const secret = 'sk-canary-inbox-0123456789';
    const redacting = new QueueStore(ws.paths, clock, new EventLog(ws.paths.events), {
      redact: makeRedactor([secret]),
    });
    const text = specText({ id: 'good', body: `Log in with ${secret}, then run the tests.` });
    redacting.enqueue(parseSpec(Buffer.from(text), { file: 'good.md', config: ws.config }));
    writeFileSync(path.join(ws.paths.specs, 'good.md'), text); // still in the inbox: the crash
    const result = sweepInbox({ ...deps(), store: redacting });
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([{ file: 'good.md', task: 'good' }]);
    expect(readFileSync(path.join(ws.paths.accepted, 'good.md'), 'utf8')).toBe(text);
  });

  it('moves a socket named *.md to .rejected without opening it, and the next spec is still queued', async () => {
    const sock = path.join(ws.paths.specs, 'x.md');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, resolve);
    });
    try {
      writeFileSync(path.join(ws.paths.specs, 'ok.md'), specText({ id: 'ok' }));
      const result = sweepInbox(deps());
      expect(result.accepted).toEqual([{ file: 'ok.md', task: 'ok' }]);
      expect(result.rejected.map((r) => [r.file, r.moved])).toEqual([['x.md', 'x.md']]);
      expect(result.rejected[0]?.reason).toMatch(/x\.md: is a socket, not a spec file \(ENXIO\)/);
      expect(lstatSync(path.join(ws.paths.rejected, 'x.md')).isSocket()).toBe(true);
      expect(readFileSync(path.join(ws.paths.rejected, 'x.md.error.txt'), 'utf8')).toMatch(
        /moved aside without being opened; remove it/,
      );
    } finally {
      server.close();
    }
  });

  it('refuses symlinks and FIFOs not named *.md, leaves them and their targets alone, and records each once', () => {
    const v = victim('inbox-link');
    symlinkSync(v.file, path.join(ws.paths.specs, 'link-noext'));
    execFileSync('mkfifo', [path.join(ws.paths.specs, 'pipe')]);
    writeFileSync(path.join(ws.paths.specs, 'notes.txt'), 'not a spec');
    writeFileSync(path.join(ws.paths.specs, '.hidden'), 'skipped');
    const first = sweepInbox(deps());
    expect(first.refused.map((r) => [r.file, r.reason.split(':')[0]])).toEqual(
      expect.arrayContaining([
        ['link-noext', 'a symbolic link'],
        ['pipe', 'a FIFO'],
      ]),
    );
    expect(first.refused[0]?.reason).toMatch(/never follows links.*copy the real file into specs\//);
    expect(first.ignored.map((r) => r.file)).toEqual(['notes.txt']);
    expect(first.ignored[0]?.reason).toMatch(/only \*\.md files/);
    expect(readdirSync(ws.paths.specs).sort()).toEqual(['.hidden', 'link-noext', 'notes.txt', 'pipe']);
    expect(readFileSync(v.file, 'utf8')).toBe('{"keep":true}');
    // Reported on every sweep, recorded as an event once per entry.
    expect(sweepInbox(deps()).refused).toHaveLength(2);
    const refusedEvents = readFileSync(ws.paths.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; file?: string })
      .filter((e) => e.type === 'queue.refused');
    expect(refusedEvents.map((e) => path.basename(e.file ?? '')).sort()).toEqual(['link-noext', 'pipe']);
  });

  it('moves a symlink named *.md to .rejected without following it, naming the file once', () => {
    const v = victim('inbox-md-link');
    symlinkSync(v.file, path.join(ws.paths.specs, 'link.md'));
    const result = sweepInbox(deps());
    expect(result.rejected).toHaveLength(1);
    const reason = result.rejected[0]?.reason ?? '';
    expect(reason).toMatch(/link\.md: is a symbolic link/);
    expect(reason.split('link.md').length - 1).toBe(1);
    expect(readFileSync(v.file, 'utf8')).toBe('{"keep":true}');
    expect(existsSync(path.join(ws.paths.rejected, 'link.md'))).toBe(true);
  });
});
