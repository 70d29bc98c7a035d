/**
 * Files the TUI shows that the judgment layer may leave in a task's log directory. The diff of a
 * review round is optional: when the supervisor does not write it, the Review tab says so.
 */
import type { WorkspacePaths } from '../config/paths.js';

/** logs/<id>/diff-round-<n>.patch: the diff a review round judged (written by the supervisor, if at all). */
export function diffPatchFile(paths: WorkspacePaths, taskId: string, round: number): string {
  return paths.diffPatch(taskId, round);
}
