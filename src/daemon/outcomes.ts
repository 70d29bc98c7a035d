/**
 * What happens to a task when an attempt fails: the failure table decides who is charged, whether the
 * task is tried again and when. Pure.
 */
import { backoffDelay, ruleFor, type BackoffPolicy } from '../core/failures.js';
import {
  enterFailed,
  enterRetry,
  type AttemptOutcome,
  type TaskRecord,
  type Transition,
} from '../core/task.js';

export const POISON_CRASHES = 3;

export interface FailureDecision {
  transition: Transition;
  /** True when the provider should be charged (breaker, live limit). */
  providerFault: boolean;
}

export function decideFailure(
  task: TaskRecord,
  f: { code: string; reason: string; outcome: AttemptOutcome; exitCode: number | null; now: number },
  backoff: BackoffPolicy,
  random: () => number,
): FailureDecision {
  const rule = ruleFor(f.code);
  const base = { now: f.now, attribution: rule.attribution, outcome: f.outcome, exitCode: f.exitCode };
  const previous = task.attempts.slice(0, -1);
  const charged =
    previous.filter((a) => ruleFor(a.code ?? '').chargesAttempt && a.attribution !== 'provider').length +
    (rule.chargesAttempt ? 1 : 0);
  const crashes = previous.filter((a) => ruleFor(a.code ?? '').crash).length + (rule.crash ? 1 : 0);
  const providerFault = rule.attribution === 'provider';
  if (crashes >= POISON_CRASHES) {
    return {
      transition: enterFailed(task, {
        ...base,
        code: 'poison',
        attribution: 'spec',
        reason: `executor crashed ${crashes} times; last: ${f.reason}`,
      }),
      providerFault,
    };
  }
  if (!rule.retryable)
    return { transition: enterFailed(task, { ...base, code: f.code, reason: f.reason }), providerFault };
  if (charged >= task.spec.attempts) {
    return {
      transition: enterFailed(task, {
        ...base,
        code: 'attempts-exhausted',
        attribution: rule.attribution,
        reason: `${charged} of ${task.spec.attempts} attempts used; last: ${f.reason}`,
      }),
      providerFault,
    };
  }
  // Provider failures wait on the provider's breaker, not on a backoff of their own.
  const delay = providerFault ? 0 : backoffDelay(Math.max(0, charged - 1), backoff, random);
  return {
    transition: enterRetry(task, { ...base, code: f.code, reason: f.reason, retryAt: f.now + delay }),
    providerFault,
  };
}
