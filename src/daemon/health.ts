/**
 * Provider health: a breaker and a live concurrency limit per provider, moved by negative feedback
 * (Postfix-style). Pure: every function takes the state and the time and returns a new state.
 *
 *  - Before its first dispatch a provider is `unprobed`: it gets zero dispatches until a probe passes.
 *  - closed → (provider-attributed failure) → `probing`: zero dispatches until a probe passes; the
 *    first failure of a cohort halves the live limit (at least 1).
 *  - A whole failed cohort, or a failed probe → `open`; after a jittered backoff (30 s → 15 min) it is
 *    due for a half-open probe; a passing probe closes it.
 *  - A clean window of `limit` successes raises the limit by one, never above the ceiling.
 */
export type BreakerState = 'unprobed' | 'closed' | 'probing' | 'open';

export interface ProviderHealth {
  name: string;
  ceiling: number;
  limit: number;
  breaker: BreakerState;
  reason: string;
  /** When the next probe may run (open breakers wait; others probe at once). */
  nextProbeAt: number;
  backoffMs: number;
  /** The half-open probe schedule: first wait and cap. */
  probeBackoff: { initialMs: number; maxMs: number };
  probeInFlight: boolean;
  lastProbe: { ok: boolean; reason: string; at: number } | null;
  /** Successes since the last change of the limit. */
  cleanStreak: number;
  /** Provider failures in the current cohort, and its size when it started. */
  cohortFailures: number;
  cohortSize: number;
  /** History of limit changes, for reports. */
  limitHistory: { at: number; limit: number; reason: string }[];
}

export const PROBE_BACKOFF = { initialMs: 30_000, maxMs: 15 * 60_000 };

export function initialHealth(
  name: string,
  ceiling: number,
  now: number,
  probeBackoff: { initialMs: number; maxMs: number } = PROBE_BACKOFF,
): ProviderHealth {
  const limit = Math.min(2, ceiling);
  return {
    name,
    ceiling,
    limit,
    breaker: 'unprobed',
    reason: 'not probed yet',
    nextProbeAt: now,
    backoffMs: probeBackoff.initialMs,
    probeBackoff,
    probeInFlight: false,
    lastProbe: null,
    cleanStreak: 0,
    cohortFailures: 0,
    cohortSize: limit,
    limitHistory: [{ at: now, limit, reason: 'start: min(2, ceiling)' }],
  };
}

export function canDispatch(h: ProviderHealth, running: number): boolean {
  return h.breaker === 'closed' && running < h.limit;
}

export function probeDue(h: ProviderHealth, now: number): boolean {
  return !h.probeInFlight && h.breaker !== 'closed' && now >= h.nextProbeAt;
}

export function probeStarted(h: ProviderHealth): ProviderHealth {
  return { ...h, probeInFlight: true };
}

export function probeFinished(
  h: ProviderHealth,
  ok: boolean,
  reason: string,
  now: number,
  random: () => number,
): ProviderHealth {
  const lastProbe = { ok, reason, at: now };
  if (ok) {
    return {
      ...h,
      probeInFlight: false,
      lastProbe,
      breaker: 'closed',
      reason: `probe passed: ${reason}`,
      backoffMs: h.probeBackoff.initialMs,
      cohortFailures: 0,
      cohortSize: h.limit,
    };
  }
  // Jittered backoff: between half and all of the current step, then double the step.
  const wait = Math.round(h.backoffMs * (0.5 + random() / 2));
  return {
    ...h,
    probeInFlight: false,
    lastProbe,
    breaker: 'open',
    reason: `probe failed: ${reason}`,
    nextProbeAt: now + wait,
    backoffMs: Math.min(h.backoffMs * 2, h.probeBackoff.maxMs),
  };
}

/** A provider-attributed failure of one attempt. */
export function providerFailed(h: ProviderHealth, reason: string, now: number): ProviderHealth {
  const cohortFailures = h.cohortFailures + 1;
  const firstOfCohort = h.cohortFailures === 0;
  const limit = firstOfCohort ? Math.max(1, Math.floor(h.limit / 2)) : h.limit;
  const wholeCohort = cohortFailures >= Math.max(1, h.cohortSize);
  const limitHistory =
    limit !== h.limit
      ? [...h.limitHistory, { at: now, limit, reason: `provider failure: ${reason}` }]
      : h.limitHistory;
  return {
    ...h,
    limit,
    limitHistory,
    cleanStreak: 0,
    cohortFailures,
    breaker: wholeCohort ? 'open' : h.breaker === 'open' ? 'open' : 'probing',
    reason: wholeCohort
      ? `whole cohort failed (${cohortFailures}): ${reason}`
      : `re-probing after: ${reason}`,
    nextProbeAt: wholeCohort ? now + h.backoffMs : now,
  };
}

/** A clean attempt (the executor finished and produced output). */
export function attemptSucceeded(h: ProviderHealth, now: number): ProviderHealth {
  const cleanStreak = h.cleanStreak + 1;
  if (cleanStreak >= h.limit && h.limit < h.ceiling) {
    const limit = h.limit + 1;
    return {
      ...h,
      limit,
      cleanStreak: 0,
      cohortFailures: 0,
      cohortSize: limit,
      limitHistory: [...h.limitHistory, { at: now, limit, reason: `${cleanStreak} clean runs` }],
    };
  }
  return { ...h, cleanStreak, cohortFailures: 0, cohortSize: h.limit };
}
