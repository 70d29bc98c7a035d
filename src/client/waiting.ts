/**
 * Why a pending task has not started: the reason the daemon published for it at its last dispatch pass
 * (`waiting` in queue/state/daemon.json: frozen, a budget, a retry backoff, a dependency, every provider
 * full or broken, no host with room). `nightshift ls` and the TUI both read it here.
 */
import type { TaskRecord } from '../core/task.js';
import type { DaemonState } from '../daemon/state-file.js';

/** The daemon's reason `task` waits, or null (not pending, no daemon, or nothing published for it). */
export function waitingReason(
  daemonState: Pick<DaemonState, 'waiting'> | null,
  task: Pick<TaskRecord, 'id' | 'state'>,
): string | null {
  if (task.state !== 'pending' || !daemonState) return null;
  return daemonState.waiting[task.id] ?? null;
}
