/**
 * can(task, action): the one decision behind the request applier and the TUI's keys, checked over every
 * state × action × review × parking (1,700 cases), against an oracle written here and against the
 * transitions the requests apply.
 */
import type { ParkReason } from '../../src/core/park.js';
import { describe, expect, it } from 'vitest';
import { can, TASK_ACTIONS, type TaskAction } from '../../src/core/can.js';
import { ErrorCode } from '../../src/core/errors.js';
import {
  enterApproved,
  enterDone,
  enterFailed,
  enterRequeued,
  enterReview,
  enterRunning,
  newTask,
  TASK_STATES,
  type Review,
  type TaskRecord,
  type TaskState,
} from '../../src/core/task.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { tid } from '../../src/testing/ids.js';

/** A record in `state`, reached through the real transitions. */
function inState(state: TaskState, id = 'alpha'): TaskRecord {
  let t = newTask({ id: tid(id), dedupKey: id, spec: taskSpec(), now: 0 }).task;
  if (state === 'pending') return t;
  t = enterRunning(t, { now: 1, provider: 'glm', host: 'oci' }).task;
  if (state === 'running') return t;
  if (state === 'failed')
    return enterFailed(t, { now: 2, code: 'exit-nonzero', attribution: 'provider', reason: 'crashed' }).task;
  t = enterReview(t, { now: 2, exitCode: 0 }).task;
  if (state === 'review') return t;
  t = enterApproved(t, { now: 3, approvedAt: new Date(3).toISOString(), by: 'human' }).task;
  return enterDone(t, { now: 4, sha: 'abcdef1234567890' }).task;
}

function review(verdict: Review['verdict'], approvedBy: string | null): Review {
  return { grade: null, verdict, summary: '', findings: [], approvedBy };
}

/** The rules as docs/cli.md and docs/merge.md state them, written independently of src/core/can.ts. */
function oracle(t: TaskRecord, action: TaskAction): boolean {
  switch (action) {
    case 'kill':
      return t.state === 'pending' || t.state === 'running';
    case 'retry':
      return t.state === 'failed';
    case 'reject':
      return t.state === 'review';
    case 'approve': {
      const queued = t.review?.verdict === 'approve' && !!t.review.approvedBy && t.parked === null;
      return t.state === 'review' && !queued;
    }
  }
}

/** The transition each request applies. */
function apply(t: TaskRecord, action: TaskAction): TaskRecord {
  switch (action) {
    case 'kill':
      return enterFailed(t, { now: 9, code: 'killed', attribution: 'supervisor', reason: 'killed' }).task;
    case 'retry':
      return enterRequeued(t, { now: 9, reason: 'retry requested' }).task;
    case 'approve':
      return enterApproved(t, { now: 9, approvedAt: new Date(9).toISOString(), by: 'human' }).task;
    case 'reject':
      return enterFailed(t, { now: 9, code: 'rejected', attribution: 'spec', reason: 'rejected' }).task;
  }
}

