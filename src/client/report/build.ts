/**
 * Builds the report from what was recorded: task records and the event log. Pure: the caller reads the
 * files and passes the window; nothing here touches the disk or the clock.
 */
import { triageNotes } from './triage.js';
import type { NightshiftEvent } from '../../core/events.js';
import { TASK_STATES, type Attempt, type TaskRecord, type TaskState } from '../../core/task.js';
import { buildCost } from './cost.js';
import { gradeToPoints, pointsToGrade } from './grades.js';
import type {
  AttemptDigest,
  LimitChange,
  ProviderFigures,
  ReportData,
  ReportTotals,
  TaskDigest,
  TimelineEntry,
  TimelineKind,
} from './model.js';
import { followUpsOf } from './follow-ups.js';
import { attentionOf } from './attention.js';
import { activeMs, activeSpan } from './time-axis.js';

export interface BuildInput {
  tasks: readonly TaskRecord[];
  /** Every recorded event (any time): earlier ones give the state at the start of the window. */
  events: readonly NightshiftEvent[];
  since: number;
  until: number;
  /** Provider names from the config, in config order. */
  providers: readonly string[];
}

/** Outcomes that are slot time lost whoever is to blame. */
const WASTED_OUTCOMES = new Set(['killed', 'idle', 'timeout']);
/** The digest's order: what merged, then what needs a person, then what is still moving. */
const STATE_ORDER: readonly TaskState[] = ['done', 'failed', 'review', 'running', 'pending'];
const KIND_ORDER: readonly TimelineKind[] = ['killed', 'failed', 'breaker', 'parked', 'merged'];

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);
const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export function buildReport(input: BuildInput): ReportData {
  const { since, until } = input;
  const inWindow = (iso: string | null | undefined): boolean => {
    const t = ms(iso);
    return t >= since && t <= until;
  };
  const overlaps = (a: Attempt): boolean => {
    const start = ms(a.startedAt);
    const end = a.endedAt ? ms(a.endedAt) : until;
    return start <= until && end >= since;
  };
  const events = input.events.filter((e) => ms(e.time) <= until).sort((a, b) => ms(a.time) - ms(b.time));
  const windowEvents = events.filter((e) => ms(e.time) >= since);
  const eventTasks = new Set(windowEvents.flatMap((e) => ('task' in e && e.task ? [e.task] : [])));
  const lastUpdate = new Map<string, { time: string; reason: string }>();
  for (const e of events) if (e.type === 'task.updated') lastUpdate.set(e.task, e);
  const parkUpdates = new Map<string, { reason: string }>();

  const touched = input.tasks.filter(
    (t) =>
      inWindow(t.createdAt) ||
      inWindow(t.updatedAt) ||
      inWindow(t.merge?.at) ||
      eventTasks.has(t.id) ||
      t.history.some((h) => inWindow(h.at)) ||
      t.attempts.some(overlaps),
  );
  touched.sort(
    (a, b) =>
      STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
      a.createdAt.localeCompare(b.createdAt) ||
      a.id.localeCompare(b.id),
  );

  const digestAttempt = (a: Attempt): AttemptDigest => ({
    n: a.n,
    provider: a.provider,
    host: a.host,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    durationMs: Math.max(0, (a.endedAt ? ms(a.endedAt) : until) - ms(a.startedAt)) || 0,
    outcome: a.outcome,
    exitCode: a.exitCode,
    code: a.code ?? null,
    attribution: a.attribution,
    reason: a.reason,
  });

  const tasks: TaskDigest[] = touched.map((t) => {
    const update = t.parked ? lastUpdate.get(t.id) : undefined;
    const parkReason = update ? withoutSummary(update.reason, t) : undefined;
    if (parkReason) parkUpdates.set(t.id, { reason: parkReason });
    const startedAt = t.attempts[0]?.startedAt ?? null;
    const endedAt = taskEnd(t);
    const duration = startedAt && endedAt ? ms(endedAt) - ms(startedAt) : NaN;
    return {
      id: t.id,
      title: t.title,
      state: t.state,
      parked: t.parked,
      provider: t.attempts.at(-1)?.provider ?? null,
      round: t.round,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      attemptCount: t.attempts.length,
      attempts: t.attempts.map(digestAttempt),
      startedAt,
      endedAt,
      durationMs: Number.isFinite(duration) ? Math.max(0, duration) : null,
      gates: t.gates.map((g) => ({ name: g.name, passed: g.passed, durationMs: g.durationMs })),
      grade: t.review?.grade ?? null,
      verdict: t.review?.verdict ?? null,
      summary: t.review?.summary || null,
      merge: t.merge ? { sha: t.merge.sha, short: t.merge.sha.slice(0, 12), at: t.merge.at } : null,
      pullRequest: t.pullRequest ? { url: t.pullRequest.url, at: t.pullRequest.at } : null,
      failure: t.failure
        ? { code: t.failure.code, attribution: t.failure.attribution, reason: t.failure.reason }
        : null,
      why:
        t.state === 'failed' && t.failure
          ? `${t.failure.code} (${t.failure.attribution}): ${t.failure.reason}`
          : t.parked
            ? `${t.parked}${parkReason ? `: ${parkReason}` : ''}`
            : null,
    };
  });

  const hours = Math.max(until - since, 1) / 3_600_000;
  const timeline = buildTimeline(touched, events, inWindow, lastUpdate);
  const active = activeSpan(touched, timeline, since, until);
  // Per-hour figures are over the active time: a one-hour night in a 12-hour window is one hour long.
  const activeFrom = active ? new Date(active.from).toISOString() : null;
  const activeUntil = active ? new Date(active.until).toISOString() : null;
  const activeHours = activeMs({ activeFrom, activeUntil }) / 3_600_000;
  const perHour = (count: number): number => (activeHours ? round(count / activeHours, 2) : 0);
  const names = [...input.providers];
  const addName = (name: string | null | undefined): void => {
    if (name && !names.includes(name)) names.push(name);
  };
  for (const t of touched) for (const a of t.attempts) if (overlaps(a)) addName(a.provider);
  for (const e of windowEvents)
    if (e.type === 'provider.probe' || e.type === 'provider.health') addName(e.provider);

  const providers = names.map((name): ProviderFigures => {
    const attempts = touched.flatMap((t) => t.attempts.filter((a) => a.provider === name && overlaps(a)));
    const finished = attempts.filter((a) => a.outcome !== 'running');
    const clean = finished.filter((a) => a.outcome === 'exited' && (a.exitCode ?? 0) === 0);
    const merged = touched.filter((t) => inWindow(t.merge?.at) && gradedProvider(t) === name).length;
    const grades = touched.filter((t) => gradedProvider(t) === name).flatMap((t) => gradePointsOf(t));
    const durations = attempts.map((a) => digestAttempt(a).durationMs);
    const wasted = finished
      .filter(
        (a) => (a.attribution === 'provider' && a.outcome !== 'exited') || WASTED_OUTCOMES.has(a.outcome),
      )
      .map((a) => digestAttempt(a).durationMs);
    const health = events.filter(
      (e): e is Extract<NightshiftEvent, { type: 'provider.health' }> =>
        e.type === 'provider.health' && e.provider === name,
    );
    const latest = health.at(-1);
    const limitHistory: LimitChange[] = health
      .filter((e) => ms(e.time) >= since)
      .map((e) => ({ at: e.time, limit: e.limit, breaker: e.breaker, reason: e.reason }));
    const probes = windowEvents.filter(
      (e): e is Extract<NightshiftEvent, { type: 'provider.probe' }> =>
        e.type === 'provider.probe' && e.provider === name,
    );
    const failedProbes = probes.filter((p) => !p.ok);
    const lastFailed = failedProbes.at(-1);
    const average = mean(grades);
    return {
      name,
      configured: input.providers.includes(name),
      attempts: attempts.length,
      finished: finished.length,
      exitedCleanly: clean.length,
      successRate: finished.length ? round(clean.length / finished.length, 3) : null,
      merged,
      tasksPerHour: perHour(merged),
      graded: grades.length,
      averageGrade: average === null ? null : round(average, 2),
      averageGradeLetter: average === null ? null : pointsToGrade(average),
      slotMs: sum(durations),
      wastedMs: sum(wasted),
      limit: latest ? latest.limit : null,
      breaker: latest ? latest.breaker : null,
      limitHistory,
      probes: probes.length,
      probeFailures: failedProbes.length,
      lastProbeFailure: lastFailed
        ? { at: lastFailed.time, host: lastFailed.host, reason: lastFailed.reason }
        : null,
    };
  });

  const triage = triageNotes(events, inWindow);
  const allGrades = touched.flatMap((t) => gradePointsOf(t));
  const merged = touched.filter((t) => inWindow(t.merge?.at)).length;
  const average = mean(allGrades);
  const finished = sum(providers.map((p) => p.finished));
  const clean = sum(providers.map((p) => p.exitedCleanly));
  const byState = Object.fromEntries(
    TASK_STATES.map((s) => [s, touched.filter((t) => t.state === s).length]),
  ) as Record<TaskState, number>;
  const totals: ReportTotals = {
    tasks: touched.length,
    byState,
    merged,
    failed: byState.failed,
    parked: touched.filter((t) => t.parked).length,
    killed: timeline.filter((e) => e.kind === 'killed').length,
    attempts: sum(providers.map((p) => p.attempts)),
    finished,
    exitedCleanly: clean,
    successRate: finished ? round(clean / finished, 3) : null,
    tasksPerHour: perHour(merged),
    graded: allGrades.length,
    averageGrade: average === null ? null : round(average, 2),
    averageGradeLetter: average === null ? null : pointsToGrade(average),
    slotMs: sum(providers.map((p) => p.slotMs)),
    wastedMs: sum(providers.map((p) => p.wastedMs)),
    probeFailures: sum(providers.map((p) => p.probeFailures)),
    breakerEvents: timeline.filter((e) => e.kind === 'breaker').length,
  };

  return {
    window: {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      hours: round(hours, 2),
      activeFrom,
      activeUntil,
      activeHours: round(activeHours, 2),
    },
    attention: attentionOf(touched, parkUpdates),
    tasks,
    providers,
    timeline,
    totals,
    cost: buildCost(input.tasks, since, until, input.providers, windowEvents),
    followUps: followUpsOf(windowEvents),
    ...(triage.length ? { triage } : {}),
  };
}

