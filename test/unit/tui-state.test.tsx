import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskState } from '../../src/core/task.js';
import { emptySnapshot, sampleTask } from '../../src/tui/data/memory-source.js';
import { throttle } from '../../src/client/live/throttle.js';
import {
  boardRange,
  boardRows,
  effectiveSelection,
  rangeText,
  matchesFilter,
  moveSelection,
  rowIndexOf,
  windowStart,
} from '../../src/tui/state/board.js';
import { computeLayout } from '../../src/tui/state/layout.js';
import {
  initialUiState,
  isSecondCtrlC,
  STATUS_TTL_MS,
  uiReducer,
  visibleStatus,
  type UiAction,
  type UiState,
} from '../../src/tui/state/ui.js';
import { averageGrade, headerView, providerRows, sparkline } from '../../src/tui/state/view.js';
import { historyLines, reviewLines, wrapLines } from '../../src/tui/state/detail.js';
import type { TaskRecord } from '../../src/core/task.js';
import { limitText } from '../../src/client/providers.js';
import { tid } from '../../src/testing/ids.js';

const T0 = Date.UTC(2026, 10, 26, 22);
const run = (actions: UiAction[], from: UiState = initialUiState()) => actions.reduce(uiReducer, from);
const target = {
  command: 'kill' as const,
  question: 'Kill a on oci?',
  detail: '',
  request: { kind: 'kill' as const, task: tid('a') },
};

describe('the UI reducer', () => {
  it('opens a confirm dialog on Cancel, and switching toggles the choice', () => {
    const open = run([{ type: 'openConfirm', target }]);
    expect(open.modal).toEqual({ kind: 'confirm', target, choice: 'cancel' });
    expect(run([{ type: 'switchChoice' }], open).modal).toMatchObject({ choice: 'confirm' });
    expect(run([{ type: 'switchChoice' }, { type: 'switchChoice' }], open).modal).toMatchObject({
      choice: 'cancel',
    });
    expect(run([{ type: 'closeModal' }], open).modal).toBeNull();
  });

  it('edits, keeps and clears the filter', () => {
    const typed = run([
      { type: 'filterStart' },
      { type: 'filterType', text: 'glm' },
      { type: 'filterType', text: 'x' },
    ]);
    expect(typed).toMatchObject({ filter: 'glmx', filterEditing: true, focus: 'board' });
    const erased = run([{ type: 'filterErase' }, { type: 'filterAccept' }], typed);
    expect(erased).toMatchObject({ filter: 'glm', filterEditing: false });
    expect(run([{ type: 'filterClear', keep: null }], erased)).toMatchObject({
      filter: '',
      filterEditing: false,
    });
  });

  it('keeps the task the filtered board showed selected when the filter is cleared', () => {
    const filtered = run([{ type: 'select', id: 'a', top: 0 }, { type: 'filterStart' }]);
    expect(run([{ type: 'filterClear', keep: 'b' }], filtered).selected).toBe('b');
    expect(run([{ type: 'filterClear', keep: null }], filtered).selected).toBe('a');
  });

  it('shows a status message for a few seconds of the clock, errors longer', () => {
    const said = run([{ type: 'status', text: 'applied kill a', tone: 'ok', at: T0 }]);
    expect(visibleStatus(said.status, T0)?.text).toBe('applied kill a');
    expect(visibleStatus(said.status, T0 + STATUS_TTL_MS.ok - 1)?.text).toBe('applied kill a');
    expect(visibleStatus(said.status, T0 + STATUS_TTL_MS.ok)).toBeNull();
    const failed = run([{ type: 'status', text: 'kill failed', tone: 'error', at: T0 }]);
    expect(STATUS_TTL_MS.error).toBeGreaterThan(STATUS_TTL_MS.ok);
    expect(visibleStatus(failed.status, T0 + STATUS_TTL_MS.ok)?.text).toBe('kill failed');
    expect(visibleStatus(failed.status, T0 + STATUS_TTL_MS.error)).toBeNull();
    // A newer message starts its own time.
    const again = run([{ type: 'status', text: 'later', tone: 'ok', at: T0 + 5000 }], said);
    expect(visibleStatus(again.status, T0 + STATUS_TTL_MS.ok)?.text).toBe('later');
  });

  it('resets the detail scroll when the selection or tab changes, not otherwise', () => {
    const scrolled = run([
      { type: 'select', id: 'a', top: 0 },
      { type: 'scrollDetail', to: 7 },
    ]);
    expect(run([{ type: 'select', id: 'a', top: 3 }], scrolled).detailScroll).toBe(7);
    expect(run([{ type: 'select', id: 'b', top: 3 }], scrolled).detailScroll).toBe(0);
    expect(run([{ type: 'cycleTab', delta: 1 }], scrolled)).toMatchObject({
      tab: 'executor',
      detailScroll: 0,
    });
  });

  it('cycles panes and tabs both ways, wrapping around', () => {
    expect(run([{ type: 'cyclePane', delta: -1 }]).focus).toBe('events');
    expect(
      run([
        { type: 'cyclePane', delta: 1 },
        { type: 'cyclePane', delta: 1 },
      ]).focus,
    ).toBe('providers');
    expect(run([{ type: 'cycleTab', delta: -1 }]).tab).toBe('history');
  });

  it('needs a second Ctrl+C within two seconds to quit', () => {
    const once = run([{ type: 'ctrlC', at: 1000 }]);
    expect(once.status?.text).toMatch(/Ctrl\+C again/);
    expect(isSecondCtrlC(once, 2500)).toBe(true);
    expect(isSecondCtrlC(once, 3500)).toBe(false);
    expect(isSecondCtrlC(initialUiState(), 1000)).toBe(false);
  });

  it('ignores modal actions when that modal is not open', () => {
    const s = initialUiState();
    expect(uiReducer(s, { type: 'switchChoice' })).toBe(s);
    expect(uiReducer(s, { type: 'gatesCursor', index: 2 })).toBe(s);
    expect(uiReducer(s, { type: 'scrollHelp', to: 2 })).toBe(s);
  });

  it('refuses an unknown action (exhaustive switch)', () => {
    expect(() => uiReducer(initialUiState(), { type: 'nope' } as unknown as UiAction)).toThrow(
      /unexpected ui action/,
    );
  });
});

