/**
 * Failure codes and what each means for the task and the provider: who is charged (attribution),
 * whether the task may be tried again, and whether the try uses up one of the spec's attempts.
 * Provider failures never use up attempts (they feed the provider's breaker instead); spec failures
 * never throttle a provider.
 */
import type { Attribution } from './errors.js';

export interface FailureRule {
  attribution: Attribution;
  retryable: boolean;
  chargesAttempt: boolean;
  /** An executor crash: three of them make the task poison. */
  crash?: boolean;
}

export const FAILURE_RULES = {
  // spec: the work itself went wrong
  'exit-nonzero': { attribution: 'spec', retryable: true, chargesAttempt: true, crash: true },
  timeout: { attribution: 'spec', retryable: true, chargesAttempt: true },
  idle: { attribution: 'spec', retryable: true, chargesAttempt: true },
  'main-touched': { attribution: 'spec', retryable: false, chargesAttempt: true },
  'not-descendant': { attribution: 'spec', retryable: false, chargesAttempt: true },
  'bad-base': { attribution: 'spec', retryable: false, chargesAttempt: false },
  'dependency-failed': { attribution: 'spec', retryable: false, chargesAttempt: false },
  rejected: { attribution: 'spec', retryable: false, chargesAttempt: false },
  'cap-reached': { attribution: 'spec', retryable: false, chargesAttempt: false },
  // The prompt is over one argv word and the provider's command has no file or stdin input for it.
  'prompt-too-large': { attribution: 'spec', retryable: false, chargesAttempt: false },
  poison: { attribution: 'spec', retryable: false, chargesAttempt: false },
  'attempts-exhausted': { attribution: 'spec', retryable: false, chargesAttempt: false },
  // too many retries that used up no attempt: attributed like the last of them (outcomes.ts)
  'retries-exhausted': { attribution: 'provider', retryable: false, chargesAttempt: false },
  'max-turns': { attribution: 'spec', retryable: true, chargesAttempt: true },
  // provider: the model or its CLI failed
  'empty-output': { attribution: 'provider', retryable: true, chargesAttempt: false },
  auth: { attribution: 'provider', retryable: true, chargesAttempt: false },
  'rate-limit': { attribution: 'provider', retryable: true, chargesAttempt: false },
  overloaded: { attribution: 'provider', retryable: true, chargesAttempt: false },
  // The agent CLI died within its crashWindow, with no commit and almost no output. Still a crash: a
  // spec that kills the agent at once (the probe passing all along) cannot loop forever, it turns poison.
  'crash-on-start': { attribution: 'provider', retryable: true, chargesAttempt: false, crash: true },
  'server-error': { attribution: 'provider', retryable: true, chargesAttempt: false },
  'agent-error': { attribution: 'provider', retryable: true, chargesAttempt: false },
  // worker: the machine or the link failed. Never the spec's: no attempt is used (the free retries are
  // capped all the same, daemon/outcomes.ts), and the host takes no launch until it answers again.
  'link-down': { attribution: 'worker', retryable: true, chargesAttempt: false },
  'session-lost': { attribution: 'worker', retryable: true, chargesAttempt: false },
  'launch-failed': { attribution: 'worker', retryable: true, chargesAttempt: false },
  // A repo's setup hook (repos.<name>.hooks) failed or ran out of time: the repo's setup or the worker
  // is at fault, not the spec. The same repo failing again and again is held back (daemon/hook-health.ts).
  'hook-failed': { attribution: 'worker', retryable: true, chargesAttempt: false },
  'hook-timeout': { attribution: 'worker', retryable: true, chargesAttempt: false },
  // supervisor: our own machinery
  killed: { attribution: 'supervisor', retryable: false, chargesAttempt: false },
  'merge-conflict': { attribution: 'supervisor', retryable: true, chargesAttempt: false },
  'gate-infra': { attribution: 'supervisor', retryable: true, chargesAttempt: false },
  'launch-interrupted': { attribution: 'supervisor', retryable: true, chargesAttempt: false },
  // a live session already had the name of the one to launch: session names are nightshift's to keep apart
  'session-collision': { attribution: 'supervisor', retryable: true, chargesAttempt: false },
  // the branch could not be fetched home over a working link (the supervisor's repo, say)
  'fetch-failed': { attribution: 'supervisor', retryable: true, chargesAttempt: false },
} as const satisfies Record<string, FailureRule>;

export type FailureCode = keyof typeof FAILURE_RULES;

export const FAILURE_CODES = Object.keys(FAILURE_RULES) as readonly FailureCode[];

export function isFailureCode(code: string): code is FailureCode {
  return Object.hasOwn(FAILURE_RULES, code);
}

/** The rule of a code. Every code has one: a misspelt code does not compile (see isFailureCode for disk). */
export function ruleFor(code: FailureCode): FailureRule {
  return FAILURE_RULES[code];
}

/**
 * How many of these ended attempts used up one of the spec's: a failure whose rule charges an attempt,
 * unless the provider was blamed for it. The one rule for the dispatcher (outcomes.ts) and every view.
 */
export function chargedAttempts(
  attempts: readonly { code?: FailureCode | null; attribution?: string | null }[],
): number {
  return attempts.filter((a) => a.code && ruleFor(a.code).chargesAttempt && a.attribution !== 'provider')
    .length;
}

export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
}

/** REFERENCE.md: initial 60 s, ×2, max 15 min. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 60_000, factor: 2, maxMs: 15 * 60_000 };

/** Full jitter: a uniform draw in [0, min(initial·factorⁿ, max)]. `random` is injected for tests. */
export function backoffDelay(n: number, policy: BackoffPolicy, random: () => number): number {
  const cap = Math.min(policy.initialMs * policy.factor ** Math.max(0, n), policy.maxMs);
  return Math.floor(random() * cap);
}
