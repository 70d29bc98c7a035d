import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/task.js';
import { waitFor } from '../../src/testing/wait.js';
import { App } from '../../src/tui/app/App.js';
import { MemorySource, sampleTask } from '../../src/tui/data/memory-source.js';
import type { TuiSnapshot } from '../../src/client/live/source.js';
import { computeLayout } from '../../src/tui/state/layout.js';
import { STATUS_TTL_MS } from '../../src/tui/state/ui.js';
import { DAEMON_START_WAIT_MS } from '../../src/tui/hooks/useScreenView.js';
import { ManualClock } from '../../src/lib/clock.js';

const KEY = { down: '\u001b[B', right: '\u001b[C', esc: '\u001b', enter: '\r', ctrlC: '\u0003', tab: '\t' };
const SIZE = { rows: 30, cols: 100 };

const TASKS: TaskRecord[] = [
  sampleTask('alpha', 'running', { provider: 'glm', host: 'oci' }),
  sampleTask('beta', 'review', { grade: 'B+' }),
  sampleTask('gamma', 'pending'),
  sampleTask('delta', 'failed'),
];

const BASE: Partial<TuiSnapshot> = {
  tasks: TASKS,
  providers: [
    { name: 'glm', kind: 'claude-code', hosts: ['oci'], ceiling: 2 },
    { name: 'codex', kind: 'codex', hosts: ['local'], ceiling: 1 },
  ],
  hosts: [{ name: 'oci', kind: 'ssh' }],
  gates: [
    { name: 'tests', enabled: true, runnable: true },
    { name: 'lint', enabled: false, runnable: false },
  ],
};

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

function start(
  opts: {
    readOnly?: boolean;
    snapshot?: Partial<TuiSnapshot>;
    size?: { rows: number; cols: number };
    clock?: ManualClock;
  } = {},
) {
  const source = new MemorySource({ ...BASE, ...opts.snapshot }, opts.clock);
  const handed: string[][] = [];
  const terminal = {
    handOver: (argv: readonly string[]) => {
      handed.push([...argv]);
      return { ok: true, code: 0, message: 'tmux finished' };
    },
  };
  const r = render(
    <App
      source={source}
      readOnly={opts.readOnly ?? false}
      env={{ PAGER: 'most' }}
      terminal={terminal}
      size={opts.size ?? SIZE}
    />,
  );
  unmount = r.unmount;
  const frame = () => r.lastFrame() ?? '';
  const until = (what: string, test: (f: string) => boolean) =>
    waitFor(what, () => test(frame()), 5000, 10).catch((err: Error) => {
      throw new Error(`${err.message}; the last frame:\n${frame()}`);
    });
  const press = async (keys: string, settled?: (f: string) => boolean) => {
    const list = keys === KEY.esc || keys === KEY.enter || keys.startsWith('\u001b[') ? [keys] : [...keys];
    for (const [i, k] of list.entries()) {
      const before = frame();
      r.stdin.write(k);
      // Each key of a sequence changes the frame (a move, a status line): wait for it before the next.
      if (i < list.length - 1)
        await waitFor(`a frame after ${JSON.stringify(k)}`, () => frame() !== before, 2000, 5);
    }
    if (settled) await until('the expected frame', settled);
  };
  return { source, handed, frame, until, press, stdin: (data: string) => r.stdin.write(data) };
}