function buildTimeline(
  tasks: readonly TaskRecord[],
  events: readonly NightshiftEvent[],
  inWindow: (iso: string | null | undefined) => boolean,
  lastUpdate: ReadonlyMap<string, { time: string; reason: string }>,
): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const byId = new Map<string, TaskRecord>(tasks.map((t) => [t.id, t]));
  // A kill the daemon carried out is in the log (task.killing) and, when it fails the task, in the
  // record too (an attempt `killed`): one kill, counted from the event.
  const killEvents = new Set(
    events.flatMap((e) => (e.type === 'task.killing' ? [`${e.task}#${e.attempt}`] : [])),
  );
  for (const t of tasks) {
    for (const h of t.history) {
      if (!inWindow(h.at)) continue;
      if (h.to === 'done') {
        const sha = t.merge?.sha.slice(0, 12);
        out.push({
          at: h.at,
          kind: 'merged',
          task: t.id,
          provider: gradedProvider(t),
          host: null,
          text: `${t.title}${sha ? ` — merged as ${sha}` : ''}`,
        });
      } else if (h.to === 'failed') {
        const attempt = t.attempts.find((a) => a.endedAt === h.at);
        if (attempt?.outcome === 'killed' && killEvents.has(`${t.id}#${attempt.n}`)) continue;
        const code = attempt?.code ?? (t.history.at(-1) === h ? t.failure?.code : undefined);
        out.push({
          at: h.at,
          kind: attempt?.outcome === 'killed' ? 'killed' : 'failed',
          task: t.id,
          provider: attempt?.provider ?? null,
          host: attempt?.host ?? null,
          text: `${t.title}: ${code ? `${code}: ` : ''}${h.reason}`,
        });
      }
    }
    if (t.parked) {
      const update = lastUpdate.get(t.id);
      const at = update?.time ?? t.updatedAt;
      if (inWindow(at)) {
        out.push({
          at,
          kind: 'parked',
          task: t.id,
          provider: t.attempts.at(-1)?.provider ?? null,
          host: null,
          text: `${t.title}: ${t.parked}${update ? ` — ${withoutSummary(update.reason, t)}` : ''}`,
        });
      }
    }
  }
  const breakers = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'provider.health') {
      const before = breakers.get(e.provider) ?? 'closed';
      breakers.set(e.provider, e.breaker);
      if (before !== e.breaker && inWindow(e.time)) {
        out.push({
          at: e.time,
          kind: 'breaker',
          task: null,
          provider: e.provider,
          host: null,
          text: `${e.provider} breaker ${before} → ${e.breaker}, limit ${e.limit}: ${e.reason}`,
        });
      }
    } else if (e.type === 'monitor.breaker' && inWindow(e.time)) {
      out.push({ at: e.time, kind: 'breaker', task: null, provider: null, host: null, text: e.reason });
    } else if (e.type === 'task.killing' && inWindow(e.time)) {
      const task = byId.get(e.task);
      const attempt = task?.attempts.find((a) => a.n === e.attempt);
      out.push({
        at: e.time,
        kind: 'killed',
        task: e.task,
        provider: attempt?.provider ?? null,
        host: e.host,
        text: `${task ? `${task.title}: ` : ''}attempt ${e.attempt} killed: ${e.reason}`,
      });
    }
  }
  return out.sort(
    (a, b) =>
      ms(a.at) - ms(b.at) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      (a.task ?? '').localeCompare(b.task ?? ''),
  );
}

