/**
 * The task state machine. Pure: every transition takes the record and the time and returns a new record
 * plus the event that describes the change; nothing here touches the disk. The record's types are in
 * task-record.ts, re-exported here.
 */
import { Attribution, ErrorCode, NightshiftError } from './errors.js';
import type { NightshiftEvent } from './events.js';
import type { FailureCode } from './failures.js';
import type { TaskId } from './ids.js';
import type { TaskState } from './state.js';
import type {
  Attempt,
  AttemptOutcome,
  PullRequestRecord,
  TaskRecord,
  TaskSpec,
  Transition,
} from './task-record.js';

export { TaskState, TASK_STATES, isTaskState } from './state.js';
export type {
  ArchitectUsage,
  Attempt,
  AttemptOutcome,
  Failure,
  GateResult,
  HistoryEntry,
  PullRequestRecord,
  Review,
  TaskRecord,
  TaskSpec,
  Transition,
} from './task-record.js';

/** Which states a task may move to from each state. Anything else is a bug and throws. */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  pending: ['running', 'failed'],
  running: ['review', 'pending', 'failed'],
  review: ['pending', 'done', 'failed'],
  done: [],
  failed: ['pending'],
};

const iso = (ms: number): string => new Date(ms).toISOString();

export function newTask(input: { id: TaskId; dedupKey: string; spec: TaskSpec; now: number }): Transition {
  const at = iso(input.now);
  const task: TaskRecord = {
    schemaVersion: 1,
    id: input.id,
    state: 'pending',
    title: input.spec.title,
    dedupKey: input.dedupKey,
    spec: input.spec,
    branch: `ns/${input.id}`,
    createdAt: at,
    updatedAt: at,
    attempts: [],
    round: 0,
    gates: [],
    review: null,
    merge: null,
    failure: null,
    parked: null,
    history: [{ at, from: null, to: 'pending', reason: `queued from ${input.spec.source}` }],
  };
  return {
    task,
    event: { type: 'task.created', time: at, task: input.id, reason: `queued from ${input.spec.source}` },
  };
}

function move(
  task: TaskRecord,
  to: TaskState,
  now: number,
  reason: string,
  patch: Partial<TaskRecord> = {},
  extra: Partial<Extract<NightshiftEvent, { type: 'task.transition' }>> = {},
): Transition {
  if (!TRANSITIONS[task.state].includes(to)) {
    throw new NightshiftError(ErrorCode.invalidTransition, `cannot move from ${task.state} to ${to}`, {
      taskId: task.id,
      hint: `a ${task.state} task can go to: ${TRANSITIONS[task.state].join(', ') || 'nowhere (final)'}`,
    });
  }
  const at = iso(now);
  const next: TaskRecord = {
    ...task,
    ...patch,
    state: to,
    updatedAt: at,
    history: [...task.history, { at, from: task.state, to, reason }],
  };
  return {
    task: next,
    event: { type: 'task.transition', time: at, task: task.id, from: task.state, to, reason, ...extra },
  };
}

function currentAttempt(task: TaskRecord): Attempt {
  const last = task.attempts.at(-1);
  if (!last || (last.outcome !== 'running' && last.outcome !== 'collecting')) {
    throw new NightshiftError(ErrorCode.invalidTransition, 'no running attempt to finish', {
      taskId: task.id,
    });
  }
  return last;
}

/** Closes the current attempt; an attempt that was collecting keeps its executor's own end time. */
function finishAttempt(task: TaskRecord, patch: Partial<Attempt>): Attempt[] {
  const last = currentAttempt(task);
  const endedAt = last.outcome === 'collecting' && last.endedAt ? last.endedAt : patch.endedAt;
  return [...task.attempts.slice(0, -1), { ...last, ...patch, endedAt: endedAt ?? null }];
}

/**
 * running (attempt running) → running (attempt collecting): the executor exited at `endedAt` with
 * `exitCode`; its branch is being collected. Not a state change: the task stays running.
 */
