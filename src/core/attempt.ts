/**
 * The life of one attempt inside the daemon, as an explicit state machine. The task record says what a
 * task is (pending, running, review …); this says where its attempt is in the daemon's hands, which the
 * record cannot: being prepared ahead of dispatch, being launched, running, exited and waiting to be
 * collected, being collected, waiting for a dropped link to come back, or being ended early.
 *
 *   preparing ─▶ launching ─▶ running ─▶ exited ─▶ collecting ─▶ (collected)
 *                    │           │ │                  │   ▲
 *                    ▼           │ ▼                  ▼   │
 *              (launch failed)   │ (lost)            deferred ──▶ (killed)
 *                                ▼
 *                             ending ─▶ (killed)
 *
 * Terminal outcomes (in brackets) leave the daemon's registry; the task record keeps the story.
 * Each edge is one function that asserts where it starts from, like graphile-worker's worker modes: an
 * edge taken from the wrong phase is a bug in the daemon and throws.
 */
import { assertNever } from '../lib/assert.js';
import type { TaskId } from './ids.js';

export type AttemptPhase =
  /** Its worktree is being prepared for a task that will start when a slot frees (no attempt yet). */
  | 'preparing'
  /** Its task was moved to running; the host is staging the prompt and starting the session. */
  | 'launching'
  /** The executor runs in its session; polls and exit signals watch it. */
  | 'running'
  /** The runner wrote its exit record; collection has not started. */
  | 'exited'
  /** Its log, the main guard and its branch are being brought back. */
  | 'collecting'
  /** A dropped link interrupted collection; the exit record and branch wait on the host. */
  | 'deferred'
  /** Being ended before its time (a timeout, idleness, a request, a failure seen in its output). */
  | 'ending';

export type AttemptEnd = 'collected' | 'launch-failed' | 'lost' | 'killed' | 'dropped';

/** Which phases may follow each phase; `null` is leaving the registry (an AttemptEnd). */
export const ATTEMPT_EDGES: Readonly<Record<AttemptPhase, readonly (AttemptPhase | AttemptEnd)[]>> = {
  preparing: ['launching', 'dropped'],
  launching: ['running', 'launch-failed'],
  running: ['exited', 'ending', 'lost'],
  exited: ['collecting'],
  collecting: ['deferred', 'collected'],
  deferred: ['collecting', 'killed'],
  ending: ['killed'],
};

export class AttemptPhaseError extends Error {
  constructor(
    readonly task: TaskId,
    readonly from: AttemptPhase | null,
    readonly to: AttemptPhase | AttemptEnd,
  ) {
    super(`attempt of ${task}: no edge from ${from ?? 'nothing'} to ${to} (a bug in the daemon)`);
    this.name = 'AttemptPhaseError';
  }
}

/** Asserts that `from → to` is an edge of the machine; returns `to`. */
export function edge<T extends AttemptPhase | AttemptEnd>(task: TaskId, from: AttemptPhase | null, to: T): T {
  const ok = from === null ? to === 'launching' || to === 'preparing' : ATTEMPT_EDGES[from].includes(to);
  if (!ok) throw new AttemptPhaseError(task, from, to);
  return to;
}

/** Whether an attempt in this phase holds one of its provider's and host's slots. */
export function holdsSlot(phase: AttemptPhase): boolean {
  switch (phase) {
    case 'launching':
    case 'running':
    case 'ending':
      return true;
    // The executor is gone: its slot is free while its branch is brought back.
    case 'preparing':
    case 'exited':
    case 'collecting':
    case 'deferred':
      return false;
    default:
      return assertNever(phase);
  }
}

/** Whether the task has an attempt under way (dispatch must not start another). */
export function inFlight(phase: AttemptPhase): boolean {
  return phase !== 'preparing';
}

/** Whether polls still watch it: only a running executor has signals worth reading. */
export function watched(phase: AttemptPhase): boolean {
  return phase === 'running';
}
