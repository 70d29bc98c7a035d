/**
 * When the daemon must wake next, and why. Pure: the supervisor passes a snapshot (monotonic ms) and the
 * loop arms one timer for the answer. Events wake the daemon at once and are not here: the inbox and
 * requests watcher, runners' exit signals, probe results. These are the deadlines only, each present only
 * while something needs it:
 *
 * - `monitor`: the monitor cycle (defaults.monitorEvery), always;
 * - `inbox`: a spec file that was still being written, once it may have settled;
 * - `window`: the night window's next edge (a clock set by hand or a DST change moves it: clockMoved,
 *   looked at every minute without a tick, wakes the loop to compute it again);
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

/** How often the wall clock is compared with the monotonic one (no tick unless it moved). */
export const CLOCK_CHECK_MS = 60_000;
/** A move smaller than this is drift, not a clock set by hand or a DST change. */
export const CLOCK_SLACK_MS = 1000;

export interface ClockLook {
  /** Wall-clock and monotonic ms when looked. */
  wall: number;
  mono: number;
  /** The night window's next edge as computed then (monotonic ms; Infinity without a window). */
  windowAt: number;
}

/**
 * Whether the deadlines must be computed again between two looks at the clock (CLOCK_CHECK_MS apart,
 * with no tick): the wall clock moved against the monotonic one (set by hand, an NTP step), which moves
 * every retry backoff and the window's edges, or the window's next edge moved by itself (a DST change
 * moves local time). Deadlines are armed on the monotonic clock, so neither would be noticed otherwise.
 */
export function clockMoved(before: ClockLook, now: ClockLook): boolean {
  const jump = now.wall - before.wall - (now.mono - before.mono);
  if (Math.abs(jump) > CLOCK_SLACK_MS) return true;
  if (before.windowAt === Infinity || now.windowAt === Infinity) return before.windowAt !== now.windowAt;
  return Math.abs(now.windowAt - before.windowAt) > CLOCK_SLACK_MS;
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
