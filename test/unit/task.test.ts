import { describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/core/errors.js';
import {
  enterChanges,
  enterDone,
  enterFailed,
  enterRequeued,
  enterRetry,
  enterReview,
  enterRunning,
  newTask,
  TRANSITIONS,
  updateTask,
  type TaskSpec,
} from '../../src/core/task.js';
import { parseDuration, formatDuration } from '../../src/core/duration.js';
import { idFromFileName, idProblem, refNameProblem } from '../../src/core/ids.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

const spec: TaskSpec = taskSpec();

describe('task state machine', () => {
  it('walks the happy path and records history and attempts', () => {
    let { task } = newTask({ id: tid('a'), dedupKey: 'k', spec, now: 0 });
    expect(task.state).toBe('pending');
    task = enterRunning(task, { now: 10, provider: 'glm', host: 'oci' }).task;
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({ n: 1, provider: 'glm', host: 'oci', outcome: 'running' });
    const review = enterReview(task, { now: 20, exitCode: 0 });
    expect(review.event).toMatchObject({ type: 'task.transition', from: 'running', to: 'review' });
    expect(() => enterDone(review.task, { now: 25, sha: 'abcdef1234567890' })).toThrow(/has no approval/);
    const approved = updateTask(review.task, 25, 'approved', {
      review: { grade: 'A', verdict: 'approve', summary: 'ok', findings: [], approvedBy: 'human' },
    }).task;
    task = enterDone(approved, { now: 30, sha: 'abcdef1234567890' }).task;
    expect(task.state).toBe('done');
    expect(task.merge?.sha).toBe('abcdef1234567890');
    expect(task.history.map((h) => h.to)).toEqual(['pending', 'running', 'review', 'done']);
  });

  it('closes the running attempt on retry and failure, with attribution', () => {
    let { task } = newTask({ id: tid('a'), dedupKey: 'k', spec, now: 0 });
    task = enterRunning(task, { now: 1, provider: 'glm', host: 'oci' }).task;
    task = enterRetry(task, {
      now: 2,
      code: 'empty-output',
      attribution: 'provider',
      reason: 'empty answer',
    }).task;
    expect(task.state).toBe('pending');
    expect(task.attempts[0]).toMatchObject({
      outcome: 'failed',
      attribution: 'provider',
      reason: 'empty answer',
    });
    task = enterRunning(task, { now: 3, provider: 'kimi', host: 'oci' }).task;
    task = enterFailed(task, {
      now: 4,
      code: 'killed',
      attribution: 'supervisor',
      reason: 'killed',
      outcome: 'killed',
    }).task;
    expect(task.failure).toEqual({ code: 'killed', attribution: 'supervisor', reason: 'killed' });
    expect(task.attempts[1]?.outcome).toBe('killed');
    task = enterRequeued(task, { now: 5, reason: 'retry requested' }).task;
    expect(task.state).toBe('pending');
    expect(task.failure).toBeNull();
    expect(task.attempts).toHaveLength(2);
  });

  it('counts review rounds', () => {
    let { task } = newTask({ id: tid('a'), dedupKey: 'k', spec, now: 0 });
    task = enterRunning(task, { now: 1, provider: 'p', host: 'h' }).task;
    task = enterReview(task, { now: 2, exitCode: 0 }).task;
    task = enterChanges(task, { now: 3, reason: 'missing test' }).task;
    expect(task).toMatchObject({ state: 'pending', round: 1 });
    // Past the cap, the edge itself refuses: the caller must park or fail the task instead.
    for (let round = 1; round < spec.reviewRounds; round++) {
      task = enterRunning(task, { now: 4, provider: 'p', host: 'h' }).task;
      task = enterReview(task, { now: 5, exitCode: 0 }).task;
      task = enterChanges(task, { now: 6, reason: 'again' }).task;
    }
    task = enterRunning(task, { now: 7, provider: 'p', host: 'h' }).task;
    task = enterReview(task, { now: 8, exitCode: 0 }).task;
    expect(() => enterChanges(task, { now: 9, reason: 'once more' })).toThrow(/review rounds are used/);
  });

  it('refuses every edge not in the table, naming the task', () => {
    const { task } = newTask({ id: tid('a'), dedupKey: 'k', spec, now: 0 });
    expect(() => enterReview(task, { now: 1, exitCode: 0 })).toThrow(NightshiftError);
    expect(() => enterDone(task, { now: 1, sha: 'x' })).toThrow(/cannot move from pending to done/);
    expect(TRANSITIONS.done).toEqual([]);
  });
});

describe('durations and ids', () => {
  it('parses durations with units and refuses the rest', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    for (const bad of ['', '90', '12:30:00', '1.5h', '-1h', '0s', 'h', '2 h x'])
      expect(parseDuration(bad)).toBeNull();
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });

  it('validates ids and branch names once', () => {
    expect(idProblem('http-backoff')).toBeNull();
    for (const bad of ['', '-rf', 'A', 'a_b', '../x', 'a;b', 'x'.repeat(64), 'pending', 'tmp', 'а']) {
      expect(idProblem(bad)).not.toBeNull();
    }
    expect(idFromFileName('Add Backoff.md')).toBe('add-backoff');
    expect(refNameProblem('feature/x')).toBeNull();
    for (const bad of ['-x', 'a..b', 'x.lock', 'a b', 'a@{1}', 'x/', '/x', '.x'])
      expect(refNameProblem(bad)).not.toBeNull();
  });
});
