/**
 * A workspace's id on the worker hosts it shares with other workspaces (docs/hosts.md#several-workspaces-on-one-worker):
 * 8 lowercase hex digits, drawn at random once and kept in the workspace (config/workspace-identity.ts), so
 * a moved workspace keeps its sessions and directories. It namespaces the tmux session names and the
 * worker's per-workspace directory (hosts/session-names.ts, hosts/layout.ts).
 */
import { ErrorCode, NightshiftError, type ErrorContext } from './errors.js';

declare const workspaceIdBrand: unique symbol;
/** A string that passed WORKSPACE_ID_PATTERN. Only parseWorkspaceId makes one. */
export type WorkspaceId = string & { readonly [workspaceIdBrand]: true };

export const WORKSPACE_ID_PATTERN = /^[0-9a-f]{8}$/;

/** The id, or a NightshiftError naming where the text came from (`context.file`) and what to do. */
export function parseWorkspaceId(text: string, context: ErrorContext = {}): WorkspaceId {
  if (!WORKSPACE_ID_PATTERN.test(text)) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `not a workspace id: ${JSON.stringify(text.slice(0, 40))} (expected 8 hex digits)`,
      {
        hint: 'delete the file: nightshift draws a new id (sessions and worker directories of the old one are then not this workspace’s any more)',
        ...context,
      },
    );
  }
  return text as WorkspaceId;
}