describe('the screen', () => {
  it('shows the header, the board grouped by state, the detail, providers, events and the footer', async () => {
    const app = start();
    await app.until('the first frame', (f) => f.includes('alpha'));
    const f = app.frame();
    expect(f).toContain('no daemon: press D to start');
    expect(f).toMatch(/○ pending 1 +● running 1 +◆ review 1 +✓ done 0 +✗ failed 1/);
    expect(f).toMatch(/running \(1\)[\s\S]*review \(1\)[\s\S]*pending \(1\)[\s\S]*failed \(1\)/);
    expect(f).toMatch(/alpha .*glm@oci .*#1/);
    expect(f).toContain('[3] Providers and hosts');
    // With no daemon only the configured concurrency is known, and the row says so.
    expect(f).toMatch(/glm +no daemon +max 2 at once +run 1/);
    expect(f).toContain('? help');
    expect(f.split('\n')).toHaveLength(SIZE.rows - 1);
  });

  it('renders only the visible rows of 1,000 tasks and stays within rows − 1', async () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      sampleTask(`task-${String(i).padStart(4, '0')}`, 'pending'),
    );
    const app = start({ snapshot: { tasks: many } });
    await app.until('the board', (f) => f.includes('task-0000'));
    const body = computeLayout(SIZE, 5).boardBody;
    const taskLines = () =>
      app
        .frame()
        .split('\n')
        .filter((l) => /○ task-\d{4}/.test(l));
    expect(taskLines()).toHaveLength(body - 1); // one line is the group header
    expect(app.frame().split('\n').length).toBeLessThanOrEqual(SIZE.rows - 1);
    // The title says which tasks are in view, and that more lie below.
    expect(app.frame()).toContain(`[1] Board · 1000 tasks · 1–${body - 1} of 1000 ↓`);
    await app.press('G', (f) => f.includes('task-0999'));
    expect(taskLines()).toHaveLength(body);
    expect(app.frame()).toContain(`· ${1000 - body + 1}–1000 of 1000 ↑`);
    expect(app.frame()).not.toContain('↑↓');
    expect(app.frame()).not.toContain('task-0000');
    expect(app.frame().split('\n').length).toBeLessThanOrEqual(SIZE.rows - 1);
  });

  it('says when the terminal is too small instead of drawing a broken screen', async () => {
    const app = start({ size: { rows: 10, cols: 50 } });
    await app.until('the message', (f) => f.includes('too small'));
    expect(app.frame().split('\n').length).toBeLessThanOrEqual(9);
  });
});

describe('why a pending task waits', () => {
  const WHY = 'waiting for alpha (running)';
  const snapshot: Partial<TuiSnapshot> = {
    daemon: { pid: 99, host: 'box', kind: 'daemon', since: new Date().toISOString() },
    daemonState: {
      pid: 99,
      host: 'box',
      startedAt: '',
      updatedAt: '',
      providers: [],
      hosts: [],
      waiting: { gamma: WHY, alpha: 'not pending: never shown' },
    },
  };

  it('shows it on the row (short) and in the detail (in full)', async () => {
    const app = start({ snapshot });
    await app.until('the board', (f) => f.includes('gamma'));
    // The row: the reason where a started task shows provider@host, cut to that column.
    expect(app.frame()).toMatch(/○ gamma +Title of gam… waiting for… +1h/);
    expect(app.frame()).not.toContain('not pending');
    await app.press('jj', (f) => f.includes('[2] gamma'));
    expect(app.frame()).toContain(`waits: ${WHY}`);
    await app.press('2]', (f) => f.includes('gamma has not started: it waits: waiting f'));
    await app.press(']]', (f) => f.includes(`Waits: ${WHY}`));
  });
});