export function enterCollecting(
  task: TaskRecord,
  at: { now: number; endedAt: string; exitCode: number },
): Transition {
  const last = task.attempts.at(-1);
  if (task.state !== 'running' || last?.outcome !== 'running') {
    refuse(task, `cannot collect ${task.id}: it has no running attempt`, 'a bug in the daemon');
  }
  // The runner's clock is the worker's: kept between the attempt's start and now, whatever its skew.
  const said = Date.parse(at.endedAt);
  const endedAt = Number.isNaN(said)
    ? iso(at.now)
    : iso(Math.min(at.now, Math.max(Date.parse(last.startedAt), said)));
  const attempts = [
    ...task.attempts.slice(0, -1),
    { ...last, outcome: 'collecting' as const, endedAt, exitCode: at.exitCode },
  ];
  return updateTask(task, at.now, `attempt ${last.n} exited with ${at.exitCode}; collecting its branch`, {
    attempts,
  });
}

/** pending → running: a new attempt starts on a provider and host. */
export function enterRunning(
  task: TaskRecord,
  at: { now: number; provider: string; host: string },
): Transition {
  const attempt: Attempt = {
    n: task.attempts.length + 1,
    provider: at.provider,
    host: at.host,
    startedAt: iso(at.now),
    endedAt: null,
    exitCode: null,
    outcome: 'running',
    attribution: null,
    reason: null,
  };
  return move(
    task,
    'running',
    at.now,
    `attempt ${attempt.n} on ${at.provider}@${at.host}`,
    { attempts: [...task.attempts, attempt], failure: null, parked: null, retryAt: null },
    { attempt: attempt.n, provider: at.provider, host: at.host },
  );
}

/** running → review: the executor exited and its branch is ready to judge. */
export function enterReview(task: TaskRecord, at: { now: number; exitCode: number }): Transition {
  const attempts = finishAttempt(task, { endedAt: iso(at.now), exitCode: at.exitCode, outcome: 'exited' });
  return move(task, 'review', at.now, `executor exited with ${at.exitCode}`, {
    attempts,
    gates: [],
    review: null,
  });
}

export interface FailureInput {
  now: number;
  code: FailureCode;
  attribution: Attribution;
  reason: string;
  outcome?: AttemptOutcome;
  exitCode?: number | null;
  /** Retry backoff: the task waits until then (enterRetry only). */
  retryAt?: number;
}

/** running → pending: the attempt failed and the task will be tried again. */
export function enterRetry(task: TaskRecord, f: FailureInput): Transition {
  const attempts = finishAttempt(task, {
    endedAt: iso(f.now),
    exitCode: f.exitCode ?? null,
    outcome: f.outcome ?? 'failed',
    attribution: f.attribution,
    code: f.code,
    reason: f.reason,
  });
  const retryAt = f.retryAt !== undefined ? iso(f.retryAt) : null;
  return move(
    task,
    'pending',
    f.now,
    `retry: ${f.reason}`,
    { attempts, retryAt },
    { attribution: f.attribution },
  );
}

/** pending | running | review → failed. A running attempt is closed with the failure. */
export function enterFailed(task: TaskRecord, f: FailureInput): Transition {
  const attempts =
    task.state === 'running'
      ? finishAttempt(task, {
          endedAt: iso(f.now),
          exitCode: f.exitCode ?? null,
          outcome: f.outcome ?? 'failed',
          attribution: f.attribution,
          code: f.code,
          reason: f.reason,
        })
      : task.attempts;
  return move(
    task,
    'failed',
    f.now,
    f.reason,
    { attempts, failure: { code: f.code, attribution: f.attribution, reason: f.reason }, parked: null },
    { attribution: f.attribution },
  );
}

/**
 * running → pending, parked `window-ended`: the night window ended while the attempt ran; it was killed
 * (its worktree salvaged) and the task waits for the next window. The attempt is closed as `killed`
 * with no failure code, so it charges nothing: it is nobody's fault.
 */
export function enterWindowEnded(task: TaskRecord, at: { now: number; reason: string }): Transition {
  const attempts = finishAttempt(task, {
    endedAt: iso(at.now),
    outcome: 'killed',
    attribution: null,
    code: null,
    reason: at.reason,
  });
  return move(task, 'pending', at.now, at.reason, { attempts, parked: 'window-ended', retryAt: null });
}

/** review → pending: another round on the same branch, with the review attached. */
/** A precondition of one edge beyond the state table: refused with the same stable code. */
function refuse(task: TaskRecord, message: string, hint: string): never {
  throw new NightshiftError(ErrorCode.invalidTransition, message, { taskId: task.id, hint });
}

