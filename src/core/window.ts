/**
 * The night window (`window: { start, stopStarting, end }`, local "HH:MM" times): new attempts start in
 * [start, stopStarting); running work may finish until `end`; at `end` what still runs is salvaged and
 * parked `window-ended`. A window may cross midnight (22:00 → 06:00 → 07:00). Pure: the caller passes the
 * local time of day (localMinute), so the decision is tested on a manual clock in any time zone.
 */

export interface NightWindow {
  start: string;
  stopStarting: string;
  end: string;
}

/** `open`: new work starts; `closing`: running work finishes, nothing new starts; `closed`: outside. */
export type WindowPhase = 'open' | 'closing' | 'closed';

export const MINUTES_PER_DAY = 24 * 60;

/** "HH:MM" (00:00–23:59) as minutes since midnight, or null. */
export function parseClockTime(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Minutes from `from` forward to `to` on a 24-hour dial (0 when equal). */
function forward(from: number, to: number): number {
  return (((to - from) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

/**
 * Why a window is unusable, or null. `stopStarting` must come after `start` and `end` no earlier than
 * `stopStarting`, going forward round the dial from `start` (so 22:00 / 06:00 / 07:00 is fine).
 */
export function windowProblem(w: NightWindow): string | null {
  for (const key of ['start', 'stopStarting', 'end'] as const)
    if (parseClockTime(w[key]) === null)
      return `${key}: expected a local time as "HH:MM" (00:00 to 23:59); found ${JSON.stringify(w[key])}`;
  const [s, p, e] = [w.start, w.stopStarting, w.end].map((t) => parseClockTime(t) ?? 0) as [
    number,
    number,
    number,
  ];
  if (p === s) return `stopStarting (${w.stopStarting}) equals start: no work could ever start`;
  if (forward(s, e) < forward(s, p))
    return `end (${w.end}) comes before stopStarting (${w.stopStarting}) going forward from start (${w.start}); expected start → stopStarting → end, e.g. 22:00 → 06:00 → 07:00`;
  return null;
}

/** The phase at `minute` (local minutes since midnight, fractions allowed). */
export function windowPhase(w: NightWindow, minute: number): WindowPhase {
  const s = parseClockTime(w.start) ?? 0;
  const p = parseClockTime(w.stopStarting) ?? 0;
  const e = parseClockTime(w.end) ?? 0;
  const at = forward(s, minute);
  if (at < forward(s, p)) return 'open';
  if (at < forward(s, e)) return 'closing';
  return 'closed';
}

/** Minutes from `minute` until the next boundary (start, stopStarting or end); always > 0. */
export function minutesToNextBoundary(w: NightWindow, minute: number): number {
  const marks = [w.start, w.stopStarting, w.end].map((t) => parseClockTime(t) ?? 0);
  const gaps = marks.map((b) => forward(minute, b)).filter((g) => g > 0);
  return gaps.length ? Math.min(...gaps) : MINUTES_PER_DAY;
}

/**
 * Whether the window ended between two observations: the phase went from open or closing to closed.
 * A daemon that starts in the closed phase has nothing to end.
 */
export function windowEnded(before: WindowPhase, after: WindowPhase): boolean {
  return before !== 'closed' && after === 'closed';
}

/** The line `status` and the TUI header show. */
export function describeWindow(w: NightWindow, phase: WindowPhase): string {
  switch (phase) {
    case 'open':
      return `window open: starting new work until ${w.stopStarting}`;
    case 'closing':
      return `window closing: finishing running work until ${w.end}, nothing new starts`;
    case 'closed':
      return `window closed: nothing starts until ${w.start}`;
  }
}

/**
 * The local time of day of `ms` as minutes since midnight (with seconds as a fraction), in `timeZone`
 * (an IANA name) or the process's own (TZ). Across a DST change the dial simply jumps with the clock.
 */
export function localMinute(ms: number, timeZone?: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute') + get('second') / 60;
}

/** One formatter per zone: the daemon asks several times a tick. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      ...(timeZone ? { timeZone } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}
