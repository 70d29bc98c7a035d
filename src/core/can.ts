/**
 * What a person may ask of a task, decided once: the request applier (queue/requests.ts) refuses with
 * this reason and the TUI's keys (tui/keys/availability.ts) show it in the status line, so the two can
 * never disagree. Pure.
 */
import type { TaskState } from './state.js';
import { waitsToMerge, type TaskRecord } from './task.js';

/** The requests that act on one task. */
export const TASK_ACTIONS = ['kill', 'retry', 'approve', 'reject'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export type Permission = { ok: true } | { ok: false; reason: string };

/** The states each action starts from. */
export const ACTION_STATES: Readonly<Record<TaskAction, readonly TaskState[]>> = {
  kill: ['pending', 'running'],
  retry: ['failed'],
  approve: ['review'],
  reject: ['review'],
};

const WHICH: Readonly<Record<TaskAction, string>> = {
  kill: 'pending or running tasks',
  retry: 'failed tasks',
  approve: 'tasks in review',
  reject: 'tasks in review',
};

const DONE: Readonly<Record<TaskAction, string>> = {
  kill: 'killed',
  retry: 'retried',
  approve: 'approved',
  reject: 'rejected',
};

const ALLOWED: Permission = { ok: true };

/** Whether `action` may be applied to `task` now, or the reason not (naming the task). */
export function can(task: TaskRecord, action: TaskAction): Permission {
  if (!ACTION_STATES[action].includes(task.state)) {
    return {
      ok: false,
      reason: `task ${task.id} is ${task.state}; only ${WHICH[action]} can be ${DONE[action]}`,
    };
  }
  if (action === 'approve' && waitsToMerge(task)) {
    return {
      ok: false,
      reason: `task ${task.id} is already approved (by ${task.review?.approvedBy ?? '?'}): it waits in the merge queue`,
    };
  }
  return ALLOWED;
}
