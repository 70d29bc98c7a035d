import { afterEach, describe, expect, it } from 'vitest';
import { KEY, SIZE, start, stopApp } from './tui-harness.js';
import { sampleTask } from '../../src/tui/data/memory-source.js';
import { computeLayout } from '../../src/tui/state/layout.js';

afterEach(stopApp);

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

  it('starts the daemon once with D and says it is starting', async () => {
    const app = start();
    await app.press('D', (f) => f.includes('starting the daemon…'));
    await app.press('D', (f) => f.includes('D: a daemon is starting'));
    expect(app.source.daemonStarts).toBe(1);
    app.source.update({ daemon: { pid: 99, host: 'box', kind: 'daemon', since: new Date().toISOString() } });
    await app.until('the daemon in the header', (f) => f.includes('daemon pid 99 on box'));
  });
});
