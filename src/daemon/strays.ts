/**
 * Which sessions on a worker's tmux server the monitor cycle reports as stray, for one workspace
 * (docs/hosts.md#several-workspaces-on-one-worker). The decision only: monitor.ts lists the panes and
 * emits the events. Nothing reported is killed: a stray may be someone's work.
 * - this workspace's session of a task that is not running here: stray;
 * - a session named by a nightshift older than workspace ids (`ns-<task id>`): stray, never adopted,
 *   since which workspace made it cannot be known (upgrading: kill them by hand once they are done);
 * - another workspace's session, or one that is no executor's: not ours to report.
 */
import { sessionOwner } from '../hosts/session-names.js';
import type { WorkspaceId } from '../core/workspace-id.js';

export interface Stray {
  session: string;
  reason: string;
}

export function straySessions(
  sessions: readonly string[],
  workspace: WorkspaceId,
  running: ReadonlySet<string>,
): Stray[] {
  const strays: Stray[] = [];
  for (const session of sessions) {
    const owner = sessionOwner(session, workspace);
    if (owner.kind === 'mine' && !running.has(owner.taskId)) {
      strays.push({ session, reason: 'no running task owns this session; left alone' });
    } else if (owner.kind === 'legacy') {
      strays.push({
        session,
        reason:
          'named by a nightshift older than workspace ids, so whose it is cannot be known: never adopted; left alone (kill it by hand once it is done)',
      });
    }
  }
  return strays;
}
