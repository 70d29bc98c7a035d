/**
 * What only a real terminal shows: the built TUI (`nightshift --no-tmux`, no daemon) on a 50-task
 * workspace, in a detached session of a private tmux server, read with capture-pane. Each test opens
 * its own window at its own size; the server and the workspace go in afterAll.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterFailed, enterRunning } from '../../src/core/task.js';
import { systemClock } from '../../src/lib/clock.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { tid } from '../../src/testing/ids.js';
import { envOutsideTmux, killServer, TmuxScreen } from '../../src/testing/tmux-screen.js';
import { makeWorkspace, type TestWorkspace } from '../../src/testing/workspace.js';

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const SOCKET = `ns-tui-screen-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const CONFIG = `repos:
  app: { path: /tmp/nightshift-test-app, main: main }
hosts:
  local: { kind: local }
providers:
  glm: { kind: scripted, hosts: [local], concurrency: 2 }
`;

/** A paragraph of a spec, one line of text longer than any pane. */
const PROSE =
  'Retry failed requests with exponential backoff starting at 100 ms and doubling each time, capped at ten seconds, with full jitter; keep the API.';

let ws: TestWorkspace;
let term: TmuxScreen | null = null;
let windows = 0;

/** 50 tasks, t1…t50: every fifth failed on glm@local, the rest pending. */
function seed(w: TestWorkspace): void {
  const store = new QueueStore(w.paths, systemClock);
  store.ensureLayout();
  for (let i = 1; i <= 50; i++) {
    const id = tid(`t${i}`);
    const text = `---\nid: ${id}\ntitle: Task number ${i} of the night\nrepo: app\n---\nDo thing ${i}. ${PROSE}\n`;
    store.enqueue(parseSpec(Buffer.from(text), { file: `${id}.md`, config: w.config }));
    if (i % 5 !== 0) continue;
    const now = Date.now();
    store.transition(id, (t) => enterRunning(t, { now, provider: 'glm', host: 'local' }));
    store.transition(id, (t) =>
      enterFailed(t, {
        now,
        code: 'crash-on-start',
        attribution: 'provider',
        reason: 'the executor crashed',
      }),
    );
  }
}

/** The terminal's environment: no colour settings of the machine the tests run on. */
function baseEnv(): NodeJS.ProcessEnv {
  const {
    NO_COLOR: _no,
    FORCE_COLOR: _force,
    ...env
  } = envOutsideTmux({
    XDG_CACHE_HOME: `${ws.root}/.cache`,
  });
  return env;
}

/** A new window running the TUI at cols × rows (`env` added to it); returns its name. */
function open(cols: number, rows: number, env: Record<string, string> = {}): string {
  const window = `w${++windows}`;
  const argv = [process.execPath, BIN, '-w', ws.root, '--no-tmux'];
  if (!term) {
    term = TmuxScreen.start({
      socket: SOCKET,
      session: 'screen',
      window,
      argv: ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
      env: baseEnv(),
      cwd: ws.root,
      cols,
      rows,
    });
  } else {
    term.newWindow(window, argv, ws.root, env);
    term.tmux(['resize-window', '-t', term.target(window), '-x', String(cols), '-y', String(rows)]);
  }
  return window;
}

/** The SGR parameters that set a colour (foreground, background; basic, bright, 256 and RGB). */
function colourCodes(escaped: string): string[] {
  const found: string[] = [];
  for (const m of escaped.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const params = (m[1] ?? '').split(';').map(Number);
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      if (p === 38 || p === 48) {
        found.push(params.slice(i, i + (params[i + 1] === 2 ? 5 : 3)).join(';'));
        i += params[i + 1] === 2 ? 4 : 2;
      } else if (
        (p >= 30 && p <= 37) ||
        (p >= 40 && p <= 47) ||
        (p >= 90 && p <= 97) ||
        (p >= 100 && p <= 107)
      )
        found.push(String(p));
    }
  }
  return found;
}

/** The screen with its escape codes (capture-pane -e). */
const escaped = (t: TmuxScreen, w: string) => t.tmux(['capture-pane', '-e', '-p', '-t', t.target(w)]);

const boardTitle = (screen: string) => /\[1\] Board[^│]*/.exec(screen)?.[0]?.trim() ?? '';

beforeAll(() => {
  ws = makeWorkspace(CONFIG);
  seed(ws);
});

afterAll(() => {
  killServer(SOCKET);
  if (ws && !process.env['NS_KEEP_TEST_DIRS']) rmSync(ws.root, { recursive: true, force: true });
});