/**
 * A parking update's reason without the review's summary it ends with ("review rounds used up (2):
 * <summary>"). That summary is the review's instruction to the agent ("Fix them on this branch."); the
 * report shows it apart, as what was sent to the agent.
 */
function withoutSummary(reason: string, t: TaskRecord): string {
  const summary = t.review?.summary;
  return summary && reason.endsWith(`: ${summary}`) ? reason.slice(0, -(summary.length + 2)) : reason;
}

/** When the task's work ended: the merge, the failure, or the last finished attempt. */
function taskEnd(t: TaskRecord): string | null {
  if (t.state === 'done' && t.merge) return t.merge.at;
  if (t.state === 'failed') return t.history.findLast((h) => h.to === 'failed')?.at ?? t.updatedAt;
  const last = t.attempts.at(-1);
  return last && last.outcome !== 'running' ? last.endedAt : null;
}

/** The provider whose work was judged: the last attempt that exited, else the last attempt. */
function gradedProvider(t: TaskRecord): string | null {
  return (t.attempts.findLast((a) => a.outcome === 'exited') ?? t.attempts.at(-1))?.provider ?? null;
}

function gradePointsOf(t: TaskRecord): number[] {
  const points = gradeToPoints(t.review?.grade);
  return points === null ? [] : [points];
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mean(values: readonly number[]): number | null {
  return values.length ? sum(values) / values.length : null;
}
