/**
 * Executor session names on a worker's tmux server, which several workspaces may share
 * (docs/hosts.md#several-workspaces-on-one-worker): `ns-<workspace id>_<task id>`. A task id never holds
 * "_" (core/ids.ts), so the name splits one way only, and never reads as a name of the older scheme,
 * `ns-<task id>` (no workspace id), which nightshift no longer makes: such a session is "legacy", reported
 * as stray and never adopted, killed or attached to (it cannot be told which workspace made it).
 */
import { isTaskId, type TaskId } from '../core/ids.js';
import { WORKSPACE_ID_PATTERN, type WorkspaceId } from '../core/workspace-id.js';

/** What every executor session's name starts with, whichever workspace made it (load sensing counts them). */
export const SESSION_PREFIX = 'ns-';

/** The session of task `taskId` of workspace `workspace`. Both are safe in a tmux name as they are. */
export function sessionName(workspace: WorkspaceId, taskId: TaskId): string {
  return `${SESSION_PREFIX}${workspace}_${taskId}`;
}

/** Whose a session on a worker's server is, as seen by one workspace. */
export type SessionOwner =
  /** This workspace's session of task `taskId`. */
  | { kind: 'mine'; taskId: TaskId }
  /** Another workspace's executor session: never touched, counted by load sensing. */
  | { kind: 'other-workspace'; workspace: string }
  /** `ns-<task id>`, from a nightshift before workspace ids: whose it is cannot be known. */
  | { kind: 'legacy'; taskId: string }
  /** Not an executor session (a person's, the TUI's). */
  | { kind: 'foreign' };

/**
 * Classifies a session name (the host's word: text, compared, never trusted) for workspace `mine`. Only a
 * name that sessionName(mine, id) would give is "mine".
 */
export function sessionOwner(name: string, mine: WorkspaceId): SessionOwner {
  if (!name.startsWith(SESSION_PREFIX)) return { kind: 'foreign' };
  const rest = name.slice(SESSION_PREFIX.length);
  const sep = rest.indexOf('_');
  if (sep < 0) return isTaskId(rest) ? { kind: 'legacy', taskId: rest } : { kind: 'foreign' };
  const workspace = rest.slice(0, sep);
  const taskId = rest.slice(sep + 1);
  if (!WORKSPACE_ID_PATTERN.test(workspace) || !isTaskId(taskId)) return { kind: 'foreign' };
  return workspace === mine ? { kind: 'mine', taskId } : { kind: 'other-workspace', workspace };
}

/** Whether a live session is some workspace's executor (or an older nightshift's): what load sensing counts. */
export function isExecutorSession(name: string): boolean {
  return name.startsWith(SESSION_PREFIX);
}
