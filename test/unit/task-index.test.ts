/**
 * The task index (queue/task-index.ts): a listing reads it instead of every task.json, and no crash of a
 * writer (an entry never appended, a torn line, a lost file, a task moved or added behind its back) makes
 * a listing differ from the task.json files. The property test crashes a writer at random points and
 * compares; reproduce a failure with FC_SEED=<printed seed>.
 */
import { readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enterRunning, TASK_STATES, updateTask, type TaskRecord } from '../../src/core/task.js';
import { ManualClock } from '../../src/lib/clock.js';
import { writeFileDurable } from '../../src/queue/fsx.js';
import { WorkspaceLock } from '../../src/queue/lock.js';
import { QueueStore } from '../../src/queue/store.js';
import { TaskIndex } from '../../src/queue/task-index.js';
import { parseSpec } from '../../src/spec/parse.js';
import { tid } from '../../src/testing/ids.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now();
console.log('fast-check seed', seed);

let ws: TestWorkspace;
const clock = new ManualClock();
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

const spec = (id: string) =>
  parseSpec(
    Buffer.from(specText({ id, body: `The ${id} task: retry the client with backoff and test it.` })),
    {
      file: `${id}.md`,
      config: ws.config,
    },
  );

/** The truth: every task.json, read directly, by id (their state as recorded). */
function truth(): Record<string, TaskRecord> {
  const out: Record<string, TaskRecord> = {};
  for (const state of TASK_STATES) {
    for (const id of readdirSync(ws.paths.stateDir(state)))
      out[id] = JSON.parse(
        readFileSync(path.join(ws.paths.taskDir(state, id), 'task.json'), 'utf8'),
      ) as TaskRecord;
  }
  return out;
}

/** What a fresh reader (another process: a new store, no cache) lists, by id. */
function listed(): Record<string, TaskRecord> {
  const reader = new QueueStore(ws.paths, clock, undefined, { cache: false });
  return Object.fromEntries(reader.list().map((t) => [t.id, JSON.parse(JSON.stringify(t)) as TaskRecord]));
}

/** A writer as the CLI is one: the lock, recovery, `fn`, a clean close. */
async function session(fn: (store: QueueStore) => void, opts: { crash?: boolean } = {}): Promise<void> {
  clock.advance(1000);
  const store = new QueueStore(ws.paths, clock);
  store.ensureLayout();
  const lock = await WorkspaceLock.acquire(ws.paths.lock, 'cli', () => clock.now());
  store.recover();
  fn(store);
  if (!opts.crash) store.closeIndex();
  lock.release();
}

const indexText = () => readFileSync(ws.paths.taskIndex, 'utf8');
const lastLine = () => indexText().trimEnd().split('\n').at(-1);
const retitle = (store: QueueStore, id: string, title: string) =>
  store.transition(tid(id), (t) => updateTask(t, clock.now(), 'retitled', { title }));

