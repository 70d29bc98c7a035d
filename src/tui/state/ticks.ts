/**
 * When the time on screen can next change its text, so the TUI redraws for the clock only then.
 * A duration reads "42s" under a minute and "12m", "3h04m" above (format.ts `short`): while one under a
 * minute is shown the screen ticks each second; otherwise once a minute, on the minute, so a board that
 * nothing changes redraws once a minute. A deadline (the daemon that should have started by now) ticks
 * at its own moment. Pure: App's `useNow` schedules the tick.
 */
import type { TuiSnapshot } from '../../client/live/source.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60_000;

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) || 0 : 0);

/**
 * The latest moment a duration on screen counts from: a task's last transition (its elapsed time on the
 * board, the history tab's "so far" and "created … ago", the architect's "waiting since" all count from
 * it or earlier) and the daemon's start (the header's uptime). A done task's elapsed time is fixed.
 */
export function latestShownSince(snap: Pick<TuiSnapshot, 'tasks' | 'daemon'>): number {
  let latest = snap.daemon ? time(snap.daemon.since) : 0;
  for (const t of snap.tasks) {
    if (t.state === 'done') continue;
    const at = time(t.history.at(-1)?.at ?? t.updatedAt);
    if (at > latest) latest = at;
  }
  return latest;
}

/** The next tick after `now`: the next second while a duration shown is under a minute, else the next minute; or an earlier deadline. */
export function nextTickAt(now: number, latestSince: number, deadlines: readonly number[] = []): number {
  const step = now - latestSince < MINUTE_MS ? SECOND_MS : MINUTE_MS;
  let next = (Math.floor(now / step) + 1) * step;
  for (const d of deadlines) if (d > now && d < next) next = d;
  return next;
}
