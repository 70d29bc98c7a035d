/**
 * queue/state/daemon.json, the daemon's published view: written when something a client shows changed,
 * not on every tick; the waiting reasons (one per pending task) are compared entry by entry.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workspacePaths } from '../../src/config/paths.js';
import { readDaemonState, writeDaemonState, type DaemonState } from '../../src/daemon/state-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setUp() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-state-file-'));
  dirs.push(root);
  const paths = workspacePaths(root);
  mkdirSync(paths.tmp, { recursive: true }); // the queue's layout, as QueueStore.ensureLayout makes it
  return paths;
}

const state = (over: Partial<Omit<DaemonState, 'waiting'>>, waiting: [string, string][]) => ({
  pid: 42,
  host: 'here',
  startedAt: '2026-11-26T10:00:00.000Z',
  updatedAt: '2026-11-26T10:00:01.000Z',
  providers: [],
  hosts: [{ name: 'local', over: [] }],
  ...over,
  waiting: new Map(waiting),
});

describe('writeDaemonState', () => {
  it('writes a changed state, skips an unchanged one, and compares waiting reasons entry by entry', () => {
    const paths = setUp();
    const a = writeDaemonState(paths, state({}, [['t1', 'alpha: open (probe failed)']]), null);
    expect(readDaemonState(paths)?.waiting).toEqual({ t1: 'alpha: open (probe failed)' });
    expect(statSync(paths.daemonState).mode & 0o777).toBe(0o600);
    const written = readFileSync(paths.daemonState, 'utf8');

    // Only the time moved: nothing is written, and the same record comes back.
    const b = writeDaemonState(
      paths,
      state({ updatedAt: '2026-11-26T10:00:09.000Z' }, [['t1', 'alpha: open (probe failed)']]),
      a,
    );
    expect(b).toBe(a);
    expect(readFileSync(paths.daemonState, 'utf8')).toBe(written);

    // A reason changed, then a task left: each is written.
    const c = writeDaemonState(paths, state({}, [['t1', 'alpha: half-open (probing)']]), b);
    expect(readDaemonState(paths)?.waiting).toEqual({ t1: 'alpha: half-open (probing)' });
    const d = writeDaemonState(paths, state({}, []), c);
    expect(readDaemonState(paths)?.waiting).toEqual({});

    // A host's state changed, the reasons did not.
    writeDaemonState(paths, state({ hosts: [{ name: 'local', over: ['load 3.1 > 2'] }] }, []), d);
    expect(readDaemonState(paths)?.hosts).toEqual([{ name: 'local', over: ['load 3.1 > 2'] }]);
  });

  it('keeps its own copy of the reasons: the caller refills its map in place every tick', () => {
    const paths = setUp();
    const waiting = new Map([['t1', 'frozen']]);
    const a = writeDaemonState(paths, { ...state({}, []), waiting }, null);
    waiting.set('t1', 'thawed');
    writeDaemonState(paths, { ...state({}, []), waiting }, a);
    expect(readDaemonState(paths)?.waiting).toEqual({ t1: 'thawed' });
  });
});
