/**
 * Whether the night is over, read from what the daemon publishes (the queue's task records, the
 * workspace lock, queue/state/daemon.json): every task has settled (merged, failed, or parked for a
 * person) and no daemon is working on one (it has exited, or its published state runs nothing and names
 * no night window, whose end is the night's). The TUI's
 * header shows it as a banner, and `nightshift demo` says it when the demo ends.
 */
import type { TaskRecord } from '../core/task.js';
import type { DaemonState } from '../daemon/state-file.js';
import type { LockInfo } from '../queue/lock.js';

export interface NightEnd {
  merged: number;
  failed: number;
  /** In review, parked: waiting for a person (approve or reject). */
  parked: number;
  tasks: number;
}

/** A task nothing more happens to without a person: merged, failed, or parked in review. */
function settled(t: TaskRecord): boolean {
  return t.state === 'done' || t.state === 'failed' || (t.state === 'review' && t.parked !== null);
}

/** The night's end, or null while anything can still progress (or before any task was queued). */
export function nightEnd(input: {
  tasks: readonly TaskRecord[];
  daemon: LockInfo | null;
  daemonState: DaemonState | null;
}): NightEnd | null {
  const { tasks, daemon, daemonState } = input;
  if (tasks.length === 0 || !tasks.every(settled)) return null;
  // A live daemon whose published state still counts running work has not finished (a collection, say);
  // one with a night window ends the night at the window's end (and writes the report then), not before.
  if (daemon && (daemonState?.providers ?? []).some((p) => p.running > 0)) return null;
  if (daemon && daemonState?.window) return null;
  return {
    merged: tasks.filter((t) => t.state === 'done').length,
    failed: tasks.filter((t) => t.state === 'failed').length,
    parked: tasks.filter((t) => t.state === 'review').length,
    tasks: tasks.length,
  };
}

/** "the night is over: 3 merged · 1 waits for you · 2 failed" */
export function describeNightEnd(end: NightEnd): string {
  const parts = [`${end.merged} merged`];
  if (end.parked) parts.push(`${end.parked} ${end.parked === 1 ? 'waits' : 'wait'} for you`);
  if (end.failed) parts.push(`${end.failed} failed`);
  return `the night is over: ${parts.join(' · ')}`;
}
