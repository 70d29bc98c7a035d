/**
 * Ending an attempt on a host: salvage what its worktree holds uncommitted to a ref of its own, then kill
 * its session and every process it started (reap.sh).
 */
import path from 'node:path';
import type { TaskId } from '../core/ids.js';
import type { HooksConfig } from '../config/schema.js';
import { hookArgv, hookSeconds } from './hooks.js';
import { quoteArgv } from './quote.js';
import { AFTER_RUN_SH, REAP_SH } from './scripts.js';
import { must, type HostContext } from './worker-types.js';

const GIT_ID = ['-c', 'user.name=nightshift', '-c', 'user.email=nightshift@localhost'];

/** Commits the worktree's uncommitted changes to refs/nightshift/salvage/<id>/<attempt>. Null if clean. */
export async function salvage(
  host: HostContext,
  repo: string,
  id: TaskId,
  attempt: number,
): Promise<string | null> {
  const wt = host.worktree(id);
  const git = (...args: string[]) => host.runner.run(['git', '-C', wt, ...args]);
  const dirty = await git('status', '--porcelain');
  if (dirty.exitCode !== 0 || dirty.stdout.trim() === '') return null;
  const index = path.posix.join(host.taskDir(id), `salvage-${attempt}.index`);
  const withIndex = (...args: string[]) =>
    host.runner.run(['env', `GIT_INDEX_FILE=${index}`, 'git', '-C', wt, ...args]);
  await withIndex('read-tree', 'HEAD');
  await withIndex('add', '-A');
  const tree = (await withIndex('write-tree')).stdout.trim();
  const head = (await git('rev-parse', 'HEAD')).stdout.trim();
  const commit = (
    await host.runner.run([
      'git',
      ...GIT_ID,
      '-C',
      wt,
      'commit-tree',
      tree,
      '-p',
      head,
      '-m',
      `nightshift: salvage of ${id} attempt ${attempt}`,
    ])
  ).stdout.trim();
  await host.runner.run(['rm', '-f', index]);
  if (!/^[0-9a-f]{40}$/.test(commit)) return null;
  await must(host, [
    'git',
    '--git-dir',
    host.mirror(repo),
    'update-ref',
    `refs/nightshift/salvage/${id}/${attempt}`,
    commit,
  ]);
  return commit;
}

/** The repo's afterRun hook, as the supervisor's config has it now (never the branch's). */
export type AfterRunHook = NonNullable<HooksConfig['afterRun']>;

/** How long past its own timeout the supervisor waits for an afterRun it runs after a kill. */
const AFTER_RUN_GRACE_MS = 30_000;

/**
 * Kills the session of attempt `attempt` of `id`, then every process the attempt started that is still
 * alive (REAP_SH: those carrying its marker, and those left in the runner's session), TERM then KILL.
 * Throws LinkError when the link is down; a failed reap is otherwise not an error (it says why on
 * stderr, which is dropped: the runner reaps at its own end too).
 */
export async function closeSession(host: HostContext, id: TaskId, attempt: number): Promise<void> {
  await host.tmux.kill(host.session(id));
  await host.runner.run(['sh', '-c', REAP_SH, 'sh', host.taskDir(id), String(attempt)]);
}

/**
 * The repo's afterRun hook (AFTER_RUN_SH) in the worktree of an attempt whose session was killed, unless
 * the runner got to run it itself: its runner died with the session. Its output goes to the attempt's
 * log; it ends within the hook's own timeout (the script kills it then). A failed hook is not an error
 * (the script logs it). The caller keeps the task from launching in that worktree until it is done.
 */
export async function runAfterRun(
  host: HostContext,
  id: TaskId,
  attempt: number,
  hook: AfterRunHook,
): Promise<void> {
  const seconds = hookSeconds(hook.timeout);
  await host.runner.run(
    [
      'env',
      '-i',
      `PATH=${host.info.path}`,
      `HOME=${host.info.home}`,
      'LANG=C.UTF-8',
      `NIGHTSHIFT_TASK=${id}`,
      'sh',
      '-c',
      AFTER_RUN_SH,
      'sh',
      host.taskDir(id),
      host.worktree(id),
      String(attempt),
      quoteArgv(hookArgv(hook.command)),
      String(seconds),
    ],
    { timeoutMs: seconds * 1000 + AFTER_RUN_GRACE_MS },
  );
}
