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
  | { type: 'queue.refused'; time: string; file: string; reason: string };

export type EventType = NightshiftEvent['type'];