describe('dangerous keys', () => {
  it('asks before killing, naming the task and host, starting on Cancel', async () => {
    const app = start();
    await app.press('x', (f) => f.includes('Kill alpha on oci?'));
    expect(app.frame()).toContain('[ Cancel ]');
    expect(app.frame()).not.toContain('[ Kill ]');
    await app.press(KEY.enter, (f) => f.includes('cancelled'));
    expect(app.source.submitted).toEqual([]);

    await app.press('x', (f) => f.includes('Kill alpha on oci?'));
    await app.press(KEY.right, (f) => f.includes('[ Kill ]'));
    await app.press(KEY.enter, (f) => f.includes('applied kill'));
    expect(app.source.submitted).toEqual([{ kind: 'kill', task: 'alpha' }]);
  });

  it('takes y and n in a dialog, as people expect', async () => {
    const app = start();
    await app.press('x', (f) => f.includes('Kill alpha on oci?'));
    await app.press('n', (f) => f.includes('cancelled') && !f.includes('Kill alpha on oci?'));
    expect(app.source.submitted).toEqual([]);
    await app.press('x', (f) => f.includes('Kill alpha on oci?'));
    await app.press('y', (f) => f.includes('applied kill'));
    expect(app.source.submitted).toEqual([{ kind: 'kill', task: 'alpha' }]);
  });

  it('keeps the detail under a dialog whole: tabs, then the subtitle, no line drawn over another', async () => {
    const app = start();
    await app.press('jjj', (f) => f.includes('[2] delta'));
    await app.press('2]]]', (f) => f.includes('Transitions (3)'));
    await app.press('r', (f) => f.includes('Retry delta (last run on oci)?'));
    const lines = app.frame().split('\n');
    // The detail below the dialog: its title, its tab strip, its subtitle, each on a row of its own.
    const title = lines.findIndex((l) => l.includes('│[2] delta'));
    expect(title).toBeGreaterThan(0);
    expect(lines[title + 1]).toMatch(/│Spec Executor Review History +│$/);
    expect(lines[title + 2]).toMatch(/│1 attempt · 3 transitions +│$/);
    await app.press('n', (f) => !f.includes('Retry delta'));
    expect(app.frame()).toMatch(/│Spec Executor Review History +│\n.*│1 attempt · 3 transitions +│/);
  });

  it('lets nothing through a dialog but its own keys', async () => {
    const app = start();
    await app.press('x', (f) => f.includes('Kill alpha on oci?'));
    await app.press('r', (f) => f.includes('r: not used here — y does it, n or Esc cancels, Enter chooses'));
    await app.press(KEY.esc, (f) => !f.includes('Kill alpha on oci?'));
    expect(app.source.submitted).toEqual([]);
  });

  it('explains a key that cannot act', async () => {
    const app = start();
    await app.press('r', (f) => f.includes('r: task alpha is running; only failed tasks can be retried'));
    await app.press('p', (f) => f.includes('p: no daemon: probes of glm run in the daemon (D starts it)'));
    expect(app.source.submitted).toEqual([]);
  });

  it('retries and approves through requests, and shows the outcome', async () => {
    const app = start();
    await app.press('jjj', (f) => f.includes('[2] delta'));
    await app.press('r', (f) => f.includes('Retry delta (last run on oci)?'));
    await app.press('h' + KEY.enter, (f) => f.includes('applied retry'));
    await app.press('k' + 'k', (f) => f.includes('[2] beta'));
    await app.press('A', (f) => f.includes('Approve beta (from glm on oci)?'));
    await app.press(KEY.tab + KEY.enter, (f) => f.includes('applied approve'));
    expect(app.source.submitted).toEqual([
      { kind: 'retry', task: 'delta' },
      { kind: 'approve', task: 'beta' },
    ]);
  });

  it('hides every dangerous key in --read-only mode, and says so when one is pressed', async () => {
    const app = start({ readOnly: true });
    await app.until('the first frame', (f) => f.includes('[read-only]'));
    expect(app.frame()).not.toMatch(/\bx kill\b/);
    expect(app.frame()).toContain('no daemon (read-only');
    for (const key of ['x', 'f', 'D']) {
      await app.press(key, (f) => f.includes(`${key}: `) && f.includes('not available in --read-only mode'));
    }
    await app.press('?', (f) => f.includes('Keys · 1-'));
    expect(app.frame()).not.toContain('Kill the selected task');
    await app.press('G', (f) => f.includes('Read-only mode: keys that change anything are hidden'));
    expect(app.source.submitted).toEqual([]);
    expect(app.source.daemonStarts).toBe(0);
  });
});

