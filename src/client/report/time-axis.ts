/**
 * The night's active time (activeSpan, from the records; activeMs, the divisor of per-hour figures) and
 * the charts' time axis: the active time (the whole window when nothing happened), widened to whole buckets of a round size chosen so that the chart has a readable
 * number of bars: 5 minutes for a one-hour night, an hour for a twelve-hour one.
 */
import type { TaskRecord } from '../../core/task.js';
import type { ReportWindow, TimelineEntry } from './model.js';
import { duration, shortTime } from './text.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Bucket sizes, smallest first, each a round figure on a clock. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);
/** The most buckets a chart has (one more when the active time straddles a boundary). */
export const MAX_BUCKETS = 16;

/** The shortest active time per-hour figures divide by: a single instant of activity is not a rate. */
export const MIN_ACTIVE_MS = MINUTE;

/** The active time per-hour figures divide by, in ms: 0 with no activity, else at least a minute. */
export function activeMs(w: Pick<ReportWindow, 'activeFrom' | 'activeUntil'>): number {
  if (!w.activeFrom || !w.activeUntil) return 0;
  return Math.max(Date.parse(w.activeUntil) - Date.parse(w.activeFrom), MIN_ACTIVE_MS);
}

export interface TimeAxis {
  /** The first bucket's start: the active time's start, rounded down to a bucket. */
  from: number;
  /** The last bucket's end: the active time's end, rounded up. */
  until: number;
  bucketMs: number;
  buckets: number;
}

export function timeAxis(w: ReportWindow): TimeAxis {
  const start = Date.parse(w.activeFrom ?? w.since);
  const end = Date.parse(w.activeUntil ?? w.until);
  const span = Math.max(end - start, 1);
  const bucketMs =
    STEPS.find((step) => span / step <= MAX_BUCKETS) ?? Math.ceil(span / MAX_BUCKETS / DAY) * DAY;
  const from = Math.floor(start / bucketMs) * bucketMs;
  const until = Math.max(Math.ceil(end / bucketMs) * bucketMs, from + bucketMs);
  return { from, until, bucketMs, buckets: Math.round((until - from) / bucketMs) };
}

/** The bucket starts to label: every bucket, or every k-th, at most `max` of them. */
export function tickTimes(axis: TimeAxis, max: number): number[] {
  const every = Math.ceil(axis.buckets / max);
  const ticks: number[] = [];
  for (let b = 0; b <= axis.buckets; b += every) ticks.push(axis.from + b * axis.bucketMs);
  return ticks;
}

/** "22:05"; with the day in front ("11-27 22:05") when the axis spans more than a day. */
export function tickLabel(axis: TimeAxis, t: number): string {
  const iso = new Date(t).toISOString();
  return axis.until - axis.from > DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** "active 2026-11-26 20:00 → 2026-11-27 03:00 (7h)", or "no activity". */
export function activeText(w: ReportWindow): string {
  if (!w.activeFrom || !w.activeUntil) return 'no activity';
  const span = Date.parse(w.activeUntil) - Date.parse(w.activeFrom);
  return `active ${shortTime(w.activeFrom)} → ${shortTime(w.activeUntil)} (${duration(span)})`;
}

/**
 * The night's first and last activity inside the window: attempts (clipped to it; a running one runs to
 * `until`), state changes (not the queueing: a spec may wait hours for the night to start), merges and
 * timeline entries. Null when nothing happened.
 */
export function activeSpan(
  tasks: readonly TaskRecord[],
  timeline: readonly TimelineEntry[],
  since: number,
  until: number,
): { from: number; until: number } | null {
  const ms = (iso: string): number => Date.parse(iso);
  const times: number[] = timeline.map((e) => ms(e.at));
  const clip = (t: number): number => Math.min(Math.max(t, since), until);
  for (const t of tasks) {
    for (const a of t.attempts) {
      const start = ms(a.startedAt);
      const end = a.endedAt ? ms(a.endedAt) : until;
      if (start <= until && end >= since) times.push(clip(start), clip(end));
    }
    for (const h of t.history) if (h.from !== null) times.push(ms(h.at));
    if (t.merge) times.push(ms(t.merge.at));
  }
  let span: { from: number; until: number } | null = null;
  for (const t of times) {
    if (!(t >= since && t <= until)) continue;
    span = span ? { from: Math.min(span.from, t), until: Math.max(span.until, t) } : { from: t, until: t };
  }
  return span;
}