describe('the TUI in a real terminal', () => {
  it('says which of 50 tasks the board shows, and that more lie below or above', async () => {
    const w = open(120, 32);
    const t = term!;
    let s = await t.waitForScreen(w, 'the board', (x) => x.includes('[1] Board · 50 tasks'));
    expect(boardTitle(s)).toMatch(/^\[1\] Board · 50 tasks · 1–\d+ of 50 ↓$/);
    t.keys(w, 'G');
    s = await t.waitForScreen(w, 'the end of the board', (x) => / of 50 ↑$/.test(boardTitle(x)));
    expect(boardTitle(s)).toMatch(/· \d+–50 of 50 ↑$/);
    t.keys(w, 'q');
    expect(await t.waitForExit(w)).toBe(0);
  });

  it('draws no colour with NO_COLOR set, and keeps the selection (inverse) and the focus (a heavy border)', async () => {
    const plain = open(120, 32, { NO_COLOR: '1' });
    const t = term!;
    await t.waitForScreen(plain, 'the board', (x) => x.includes('[1] Board · 50 tasks'));
    const s = escaped(t, plain);
    expect(colourCodes(s)).toEqual([]);
    expect(s).toMatch(/\x1b\[7m○ t1 /); // the selected row, inverted
    expect(t.capture(plain)).toMatch(/^┃\[1\] Board/m); // the focused pane
    t.keys(plain, 'q');
    expect(await t.waitForExit(plain)).toBe(0);
    // Set but empty is not set (no-color.org): colour as usual.
    const coloured = open(120, 32, { NO_COLOR: '' });
    await t.waitForScreen(coloured, 'the board', (x) => x.includes('[1] Board · 50 tasks'));
    expect(colourCodes(escaped(t, coloured))).not.toEqual([]);
    expect(t.capture(coloured)).toMatch(/^│\[1\] Board/m);
    t.keys(coloured, 'q');
    expect(await t.waitForExit(coloured)).toBe(0);
  });

  for (const [cols, rows] of [
    [120, 32],
    [80, 24],
  ] as const) {
    it(`draws a whole screen at ${cols}×${rows}, and zooms the detail with z, its prose wrapped`, async () => {
      const w = open(cols, rows);
      const t = term!;
      let s = await t.waitForScreen(w, 'the board', (x) => x.includes('[1] Board · 50 tasks'));
      let lines = s.split('\n');
      // Every pane row is closed on the right at the terminal's last column, and rows − 1 lines are drawn.
      const boxed = lines.filter((l) => /^[│┌└┃┏┗]/.test(l));
      expect(boxed.length).toBeGreaterThan(rows / 2);
      for (const l of boxed) expect([...l].length, l).toBe(cols);
      expect(s.trimEnd().split('\n').length).toBeLessThanOrEqual(rows - 1);
      // Titles are readable on the board, even at 80 columns.
      expect(s).toMatch(/○ t1 +Task number \d/);
      // The spec's long line wraps in the pane instead of ending in "…".
      const detail = (l: string | undefined) => l?.split('││').at(-1) ?? ''; // the pane right of the board
      const prose = lines.findIndex((l) => l.includes('Do thing 1.'));
      expect(detail(lines[prose])).toMatch(/^Do thing 1\. Retry/);
      expect(detail(lines[prose])).not.toContain('…');
      expect(detail(lines[prose + 1])).toMatch(/^[a-z]/);
      t.keys(w, 'z');
      s = await t.waitForScreen(
        w,
        'the zoomed detail',
        (x) => !x.includes('[1] Board') && x.includes('[2] t1'),
      );
      lines = s.split('\n');
      const first = lines.find((l) => l.includes('Do thing 1.'))!;
      expect([...first].length).toBe(cols);
      expect(first.trimEnd().length).toBeGreaterThan(cols * 0.75); // the whole width is used
      expect(s).toContain('keep the API.');
      const pane = lines.filter((x) => x.startsWith('│'));
      expect(pane.length).toBeGreaterThan(rows / 2);
      for (const l of pane) expect(l).not.toContain('…');
      t.keys(w, 'Escape');
      await t.waitForScreen(
        w,
        'the board back',
        (x) => x.includes('[1] Board') && x.includes('[3] Providers'),
      );
      t.keys(w, 'q');
      expect(await t.waitForExit(w)).toBe(0);
    });
  }

  it('leaves no stray characters when a dialog opens over the detail and closes', async () => {
    const w = open(120, 32);
    const t = term!;
    await t.waitForScreen(w, 'the board', (x) => x.includes('[1] Board · 50 tasks'));
    // t5 and t50: both failed, each with one attempt and three transitions.
    t.keys(w, '/');
    await t.waitForScreen(w, 'the filter input', (x) => x.includes(' · /▏'));
    t.keys(w, 't5', 'Enter');
    await t.waitForScreen(w, 'the two failed tasks', (x) => x.includes('filter "t5"'));
    t.keys(w, '2', ']', ']', ']');
    const history = /│1 attempt · 3 transitions +│$/m;
    const before = await t.waitForScreen(w, 'the History tab', (x) => history.test(x));
    t.keys(w, 'r');
    const open_ = await t.waitForScreen(w, 'the retry dialog', (x) =>
      /Retry t50? \(last run on local\)\?/.test(x),
    );
    const lines = open_.split('\n');
    const title = lines.findIndex((l) => /││\[2\] t50? /.test(l));
    expect(title, open_).toBeGreaterThan(0);
    expect(lines[title + 1]).toMatch(/│Spec Executor Review History +│$/);
    expect(lines[title + 2]).toMatch(history);
    t.keys(w, 'n');
    const after = await t.waitForScreen(
      w,
      'the dialog gone',
      (x) => !x.includes('Retry t5') && x.includes('cancelled'),
    );
    // The detail is drawn as it was before the dialog, row for row.
    const right = (s: string) =>
      s
        .split('\n')
        .slice(2, 22)
        .map((l) => l.split('││').at(-1));
    expect(right(after)).toEqual(right(before));
    t.keys(w, 'q');
    expect(await t.waitForExit(w)).toBe(0);
  });
});