describe('can(task, action)', () => {
  const EXPECTED: Record<TaskState, Record<TaskAction, boolean>> = {
    pending: { kill: true, retry: false, approve: false, reject: false },
    running: { kill: true, retry: false, approve: false, reject: false },
    review: { kill: false, retry: false, approve: true, reject: true },
    done: { kill: false, retry: false, approve: false, reject: false },
    failed: { kill: false, retry: true, approve: false, reject: false },
  };
  const cells = TASK_STATES.flatMap((s) => TASK_ACTIONS.map((a) => [s, a] as const));

  it('covers every state and action', () => {
    expect(cells).toHaveLength(TASK_STATES.length * TASK_ACTIONS.length);
    expect(Object.keys(EXPECTED).sort()).toEqual([...TASK_STATES].sort());
  });

  it.each(cells)('%s × %s', (state, action) => {
    const task = inState(state);
    const got = can(task, action);
    expect(got.ok).toBe(EXPECTED[state][action]);
    if (!got.ok) expect(got.reason).toMatch(new RegExp(`^task alpha is ${state}; only .* can be `));
  });

  it('refuses to approve a task whose approval stands, naming its approver', () => {
    const queued = { ...inState('review'), review: review('approve', 'architect') };
    expect(can(queued, 'approve')).toEqual({
      ok: false,
      reason: 'task alpha is already approved (by architect): it waits in the merge queue',
    });
    expect(can(queued, 'reject')).toEqual({ ok: true });
  });

  it('lets a person approve again a task parked after its approval (docs/merge.md: push-failed)', () => {
    const parked = {
      ...inState('review'),
      review: review('approve', 'human'),
      parked: 'push-failed' as const,
    };
    expect(can(parked, 'approve')).toEqual({ ok: true });
  });

  it('agrees with an oracle and with the transitions, for every state, action, review and parking', () => {
    const verdicts = ['approve', 'changes', 'reject', null] as const;
    const approvers = [null, 'human', 'architect', 'gates'];
    const reviews = [null, ...verdicts.flatMap((v) => approvers.map((by) => review(v, by)))];
    const parkings: (ParkReason | null)[] = [
      null,
      'needs-human',
      'awaiting-approval',
      'push-failed',
      'merge-retries',
    ];
    let checked = 0;
    for (const state of TASK_STATES)
      for (const action of TASK_ACTIONS)
        for (const r of reviews)
          for (const parked of parkings) {
            const task = { ...inState(state), review: r, parked };
            const got = can(task, action);
            const where = `${state} × ${action}, review ${JSON.stringify(r)}, parked ${parked}`;
            expect(got.ok, where).toBe(oracle(task, action));
            // An allowed action's transition never throws. enterApproved, approval's own edge, also
            // refuses exactly what can() refuses (kill and reject share review → failed, so for kill
            // can() is stricter than the state table, by design).
            if (got.ok) expect(() => apply(task, action), where).not.toThrow();
            else expect(got.reason, where).toMatch(/^task alpha is /);
            if (action === 'approve' && !got.ok)
              expect(() => apply(task, action), where).toThrow(
                expect.objectContaining({ code: ErrorCode.invalidTransition }),
              );
            checked++;
          }
    expect(checked).toBe(TASK_STATES.length * TASK_ACTIONS.length * reviews.length * parkings.length);
  });
});

describe('enterApproved', () => {
  it('records a person’s approval: clears the parking and the attribution, keeps the grade', () => {
    const t = {
      ...inState('review'),
      parked: 'needs-human' as const,
      review: { ...review('changes', null), grade: 'B', attribution: 'supervisor' as const },
    };
    const { task, event } = enterApproved(t, { now: 5, approvedAt: '1970-01-01T00:00:00.006Z', by: 'human' });
    expect(task.state).toBe('review');
    expect(task.parked).toBeNull();
    expect(task.review).toMatchObject({
      grade: 'B',
      verdict: 'approve',
      approvedBy: 'human',
      approvedAt: '1970-01-01T00:00:00.006Z',
      round: 0,
      attribution: null,
    });
    expect(event).toMatchObject({ type: 'task.updated', task: 'alpha', reason: 'approved by a person' });
    expect(t.review.verdict).toBe('changes'); // the input is not mutated
  });

  it.each(['pending', 'running', 'done', 'failed'] as const)('refuses a %s task', (state) => {
    expect(() => enterApproved(inState(state), { now: 5, approvedAt: 'x', by: 'human' })).toThrow(
      expect.objectContaining({
        code: ErrorCode.invalidTransition,
        context: expect.objectContaining({ taskId: 'alpha' }) as unknown,
      }),
    );
  });

  it('refuses a task already waiting in the merge queue', () => {
    const queued = { ...inState('review'), review: review('approve', 'gates') };
    expect(() => enterApproved(queued, { now: 5, approvedAt: 'x', by: 'human' })).toThrow(/already approved/);
  });
});