export function enterChanges(task: TaskRecord, at: { now: number; reason: string }): Transition {
  if (task.round >= task.spec.reviewRounds) {
    refuse(
      task,
      `cannot send ${task.id} back for changes: its ${task.spec.reviewRounds} review rounds are used`,
      'park it as needs-human, or fail it',
    );
  }
  return move(task, 'pending', at.now, `changes requested: ${at.reason}`, {
    round: task.round + 1,
    parked: null,
  });
}

/** failed → pending: a person asked for another go; history and attempts are kept. */
export function enterRequeued(task: TaskRecord, at: { now: number; reason: string }): Transition {
  return move(task, 'pending', at.now, at.reason, { failure: null });
}

/** review → done: merged into main. */
export function enterDone(task: TaskRecord, at: { now: number; sha: string }): Transition {
  if (task.state === 'review' && task.review?.verdict !== 'approve') {
    refuse(task, `cannot merge ${task.id}: it has no approval`, 'approve it first (`nightshift approve`)');
  }
  return move(task, 'done', at.now, `merged as ${at.sha.slice(0, 12)}`, {
    merge: { sha: at.sha, at: iso(at.now) },
    parked: null,
  });
}

/**
 * review → done in pr mode: the approved branch is on the remote and its pull request is open. Nothing
 * merged here (`merge` stays null): a person merges the pull request.
 */
export function enterPrOpened(task: TaskRecord, at: { now: number; pr: PullRequestRecord }): Transition {
  if (task.state === 'review' && task.review?.verdict !== 'approve') {
    refuse(task, `cannot open a pull request for ${task.id}: it has no approval`, 'approve it first');
  }
  return move(task, 'done', at.now, `pull request opened: ${at.pr.url}`, {
    pullRequest: at.pr,
    parked: null,
    retryAt: null,
  });
}

/**
 * Whether the approval of a task in review stands and it waits in the merge queue. A task parked after
 * its approval (push-failed, merge-retries, …) does not: approving it again queues it again.
 */
export function waitsToMerge(task: TaskRecord): boolean {
  return (
    task.state === 'review' &&
    task.review?.verdict === 'approve' &&
    task.review.approvedBy !== null &&
    task.parked === null
  );
}

/**
 * review → review, approved: the task (un-parked) joins the merge queue at `approvedAt` (approvalTime).
 * Refused, like core/can.ts refuses the request, unless the task is in review and not already queued.
 */
export function enterApproved(
  task: TaskRecord,
  at: { now: number; approvedAt: string; by: 'human' },
): Transition {
  if (task.state !== 'review') {
    refuse(
      task,
      `cannot approve ${task.id}: it is ${task.state}, not in review`,
      'only tasks in review can be approved',
    );
  }
  if (waitsToMerge(task)) {
    refuse(
      task,
      `cannot approve ${task.id}: it is already approved and waits in the merge queue`,
      'approving it again would only move it to the back of the queue',
    );
  }
  return updateTask(task, at.now, 'approved by a person', {
    review: {
      ...(task.review ?? { grade: null, summary: '', findings: [] }),
      verdict: 'approve',
      approvedBy: at.by,
      approvedAt: at.approvedAt,
      round: task.round,
      attribution: null,
    },
    parked: null,
  });
}

/** An in-place change that is not a state transition (approval, parking, gate results). */
export function updateTask(
  task: TaskRecord,
  now: number,
  reason: string,
  patch: Partial<TaskRecord>,
): Transition {
  const at = iso(now);
  return {
    task: { ...task, ...patch, state: task.state, id: task.id, updatedAt: at },
    event: { type: 'task.updated', time: at, task: task.id, reason },
  };
}

/**
 * The time to stamp on a new approval: now, or 1 ms after the latest approval still waiting in review if
 * that is not earlier. The merge queue takes approvals in `approvedAt` order, so two approvals within
 * one millisecond (a person approving a batch) must not tie.
 */
export function approvalTime(now: number, tasks: readonly TaskRecord[]): string {
  let latest = -Infinity;
  for (const t of tasks) {
    const at = t.state === 'review' && t.review?.approvedAt ? Date.parse(t.review.approvedAt) : NaN;
    if (at > latest) latest = at;
  }
  return new Date(Math.max(now, latest + 1)).toISOString();
}

export function isActive(state: TaskState): boolean {
  return state === 'pending' || state === 'running' || state === 'review';
}

export { Attribution };
