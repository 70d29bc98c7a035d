/**
 * The morning report's data (DESIGN.md §9 `nightshift report`). The JSON format prints this object as is,
 * so every field name here is a contract: docs/report.md describes each one. Times are ISO-8601 strings,
 * durations are milliseconds, rates are plain numbers (a success rate is 0..1).
 */
import type { FailureCode } from '../../core/failures.js';
import type { ParkReason } from '../../core/park.js';
import type { AttemptOutcome, TaskState } from '../../core/task.js';
import type { CostFigures } from './cost.js';

import type { TriageNote } from './triage.js';
export const REPORT_FORMATS = ['md', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportWindow {
  since: string;
  until: string;
  /** until − since, in hours. */
  hours: number;
  /**
   * The night's active time inside the window: from its first recorded activity (an attempt's start, a
   * state change, a merge, a timeline entry) to its last (a running attempt runs to `until`). Null with
   * no activity. The charts span it.
   */
  activeFrom: string | null;
  activeUntil: string | null;
  /** activeUntil − activeFrom in hours (at least one minute's worth when there is activity; 0 without): the divisor of every per-hour figure. */
  activeHours: number;
}

export interface AttemptDigest {
  n: number;
  provider: string;
  host: string;
  startedAt: string;
  endedAt: string | null;
  /** endedAt − startedAt; for a running attempt, until − startedAt. */
  durationMs: number;
  outcome: AttemptOutcome;
  exitCode: number | null;
  code: FailureCode | null;
  attribution: string | null;
  reason: string | null;
}

export interface GateDigest {
  name: string;
  passed: boolean;
  durationMs: number;
}

export interface TaskDigest {
  id: string;
  title: string;
  state: TaskState;
  /** Why the task waits for a person (e.g. "needs-human"), or null. */
  parked: ParkReason | null;
  /** The provider of the last attempt. */
  provider: string | null;
  round: number;
  createdAt: string;
  updatedAt: string;
  attemptCount: number;
  attempts: AttemptDigest[];
  /** First attempt start → merge, failure or the last attempt's end (null while nothing has started). */
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  gates: GateDigest[];
  grade: string | null;
  verdict: 'approve' | 'changes' | 'reject' | null;
  summary: string | null;
  merge: { sha: string; short: string; at: string } | null;
  /** pr mode: the pull request the task ended with (docs/merge.md#pull-requests), or null. */
  pullRequest: { url: string; at: string } | null;
  failure: { code: FailureCode; attribution: string; reason: string } | null;
  /** One line on why the task did not merge (failed or parked), else null. */
  why: string | null;
}

export interface LimitChange {
  at: string;
  limit: number;
  breaker: string;
  reason: string;
}

export interface ProviderFigures {
  name: string;
  /** False for a provider that appears in the records but no longer in the config. */
  configured: boolean;
  /** Attempts whose run overlaps the window. */
  attempts: number;
  /** Of those, the ones that have ended. */
  finished: number;
  /** Of those, the ones whose executor exited cleanly (outcome "exited", exit code 0). */
  exitedCleanly: number;
  /** exitedCleanly / finished, or null with no finished attempt. */
  successRate: number | null;
  /** Tasks merged in the window whose graded work this provider did. */
  merged: number;
  /** merged / window.activeHours. */
  tasksPerHour: number;
  graded: number;
  /** Mean grade points (A = 4.0 … F = 0) of the graded tasks, or null. */
  averageGrade: number | null;
  averageGradeLetter: string | null;
  /** Sum of the attempts' durations. */
  slotMs: number;
  /** Attempts that failed with provider attribution, plus killed, idle and timed-out attempts. */
  wastedMs: number;
  /** The last reported live limit and breaker state (at or before until), or null. */
  limit: number | null;
  breaker: string | null;
  limitHistory: LimitChange[];
  probes: number;
  probeFailures: number;
  lastProbeFailure: { at: string; host: string; reason: string } | null;
}

export const TIMELINE_KINDS = ['merged', 'failed', 'parked', 'killed', 'breaker'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  task: string | null;
  provider: string | null;
  host: string | null;
  text: string;
}

export interface ReportTotals {
  tasks: number;
  byState: Record<TaskState, number>;
  merged: number;
  failed: number;
  parked: number;
  killed: number;
  attempts: number;
  finished: number;
  exitedCleanly: number;
  successRate: number | null;
  tasksPerHour: number;
  graded: number;
  averageGrade: number | null;
  averageGradeLetter: string | null;
  slotMs: number;
  wastedMs: number;
  probeFailures: number;
  breakerEvents: number;
}

/** A follow-up spec the architect drafted (an `architect.follow-up` event). */
export interface FollowUpDigest {
  at: string;
  /** The draft's id. */
  id: string;
  /** The task it follows up. */
  origin: string;
  reason: string;
}

/** A request a person can make of a task, as a command and as the TUI's key on the task's row. */
export interface ActionHint {
  action: 'approve' | 'reject' | 'retry';
  /** The exact command line, e.g. "nightshift approve t3". */
  command: string;
  /** The TUI key (tui/keys/bindings.ts) that asks the same on the selected task. */
  key: string;
}

/** A task that waits for a person (or, with `needsPerson` false, waits and resumes by itself). */
export interface AttentionItem {
  id: string;
  title: string;
  state: TaskState;
  parked: ParkReason | null;
  failureCode: FailureCode | null;
  /** False for a park that resumes by itself (docs/merge.md#parks). */
  needsPerson: boolean;
  /** What happened, in words for a person. */
  what: string;
  /** What was recorded about it (the failure's reason, the parking update's reason), or null. */
  detail: string | null;
  /** The gates that failed on its last run, by name. */
  failedGates: string[];
  /** What to do, in words for a person. */
  todo: string;
  actions: ActionHint[];
}

export interface ReportData {
  window: ReportWindow;
  /** Failed and parked tasks, first those a person must act on: the report opens with them. */
  attention: AttentionItem[];
  followUps?: FollowUpDigest[];
  tasks: TaskDigest[];
  providers: ProviderFigures[];
  timeline: TimelineEntry[];
  totals: ReportTotals;
  /** Tokens and cost (cost.ts, docs/cost.md). */
  cost: CostFigures;
  /** The architect's triage notes in the window (report/triage.ts); absent when there are none. */
  triage?: TriageNote[];
}
