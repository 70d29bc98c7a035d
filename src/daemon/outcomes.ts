/**
 * What happens to a task when an attempt fails: the failure table decides who is charged, whether the
 * task is tried again and when. Pure.
 */
import {
  backoffDelay,
  chargedAttempts,
  ruleFor,
  type BackoffPolicy,
  type FailureCode,
} from '../core/failures.js';
import {
  enterFailed,
  enterRetry,
  type AttemptOutcome,
  type TaskRecord,
  type Transition,
} from '../core/task.js';

export const POISON_CRASHES = 3;

/**
 * Failures that use up no attempt (the provider's, or the supervisor's such as a failed fetch) are
 * retried, but not forever: a provider that passes its probe and then fails this one task every time
 * (a 403 only this spec's text triggers, a key refused on one host) would otherwise rerun it all night.
 * A daemon interrupted mid-launch is not counted: that is nobody's fault but a restart's.
 */
export const MAX_FREE_RETRIES = 6;

function isFree(code: FailureCode, attribution: string | null): boolean {
  const rule = ruleFor(code);
  return (
    code !== 'launch-interrupted' && rule.retryable && (!rule.chargesAttempt || attribution === 'provider')
  );
}

export interface FailureDecision {
  transition: Transition;
  /** True when the provider should be charged (breaker, live limit). */
  providerFault: boolean;
}

export function decideFailure(
  task: TaskRecord,
  f: { code: FailureCode; reason: string; outcome: AttemptOutcome; exitCode: number | null; now: number },
  backoff: BackoffPolicy,
  random: () => number,
): FailureDecision {
  const rule = ruleFor(f.code);
  const base = { now: f.now, attribution: rule.attribution, outcome: f.outcome, exitCode: f.exitCode };
  const previous = task.attempts.slice(0, -1);
  const charged = chargedAttempts(previous) + (rule.chargesAttempt ? 1 : 0);
  const crashes = previous.filter((a) => a.code && ruleFor(a.code).crash).length + (rule.crash ? 1 : 0);
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
  const free =
    previous.filter((a) => a.code && isFree(a.code, a.attribution)).length +
    (isFree(f.code, rule.attribution) ? 1 : 0);
  if (free > MAX_FREE_RETRIES) {
    return {
      transition: enterFailed(task, {
        ...base,
        code: 'retries-exhausted',
        attribution: rule.attribution,
        reason: `${free} tries ended in failures that use up no attempt (the provider's or the supervisor's); last: ${f.reason}. Look at the attempt logs, then \`nightshift retry ${task.id}\``,
      }),
      providerFault,
    };
  }
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
