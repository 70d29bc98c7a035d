/**
 * Usage on the task record (docs/cost.md): an attempt's tokens and cost, and the architect's calls. Not
 * state changes: each is an in-place update of the record with its event, like a gate result. Pure.
 */
import { ErrorCode, NightshiftError } from './errors.js';
import { updateTask, type TaskRecord, type Transition } from './task.js';
import { describeUsage, type Usage } from './usage.js';

/** Sets attempt `n`'s usage (read once its output is in: collected, or ended by the supervisor). */
export function withAttemptUsage(task: TaskRecord, n: number, usage: Usage, now: number): Transition {
  if (!task.attempts.some((a) => a.n === n)) {
    throw new NightshiftError(ErrorCode.invalidTransition, `task ${task.id} has no attempt ${n}`, {
      taskId: task.id,
      hint: 'a bug in the daemon',
    });
  }
  const attempts = task.attempts.map((a) => (a.n === n ? { ...a, usage } : a));
  return updateTask(task, now, `attempt ${n} used ${describeUsage(usage)}`, { attempts });
}

/** Appends one architect call's usage. */
export function withArchitectUsage(
  task: TaskRecord,
  call: { kind: string; round?: number; usage: Usage },
  now: number,
): Transition {
  const entry = {
    round: call.round ?? task.round,
    at: new Date(now).toISOString(),
    kind: call.kind,
    usage: call.usage,
  };
  return updateTask(task, now, `architect ${call.kind} used ${describeUsage(call.usage)}`, {
    architectUsage: [...(task.architectUsage ?? []), entry],
  });
}