describe('the board', () => {
  const tasks = [
    sampleTask('p1', 'pending'),
    sampleTask('r1', 'running', { provider: 'glm', host: 'oci' }),
    sampleTask('d1', 'done', { t0: T0 - 3_600_000 }),
    sampleTask('d2', 'done'),
    sampleTask('f1', 'failed', { provider: 'codex', host: 'local' }),
    sampleTask('v1', 'review'),
  ];

  it('groups by state, active work first, with counts; done newest first', () => {
    const rows = boardRows(tasks, '');
    const headers = rows
      .filter((r) => r.kind === 'header')
      .map((r) => (r.kind === 'header' ? `${r.state}:${r.count}` : ''));
    expect(headers).toEqual(['running:1', 'review:1', 'pending:1', 'failed:1', 'done:2']);
    const ids = rows.flatMap((r) => (r.kind === 'task' ? [r.task.id] : []));
    expect(ids).toEqual(['r1', 'v1', 'p1', 'f1', 'd2', 'd1']);
  });

  it('filters on id, title, state, provider and host, case-insensitively', () => {
    const ids = (f: string) => tasks.filter((t) => matchesFilter(t, f)).map((t) => t.id);
    expect(ids('R1')).toEqual(['r1']);
    expect(ids('codex')).toEqual(['f1']);
    expect(ids('oci')).toEqual(['r1', 'd1', 'd2', 'v1']);
    expect(ids('failed')).toEqual(['f1']);
    expect(ids('title of p1')).toEqual(['p1']);
    expect(ids('')).toHaveLength(tasks.length);
  });

  it('moves over tasks only, skipping group headers, and stops at the ends', () => {
    const rows = boardRows(tasks, '');
    expect(effectiveSelection(rows, null)).toBe('r1');
    expect(moveSelection(rows, 'r1', 'down', 10)).toBe('v1');
    expect(moveSelection(rows, 'r1', 'up', 10)).toBe('r1');
    expect(moveSelection(rows, 'r1', 'bottom', 10)).toBe('d1');
    expect(moveSelection(rows, 'd1', 'top', 10)).toBe('r1');
    expect(moveSelection(rows, 'd1', 'down', 10)).toBe('d1');
    expect(moveSelection(rows, 'gone', 'down', 10)).toBe('v1');
  });

  it('keeps the cursor in the window and the window on the rows', () => {
    expect(windowStart(100, 50, 10, 0)).toBe(41);
    expect(windowStart(100, 45, 10, 41)).toBe(41);
    expect(windowStart(100, 30, 10, 41)).toBe(30);
    expect(windowStart(100, 99, 10, 0)).toBe(90);
    expect(windowStart(100, 1, 10, 50)).toBe(0);
    expect(windowStart(5, 4, 10, 3)).toBe(0);
  });

  it('orders tasks of the same age by id naturally: t2 before t10', () => {
    const same = ['t10', 't2', 't1', 't11', 't3'].map((id) => sampleTask(id, 'pending'));
    const ids = boardRows(same, '').flatMap((r) => (r.kind === 'task' ? [r.task.id] : []));
    expect(ids).toEqual(['t1', 't2', 't3', 't10', 't11']);
  });

  it('says which tasks a window shows, and whether more lie above or below', () => {
    const tasks = Array.from({ length: 50 }, (_, i) =>
      sampleTask(`t${i + 1}`, i < 40 ? 'pending' : 'failed'),
    );
    const rows = boardRows(tasks, ''); // 52 rows: two group headers
    expect(boardRange(rows, 0, 52)).toBeNull();
    expect(boardRange(rows, 0, 19)).toMatchObject({
      first: 1,
      last: 18,
      total: 50,
      above: false,
      below: true,
    });
    expect(rangeText(boardRange(rows, 0, 19))).toBe('1–18 of 50 ↓');
    const middle = boardRange(rows, 20, 19);
    expect(middle).toMatchObject({ first: 20, last: 38, above: true, below: true });
    expect(rangeText(middle)).toBe('20–38 of 50 ↑↓');
    expect(rangeText(boardRange(rows, 33, 19))).toBe('33–50 of 50 ↑');
  });

  it('wraps prose at spaces to the pane, indenting continuations, and leaves cut lines whole', () => {
    const lines = wrapLines(
      [
        { text: '  the executor crashed while writing the file src/http/backoff.ts', color: 'red' },
        { text: '+' + 'x'.repeat(40), cut: true },
        { text: 'short' },
        { text: 'averyveryverylongwordwithoutanyspaceatall' },
      ],
      20,
    );
    expect(lines.map((l) => l.text)).toEqual([
      '  the executor',
      '  crashed while',
      '  writing the file',
      '  src/http/backoff.t',
      '  s',
      '+' + 'x'.repeat(40),
      'short',
      'averyveryverylongwor',
      'dwithoutanyspaceatal',
      'l',
    ]);
    expect(lines[1]).toMatchObject({ color: 'red' });
    for (const l of lines) if (!l.cut) expect([...l.text].length).toBeLessThanOrEqual(20);
  });

  it('groups a thousand tasks once and pages through them', () => {
    const states: TaskState[] = ['pending', 'running', 'review', 'done', 'failed'];
    const many = Array.from({ length: 1000 }, (_, i) => sampleTask(`t-${i}`, states[i % 5]!));
    const rows = boardRows(many, '');
    expect(rows).toHaveLength(1005);
    const down = moveSelection(rows, effectiveSelection(rows, null), 'pageDown', 20);
    expect(rowIndexOf(rows, down)).toBe(20);
  });
});