describe('the task index', () => {
  it('holds every record a writer committed and ends closed, and a reader lists from it', async () => {
    await session((s) => {
      for (const id of ['a', 'b', 'c']) s.enqueue(spec(id));
      s.transition(tid('b'), (t) =>
        enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
      );
    });
    expect(lastLine()).toBe('{"close":true}');
    const index = new TaskIndex(ws.paths.taskIndex, ws.paths.tmp).loadChecked(ws.paths.lock);
    expect(index.trusted).toBe(true);
    expect([...index.entries.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(index.entries.get(tid('b'))?.dir).toBe('running');
    expect(listed()).toEqual(truth());
  });

  it('is trusted while its writer holds the lock, not once that writer is gone without closing', async () => {
    const store = new QueueStore(ws.paths, clock);
    store.ensureLayout();
    const lock = await WorkspaceLock.acquire(ws.paths.lock, 'cli', () => clock.now());
    store.recover();
    store.enqueue(spec('a'));
    const load = () => new TaskIndex(ws.paths.taskIndex, ws.paths.tmp).loadChecked(ws.paths.lock);
    expect(lastLine()).toMatch(/^\{"dir":"pending",.*"id":"a"/);
    expect(load().trusted).toBe(true);
    lock.release(); // as if killed: no close
    expect(load().trusted).toBe(false);
  });

  it('a commit whose entry was never appended (kill -9 between them) is read from task.json', async () => {
    await session((s) => s.enqueue(spec('a')));
    await session((s) => retitle(s, 'a', 'the new title'), { crash: true });
    // The entry after the commit is lost: cut the file back to its state before it.
    const lines = indexText().trimEnd().split('\n');
    writeFileSync(ws.paths.taskIndex, `${lines.slice(0, -1).join('\n')}\n`);
    expect(listed()['a']?.title).toBe('the new title');
    expect(listed()).toEqual(truth());
  });

  it('a torn last line is no entry, and the next recovery writes the index anew', async () => {
    await session((s) => {
      s.enqueue(spec('a'));
      s.enqueue(spec('b'));
    });
    await session((s) => retitle(s, 'b', 'torn'), { crash: true });
    truncateSync(ws.paths.taskIndex, Buffer.byteLength(indexText()) - 40);
    expect(listed()['b']?.title).toBe('torn');
    expect(listed()).toEqual(truth());
    await session(() => {});
    expect(
      indexText()
        .split('\n')
        .filter((l) => l.startsWith('{"dir"')),
    ).toHaveLength(2);
    expect(lastLine()).toBe('{"close":true}');
    expect(listed()).toEqual(truth());
  });

  it('a lost or foreign index file is an empty one: every task is read, then indexed again', async () => {
    await session((s) => ['a', 'b'].forEach((id) => s.enqueue(spec(id))));
    rmSync(ws.paths.taskIndex);
    expect(listed()).toEqual(truth());
    writeFileSync(ws.paths.taskIndex, 'not an index\n{"close":true}\n');
    expect(listed()).toEqual(truth());
    await session(() => {});
    expect(Object.keys(listed()).sort()).toEqual(['a', 'b']);
    expect(indexText().startsWith('{"taskIndex":1}\n')).toBe(true);
  });

  it('a directory added, removed or moved behind a closed index is listed as it is', async () => {
    await session((s) => ['a', 'b', 'c'].forEach((id) => s.enqueue(spec(id))));
    const saved = indexText();
    await session((s) => s.enqueue(spec('extra')));
    writeFileSync(ws.paths.taskIndex, saved); // closed, and knows nothing of "extra"
    rmSync(ws.paths.taskDir('pending', 'a'), { recursive: true });
    renameSync(ws.paths.taskDir('pending', 'b'), ws.paths.taskDir('failed', 'b')); // by hand
    const now = listed();
    expect(Object.keys(now).sort()).toEqual(['b', 'c', 'extra']);
    expect(now).toEqual(truth());
  });

  it('an interrupted move (task.json written, directory not moved) is listed by its record', async () => {
    await session((s) => s.enqueue(spec('a')));
    await session(() => {}, { crash: true });
    // A writer that opened its session and died between the task.json rename and the directory's.
    const file = path.join(ws.paths.taskDir('pending', 'a'), 'task.json');
    const running = enterRunning(JSON.parse(readFileSync(file, 'utf8')) as TaskRecord, {
      now: clock.now(),
      provider: 'scripted',
      host: 'local',
    }).task;
    writeFileSync(ws.paths.taskIndex, `${indexText()}${JSON.stringify({ open: null })}\n`);
    writeFileDurable(file, JSON.stringify(running), ws.paths.tmp);
    expect(listed()['a']?.state).toBe('running');
    await session(() => {});
    expect(readdirSync(ws.paths.stateDir('running'))).toEqual(['a']);
    expect(listed()).toEqual(truth());
  });

  it('a session whose commit failed half-way is left open', () => {
    new QueueStore(ws.paths, clock).ensureLayout();
    const index = new TaskIndex(ws.paths.taskIndex, ws.paths.tmp);
    index.open(() => null);
    index.close();
    expect(lastLine()).toBe('{"open":null}');
    // A commit whose entry went in by a rewrite (the writer compacting) is complete: the session closes.
    index.open(() => null);
    index.rewrite([], null);
    index.close();
    expect(lastLine()).toBe('{"close":true}');
  });

  it('never lists other than the task.json files, whatever point a writer is killed at', async () => {
    const ids = ['p', 'q', 'r', 's'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('edit' as const), id: fc.constantFrom(...ids), title: fc.string() }),
      fc.record({ kind: fc.constant('run' as const), id: fc.constantFrom(...ids) }),
    );
    const sessionArb = fc.record({
      ops: fc.array(op, { maxLength: 5 }),
      // Killed: the index is cut anywhere after its last fsynced point (the session's `open` line).
      crash: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(sessionArb, { minLength: 1, maxLength: 5 }), async (sessions) => {
        ws.cleanup();
        ws = makeWorkspace();
        for (const s of sessions) {
          await session(
            (store) => {
              for (const o of s.ops) {
                const where = store.locate(tid(o.id));
                if (o.kind === 'add' && !where) store.enqueue(spec(o.id));
                if (o.kind === 'edit' && where) retitle(store, o.id, o.title);
                if (o.kind === 'run' && where === 'pending')
                  store.transition(tid(o.id), (t) =>
                    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
                  );
              }
            },
            { crash: s.crash !== undefined },
          );
          if (s.crash !== undefined) {
            const bytes = readFileSync(ws.paths.taskIndex);
            const from = bytes.lastIndexOf('{"open":');
            if (from >= 0) {
              const end = bytes.indexOf('\n', from) + 1;
              truncateSync(ws.paths.taskIndex, end + Math.floor(s.crash * (bytes.length - end)));
            }
          }
          expect(listed()).toEqual(truth());
        }
      }),
      { seed, numRuns: 40 },
    );
  });
});
