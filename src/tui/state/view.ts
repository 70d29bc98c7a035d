/**
 * Derived views: what the header and the providers pane show, computed from a snapshot. Pure; the
 * components only lay the results out.
 */
import { TASK_STATES, type TaskRecord, type TaskState } from '../../core/task.js';
import { nightStartOf, providersView, type ProviderView } from '../../client/providers.js';
import { gradeToPoints, pointsToGrade } from '../../client/report/grades.js';
import type { TuiSnapshot } from '../../client/live/source.js';
import { describeNightEnd, nightEnd } from '../../client/night.js';
import { SPARK_BARS } from '../theme/theme.js';
import type { NightshiftEvent } from '../../core/events.js';
import { clockTime, oneLine, short } from './format.js';

export const HOUR_MS = 3_600_000;
/** "Tonight" for averages: the last twelve hours. */
export const TONIGHT_MS = 12 * HOUR_MS;
export const SPARK_HOURS = 8;

export interface HeaderView {
  workspace: string;
  daemon: string;
  daemonAlive: boolean;
  frozen: boolean;
  frozenProviders: readonly string[];
  /** Tasks per state; `running` counts only executors still running (they hold a slot). */
  counts: Readonly<Record<TaskState, number>>;
  /** Running tasks whose executor exited and whose branch is being collected (no slot held). */
  collecting: number;
  perHour: number;
  avgGrade: string;
  /** The night window's state as the daemon published it, or null (no window, no daemon). */
  window?: string | null;
  /** "the night is over: 3 merged · …" once nothing can progress (client/night.ts), else null. */
  night?: string | null;
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) || 0 : 0);
const providerOf = (t: TaskRecord) => t.attempts.at(-1)?.provider ?? null;
/** A running task whose executor has exited: its branch is being collected. */
export const isCollecting = (t: TaskRecord) =>
  t.state === 'running' && t.attempts.at(-1)?.outcome === 'collecting';
/** A task whose executor is running (and holds a slot). */
const executorRunning = (t: TaskRecord) => t.state === 'running' && !isCollecting(t);

/** "B+ (3.31)" over the graded tasks, or "-". */
export function averageGrade(tasks: readonly TaskRecord[]): string {
  const points = tasks.map((t) => gradeToPoints(t.review?.grade)).filter((p): p is number => p !== null);
  if (!points.length) return '-';
  const avg = points.reduce((a, b) => a + b, 0) / points.length;
  return `${pointsToGrade(avg)} (${avg.toFixed(2)})`;
}

const gradedTonight = (tasks: readonly TaskRecord[], now: number) =>
  tasks.filter((t) => t.review?.grade && now - time(t.updatedAt) <= TONIGHT_MS);

const mergedWithin = (tasks: readonly TaskRecord[], now: number, ms: number) =>
  tasks.filter((t) => t.state === 'done' && t.merge && now - time(t.merge.at) <= ms);

export function headerView(
  snap: TuiSnapshot,
  now: number,
  opts: { readOnly: boolean; daemonRequested: boolean; daemonFailed?: boolean },
): HeaderView {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  let collecting = 0;
  for (const t of snap.tasks) {
    if (isCollecting(t)) collecting++;
    else counts[t.state]++;
  }
  const d = snap.daemon;
  const last = lastDaemonEvent(snap.events);
  const start = opts.readOnly ? 'start one with `nightshift daemon`' : 'press D to start it';
  const daemon = d
    ? `daemon pid ${d.pid}${d.host ? ` on ${d.host}` : ''} · up ${short(now - time(d.since))}`
    : opts.daemonRequested
      ? 'starting the daemon…'
      : opts.daemonFailed
        ? 'the daemon did not start: run `nightshift daemon` in a shell to see why'
        : last?.type === 'daemon.stopped'
          ? `the daemon stopped at ${clockTime(last.time)}: ${start} · ${oneLine(last.reason)}`
          : last?.type === 'daemon.started'
            ? `the daemon is gone (started ${clockTime(last.time)}, no stop recorded): ${start}`
            : opts.readOnly
              ? 'no daemon (read-only: start one with `nightshift daemon`)'
              : 'no daemon: press D to start';
  return {
    workspace: snap.workspace,
    daemon,
    daemonAlive: d !== null,
    frozen: snap.toggles.frozen,
    frozenProviders: snap.toggles.frozenProviders,
    counts,
    collecting,
    perHour: mergedWithin(snap.tasks, now, HOUR_MS).length,
    avgGrade: averageGrade(gradedTonight(snap.tasks, now)),
    window: d ? (snap.daemonState?.window ?? null) : null,
    night: nightBanner(snap),
  };
}

