/**
 * When the merge queue stops re-staging a task whose merge keeps losing races (docs/merge.md): a lost
 * race is main moving under the merge (locally, or on the remote: a push refused as behind, or one that
 * lost the ref's lock to a concurrent update). A loss to a new commit on main is progress elsewhere, not
 * the task's fault: the next try stages on that commit, however many came before. What ends the
 * retries is time (main keeps moving for longer than a window) or a lack of progress (tries lost while
 * main stayed where it was: something else holds the remote's ref). Pure: the caller passes the clock.
 */

export interface MergeRetryPolicy {
  /** How long a merge keeps re-staging on a main that keeps moving. */
  windowMs: number;
  /** Tries lost with no new commit on main before the merge gives up. */
  maxStale: number;
}

export const MERGE_RETRY_POLICY: MergeRetryPolicy = { windowMs: 30 * 60_000, maxStale: 3 };

export interface MergeRetries {
  /** When the first try started (ms). */
  startedAt: number;
  /** The main the last try staged on; null before the first try. */
  lastMain: string | null;
  /** Tries started so far. */
  tries: number;
  /** Tries lost while main stayed where it was. */
  stale: number;
}

export type MergeTry = { go: true; state: MergeRetries } | { go: false; reason: string };

export function startMergeRetries(now: number): MergeRetries {
  return { startedAt: now, lastMain: null, tries: 0, stale: 0 };
}

/**
 * Whether to start another try staged on `main` (its tip now, after a fetch). Every try but the first
 * follows a lost race: it counts against the task only when main is where the last try staged.
 */
export function nextMergeTry(
  state: MergeRetries,
  main: string,
  now: number,
  policy: MergeRetryPolicy = MERGE_RETRY_POLICY,
): MergeTry {
  if (state.lastMain === null) return { go: true, state: { ...state, lastMain: main, tries: 1 } };
  const stale = state.stale + (main === state.lastMain ? 1 : 0);
  const tries = state.tries + 1;
  if (stale >= policy.maxStale) {
    return {
      go: false,
      reason: `${stale} tries lost a race while main stayed at ${main.slice(0, 12)} (something else holds it); merge gave up after ${state.tries}`,
    };
  }
  const elapsed = now - state.startedAt;
  if (elapsed >= policy.windowMs) {
    return {
      go: false,
      reason: `main kept moving for ${Math.round(elapsed / 60_000)} min (${state.tries} tries, each lost to a new commit); merge gave up`,
    };
  }
  return { go: true, state: { startedAt: state.startedAt, lastMain: main, tries, stale } };
}
