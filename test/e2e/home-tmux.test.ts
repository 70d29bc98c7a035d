/**
 * `nightshift -w <ws>` run from inside the person's own tmux (real tmux, a private server standing in for
 * theirs): the TUI runs in place and the daemon gets a window beside it in their session, as the README
 * promises ("the TUI, in tmux, with the daemon beside it"). `--read-only` starts no daemon, in or out of
 * tmux.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { workspacePaths } from '../../src/config/paths.js';
import { isAlive, readLock } from '../../src/queue/lock.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';
import { makeRepo } from '../../src/testing/git.js';
import { envOutsideTmux, TmuxScreen } from '../../src/testing/tmux-screen.js';
import { waitFor } from '../../src/testing/wait.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const NS_SOCKET = `ns-home-${tag}`;
const dirs: string[] = [];
const screens: TmuxScreen[] = [];

function workspace(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-home-'));
  const repo = makeRepo();
  dirs.push(root, repo);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    `repos:\n  app: { path: ${JSON.stringify(repo)} }\nhosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  sim: { kind: scripted }\n`,
    { mode: 0o600 },
  );
  return root;
}

const daemonPid = (root: string) => {
  const lock = readLock(workspacePaths(root).lock);
  return lock?.kind === 'daemon' && isAlive(lock.pid) ? lock.pid : null;
};

afterAll(async () => {
  for (const root of dirs) {
    const pid = daemonPid(root);
    if (pid) {
      process.kill(pid, 'SIGTERM');
      await waitFor(
        'the daemon to stop',
        () => (screens.forEach((s) => s.reap()), !isAlive(pid)),
        15_000,
      ).catch(() => isAlive(pid) && process.kill(pid, 'SIGKILL'));
    }
  }
  for (const s of screens) s.kill();
  killTmuxServers(
    NS_SOCKET,
    dirs.map((d) => localExecutorSocket(d, NS_SOCKET)),
  );
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(root: string, ...flags: string[]): TmuxScreen {
  const screen = TmuxScreen.start({
    socket: `ns-home-term-${tag}-${screens.length}`,
    session: 'mine',
    window: 'work',
    argv: [process.execPath, BIN, '-w', root, ...flags],
    // Started in the session, the TUI sees TMUX as set by this server: it is inside the person's tmux.
    env: envOutsideTmux({ NIGHTSHIFT_TMUX_SOCKET: NS_SOCKET, CI: '' }),
    cwd: root,
    cols: 160,
    rows: 45,
  });
  screens.push(screen);
  return screen;
}

const windows = (s: TmuxScreen) =>
  s.tmux(['list-windows', '-t', '=mine', '-F', '#{window_name}']).trim().split('\n');

it('inside tmux, the TUI runs in place and the daemon starts in a window beside it', async () => {
  const root = workspace();
  const screen = start(root);
  await waitFor(
    'the daemon window beside the TUI',
    () => windows(screen).includes('nightshift-daemon'),
    60_000,
  );
  await waitFor('the daemon to hold the workspace', () => daemonPid(root) !== null, 60_000);
  // The TUI is in the person's window, and says the daemon runs (not "no daemon: press D").
  await waitFor(
    'the TUI to show the daemon',
    () => {
      const text = screen.capture('work');
      return /daemon/.test(text) && !/no daemon/.test(text);
    },
    60_000,
  );
  expect(windows(screen)).toEqual(['work', 'nightshift-daemon']);
});

it('--read-only starts no daemon inside tmux', async () => {
  const root = workspace();
  const screen = start(root, '--read-only');
  await waitFor('the read-only TUI', () => /no daemon \(read-only/.test(screen.capture('work')), 60_000);
  expect(windows(screen)).toEqual(['work']);
  expect(daemonPid(root)).toBeNull();
});
