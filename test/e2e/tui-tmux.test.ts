/**
 * The TUI end to end, in real tmux: the built binary runs in a detached session of a private tmux
 * server (160×45), driven with send-keys and read with capture-pane. Everything nightshift itself puts
 * in tmux (its `nightshift` session, the executors' sessions) lives on a second private socket
 * ($NIGHTSHIFT_TMUX_SOCKET). Both servers, the daemon and the workspace go in afterAll.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoWorkspace, dropDemoSpecs } from '../../src/client/demo/scenario.js';
import { workspacePaths, type WorkspacePaths } from '../../src/config/paths.js';
import { workspaceId } from '../../src/config/workspace-identity.js';
import { sessionName } from '../../src/hosts/session-names.js';
import { tid } from '../../src/testing/ids.js';
import type { TaskRecord } from '../../src/core/task.js';
import { isAlive, readLock } from '../../src/queue/lock.js';
import { helpLines } from '../../src/tui/keys/docs.js';
import { killTmuxServers, localExecutorSocket, tmuxAt } from '../../src/testing/executor-tmux.js';
import { scriptedSpec } from '../../src/testing/night.js';
import { envOutsideTmux, killServer, TmuxScreen, tmuxOn } from '../../src/testing/tmux-screen.js';
import { waitFor } from '../../src/testing/wait.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
/** The test's terminal. */
const TERM_SOCKET = `ns-tui-term-${tag}`;
/** nightshift's own tmux server: its `nightshift` session and the executors' sessions. */
const NS_SOCKET = `ns-tui-${tag}`;
const DEMO_IDS = ['add-sub', 'add-clamp', 'faster-mul', 'add-div', 'write-docs', 'polish-tests'];
/** Two tasks that hang until killed, pinned to a provider of their own so the demo night runs beside them. */
const HOLD_KILL = 'hold-kill';
const HOLD_ATTACH = 'hold-attach';
const ATTACH_MARKER = 'executor pane of hold-attach: waiting';

let root = '';
let paths: WorkspacePaths;
let term: TmuxScreen | null = null;

/** The board's task rows, top to bottom: "<glyph> <id>" (the board is the leftmost pane). */
function boardRows(screen: string): string[] {
  return [...screen.matchAll(/^│([○●◆✓✗]) ([a-z0-9-]+)/gm)].map((m) => `${m[1]} ${m[2]}`);
}

/** The task the detail pane shows, i.e. the board's selection. */
function selected(screen: string): string | null {
  return /│\[2\] ([a-z0-9-]+)/.exec(screen)?.[1] ?? null;
}

const headerLine = (screen: string) => screen.split('\n')[0] ?? '';
const statusLine = (screen: string) => screen.trimEnd().split('\n').at(-1) ?? '';