describe('navigation', () => {
  it('filters the board with / and clears it with Esc', async () => {
    const app = start();
    await app.press('/', (f) => f.includes('/▏'));
    await app.press('bet', (f) => f.includes('1 of 4 tasks'));
    expect(app.frame()).not.toContain('alpha ');
    await app.press(KEY.enter, (f) => f.includes('filter "bet"'));
    await app.press(KEY.esc, (f) => f.includes('Board · 4 tasks') && !f.includes('filter "'));
  });

  it('keeps the selected task selected when the filter is cleared', async () => {
    const app = start();
    await app.until('alpha selected', (f) => f.includes('[2] alpha'));
    await app.press('/', (f) => f.includes('/▏'));
    await app.press('del', (f) => f.includes('1 of 4 tasks') && f.includes('[2] delta'));
    await app.press(KEY.esc, (f) => f.includes('Board · 4 tasks'));
    expect(app.frame()).toContain('[2] delta');
    // The same with a kept filter, cleared from the board.
    await app.press('/', (f) => f.includes('/▏'));
    await app.press('bet', (f) => f.includes('[2] beta'));
    await app.press(KEY.enter, (f) => f.includes('filter "bet"'));
    await app.press(KEY.esc, (f) => f.includes('Board · 4 tasks'));
    expect(app.frame()).toContain('[2] beta');
  });

  it('clears a status message once it has shown for a few seconds of the clock', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 23));
    const app = start({ clock });
    await app.press('f', (f) => f.includes('applied freeze all'));
    clock.advance(STATUS_TTL_MS.ok - 1000);
    await app.press('j', (f) => f.includes('[2] beta'));
    expect(app.frame()).toContain('applied freeze all');
    clock.advance(1000);
    await app.until('the status line cleared', (f) => !f.includes('applied freeze all'));
  });

  it('zooms the detail to the whole screen with z, wraps its prose, and comes back with Esc', async () => {
    const app = start();
    const long =
      'Retry failed requests with exponential backoff starting at 100 ms and doubling each time, capped at ten seconds, with full jitter, and keep the API.';
    app.source.specs.set('alpha', `---\ntitle: x\n---\n${long}\n`);
    app.source.setTasks(TASKS.map((t) => ({ ...t }))); // the spec is read again for a new record
    await app.until('the spec', (f) => f.includes('Retry failed requests'));
    // In the pane: wrapped at its width, nothing cut with "…".
    expect(app.frame()).toContain('capped at ten');
    expect(app.frame()).toContain('the API.');
    await app.press('z', (f) => !f.includes('[1] Board') && !f.includes('[3] Providers'));
    const zoomed = app.frame();
    // The whole width: the first wrapped line is longer than the pane could hold.
    const first = zoomed.split('\n').find((l) => l.includes('Retry failed requests'))!;
    expect(first.length).toBeGreaterThan(SIZE.cols * 0.6);
    expect(first.endsWith('│')).toBe(true);
    expect(zoomed).toContain('the API.');
    expect(zoomed.split('\n')).toHaveLength(SIZE.rows - 1);
    // Keys reach the detail: tabs switch.
    await app.press(']', (f) => f.includes('live output of alpha'));
    await app.press(KEY.esc, (f) => f.includes('[1] Board') && f.includes('[3] Providers'));
    await app.press('z', (f) => !f.includes('[1] Board'));
    await app.press('z', (f) => f.includes('[1] Board'));
  });

  it('takes a burst of keys in one chunk as that many presses', async () => {
    const app = start();
    await app.until('the first frame', (f) => f.includes('[2] alpha'));
    app.stdin('jjj');
    await app.until('the third task down', (f) => f.includes('[2] delta'));
  });

  it('never quits on Esc; Ctrl+C asks for a second press', async () => {
    const app = start();
    await app.press(KEY.esc, (f) => f.includes('Esc: nothing to go back from (q quits)'));
    await app.press(KEY.ctrlC, (f) => f.includes('Press Ctrl+C again to quit'));
  });

  it('switches panes with numbers and Tab, and detail tabs with ]', async () => {
    const app = start();
    app.source.diffs.set('beta#0', '+added line\n-removed line\n');
    await app.press('j2', (f) => f.includes('[2] beta') && f.includes('[] tab'));
    await app.press(']]', (f) => f.includes('Round 0 · grade B+'));
    expect(app.frame()).toContain('+added line');
    await app.press(']', (f) => f.includes('Transitions (3)'));
    await app.press(KEY.tab, (f) => f.includes('F freeze provider'));
  });

  it('shows the live executor view of a running task and drops it when the selection moves', async () => {
    const app = start();
    await app.press('2]', (f) => f.includes('live output of alpha'));
    expect(app.frame()).toContain('tmux ns-alpha on oci (read-only)');
    expect(app.source.liveOpened).toEqual([{ taskId: 'alpha', attempt: 1, host: 'oci', running: true }]);
    app.source.lives[0]!.push({ lines: ['step 2 of 3'] });
    await app.until('pushed lines', (f) => f.includes('step 2 of 3'));
    await app.press('1j', (f) => f.includes('live output of beta'));
    expect(app.source.lives[0]!.disposed).toBe(true);
  });

  it('opens help from the keymap and closes it with Esc', async () => {
    const app = start();
    await app.press('?', (f) => f.includes('Everywhere'));
    expect(app.frame()).toContain('Kill the selected task');
    await app.press(KEY.esc, (f) => f.includes('[1] Board'));
  });

  it('opens the task of the newest event', async () => {
    const app = start({
      snapshot: {
        events: [
          {
            type: 'task.transition',
            time: new Date().toISOString(),
            task: 'gamma',
            from: 'pending',
            to: 'running',
            reason: 'x',
          },
        ],
      },
    });
    await app.press('4', (f) => /› \d\d:\d\d:\d\d task\.transition gamma/.test(f));
    await app.press(KEY.enter, (f) => f.includes('[2] gamma'));
  });
});

