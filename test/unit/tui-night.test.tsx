/**
 * The night's end: client/night.ts decides it from what the daemon publishes; the header shows it as a
 * banner, and `m` writes the morning report and opens it in $PAGER.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonState, LockInfo, TuiSnapshot } from '../../src/client/live/source.js';
import { describeNightEnd, nightEnd } from '../../src/client/night.js';
import type { TaskRecord } from '../../src/core/task.js';
import { sampleTask } from '../../src/tui/data/memory-source.js';
import { start as startApp, stopApp } from './tui-harness.js';

const parked = (id: string): TaskRecord => ({ ...sampleTask(id, 'review'), parked: 'needs-human' });
const SETTLED: TaskRecord[] = [
  sampleTask('add-sub', 'done'),
  sampleTask('add-div', 'done'),
  parked('faster-mul'),
  sampleTask('write-docs', 'failed'),
];
const DAEMON: LockInfo = { pid: 4242, host: 'vm', kind: 'daemon', since: '2026-11-26T22:00:00.000Z' };

function stateRunning(running: number): DaemonState {
  return {
    pid: 4242,
    host: 'vm',
    startedAt: '2026-11-26T22:00:00.000Z',
    updatedAt: '2026-11-26T22:10:00.000Z',
    providers: [
      {
        name: 'scripted',
        breaker: 'closed',
        reason: '',
        limit: 2,
        ceiling: 3,
        running,
        lastProbe: null,
        limitHistory: [],
      },
    ],
    hosts: [],
    waiting: {},
  };
}

describe('nightEnd (client/night.ts)', () => {
  it('is not over before any task, nor while a task is pending, running or in review unparked', () => {
    expect(nightEnd({ tasks: [], daemon: null, daemonState: null })).toBeNull();
    for (const state of ['pending', 'running', 'review'] as const)
      expect(
        nightEnd({ tasks: [...SETTLED, sampleTask('x', state)], daemon: null, daemonState: null }),
        state,
      ).toBeNull();
  });

  it('is over when every task is merged, failed or parked and no daemon works: counted, and said', () => {
    const end = nightEnd({ tasks: SETTLED, daemon: null, daemonState: null });
    expect(end).toEqual({ merged: 2, failed: 1, parked: 1, tasks: 4 });
    expect(describeNightEnd(end!)).toBe('the night is over: 2 merged · 1 waits for you · 1 failed');
    // A live daemon that runs nothing (idle) ends it too; one whose published state still runs work does not.
    expect(nightEnd({ tasks: SETTLED, daemon: DAEMON, daemonState: stateRunning(0) })).not.toBeNull();
    expect(nightEnd({ tasks: SETTLED, daemon: DAEMON, daemonState: stateRunning(1) })).toBeNull();
    // With a night window, the window's end is the night's: a drained queue at 01:00 is not it.
    const windowed = { ...stateRunning(0), window: 'window open: starting new work until 06:00' };
    expect(nightEnd({ tasks: SETTLED, daemon: DAEMON, daemonState: windowed })).toBeNull();
    expect(nightEnd({ tasks: SETTLED, daemon: null, daemonState: null })).not.toBeNull();
  });
});

afterEach(stopApp);

/** The app on these records alone, wide enough for the whole banner (tui-harness.tsx). */
const start = (snapshot: Partial<TuiSnapshot>) =>
  startApp({ snapshot: { tasks: [], ...snapshot }, size: { rows: 30, cols: 140 } });

describe('the TUI at the night’s end', () => {
  it('has no banner while work runs; the header says the night is over, with the report key, once it is', async () => {
    const running = sampleTask('polish-tests', 'running', { provider: 'scripted', host: 'local' });
    const app = start({ tasks: [...SETTLED, running], daemon: DAEMON, daemonState: stateRunning(1) });
    await app.until('the board', (f) => f.includes('polish-tests'));
    expect(app.frame()).not.toMatch(/night is over/);
    // The last task fails and the daemon exits (--until-idle): the published state says the night is over.
    app.source.update({
      tasks: [...SETTLED, sampleTask('polish-tests', 'failed')],
      daemon: null,
      daemonState: null,
    });
    await app.until('the banner', (f) => f.includes('the night is over'));
    const header = app.frame().split('\n')[0] ?? '';
    expect(header).toMatch(
      /^nightshift +the night is over: 2 merged · 1 waits for you · 2 failed · m: morning report/,
    );
  });

  it('m writes the morning report, opens it in $PAGER and leaves its path in the status line', async () => {
    const app = start({ tasks: SETTLED });
    await app.until('the banner', (f) => f.includes('the night is over'));
    await app.press('m');
    await app.until('the report path in the status line', (f) =>
      f.includes('report-2026-11-27T06-00-00-000Z.md'),
    );
    expect(app.source.reportsWritten).toBe(1);
    expect(app.handed).toEqual([
      ['sh', '-c', 'most "$1"', 'sh', '/work/night/reports/report-2026-11-27T06-00-00-000Z.md'],
    ]);
    expect(app.frame()).toMatch(/morning report \(2 merged\): \/work\/night\/reports\/report-/);
  });
});