function task(state: string, id: string): TaskRecord | null {
  const file = path.join(paths.taskDir(state as TaskRecord['state'], id), 'task.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TaskRecord) : null;
}

function daemonPid(): number | null {
  const lock = readLock(paths.lock);
  return lock?.kind === 'daemon' ? lock.pid : null;
}

/** The tmux clients attached to nightshift's own session `nightshift`. */
function clients(): string[] {
  const r = tmuxOn(NS_SOCKET, ['list-clients', '-t', '=nightshift', '-F', '#{client_tty}']);
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

function nsSessions(): string[] {
  const r = tmuxOn(NS_SOCKET, ['list-sessions', '-F', '#{session_name}']);
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** The executors' server: `-S <workdir>/tmux/<socket>`, never the TUI's (docs/hosts.md, "tmux"). */
function onExecutors(args: string[]): { status: number; stdout: string } {
  return tmuxAt(localExecutorSocket(root, NS_SOCKET), args);
}

/** The demo workspace's session of a task (its id is the workspace's: hosts/session-names.ts). */
function session(id: string): string {
  return sessionName(workspaceId(paths), tid(id));
}

function executorSessions(): string[] {
  const r = onExecutors(['list-sessions', '-F', '#{session_name}']);
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/**
 * Selects `id`, one of the two hanging tasks: the filter "hold" leaves just those two rows (in states
 * that do not change under us), then g and j move onto it. Each key is sent only once the screen shows
 * what the previous one did, so no key is still in flight when this returns.
 */
async function selectHeld(t: TmuxScreen, window: string, id: string): Promise<void> {
  t.keys(window, '/');
  await t.waitForScreen(window, 'the filter input', (s) => s.includes(' · /▏'));
  t.keys(window, 'hold', 'Enter');
  const screen = await t.waitForScreen(
    window,
    'the board filtered to the hanging tasks',
    (s) => s.includes('filter "hold"') && boardRows(s).length === 2,
  );
  const ids = boardRows(screen).map((r) => r.slice(2));
  expect(ids).toContain(id);
  t.keys(window, 'g');
  await t.waitForScreen(window, `${ids[0]} selected`, (s) => selected(s) === ids[0]);
  for (const next of ids.slice(1, ids.indexOf(id) + 1)) {
    t.keys(window, 'j');
    await t.waitForScreen(window, `${next} selected`, (s) => selected(s) === next);
  }
}

beforeAll(async () => {
  expect(existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)))).toBe(true);
  const demo = await createDemoWorkspace({});
  root = demo.root;
  paths = workspacePaths(root);
  // A third scripted provider for the two hanging tasks.
  const config = readFileSync(paths.configFile, 'utf8').replace(
    /^( {2}flaky: .*)$/m,
    '$1\n  owl: { kind: scripted, hosts: [local], concurrency: 2 }',
  );
  expect(config).toMatch(/^ {2}owl:/m);
  writeFileSync(paths.configFile, config, { mode: 0o600 });
  const hold = (id: string, line: string) =>
    scriptedSpec(id, `print ${JSON.stringify(line)}\nhang`, [
      'provider: owl',
      'priority: 9',
      'idle: 10m',
      'attempts: 1',
    ]);
  writeFileSync(path.join(paths.specs, `${HOLD_KILL}.md`), hold(HOLD_KILL, 'holding until killed'));
  writeFileSync(path.join(paths.specs, `${HOLD_ATTACH}.md`), hold(HOLD_ATTACH, ATTACH_MARKER));
  dropDemoSpecs(root);
});

afterAll(async () => {
  try {
    const pid = root ? daemonPid() : null;
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      // The daemon is a child of our tmux server, which must reap it (see TmuxScreen.reap).
      await waitFor(
        'the daemon to stop',
        () => {
          term?.reap();
          return !isAlive(pid);
        },
        15_000,
      ).catch(() => {
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      });
    }
  } finally {
    term?.kill();
    killServer(NS_SOCKET);
    if (root) killTmuxServers(null, [localExecutorSocket(root, NS_SOCKET)]);
    if (root && !process.env['NS_KEEP_TEST_DIRS']) rmSync(root, { recursive: true, force: true });
  }
});