type DaemonEvent = Extract<NightshiftEvent, { type: 'daemon.started' | 'daemon.stopped' }>;

/** The newest start or stop of a daemon in the event log's tail, or null. */
export function lastDaemonEvent(events: readonly NightshiftEvent[]): DaemonEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'daemon.started' || e.type === 'daemon.stopped') return e;
  }
  return null;
}

/** Whether a daemon started at or after `since` (ms), as the event log says. */
export function daemonStartedSince(events: readonly NightshiftEvent[], since: number): boolean {
  const last = lastDaemonEvent(events);
  return last !== null && time(last.time) >= since;
}

/** The banner for the night's end: what the daemon published says nothing is left to do. */
export function nightBanner(snap: Pick<TuiSnapshot, 'tasks' | 'daemon' | 'daemonState'>): string | null {
  const end = nightEnd(snap);
  return end ? describeNightEnd(end) : null;
}

/** One bar per hour, oldest first, scaled to the busiest hour. */
export function sparkline(counts: readonly number[]): string {
  const max = Math.max(0, ...counts);
  return counts
    .map((c) => (max === 0 ? SPARK_BARS[0] : SPARK_BARS[Math.round((c / max) * (SPARK_BARS.length - 1))]))
    .join('');
}

export function hourlyMerges(tasks: readonly TaskRecord[], now: number, hours = SPARK_HOURS): number[] {
  const buckets = new Array<number>(hours).fill(0);
  for (const t of tasks) {
    if (t.state !== 'done' || !t.merge) continue;
    const age = Math.floor((now - time(t.merge.at)) / HOUR_MS);
    if (age >= 0 && age < hours) buckets[hours - 1 - age]! += 1;
  }
  return buckets;
}

/** A provider as the pane shows it: client/providers.ts's view, plus tonight's throughput and grades. */
export interface ProviderRowView extends ProviderView {
  spark: string;
  perHour: number;
  avgGrade: string;
}

export interface HostRowView {
  name: string;
  kind: string;
  over: readonly string[];
  running: number;
}

/** Without a daemon, tonight's usage is the last 12 hours' (the report's default window). */
const NIGHT_FALLBACK_MS = 12 * 60 * 60 * 1000;

export function providerRows(snap: TuiSnapshot, now: number): ProviderRowView[] {
  const view = providersView({
    providers: snap.providers,
    daemonState: snap.daemonState,
    daemonUp: snap.daemon !== null,
    tasks: snap.tasks,
    toggles: snap.toggles,
    // The pane shows a grade throttle only as the daemon publishes it.
    gradeFloor: null,
    nightStart: nightStartOf(snap.daemonState, now - NIGHT_FALLBACK_MS),
  });
  return view.map((p) => {
    const mine = snap.tasks.filter((t) => providerOf(t) === p.name);
    return {
      ...p,
      spark: sparkline(hourlyMerges(mine, now)),
      perHour: mergedWithin(mine, now, HOUR_MS).length,
      avgGrade: averageGrade(gradedTonight(mine, now)),
    };
  });
}

export function hostRows(snap: TuiSnapshot): HostRowView[] {
  return snap.hosts.map((h) => ({
    name: h.name,
    kind: h.kind,
    over: snap.daemonState?.hosts.find((x) => x.name === h.name)?.over ?? [],
    running: snap.tasks.filter((t) => executorRunning(t) && t.attempts.at(-1)?.host === h.name).length,
  }));
}

/** Whether a gate runs at the next review: its toggle, else the config. */
export function gateEnabled(snap: TuiSnapshot, name: TuiSnapshot['gates'][number]['name']): boolean {
  return snap.toggles.gates[name] ?? snap.gates.find((g) => g.name === name)?.enabled ?? false;
}