describe('requests and hand-overs', () => {
  it('freezes all, freezes the selected provider, toggles a gate from the menu', async () => {
    const app = start();
    await app.press('f', (f) => f.includes('applied freeze'));
    await app.press('3j', (f) => f.includes('› codex'));
    await app.press('F', (f) => f.includes('freezing provider codex') || f.includes('applied freeze'));
    await app.press('t', (f) => f.includes('Gates (apply to the next review)'));
    await app.press(' ', (f) => f.includes('applied gate'));
    expect(app.source.submitted).toEqual([
      { kind: 'freeze', provider: null },
      { kind: 'freeze', provider: 'codex' },
      { kind: 'gate', gate: 'tests', enabled: false },
    ]);
  });

  it('hands the terminal to tmux for a, and to $PAGER for l', async () => {
    const app = start();
    app.source.logs.add('alpha#1');
    app.source.update({}); // the log appeared: a new snapshot
    await app.press('a', (f) => f.includes('back from ns-alpha'));
    await app.press('l', (f) => f.includes('tmux finished') && !f.includes('back from'));
    expect(app.handed).toEqual([
      ['tmux', '-L', 'nightshift', 'attach-session', '-t', '=ns-alpha'],
      ['sh', '-c', 'most "$1"', 'sh', '/work/night/logs/alpha/attempt-1.log'],
    ]);
  });

  it('asks the daemon to probe the selected provider with p', async () => {
    const app = start({
      snapshot: { daemon: { pid: 99, host: 'box', kind: 'daemon', since: new Date().toISOString() } },
    });
    await app.press('3j', (f) => f.includes('› codex'));
    await app.press('p', (f) => f.includes('applied probe'));
    expect(app.source.submitted).toEqual([{ kind: 'probe', provider: 'codex' }]);
  });

  it('asks the daemon to reload its config with R and to stop with S, naming its pid', async () => {
    const app = start({
      snapshot: { daemon: { pid: 99, host: 'box', kind: 'daemon', since: new Date().toISOString() } },
    });
    await app.press('R', (f) => f.includes('applied reload'));
    await app.press('S', (f) => f.includes('applied stop'));
    expect(app.source.submitted).toEqual([{ kind: 'reload' }, { kind: 'stop', pid: 99 }]);
  });

  it('says why S and R do nothing without a daemon', async () => {
    const app = start();
    await app.press('S', (f) => f.includes('S: no daemon is running (D starts one)'));
    await app.press('R', (f) => f.includes('R: no daemon is running'));
    expect(app.source.submitted).toEqual([]);
  });

  it('says the daemon stopped, not that it did not start, when one D started is stopped later', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 23));
    const app = start({ clock });
    await app.press('D', (f) => f.includes('starting the daemon…'));
    const since = new Date(clock.now()).toISOString();
    const started = { type: 'daemon.started' as const, time: since, reason: 'pid 99' };
    app.source.update({ daemon: { pid: 99, host: 'box', kind: 'daemon', since }, events: [started] });
    await app.until('the daemon in the header', (f) => f.includes('daemon pid 99 on box'));
    // SIGTERM: the lock goes, the stop is in the event log; long after the start's wait is over.
    clock.advance(60_000);
    const stopped = {
      type: 'daemon.stopped' as const,
      time: new Date(clock.now()).toISOString(),
      reason: 'SIGTERM: executors keep running in tmux',
    };
    app.source.update({ daemon: null, events: [started, stopped] });
    await app.until('the stop in the header', (f) =>
      f.includes('the daemon stopped at 23:01:00: press D to start it · SIGTERM: executors'),
    );
    expect(app.frame()).not.toContain('did not start');
  });

  it('says when a daemon asked for with D never came up', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 23));
    const app = start({ clock });
    await app.press('D', (f) => f.includes('starting the daemon…'));
    clock.advance(DAEMON_START_WAIT_MS);
    await app.until('the failure in the header', (f) =>
      f.includes('the daemon did not start: run `nightshift daemon` in a shell to see why'),
    );
  });

  it('says a daemon that was killed without stopping is gone', async () => {
    const app = start({
      snapshot: {
        events: [{ type: 'daemon.started', time: '2026-11-26T22:10:00.000Z', reason: 'pid 7' }],
      },
    });
    await app.until('the header', (f) =>
      f.includes('the daemon is gone (started 22:10:00, no stop recorded): press D to start it'),
    );
  });

  it('starts the daemon once with D and says it is starting', async () => {
    const app = start();
    await app.press('D', (f) => f.includes('starting the daemon…'));
    await app.press('D', (f) => f.includes('D: a daemon is starting'));
    expect(app.source.daemonStarts).toBe(1);
    app.source.update({ daemon: { pid: 99, host: 'box', kind: 'daemon', since: new Date().toISOString() } });
    await app.until('the daemon in the header', (f) => f.includes('daemon pid 99 on box'));
  });
});