describe('the TUI in real tmux', () => {
  it('shows the board of the demo night, with the daemon that runs it', async () => {
    const env = envOutsideTmux({
      NIGHTSHIFT_TMUX_SOCKET: NS_SOCKET,
      ANTHROPIC_API_KEY: '',
      ANTHROPIC_BASE_URL: '',
      // As on a CI runner: Ink would draw nothing until exit in its CI mode, which the TUI turns off.
      CI: 'true',
      // The TUI's code cache goes with the test's directory, not the home's.
      XDG_CACHE_HOME: path.join(root, '.cache'),
    });
    // Inside our tmux ($TMUX is set in the pane), `nightshift` runs the TUI in place, and the daemon in a
    // window beside it (home-tmux.test.ts covers that in detail).
    term = TmuxScreen.start({
      socket: TERM_SOCKET,
      session: 'term',
      window: 'tui',
      argv: [process.execPath, BIN, '-w', root],
      env,
      cwd: root,
      cols: 160,
      rows: 45,
    });
    const pid = await waitFor('the daemon to hold the workspace lock', daemonPid, 60_000);
    await term.waitForScreen('tui', 'every task on the board, the hanging two running', (s) => {
      const rows = boardRows(s);
      return (
        headerLine(s).includes(`daemon pid ${pid}`) &&
        DEMO_IDS.every((id) => rows.some((r) => r.endsWith(` ${id}`))) &&
        rows.includes(`● ${HOLD_KILL}`) &&
        rows.includes(`● ${HOLD_ATTACH}`)
      );
    });
  });

  it('opens the help from the keymap with ?, and closes it with Esc', async () => {
    const t = term!;
    t.keys('tui', '?');
    const lines = helpLines(false)
      .slice(0, 12)
      .map((l) => l.text.trimEnd())
      .filter(Boolean);
    const help = await t.waitForScreen('tui', 'the help overlay', (s) =>
      /Keys · 1-\d+\/\d+ · Esc closes/.test(s),
    );
    for (const line of lines) expect(help).toContain(line);
    expect(boardRows(help)).toEqual([]);
    t.keys('tui', 'Escape');
    await t.waitForScreen(
      'tui',
      'the board back',
      (s) => !s.includes('Esc closes') && s.includes('[1] Board') && boardRows(s).length === 8,
    );
  });

  it('filters the board with /, and clears the filter with Esc', async () => {
    const t = term!;
    const ids = (s: string) =>
      boardRows(s)
        .map((r) => r.slice(2))
        .sort();
    const onlyAdd = (s: string) =>
      /\[1\] Board · 3 of 8 tasks/.test(s) && ids(s).join(' ') === 'add-clamp add-div add-sub';
    t.keys('tui', '/');
    t.type('tui', 'add-');
    await t.waitForScreen(
      'tui',
      'only the add- tasks, filter still open',
      (s) => s.includes('/add-▏') && onlyAdd(s),
    );
    t.keys('tui', 'Escape');
    await t.waitForScreen(
      'tui',
      'the whole board again',
      (s) => boardRows(s).length === 8 && !s.includes('/add-'),
    );
    // Typed fast (one chunk of input, as over ssh): the Enter that ends it still counts.
    t.keys('tui', '/');
    t.keys('tui', 'add-', 'Enter');
    await t.waitForScreen('tui', 'the filter kept', (s) => s.includes('filter "add-"') && onlyAdd(s));
    t.keys('tui', 'Escape');
    await t.waitForScreen(
      'tui',
      'the filter cleared',
      (s) => boardRows(s).length === 8 && !s.includes('filter "add-"'),
    );
  });

  it('kills the selected running task only after the dialog moves off Cancel', async () => {
    const t = term!;
    await selectHeld(t, 'tui', HOLD_KILL);
    const question = `Kill ${HOLD_KILL} on local?`;
    t.keys('tui', 'x');
    // The whole dialog: a capture can land while the frame is still being written.
    let s = await t.waitForScreen(
      'tui',
      'the kill dialog',
      (x) => x.includes(question) && x.includes('[ Cancel ]'),
    );
    expect(s).toContain('[ Cancel ]');
    expect(s).not.toContain('[ Kill ]');
    expect(s).toContain(`attempt 1 on owl@local`);
    // Enter right after the key lands on Cancel: nothing happens.
    t.keys('tui', 'Enter');
    s = await t.waitForScreen(
      'tui',
      'the dialog cancelled',
      (x) => !x.includes(question) && statusLine(x).includes('cancelled'),
    );
    expect(boardRows(s)).toContain(`● ${HOLD_KILL}`);
    expect(task('running', HOLD_KILL)).not.toBeNull();

    t.keys('tui', 'x');
    await t.waitForScreen(
      'tui',
      'the kill dialog again',
      (x) => x.includes(question) && x.includes('[ Cancel ]'),
    );
    t.keys('tui', 'Tab');
    await t.waitForScreen(
      'tui',
      'Kill highlighted',
      (x) => x.includes('[ Kill ]') && !x.includes('[ Cancel ]'),
    );
    t.keys('tui', 'Enter');
    s = await t.waitForScreen(
      'tui',
      'the task failed on the board',
      (x) => boardRows(x).includes(`✗ ${HOLD_KILL}`) && statusLine(x).includes(`killed ${HOLD_KILL}`),
    );
    expect(s).toMatch(/^│failed \(\d+\)/m);
    const killed = task('failed', HOLD_KILL);
    expect(killed).toMatchObject({ state: 'failed', failure: { code: 'killed' } });
    expect(killed?.attempts.at(-1)?.outcome).toBe('killed');
    expect(task('running', HOLD_KILL)).toBeNull();
    // Its executor's tmux session is gone; the other hanging task's is not.
    await waitFor(
      'the killed executor session to go',
      () => !executorSessions().includes(session(HOLD_KILL)),
      15_000,
    );
    expect(executorSessions()).toContain(session(HOLD_ATTACH));
    expect(nsSessions().filter((n) => n.startsWith('ns-'))).toEqual([]);
    t.keys('tui', 'Escape');
    await t.waitForScreen('tui', 'the filter cleared', (x) => boardRows(x).length === 8);
  });

  it('freezes and thaws dispatch with f', async () => {
    const t = term!;
    t.keys('tui', 'f');
    await t.waitForScreen('tui', 'the FROZEN banner', (s) =>
      headerLine(s).includes('FROZEN: nothing new starts'),
    );
    t.keys('tui', 'f');
    await t.waitForScreen(
      'tui',
      'the banner gone',
      (s) => !headerLine(s).includes('FROZEN') && headerLine(s).includes('daemon pid'),
    );
  });

  it("attaches to a running task's executor session with a, and comes back on detach", async () => {
    const t = term!;
    await selectHeld(t, 'tui', HOLD_ATTACH);
    t.keys('tui', 'a');
    const pane = await t.waitForScreen(
      'tui',
      "the executor's own pane",
      (s) => s.includes(ATTACH_MARKER) && !s.includes('[1] Board'),
    );
    // A person's client (read-write) on the executor's session, whose status line shows its name.
    expect(pane).toContain(`[${session(HOLD_ATTACH).slice(0, 9)}`);
    expect(onExecutors(['list-clients', '-F', '#{client_session} #{client_readonly}']).stdout.trim()).toBe(
      `${session(HOLD_ATTACH)} 0`,
    );
    // The keys go to the nested tmux client: its prefix, then d, detaches it.
    const prefix = onExecutors(['show-options', '-gv', 'prefix']).stdout.trim() || 'C-b';
    t.keys('tui', prefix);
    t.keys('tui', 'd');
    const back = await t.waitForScreen(
      'tui',
      'the board back after detaching',
      (s) => s.includes('[1] Board') && statusLine(s).includes(`back from ns-${HOLD_ATTACH}`),
    );
    expect(boardRows(back)).toContain(`● ${HOLD_ATTACH}`);
    expect(executorSessions()).toContain(session(HOLD_ATTACH));
  });

  it('quits with q and leaves the daemon running', async () => {
    const t = term!;
    t.keys('tui', 'q');
    expect(await t.waitForExit('tui')).toBe(0);
    const pid = daemonPid();
    expect(pid).not.toBeNull();
    expect(isAlive(pid!)).toBe(true);
    expect(t.paneFormat('nightshift-daemon', '#{pane_dead}')).toBe('0');
  });

  it('keeps its own tmux session across a lost terminal, and reattaches to it', async () => {
    const t = term!;
    // $TMUX empty: nightshift is "outside tmux" and makes its session `nightshift` on its own socket.
    const home = (window: string) =>
      t.newWindow(window, ['env', 'TMUX=', process.execPath, BIN, '-w', root], root);
    home('home1');
    await t.waitForScreen('home1', 'the TUI inside the nightshift session', (s) =>
      boardRows(s).includes(`● ${HOLD_ATTACH}`),
    );
    expect(nsSessions().filter((n) => n === 'nightshift')).toHaveLength(1);
    expect(clients()).toHaveLength(1);
    // The daemon already runs, so the session has the TUI's window only.
    expect(
      tmuxOn(NS_SOCKET, ['list-windows', '-t', '=nightshift', '-F', '#{window_name}']).stdout.trim(),
    ).toBe('tui');
    const tuiPid = tmuxOn(NS_SOCKET, [
      'list-panes',
      '-t',
      '=nightshift:tui',
      '-F',
      '#{pane_pid}',
    ]).stdout.trim();
    expect(tuiPid).toMatch(/^\d+$/);
    // Leave a mark only that TUI process knows: a filter.
    t.keys('home1', '/');
    t.keys('home1', 'hold', 'Enter');
    const before = await t.waitForScreen('home1', 'the filtered board', (s) => s.includes('filter "hold"'));
    expect(boardRows(before).sort()).toEqual([`● ${HOLD_ATTACH}`, `✗ ${HOLD_KILL}`].sort());

    // The terminal goes away (an ssh drop): only the tmux client dies.
    t.killWindow('home1');
    await waitFor('no client on the nightshift session', () => clients().length === 0, 10_000);
    expect(nsSessions().filter((n) => n === 'nightshift')).toHaveLength(1);

    home('home2');
    const after = await t.waitForScreen('home2', 'the same TUI, reattached', (s) =>
      s.includes('filter "hold"'),
    );
    expect(boardRows(after).sort()).toEqual(boardRows(before).sort());
    expect(clients()).toHaveLength(1);
    expect(nsSessions().filter((n) => n === 'nightshift')).toHaveLength(1);
    expect(
      tmuxOn(NS_SOCKET, ['list-panes', '-t', '=nightshift:tui', '-F', '#{pane_pid}']).stdout.trim(),
    ).toBe(tuiPid);
    // Detaching the ordinary way ends the client (status 0) and leaves everything running.
    const prefix = tmuxOn(NS_SOCKET, ['show-options', '-gv', 'prefix']).stdout.trim() || 'C-b';
    t.keys('home2', prefix);
    t.keys('home2', 'd');
    expect(await t.waitForExit('home2')).toBe(0);
    expect(
      tmuxOn(NS_SOCKET, ['list-panes', '-t', '=nightshift:tui', '-F', '#{pane_dead}']).stdout.trim(),
    ).toBe('0');
    expect(isAlive(daemonPid()!)).toBe(true);
  });
});
