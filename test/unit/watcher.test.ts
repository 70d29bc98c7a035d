import { writeFileSync } from 'node:fs';
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
  expect((await batch).paths).toContain(path.join(ws.paths.specs, 'x.md'));
});

it('turns a request file into a requests event, not an inbox one', async () => {
  const batch = nextBatch((b) => b.topics.has('requests'));
  writeRequest(ws.paths, { kind: 'freeze', provider: null }, new ManualClock());
  const got = await batch;
  expect(got.topics.has('inbox')).toBe(false);
});
