/**
 * What the Architect view shows (docs/architect.md, "The Architect view"), read from the events and the
 * task records alone: the review in progress (the last `architect.started` with no verdict after it: in
 * llm mode it names the file its answer streams to, in claude-code mode the tmux session it runs in),
 * the tasks waiting for review, the recent verdicts with their grades, and the triage notes. Pure.
 */
import type { NightshiftEvent } from '../core/events.js';
import type { TaskRecord } from '../core/task.js';

export type ArchitectStarted = Extract<NightshiftEvent, { type: 'architect.started' }>;

export interface ArchitectVerdictView {
  time: string;
  task: string;
  round: number;
  grade: string | null;
  verdict: string;
  reason: string;
}

export interface ArchitectModel {
  /** The review in progress, or null. */
  current: ArchitectStarted | null;
  /** Tasks in review with no verdict yet and not parked, oldest first (the order the pipeline takes). */
  waiting: { id: string; title: string; since: string }[];
  /** Newest first. */
  verdicts: ArchitectVerdictView[];
  /** Newest first. */
  triage: { time: string; note: string }[];
}

export const ARCHITECT_KEEP = 20;

/** A tmux session name the view may attach to: ours are short words, never options or targets. */
export function isSessionName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name);
}

export function architectModel(
  events: readonly NightshiftEvent[],
  tasks: readonly TaskRecord[],
): ArchitectModel {
  let current: ArchitectStarted | null = null;
  const verdicts: ArchitectVerdictView[] = [];
  const triage: { time: string; note: string }[] = [];
  for (const e of events) {
    if (e.type === 'architect.started') current = e;
    else if (e.type === 'architect.verdict') {
      if (current && current.task === e.task && current.round === e.round) current = null;
      verdicts.push({
        time: e.time,
        task: e.task,
        round: e.round,
        grade: e.grade,
        verdict: e.verdict,
        reason: e.reason,
      });
    } else if (e.type === 'architect.triage') triage.push({ time: e.time, note: e.reason });
    else if (e.type === 'daemon.stopped' || e.type === 'daemon.started') current = null;
  }
  // A review whose task left review meanwhile (killed, failed) is not in progress any more.
  if (current) {
    const id = current.task;
    const t = tasks.find((r) => r.id === id);
    if (!t || t.state !== 'review') current = null;
  }
  const waiting = tasks
    .filter((t) => t.state === 'review' && !t.parked && (!t.review || t.review.verdict === null))
    .filter((t) => t.id !== current?.task)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((t) => ({ id: t.id, title: t.title, since: t.updatedAt }));
  return {
    current,
    waiting,
    verdicts: verdicts.reverse().slice(0, ARCHITECT_KEEP),
    triage: triage.reverse().slice(0, ARCHITECT_KEEP),
  };
}
