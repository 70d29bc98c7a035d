/**
 * What an attempt did to the protected refs of its host's mirror: the guard hook's record of refused
 * updates (mainTouched), and the launch's record compared with the refs now, put back as recorded
 * (mainMoved, moved.sh).
 */
import path from 'node:path';
import type { TaskId } from '../core/ids.js';
import { checkMoved } from './ref-guard.js';
import { hostError, type HostContext, type MovedRef } from './worker-types.js';

/**
 * Refs the guard refused for this task (non-empty means the executor tried to move main). Empty when
 * the hook never recorded the task; a record that exists but cannot be read is a host error.
 */
export async function mainTouched(host: HostContext, repo: string, id: TaskId): Promise<string[]> {
  const file = path.posix.join(host.mirror(repo), 'nightshift-touched', id);
  const r = await host.runner.run(['sh', '-c', '[ -e "$1" ] || exit 3; exec cat -- "$1"', 'sh', file]);
  if (r.exitCode === 3) return [];
  if (r.exitCode !== 0) {
    throw hostError(
      host,
      `could not read ${file}, the main guard's record of refused updates: ${r.stderr.trim()}`,
      id,
    );
  }
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Protected refs of the mirror that changed during attempt `attempt` of `id`, compared with the record
 * its launch made, whatever hooks ran (an executor can switch the guard off with
 * `git -c core.hooksPath=…`). Nothing legitimate writes these refs in a mirror, so every change is put
 * back as recorded in the same round trip (moved.sh). A change is `attributed` to this task when the new
 * value is reachable from any value its branch ever had; otherwise it is restored and returned
 * unattributed, for the caller to report. Attempts sharing the mirror restore a move once and blame its
 * mover once (ref-guard.ts). Empty when nothing changed or the attempt has no record.
 */
export async function mainMoved(
  host: HostContext,
  repo: string,
  id: TaskId,
  attempt: number,
): Promise<MovedRef[]> {
  const r = await checkMoved(host.runner, host.name, {
    taskDir: host.taskDir(id),
    mirror: host.mirror(repo),
    attempt,
    id: id,
    fallback: host.protectedRefs(repo),
  });
  if (r.exitCode === 3) return [];
  if (r.exitCode !== 0) {
    throw hostError(
      host,
      `could not check the protected refs of ${repo} in ${host.mirror(repo)}: ${r.stderr.trim()}`,
      id,
    );
  }
  return r.moved;
}
