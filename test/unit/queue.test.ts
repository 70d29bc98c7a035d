import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NightshiftError } from '../../src/core/errors.js';
import { enterRunning, enterReview, TASK_STATES } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { WorkspaceLock } from '../../src/queue/lock.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

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
    store.transition('alpha', (t) =>
      enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
    );
    expect(whereIs('alpha')).toEqual(['running']);
    store.transition('alpha', (t) => enterReview(t, { now: clock.now(), exitCode: 0 }));
    expect(whereIs('alpha')).toEqual(['review']);
    expect(store.get('alpha').attempts[0]).toMatchObject({ outcome: 'exited', exitCode: 0 });
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
    expect(() => store.get('nope')).toThrow(/no task "nope"/);
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
