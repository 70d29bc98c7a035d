import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoSession } from '../../src/cli/commands/demo.js';
import { runningDaemon } from '../../src/client/daemon-status.js';
import { isAlive } from '../../src/queue/lock.js';
import { QueueStore } from '../../src/queue/store.js';
import { workspacePaths } from '../../src/config/paths.js';
import { systemClock } from '../../src/lib/clock.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';
import { tid } from '../../src/testing/ids.js';
import { envOutsideTmux, killServer, TmuxScreen, tmuxOn } from '../../src/testing/tmux-screen.js';
import { waitFor } from '../../src/testing/wait.js';

const socket = `ns-demo-${process.pid}`;
let root = '';
afterAll(() => {
  killTmuxServers(socket, root ? [localExecutorSocket(root, socket)] : []);
  if (root) rmSync(root, { recursive: true, force: true });
});

it('runs the whole demo night headless: probe catches the dead provider, gates fail and pass, merges land, the hang is killed', () => {
  const out = execFileSync(process.execPath, ['bin/nightshift.js', 'demo', '--headless'], {
    env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket, ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '' },
    encoding: 'utf8',
    timeout: 170_000,
  });
  root = /demo: workspace (\S+)/.exec(out)?.[1] ?? '';
  expect(existsSync(root)).toBe(true);
  const tasks = new Map(new QueueStore(workspacePaths(root), systemClock).list().map((t) => [t.id, t]));
  expect(tasks.get(tid('add-sub'))?.state).toBe('done');
  expect(tasks.get(tid('add-clamp'))?.state).toBe('done');
  // Fails its tests in round 1, passes after the review round, on the same branch.
  expect(tasks.get(tid('add-div'))).toMatchObject({ state: 'done', round: 1 });
  // Deletes a function: the deletions gate catches it, rounds run out, a person decides.
  const mul = tasks.get(tid('faster-mul'));
  expect(mul).toMatchObject({ state: 'review', parked: 'needs-human' });
  expect(mul?.gates.find((g) => g.name === 'deletions')).toMatchObject({ passed: false });
  expect(mul?.gates.find((g) => g.name === 'deletions')?.evidence).toMatch(/square/);
  // Hangs: killed for idleness.
  expect(tasks.get(tid('write-docs'))).toMatchObject({ state: 'failed' });
  expect(tasks.get(tid('write-docs'))?.attempts[0]?.outcome).toBe('idle');
  // Loops past its commit budget.
  const polish = tasks.get(tid('polish-tests'));
  expect(polish?.gates.find((g) => g.name === 'commits')).toMatchObject({ passed: false });
  // The dead provider was caught by its probe and got no work.
  expect([...tasks.values()].flatMap((t) => t.attempts).every((a) => a.provider === 'scripted')).toBe(true);
  expect(out).toMatch(/provider\.probe provider=flaky .*empty/);
  // Main moved, and the report exists.
  const repo = path.join(root, 'app');
  const log = execFileSync('git', ['-C', repo, 'log', '--oneline', 'main'], { encoding: 'utf8' });
  expect(log).toMatch(/sub\(\)/);
  expect(readFileSync(path.join(root, 'reports', 'demo.md'), 'utf8')).toMatch(
    /Add div\(\) that refuses zero \(add-div\): merged/,
  );
  expect(readFileSync(path.join(root, 'reports', 'demo.html'), 'utf8')).toMatch(/<svg/);
  expect(out).toMatch(/clean up: .*rm -rf/);
}, 180_000);

