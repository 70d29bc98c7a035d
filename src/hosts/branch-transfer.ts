/**
 * Moving commits between the supervisor's repo and a host's mirror with the local git: the base commit
 * and a continued branch out (push), the task's branch home (fetch, checked to descend from its base).
 * The worker never receives, fetches or pushes `main`.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import { withRepoLock } from '../git/repo.js';
import type { CommandRunner } from './runner.js';
import { BranchError, type HostContext } from './worker-types.js';

/** How many times fetchBranch tries the fetch. */
const FETCH_TRIES = 3;

export async function pushFromLocal(
  host: HostContext,
  local: CommandRunner,
  localRepo: string,
  repo: string,
  refspecs: string[],
): Promise<void> {
  const transport = host.runner.gitTransport();
  await local.run(
    ['git', '-C', localRepo, 'push', '-q', '--no-verify', transport.urlFor(host.mirror(repo)), ...refspecs],
    {
      env: transport.env,
      check: true,
    },
  );
}

/**
 * Fetches ns/<id> from the mirror into the supervisor's repo and checks it descends from `base`.
 * Throws LinkError when the link to the host is down (the branch waits on the host: try again later),
 * BranchError when the branch is the executor's fault (gone from the mirror, or not descending from
 * its base), and another NightshiftError when the fetch fails for some other reason.
 */
export async function fetchBranch(
  host: HostContext,
  local: CommandRunner,
  localRepo: string,
  repo: string,
  id: TaskId,
  base: string,
): Promise<string> {
  const transport = host.runner.gitTransport();
  const fetch = [
    'git',
    '-C',
    localRepo,
    'fetch',
    '-q',
    '--no-tags',
    transport.urlFor(host.mirror(repo)),
    `+refs/heads/ns/${id}:refs/heads/ns/${id}`,
  ];
  // A fetch can fail for a moment for reasons that are not the branch's: a dropped link, or a worktree
  // being added in the supervisor's repo just then (its HEAD briefly names no commit, and the fetch's
  // connectivity check reads every worktree's HEAD). This process's own worktree changes wait for the
  // fetch (withRepoLock); another process's (a person's git) is why it still tries again before failing.
  for (let tries = 1; ; tries++) {
    const r = await withRepoLock(localRepo, () => local.run(fetch, { env: transport.env }));
    if (r.exitCode === 0) break;
    // git runs ssh itself, and exits 128 whatever ssh's trouble was: ask the host through our own
    // runner, which throws LinkError when the link is down (ssh exit 255).
    await host.runner.run(['true']);
    if (tries === FETCH_TRIES) {
      const has = await host.runner.run([
        'git',
        '--git-dir',
        host.mirror(repo),
        'rev-parse',
        '--verify',
        '-q',
        `refs/heads/ns/${id}`,
      ]);
      if (has.exitCode === 1) {
        throw new BranchError(`branch ns/${id} is gone from the mirror on ${host.name}`, {
          taskId: id,
          host: host.name,
        });
      }
      throw new NightshiftError(
        ErrorCode.io,
        `could not fetch ns/${id} from ${host.name}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`,
        { taskId: id, host: host.name, hint: `check that \`git fetch\` from ${localRepo} works` },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * tries));
  }
  const tip = (
    await local.run(['git', '-C', localRepo, 'rev-parse', `refs/heads/ns/${id}`], { check: true })
  ).stdout.trim();
  const ok = await local.run(['git', '-C', localRepo, 'merge-base', '--is-ancestor', base, tip]);
  if (ok.exitCode !== 0) {
    throw new BranchError(`branch ns/${id} does not descend from its base ${base.slice(0, 12)}`, {
      taskId: id,
      host: host.name,
    });
  }
  return tip;
}
