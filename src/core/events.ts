import type { Attribution } from './errors.js';
import type { TaskState } from './state.js';

/** Every event the supervisor records: one JSON object per line in logs/events.jsonl. */
export type NightshiftEvent =
  | { type: 'task.created'; time: string; task: string; reason: string }
  | {
      type: 'task.transition';
      time: string;
      task: string;
      from: TaskState;
      to: TaskState;
      reason: string;
      attempt?: number;
      provider?: string;
      host?: string;
      attribution?: Attribution;
    }
  | { type: 'task.updated'; time: string; task: string; reason: string }
  | { type: 'inbox.accepted'; time: string; task: string; file: string }
  | { type: 'inbox.rejected'; time: string; file: string; reason: string }
  | {
      type: 'request.applied';
      time: string;
      request: string;
      kind: string;
      ok: boolean;
      reason: string;
      task?: string;
    }
  | { type: 'queue.recovered'; time: string; reason: string; task?: string }
  | { type: 'queue.refused'; time: string; file: string; reason: string }
  | { type: 'daemon.started' | 'daemon.stopped'; time: string; reason: string }
  | { type: 'provider.probe'; time: string; provider: string; host: string; ok: boolean; reason: string }
  /** A night's budget was reached (`provider` null: the whole night's) or lifted; nothing running is killed. */
  | { type: 'budget.reached' | 'budget.lifted'; time: string; provider: string | null; reason: string }
  | {
      type: 'provider.health';
      time: string;
      provider: string;
      reason: string;
      breaker: string;
      limit: number;
    }
  | { type: 'host.status'; time: string; host: string; reason: string }
  | { type: 'task.adopted'; time: string; task: string; host: string; attempt: number; reason: string }
  | {
      type: 'task.killing';
      time: string;
      task: string;
      host: string;
      attempt: number;
      reason: string;
      /** The attempt's last screen, captured before the kill (workspace-relative path). */
      screen?: string;
    }
  | {
      /** The attempt's log passed defaults.logCap: its middle is left out (src/daemon/log-cap.ts). */
      type: 'attempt.log-cut';
      time: string;
      task: string;
      host: string;
      attempt: number;
      /** Bytes of output left out so far. */
      cutBytes: number;
      /** The cap in bytes: the log keeps its first and last half. */
      cap: number;
      reason: string;
    }
  | { type: 'session.stray'; time: string; host: string; session: string; reason: string }
  | {
      /** A protected ref of a mirror changed during an attempt and was put back (see docs/hosts.md). */
      type: 'main.restored';
      time: string;
      /** The task whose collection found the change. */
      task: string;
      host: string;
      ref: string;
      /** The recorded and the found sha; null for absent. */
      old: string | null;
      new: string | null;
      /** Whether the task's branch ever held `new` (the task then fails as main-touched). */
      attributed: boolean;
      reason: string;
    }
  | { type: 'monitor.breaker'; time: string; reason: string }
  /** A notice given up after its tries (daemon/notify.ts): `notifier` names it, never by its URL. */
  | { type: 'notify.failed'; time: string; notifier: string; notice: string; reason: string }
  /** The night window's end (core/window.ts): running work parked, the report written. */
  | { type: 'window.ended'; time: string; reason: string }
  | {
      /** The architect drafted a follow-up spec (daemon/follow-ups.ts): `task` is the new draft's id. */
      type: 'architect.follow-up';
      time: string;
      task: string;
      /** The task it follows up. */
      origin: string;
      reason: string;
    }
  | {
      /** The architect began a review (docs/architect.md, "The Architect view"). */
      type: 'architect.started';
      time: string;
      task: string;
      round: number;
      mode: string;
      reason: string;
      /** claude-code mode: the tmux session (on the supervisor's host) the architect runs in. */
      session?: string;
      /** llm mode: the workspace-relative file its streamed text is appended to. */
      stream?: string;
    }
  | {
      type: 'architect.verdict';
      time: string;
      task: string;
      round: number;
      grade: string | null;
      verdict: string;
      reason: string;
    }
  | {
      /** A monitor cycle's note from the architect (architect.triage: true): the note is the reason. */
      type: 'architect.triage';
      time: string;
      reason: string;
    }
  | {
      /**
       * An architect call about no one task (a triage note, `nightshift plan`): its tokens and cost, for
       * the night's totals and the architect's share (core/usage-totals.ts). Calls about a task are on it.
       */
      type: 'architect.usage';
      time: string;
      kind: 'triage' | 'plan';
      inputTokens: number;
      outputTokens: number;
      costUsd: number | null;
      reason: string;
    }
  | {
      type: 'monitor.cycle';
      time: string;
      reason: string;
      pending: number;
      running: number;
      review: number;
      done: number;
      failed: number;
    }
  | {
      /**
       * What the daemon did since its last such event (at each monitor cycle and as it stops): its ticks
       * by what woke them (an event, or the deadline that was due: daemon/schedule.ts) and the processes
       * it spawned. An idle daemon's are near zero (bench/idle.js).
       */
      type: 'daemon.activity';
      time: string;
      reason: string;
      ticks: number;
      spawned: number;
      wakes: Record<string, number>;
      sinceMs: number;
    };

export type EventType = NightshiftEvent['type'];
