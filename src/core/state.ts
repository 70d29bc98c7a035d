/** The task states: one directory each under queue/. */
export const TaskState = {
  pending: 'pending',
  running: 'running',
  review: 'review',
  done: 'done',
  failed: 'failed',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export const TASK_STATES: readonly TaskState[] = Object.values(TaskState);

export function isTaskState(value: string): value is TaskState {
  return (TASK_STATES as readonly string[]).includes(value);
}
