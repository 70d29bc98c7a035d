import { afterEach, describe, expect, it } from 'vitest';
import { KEY, SIZE, TASKS, start, stopApp } from './tui-harness.js';
import type { TuiSnapshot } from '../../src/client/live/source.js';
import { ManualClock } from '../../src/lib/clock.js';
import { DAEMON_START_WAIT_MS } from '../../src/tui/hooks/useScreenView.js';
import { STATUS_TTL_MS } from '../../src/tui/state/ui.js';

afterEach(stopApp);

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

describe('the detail', () => {
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

  it('clears a status message once it has shown for a few seconds of the clock', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 23));
    const app = start({ clock });
    await app.press('f', (f) => f.includes('applied freeze all'));
    app.advance(STATUS_TTL_MS.ok - 1000);
    await app.press('j', (f) => f.includes('[2] beta'));
    expect(app.frame()).toContain('applied freeze all');
    app.advance(1000);
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
});

describe('the daemon in the header', () => {
  it('says the daemon stopped, not that it did not start, when one D started is stopped later', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 23));
    const app = start({ clock });
    await app.press('D', (f) => f.includes('starting the daemon…'));
    const since = new Date(clock.now()).toISOString();
    const started = { type: 'daemon.started' as const, time: since, reason: 'pid 99' };
    app.source.update({ daemon: { pid: 99, host: 'box', kind: 'daemon', since }, events: [started] });
    await app.until('the daemon in the header', (f) => f.includes('daemon pid 99 on box'));
    // SIGTERM: the lock goes, the stop is in the event log; long after the start's wait is over.
    app.advance(60_000);
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
    app.advance(DAEMON_START_WAIT_MS);
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
});
