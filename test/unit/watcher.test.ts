import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { writeRequest } from '../../src/queue/requests.js';
import { QueueStore } from '../../src/queue/store.js';
import { QueueWatcher, type WatchBatch } from '../../src/queue/watcher.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

let ws: TestWorkspace;
let watcher: QueueWatcher;

beforeEach(async () => {
  ws = makeWorkspace();
  new QueueStore(ws.paths, new ManualClock()).ensureLayout();
  watcher = new QueueWatcher(ws.paths, 50);
  await watcher.ready();
});
afterEach(async () => {
  await watcher.close();
  ws.cleanup();
});

function nextBatch(match: (b: WatchBatch) => boolean): Promise<WatchBatch> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching watch batch within 5 s')), 5000);
    const off = watcher.subscribe((batch) => {
      if (match(batch)) {
        clearTimeout(timer);
        off();
        resolve(batch);
      }
    });
  });
}

it('turns a spec dropped in the inbox into an inbox event', async () => {
  const batch = nextBatch((b) => b.topics.has('inbox'));
  writeFileSync(path.join(ws.paths.specs, 'x.md'), specText({ id: 'x' }));
  const got = await batch;
  expect(got.paths).toContain(path.join(ws.paths.specs, 'x.md'));
  expect(got.changes).toContainEqual({ kind: 'add', path: path.join(ws.paths.specs, 'x.md') });
});

it('says which kind of change each path had (a removal is an unlink)', async () => {
  const file = path.join(ws.paths.specs, 'y.md');
  const added = nextBatch((b) => b.changes.some((c) => c.path === file && c.kind === 'add'));
  writeFileSync(file, specText({ id: 'y' }));
  await added;
  const removed = nextBatch((b) => b.changes.some((c) => c.path === file));
  unlinkSync(file);
  expect((await removed).changes.filter((c) => c.path === file)).toEqual([{ kind: 'unlink', path: file }]);
});

it('turns a request file into a requests event, not an inbox one', async () => {
  const batch = nextBatch((b) => b.topics.has('requests'));
  writeRequest(ws.paths, { kind: 'freeze', provider: null }, new ManualClock());
  const got = await batch;
  expect(got.topics.has('inbox')).toBe(false);
});