describe('the interactive demo in tmux (a terminal of its own)', () => {
  const outer = `ns-demo-tty-${process.pid}`;
  const inner = `ns-demo-in-${process.pid}`;
  const roots: string[] = [];
  const shim = mkdtempSync(path.join(os.tmpdir(), 'ns-demo-bin-'));
  afterAll(() => {
    // Daemons first (a test that failed may leave one), so that none starts an executor after the kill.
    for (const r of roots) {
      const daemon = runningDaemon(workspacePaths(r));
      if (daemon) process.kill(daemon.pid, 'SIGKILL');
    }
    killServer(outer);
    killTmuxServers(
      inner,
      roots.map((r) => localExecutorSocket(r, inner)),
    );
    // The demo's own server ended with its session; its socket file stays behind.
    const tmuxDir = path.join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    rmSync(path.join(tmuxDir, inner), { force: true });
    for (const r of roots) rmSync(r, { recursive: true, force: true });
    rmSync(shim, { recursive: true, force: true });
  });
  // `nightshift` on PATH, as the demo's printed commands name it.
  writeFileSync(
    path.join(shim, 'nightshift'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.resolve('bin/nightshift.js'))} "$@"\n`,
    { mode: 0o755 },
  );
  // Not under npx (vitest may be): the demo then names the command `nightshift`, as the shim provides.
  const { npm_lifecycle_event: _npx, ...outside } = envOutsideTmux();
  const env: NodeJS.ProcessEnv = {
    ...outside,
    NIGHTSHIFT_TMUX_SOCKET: inner,
    PAGER: 'cat',
    PATH: `${shim}:${process.env['PATH'] ?? ''}`,
    ANTHROPIC_API_KEY: '',
    ANTHROPIC_BASE_URL: '',
  };

  function startDemo(session: string): TmuxScreen {
    return TmuxScreen.start({
      socket: outer,
      session,
      window: 'demo',
      argv: [process.execPath, 'bin/nightshift.js', 'demo'],
      env,
      cwd: process.cwd(),
      cols: 220,
      rows: 50,
    });
  }
  /** What the demo printed, wrapped lines joined. */
  const printed = (screen: TmuxScreen) =>
    screen.tmux(['capture-pane', '-p', '-J', '-t', screen.target('demo')]);
  /** The demo's workspace, from what it printed (the TUI's screen is gone once the demo ends). */
  const rootOf = (screen: string) => {
    const root = /The demo workspace stays at (\S+)/.exec(screen)?.[1] ?? '';
    if (root) roots.push(root);
    return root;
  };

  it('says when the night is over, opens the report with m, and q ends the demo with the daemon gone', async () => {
    const screen = startDemo('night');
    const banner = await screen.waitForScreen(
      'demo',
      'the night-over banner in the header',
      (s) => /night is over: 3 merged · 2 wait for you · 1 failed · m: morning report/.test(s),
      170_000,
      250,
    );
    expect(banner.split('\n')[0]).toMatch(/^nightshift +the night is over/);
    screen.keys('demo', 'm');
    await screen.waitForScreen('demo', 'the report path in the status line', (s) =>
      /morning report \(3 merged, 1 failed, 2 parked of 6 task\(s\).*\): \S+report-/.test(s),
    );
    screen.keys('demo', 'q');
    expect(await screen.waitForExit('demo', 60_000)).toBe(0);
    const end = printed(screen);
    const root = rootOf(end);
    expect(end).toMatch(/The night is over: 3 merged · 2 wait for you · 1 failed\./);
    expect(end).toMatch(/The demo's daemon has exited\./);
    const report = /morning report: (\S+\.md)/.exec(end)?.[1] ?? '';
    expect(readFileSync(report, 'utf8')).toMatch(/add-div/);
    // The demo's session ended with its TUI: no window left behind (there was a daemon window before).
    expect(tmuxOn(inner, ['has-session', '-t', `=${demoSession(root)}`]).status).not.toBe(0);
    expect(runningDaemon(workspacePaths(root))).toBeNull();
  }, 240_000);

  it('quit early: the daemon keeps the night going, the demo says so and how to stop it, and its clean-up stops it', async () => {
    const screen = startDemo('early');
    await screen.waitForScreen(
      'demo',
      'the board with a daemon',
      (s) => /Board · 6 tasks/.test(s) && /daemon pid \d+/.test(s),
      60_000,
    );
    screen.keys('demo', 'q');
    expect(await screen.waitForExit('demo', 60_000)).toBe(0);
    const end = printed(screen);
    const root = rootOf(end);
    const daemon = runningDaemon(workspacePaths(root));
    expect(daemon, end).not.toBeNull();
    expect(end).toMatch(/The demo night is not over/);
    expect(end).toContain(
      `The demo's daemon (pid ${daemon?.pid}) keeps running, detached from this terminal, until the night is over; stop it now with: nightshift -w ${root} stop`,
    );
    // The printed clean-up, run as printed: it stops the daemon before the workspace goes.
    const cleanUp = /clean up: +(.+)$/m.exec(end)?.[1] ?? '';
    expect(cleanUp).toMatch(new RegExp(`^nightshift -w ${root} stop; .*rm -rf ${root}$`));
    const out = execFileSync('sh', ['-c', cleanUp], { env, encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`daemon pid ${daemon?.pid} stopped`));
    expect(existsSync(root)).toBe(false);
    await waitFor('the daemon process gone', () => !isAlive(daemon?.pid ?? 0), 30_000);
  }, 240_000);

  it('detached from (Ctrl-b d): the demo says where its TUI still runs and how to come back', async () => {
    const screen = startDemo('detach');
    await screen.waitForScreen('demo', 'the board', (s) => /Board · 6 tasks/.test(s), 60_000);
    screen.keys('demo', 'C-b', 'd');
    expect(await screen.waitForExit('demo', 60_000)).toBe(0);
    const end = printed(screen);
    const root = rootOf(end);
    const session = demoSession(root);
    expect(end).toContain(
      `The demo's TUI is still in tmux session "${session}": come back with \`tmux -L ${inner} attach -t =${session}\``,
    );
    expect(tmuxOn(inner, ['has-session', '-t', `=${session}`]).status).toBe(0);
    expect(end).toMatch(
      new RegExp(`clean up: +nightshift -w ${root} stop; tmux -L ${inner} kill-session -t =${session}`),
    );
  }, 240_000);
});
