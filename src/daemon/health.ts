/**
 * Provider health: a breaker and a live concurrency limit per provider, moved by negative feedback
 * (Postfix-style). Pure: every function takes the state and the time and returns a new state.
 *
 *  - Before its first dispatch a provider is `unprobed`: it gets zero dispatches until a probe passes.
 *  - closed → (provider-attributed failure) → `probing`: zero dispatches until a probe passes; the
 *    first failure of a cohort halves the live limit (at least 1).
 *  - A whole failed cohort, or a failed probe → `open`; after a jittered backoff (30 s → 15 min) it is
 *    due for a half-open probe; a passing probe closes it.
 *  - A whole cohort that fails right after a passing probe (the probe is tool-less, the runs are not:
 *    a model that answers the probe and returns 529 to every run) doubles the next half-open wait for
 *    each such cycle, up to the max, until a run succeeds; the reason says the probe passes while runs
 *    fail. Without this the breaker flaps at its first wait all night.
 *  - A crash on start (the agent died at once, with no output) is ambiguous: the provider, or one spec
 *    that kills its agent. A cohort whose failures are all such crashes is whole only once two different
 *    tasks have crashed since the provider's last clean run; until then each crash re-probes. One spec
 *    crashing again and again turns poison (outcomes.ts) and never holds its provider's other work back.
 *  - A clean window of `limit` successes raises the limit by one, never above the ceiling.
 *  - Grades below the floor cap the live limit (`gradeCap`, from grades.ts) over all of the above; the
 *    limit earned underneath is kept, and is the live limit again once the cap lifts.
 */
import type { GradeCap } from './grades.js';

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
  /** Whether the current cohort holds a failure other than a crash on start. */
  cohortPlain: boolean;
  /** The tasks whose agent crashed on start since the provider's last clean run. */
  crashedSinceSuccess: readonly string[];
  /** A probe passed and no run has succeeded since: a whole-cohort failure now is a flap. */
  sincePassingProbe: boolean;
  /** Cycles of "probe passes, then the whole cohort fails" since the last successful run. */
  flaps: number;
  /** A cap on the live limit from the provider's recent grades, or null. */
  gradeCap: GradeCap | null;
  /** History of limit changes, for reports. */
  limitHistory: { at: number; limit: number; reason: string }[];
}

/** A cohort's failure counts, emptied. */
const NEW_COHORT = { cohortFailures: 0, cohortPlain: false } as const;

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
    cohortPlain: false,
    crashedSinceSuccess: [],
    sincePassingProbe: false,
    flaps: 0,
    gradeCap: null,
    limitHistory: [{ at: now, limit, reason: 'start: min(2, ceiling)' }],
  };
}

/** How many attempts may run now: the limit, under the grades' cap if there is one. */
export function liveLimit(h: ProviderHealth): number {
  return h.gradeCap ? Math.min(h.limit, h.gradeCap.limit) : h.limit;
}

export function canDispatch(h: ProviderHealth, running: number): boolean {
  return h.breaker === 'closed' && running < liveLimit(h);
}

/** Sets (or lifts, with null) the cap from the provider's grades; a change of the live limit is recorded. */
export function withGradeCap(h: ProviderHealth, cap: GradeCap | null, now: number): ProviderHealth {
  if (cap?.limit === h.gradeCap?.limit && cap?.reason === h.gradeCap?.reason) return h;
  const next = { ...h, gradeCap: cap };
  const before = liveLimit(h);
  const after = liveLimit(next);
  if (before === after) return next;
  const reason = cap ? `grades: ${cap.reason}` : 'grades recovered to the floor';
  return { ...next, limitHistory: [...h.limitHistory, { at: now, limit: after, reason }] };
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
      reason: h.flaps
        ? `probe passed: ${reason} (but runs failed after the last ${h.flaps} passing probe(s))`
        : `probe passed: ${reason}`,
      backoffMs: h.probeBackoff.initialMs,
      ...NEW_COHORT,
      cohortSize: h.limit,
      sincePassingProbe: true,
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

/**
 * Which task failed and whether its failure was a crash on start (failure rule `crash`); without it, a
 * failure counts as the provider's plainly.
 */
export interface FailedRun {
  task: string;
  crash: boolean;
}

/** A provider-attributed failure of one attempt. */
export function providerFailed(
  h: ProviderHealth,
  reason: string,
  now: number,
  run?: FailedRun,
): ProviderHealth {
  const cohortFailures = h.cohortFailures + 1;
  const firstOfCohort = h.cohortFailures === 0;
  const limit = firstOfCohort ? Math.max(1, Math.floor(h.limit / 2)) : h.limit;
  const crashTask = run?.crash ? run.task : null;
  const crashedSinceSuccess =
    crashTask === null || h.crashedSinceSuccess.includes(crashTask)
      ? h.crashedSinceSuccess
      : [...h.crashedSinceSuccess, crashTask];
  const cohortPlain = h.cohortPlain || crashTask === null;
  // Crashes of one task alone are no verdict on the provider: that task may be what kills its agent.
  const wholeCohort =
    cohortFailures >= Math.max(1, h.cohortSize) && (cohortPlain || crashedSinceSuccess.length >= 2);
  const limitHistory =
    limit !== h.limit
      ? [...h.limitHistory, { at: now, limit, reason: `provider failure: ${reason}` }]
      : h.limitHistory;
  const next = {
    ...h,
    limit,
    limitHistory,
    cleanStreak: 0,
    cohortFailures,
    cohortPlain,
    crashedSinceSuccess,
  };
  if (!wholeCohort) {
    return {
      ...next,
      breaker: h.breaker === 'open' ? 'open' : 'probing',
      reason: `re-probing after: ${reason}`,
      nextProbeAt: now,
    };
  }
  if (!h.sincePassingProbe) {
    return {
      ...next,
      breaker: 'open',
      reason: h.flaps
        ? `probe passes but runs fail (${h.flaps}×); whole cohort failed (${cohortFailures}): ${reason}`
        : `whole cohort failed (${cohortFailures}): ${reason}`,
      nextProbeAt: now + h.backoffMs,
    };
  }
  // The cohort failed right after a passing probe: the probe cannot tell this provider's trouble, so
  // each such cycle doubles the wait before the next one.
  const flaps = h.flaps + 1;
  const backoffMs = Math.min(h.probeBackoff.initialMs * 2 ** flaps, h.probeBackoff.maxMs);
  return {
    ...next,
    breaker: 'open',
    reason:
      `probe passes but runs fail (${flaps}× since the last good run; next probe in ${Math.round(backoffMs / 1000)}s); ` +
      `whole cohort failed (${cohortFailures}): ${reason}`,
    nextProbeAt: now + backoffMs,
    backoffMs,
    sincePassingProbe: false,
    flaps,
  };
}

/** A clean attempt (the executor finished and produced output): runs work, so flaps are forgotten. */
export function attemptSucceeded(h: ProviderHealth, now: number): ProviderHealth {
  const cleanStreak = h.cleanStreak + 1;
  const good = {
    ...h,
    sincePassingProbe: false,
    flaps: 0,
    crashedSinceSuccess: [],
    reason: h.flaps ? 'runs succeed again' : h.reason,
  };
  if (cleanStreak >= h.limit && h.limit < h.ceiling) {
    const limit = h.limit + 1;
    return {
      ...good,
      limit,
      cleanStreak: 0,
      ...NEW_COHORT,
      cohortSize: limit,
      limitHistory: [...h.limitHistory, { at: now, limit, reason: `${cleanStreak} clean runs` }],
    };
  }
  return { ...good, cleanStreak, ...NEW_COHORT, cohortSize: h.limit };
}
