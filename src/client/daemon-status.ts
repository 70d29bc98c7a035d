/**
 * Whether a daemon holds a workspace, read from its lock without opening the workspace (no config, no
 * store): cheap enough for the TUI's start path. WorkspaceClient.daemon() asks the same.
 */
import type { WorkspacePaths } from '../config/paths.js';
import { liveHolder, type LockInfo } from '../queue/lock.js';

export type { LockInfo };

/** The live daemon holding the workspace lock, or null. */
export function runningDaemon(paths: WorkspacePaths): LockInfo | null {
  const holder = liveHolder(paths.lock);
  return holder?.kind === 'daemon' ? holder : null;
}
