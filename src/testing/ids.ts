import { parseTaskId, type TaskId } from '../core/ids.js';

/** A task id for a test, checked like any other at its boundary (a literal in the test). */
export function tid(id: string): TaskId {
  return parseTaskId(id);
}
