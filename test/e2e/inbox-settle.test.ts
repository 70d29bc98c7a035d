/**
 * A spec written into the inbox slowly, in place (as `scp` over a slow link, `cat > specs/x.md` or an
 * editor saving in place do), under a running daemon whose watcher sees every write: it must be taken
 * whole once it stops changing, never refused or queued half-written (issue 15: "front matter opened with
 * --- is never closed", although the finished file was valid).
 */
import { closeSync, existsSync, openSync, readdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

describe('the inbox under a running daemon', () => {
  it('takes a spec written over two seconds whole, once it stops changing', async () => {
    night = makeNight({ providers: '  scripted: { kind: scripted, hosts: [local], concurrency: 1 }' });
    const sup = night.supervisor();
    await sup.start();
    const text = scriptedSpec('slow', 'write slow.txt "done\\n"\ncommit "slow"\nexit 0');
    const file = path.join(night.paths.specs, 'slow.md');
    // Like scp: one open file, written piece by piece. Cut in the front matter (invalid so far) and in
    // the body (valid, but not the whole spec: taking it then would queue half a task).
    const close = text.indexOf('\n---\n', 4);
    const cuts = [10, close - 5, close + 40, text.length - 20, text.length];
    const fd = openSync(file, 'w');
    try {
      let at = 0;
      for (const cut of cuts) {
        writeSync(fd, text.slice(at, cut));
        at = cut;
        // The writer's own pace (the scenario), not synchronisation: the daemon sweeps at every write.
        if (cut < text.length) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      closeSync(fd);
    }
    await waitFor(
      'the spec taken from the inbox',
      () => existsSync(path.join(night!.paths.accepted, 'slow.md')),
      30_000,
    );
    expect(existsSync(night.paths.rejected) ? readdirSync(night.paths.rejected) : []).toEqual([]);
    expect(sup.store.specText(tid('slow'))).toBe(text);
  });
});
