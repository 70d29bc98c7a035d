/**
 * Whether the architect drafts a follow-up spec for a task that just ended (docs/architect.md#follow-ups).
 * Pure: the caller passes the task, how deep in a chain of follow-ups it is, the follow-ups already
 * drafted (with their times) and the clock's now.
 *
 * A follow-up is for work the spec can fix: the task failed for a reason its spec is charged with
 * (attempts used up, rejected, poison) or parked for a person after its review rounds were used up (a
 * failed gate, a conflict or the architect's findings). Never for a provider's, a worker's or the
 * supervisor's failure, never for a branch that touched main (hostile, not unclear), and never twice
 * for one task.
 */
import type { FailureCode } from './failures.js';
import type { TaskRecord } from './task-record.js';

export interface FollowUpPolicy {
  enabled: boolean;
  /** At most this many in any NIGHT_MS. */
  maxPerNight: number;
  /** An original is depth 0; its follow-up depth 1; a follow-up of that, depth 2. */
  maxDepth: number;
  autoQueue: boolean;
}

/** The window maxPerNight counts in: a rolling day, so a daemon that runs for a week still counts nights. */
export const NIGHT_MS = 24 * 60 * 60 * 1000;

/** Failure codes a better spec could avoid. */
export const FOLLOW_UP_CODES: ReadonlySet<FailureCode> = new Set<FailureCode>([
  'attempts-exhausted',
  'rejected',
  'poison',
  'timeout',
  'idle',
  'max-turns',
  'exit-nonzero',
]);

/** Why `task` ended in a way a follow-up could address, or null when it did not. */
export function followUpCause(
  task: Pick<TaskRecord, 'state' | 'parked' | 'failure' | 'spec'>,
): string | null {
  if (task.state === 'failed' && task.failure) {
    const f = task.failure;
    if (f.attribution !== 'spec' || !FOLLOW_UP_CODES.has(f.code)) return null;
    return `${f.code}: ${f.reason}`;
  }
  if (task.state === 'review' && task.parked === 'needs-human') {
    return `review rounds used up (${task.spec.reviewRounds}) or a conflict after them`;
  }
  return null;
}

export type FollowUpDecision =
  { draft: true; cause: string; depth: number; autoQueue: boolean } | { draft: false; reason: string };

export function decideFollowUp(input: {
  task: Pick<TaskRecord, 'id' | 'state' | 'parked' | 'failure' | 'spec'>;
  /** How deep the task itself is in a chain of follow-ups (0: not a follow-up). */
  depth: number;
  /** The follow-ups drafted so far: when, and of which task. */
  drafted: readonly { at: number; origin: string }[];
  now: number;
  policy: FollowUpPolicy;
}): FollowUpDecision {
  const { task, policy } = input;
  if (!policy.enabled) return { draft: false, reason: 'architect.followUps.enabled is false' };
  const cause = followUpCause(task);
  if (!cause) return { draft: false, reason: `${task.id} did not end for a reason its spec is charged with` };
  if (input.drafted.some((d) => d.origin === task.id)) {
    return { draft: false, reason: `${task.id} already has a follow-up` };
  }
  const depth = input.depth + 1;
  if (depth > policy.maxDepth) {
    return {
      draft: false,
      reason: `a follow-up of ${task.id} would be depth ${depth}, over architect.followUps.maxDepth (${policy.maxDepth})`,
    };
  }
  const recent = input.drafted.filter((d) => input.now - d.at < NIGHT_MS).length;
  if (recent >= policy.maxPerNight) {
    return {
      draft: false,
      reason: `${recent} follow-up(s) drafted in the last 24 hours: architect.followUps.maxPerNight is ${policy.maxPerNight}`,
    };
  }
  return { draft: true, cause, depth, autoQueue: policy.autoQueue };
}

/**
 * The depth of `id` in its chain of follow-ups: 0 for an original, 1 + its original's otherwise. `of`
 * gives a task's followUpOf (null when none or unknown); a loop or a chain over 20 stops counting.
 */
export function followUpDepth(id: string, of: (id: string) => string | null): number {
  const seen = new Set<string>([id]);
  let depth = 0;
  for (let next = of(id); next !== null && !seen.has(next) && depth < 20; next = of(next)) {
    seen.add(next);
    depth += 1;
  }
  return depth;
}