describe('derived views', () => {
  it('counts the attempts the spec used apart from those the provider caused', () => {
    const t = sampleTask('h1', 'running');
    const first = t.attempts[0]!;
    const task = {
      ...t,
      attempts: [
        {
          ...first,
          n: 1,
          outcome: 'exited' as const,
          code: 'auth' as const,
          attribution: 'provider' as const,
        },
        {
          ...first,
          n: 2,
          outcome: 'exited' as const,
          code: 'exit-nonzero' as const,
          attribution: 'spec' as const,
        },
        { ...first, n: 3 },
      ],
    };
    expect(historyLines(task, T0).at(0)?.text).toBe("Attempts (3 run; 1 of the spec's 3 used)");
  });

  const now = T0 + 200_000;

  it('leads the Review tab with what failed: the failing gate and its evidence, then blocking findings', () => {
    const base = sampleTask('parked', 'review', { t0: T0, grade: 'C' });
    const task: TaskRecord = {
      ...base,
      parked: 'needs-human',
      gates: [
        { name: 'diff', passed: true, durationMs: 1000, evidence: 'diff ok' },
        {
          name: 'tests',
          passed: false,
          durationMs: 42_000,
          evidence: 'FAIL test/backoff.test.ts\nexpected 200 to be 100',
        },
      ],
      review: {
        ...base.review!,
        summary: Array.from({ length: 30 }, (_, i) => `summary line ${i}`).join('\n'),
        findings: [
          { file: 'a.ts', line: 3, severity: 'minor', text: 'naming' },
          { file: 'b.ts', line: null, severity: 'blocking', text: 'drops the error' },
        ],
      },
    };
    const text = reviewLines(task, null, 'x').map((l) => l.text);
    // Above the fold of any pane: the verdict, the park, then what failed.
    expect(text.slice(0, 7)).toEqual([
      'Round 0 · grade C · verdict approve',
      'Parked: needs-human — A approves, X rejects',
      'What failed',
      '  ✗ tests  42s',
      '      FAIL test/backoff.test.ts',
      '      expected 200 to be 100',
      '  [blocking] b.ts  drops the error',
    ]);
    expect(text.indexOf('Summary')).toBeGreaterThan(6);
    // The evidence is not repeated; the other finding follows.
    expect(text.filter((l) => l.includes('expected 200 to be 100'))).toHaveLength(1);
    expect(text).toContain('  [minor] a.ts:3  naming');
    // A task with nothing failing has no such section.
    expect(reviewLines(base, null, 'x').map((l) => l.text)).not.toContain('What failed');
  });

  it('counts tasks per state, merges in the last hour and tonight’s average grade', () => {
    const snap = emptySnapshot({
      tasks: [
        sampleTask('a', 'done', { grade: 'A' }),
        sampleTask('b', 'done', { grade: 'B', t0: T0 - 5 * 3_600_000 }),
        sampleTask('c', 'running'),
      ],
    });
    const h = headerView(snap, now, { readOnly: false, daemonRequested: false });
    expect(h.counts).toMatchObject({ done: 2, running: 1, pending: 0 });
    expect(h.perHour).toBe(1);
    expect(h.avgGrade).toBe('A- (3.50)'); // a tie goes to the better grade
    expect(h.daemon).toBe('no daemon: press D to start');
    const live = headerView(
      { ...snap, daemon: { pid: 42, host: 'box', kind: 'daemon', since: new Date(T0).toISOString() } },
      now,
      {
        readOnly: false,
        daemonRequested: false,
      },
    );
    expect(live.daemon).toBe('daemon pid 42 on box · up 3m');
  });

  it('draws sparklines scaled to the busiest hour', () => {
    expect(sparkline([0, 1, 2, 4])).toBe('▁▃▅█');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(averageGrade([])).toBe('-');
  });

  it('merges the daemon’s live provider state with the config', () => {
    const snap = emptySnapshot({
      providers: [{ name: 'glm', kind: 'claude-code', hosts: ['oci'], ceiling: 3 }],
      tasks: [sampleTask('r', 'running', { provider: 'glm' })],
      daemon: { pid: 1, host: 'h', kind: 'daemon', since: new Date(T0).toISOString() },
      daemonState: {
        pid: 1,
        host: 'h',
        startedAt: '',
        updatedAt: '',
        providers: [
          {
            name: 'glm',
            breaker: 'open',
            reason: 'probe failed',
            limit: 1,
            ceiling: 3,
            running: 1,
            lastProbe: { ok: false, reason: 'HTTP 401' },
            limitHistory: [],
          },
        ],
        hosts: [],
        waiting: {},
      },
      toggles: { frozen: false, frozenProviders: ['glm'], gates: {} },
    });
    expect(providerRows(snap, now)[0]).toMatchObject({
      name: 'glm',
      breaker: 'open',
      limit: 1,
      ceiling: 3,
      running: 1,
      frozen: true,
      lastProbe: { ok: false, reason: 'HTTP 401' },
    });
    // The limit as the pane writes it: the live one of the ceiling, or only the ceiling without a daemon.
    expect(limitText(providerRows(snap, now)[0]!)).toBe('limit 1 of 3');
    expect(limitText({ limit: null, ceiling: 3 })).toBe('max 3 at once');
  });

  it('keeps the root one row shorter than the terminal', () => {
    for (const rows of [16, 24, 50]) {
      const l = computeLayout({ rows, cols: 100 }, 3);
      expect(l.height).toBe(rows - 1);
      expect(l.headerH + l.topH + l.bottomH + 2).toBe(rows - 1);
    }
    expect(computeLayout({ rows: 10, cols: 100 }, 3).tooSmall).toBe(true);
  });
});

describe('throttling at the source', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns a burst into one update now and one at the end of the interval', () => {
    vi.useFakeTimers();
    let clock = 0;
    const fn = vi.fn();
    const t = throttle(fn, 250, () => clock);
    for (let i = 0; i < 20; i++) {
      t();
      clock += 10;
      vi.advanceTimersByTime(10);
    }
    expect(fn).toHaveBeenCalledTimes(1);
    clock += 100;
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(2);
    t.cancel();
  });
});
