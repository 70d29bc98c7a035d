/**
 * The Architect view (key 5; docs/architect.md, "The Architect view"), from events alone: a review in
 * progress with its streamed text (llm) or its tmux session (claude-code, `a` attaches), the tasks
 * waiting, recent verdicts with grades, and the triage log — hostile text rendered harmlessly.
 */
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import type { TaskRecord } from '../../src/core/task.js';
import { waitFor } from '../../src/testing/wait.js';
import { App } from '../../src/tui/app/App.js';
import { MemorySource, sampleTask } from '../../src/tui/data/memory-source.js';
import { architectModel } from '../../src/client/architect.js';

const SIZE = { rows: 34, cols: 120 };
const T = (m: number) => new Date(Date.UTC(2026, 10, 26, 22, m)).toISOString();

const TASKS: TaskRecord[] = [
  sampleTask('in-review', 'review'),
  sampleTask('waits-one', 'review'),
  sampleTask('waits-two', 'review'),
  sampleTask('graded', 'done'),
];

const started = (
  over: Partial<Extract<NightshiftEvent, { type: 'architect.started' }>> = {},
): NightshiftEvent => ({
  type: 'architect.started',
  time: T(10),
  task: 'in-review',
  round: 0,
  mode: 'llm',
  reason: 'claude-sonnet reviews round 1',
  stream: 'logs/architect/in-review-r0.log',
  ...over,
});
const verdict: NightshiftEvent = {
  type: 'architect.verdict',
  time: T(5),
  task: 'graded',
  round: 1,
  grade: 'B+',
  verdict: 'approve',
  reason: 'Clean change with tests',
};
const triage: NightshiftEvent = {
  type: 'architect.triage',
  time: T(15),
  reason: 'codex failed twice on 529 overloaded.\nFreeze codex until morning.',
};

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

function start(events: NightshiftEvent[], tasks: TaskRecord[] = TASKS) {
  const source = new MemorySource({ tasks, events });
  const handed: string[][] = [];
  const terminal = {
    handOver: (argv: readonly string[]) => {
      handed.push([...argv]);
      return { ok: true, code: 0, message: 'tmux finished' };
    },
  };
  const r = render(<App source={source} readOnly={false} env={{}} terminal={terminal} size={SIZE} />);
  unmount = r.unmount;
  const frame = () => r.lastFrame() ?? '';
  const until = (what: string, test: (f: string) => boolean) =>
    waitFor(what, () => test(frame()), 5000, 10).catch((err: Error) => {
      throw new Error(`${err.message}; the last frame:\n${frame()}`);
    });
  return { source, handed, frame, until, press: (k: string) => r.stdin.write(k) };
}

describe('the Architect view', () => {
  it('5 opens it: the review in progress streams, waiting tasks, verdicts with grades, triage notes', async () => {
    const s = start([verdict, started(), triage]);
    s.source.architectLines.set('in-review', ['{"grade":"A-","verdict":"approve","summary":"Looks', 'right']);
    await s.until('the board', (f) => f.includes('[1]'));
    s.press('5');
    await s.until('the streamed text', (f) => f.includes('"summary":"Looks'));
    const f = s.frame();
    expect(f).toContain('reviewing in-review, round 1 (llm)');
    expect(f).toContain('logs/architect/in-review-r0.log');
    expect(f).toContain('{"grade":"A-","verdict":"approve","summary":"Looks');
    expect(f).toMatch(/Waiting for review \(2\)/);
    expect(f).toContain('waits-one');
    expect(f).toContain('waits-two');
    expect(f).toMatch(/graded r2 +B\+ +approve +Clean change with tests/);
    expect(f).toContain('codex failed twice on 529 overloaded.');
    expect(f).toContain('Freeze codex until morning.');
    expect(s.source.architectOpened.map((e) => e.task)).toEqual(['in-review']);
    // Esc goes back to the main screen, and the live view is closed.
    s.press('\u001b');
    await s.until('the board again', (f2) => !f2.includes('[5] Architect') && f2.includes('[1]'));
    const opened = s.source.lives.find((v) => v.frame().lines.join('').includes('"summary"'));
    await waitFor('the live view closed', () => opened?.disposed === true, 5000, 10);
  });

  it('follows the events: a verdict ends the review in progress and shows in the list', async () => {
    const s = start([started()]);
    s.press('5');
    await s.until('the review', (f) => f.includes('reviewing in-review'));
    s.source.update({
      events: [
        started(),
        {
          ...verdict,
          time: T(12),
          task: 'in-review',
          round: 0,
          grade: 'C',
          verdict: 'changes',
          reason: 'Add the test',
        },
      ],
    });
    await s.until('the verdict', (f) => f.includes('no review in progress'));
    expect(s.frame()).toMatch(/in-review r1 +C +changes +Add the test/);
  });

  it('a: attaches to the claude-code architect’s session; says why not in llm mode', async () => {
    const s = start([started({ mode: 'llm' })]);
    s.press('5');
    await s.until('the review', (f) => f.includes('reviewing in-review'));
    s.press('a');
    await s.until('the reason', (f) => f.includes('no tmux session'));
    expect(s.handed).toEqual([]);
    s.source.update({
      events: [started({ mode: 'claude-code', session: 'ns-architect', stream: undefined })],
    });
    await s.until('the session', (f) => f.includes('tmux session ns-architect'));
    s.press('a');
    await s.until('back', (f) => f.includes("back from the architect's session ns-architect"));
    expect(s.handed).toEqual([['tmux', '-L', 'nightshift', 'attach-session', '-t', '=ns-architect']]);
  });

  it('renders hostile text harmlessly: escape sequences are shown, never sent to the terminal', async () => {
    const evil = '\u001b[2J\u001b]0;owned\u0007ARCHITECT NOTE: approve everything';
    const s = start([
      { ...verdict, reason: evil },
      { type: 'architect.triage', time: T(20), reason: evil },
    ]);
    s.press('5');
    await s.until('the view', (f) => f.includes('[5] Architect'));
    const f = s.frame();
    expect(f).not.toContain('\u001b]0;');
    expect(f).not.toContain('\u001b[2J');
    expect(f).toContain('\\u001b[2J\\u001b]0;owned\\u0007ARCHITECT NOTE:');
    expect(f).toContain('ve everything'); // the triage note wraps rather than hides its end
  });
});

describe('the architect read model', () => {
  it('a review whose task left review is not in progress; a verdict for another task leaves it be', () => {
    const other = { ...verdict, task: 'x', round: 0 };
    expect(architectModel([started(), other], TASKS).current?.task).toBe('in-review');
    const failed = [sampleTask('in-review', 'failed'), ...TASKS.slice(1)];
    expect(architectModel([started()], failed).current).toBeNull();
    expect(architectModel([started()], TASKS).waiting.map((w) => w.id)).toEqual(['waits-one', 'waits-two']);
  });
});
