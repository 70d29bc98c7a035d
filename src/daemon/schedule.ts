/**
 * When the daemon must wake next, and why. Pure: the supervisor passes a snapshot (monotonic ms) and the
 * loop arms one timer for the answer. Events wake the daemon at once and are not here: the inbox and
 * requests watcher, runners' exit signals, probe results. These are the deadlines only, each present only
 * while something needs it:
 *
 * - `monitor`: the monitor cycle (defaults.monitorEvery), always;
 * - `inbox`: a spec file that was still being written, once it may have settled;
 * - `window`: the night window's next edge (windowWakeIn);
 * - `poll` and `liveness`: only while attempts run or are being collected (the poll is the fallback that
 *   catches an exit signal that was lost, and it mirrors the running logs);
 * - `load`: the next load sample, only while a task waits because no host has room;
 * - `probe`: the next half-open probe of a provider whose breaker is not closed (health.ts backs it off,
 *   30 s doubling to 15 min), none while one is in flight;
 * - `retry`: the end of a pending task's retry backoff.
 *
 * With nothing running and nothing due, the next wake is the monitor cycle (15 min by default).
 */

export type DueWhat = 'monitor' | 'inbox' | 'window' | 'poll' | 'liveness' | 'load' | 'probe' | 'retry';

export interface ScheduleInput {
  /** Monotonic ms now. */
  now: number;
  monitorAt: number;
  /** Infinity when no inbox file is settling. */
  inboxAt: number;
  /** Infinity without a night window. */
  windowAt: number;
  /** Attempts are running or being collected. */
  busy: boolean;
  pollAt: number;
  livenessAt: number;
  /** When the hosts' load is next sampled, or null when nothing waits for it. */
  loadAt: number | null;
  /** Providers whose breaker is not closed and that have no probe in flight: their next probe. */
  probes: readonly { provider: string; at: number }[];
  /** Pending tasks in retry backoff: when each may start again (monotonic). */
  retries: readonly { task: string; at: number }[];
}

export interface Due {
  /** Monotonic ms; Infinity when nothing is due. */
  at: number;
  what: DueWhat | null;
  /** The provider or task it is about, if any. */
  subject?: string;
}

/** The earliest deadline; on a tie, the first in the order of ScheduleInput's fields. */
export function nextDue(input: ScheduleInput): Due {
  let best: Due = { at: Infinity, what: null };
  const consider = (at: number, what: DueWhat, subject?: string) => {
    if (at < best.at) best = subject === undefined ? { at, what } : { at, what, subject };
  };
  consider(input.monitorAt, 'monitor');
  consider(input.inboxAt, 'inbox');
  consider(input.windowAt, 'window');
  if (input.busy) {
    consider(input.pollAt, 'poll');
    consider(input.livenessAt, 'liveness');
  }
  if (input.loadAt !== null) consider(input.loadAt, 'load');
  for (const p of input.probes) consider(p.at, 'probe', p.provider);
  for (const r of input.retries) consider(r.at, 'retry', r.task);
  return best;
}

/** The longest the daemon sleeps toward a night-window edge far away, and the shortest. */
export const WINDOW_WAKE_MAX_MS = 15 * 60_000;
export const WINDOW_WAKE_MIN_MS = 60_000;

/**
 * How long to sleep toward a window edge `distanceMs` away. The edge is computed from the local wall
 * clock, which a DST change or a person setting the clock can move: so the daemon wakes to compute it
 * again at half the distance (at most 15 min, at least 1 min ahead), and at the edge itself (+50 ms, so
 * the edge has passed) once it is within a minute. Six hours before an edge that is ~10 wakes, not 360.
 */
export function windowWakeIn(distanceMs: number): number {
  const atEdge = Math.max(0, distanceMs) + 50;
  return Math.min(atEdge, Math.max(WINDOW_WAKE_MIN_MS, Math.min(distanceMs / 2, WINDOW_WAKE_MAX_MS)));
}

export interface LoadWantInput {
  /** Attempts given up on an unreachable host wait for it to answer (a sample is how it is heard). */
  abandoned: boolean;
  anyPending: boolean;
  /** Dispatch frozen for everyone, the night's budget reached, or the night window closed. */
  closed: boolean;
  /** Each configured provider: whether it could take a task now if a host had room. */
  providers: readonly { frozen: boolean; breakerClosed: boolean; budget: boolean }[];
}

/**
 * Whether the tick samples stale host load before dispatch: only if a launch could follow (some task
 * pending and some provider able to take it) or an abandoned attempt waits for its host. A queue of
 * frozen tasks, or one behind a dead provider, spawns nothing.
 */
export function wantsLoadSample(input: LoadWantInput): boolean {
  if (input.abandoned) return true;
  if (!input.anyPending || input.closed) return false;
  return input.providers.some((p) => !p.frozen && !p.budget && p.breakerClosed);
}
