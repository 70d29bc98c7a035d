/**
 * The judgment's housekeeping, from the monitor cycle: the gate checkouts of ended tasks, and merged
 * branches past their retention period (in the supervisor's repo and in every host's mirror).
 */
import { existsSync } from 'node:fs';
import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { Repo } from '../git/repo.js';
import { removeGateCheckout } from '../git/gate-checkout.js';
import type { JudgmentContext } from './judgment-context.js';

/** Removes the gate checkout (work/<repo>/<id>) of every task that is done or failed. */
export async function removeEndedWorktrees(ctx: JudgmentContext): Promise<number> {
  const { deps } = ctx;
  let removed = 0;
  for (const task of deps.store.list()) {
    if (task.state !== 'done' && task.state !== 'failed') continue;
    const checkout = deps.paths.gateCheckout(task.spec.repo, task.id);
    if (!existsSync(checkout)) continue;
    try {
      const { repo } = await ctx.locate(task);
      await removeGateCheckout(repo.dir, checkout);
      removed += 1;
    } catch (err) {
      // One repo that cannot be opened must not keep the others' checkouts; tried again next cycle.
      deps.log(`could not remove the gate checkout of ${task.id}: ${coerceError(err).describe()}`);
    }
  }
  return removed;
}

/**
 * Deletes ns/<id> of tasks merged longer ago than the retention period: in the supervisor's repo and,
 * with refs/nightshift/base/<id>, in the mirror of every host an attempt ran on. A host that cannot be
 * reached now is tried again next cycle; unmerged branches are never deleted.
 */
export async function pruneMergedBranches(ctx: JudgmentContext): Promise<number> {
  const { deps } = ctx;
  const keepMs = parseDuration(deps.config.defaults.branchRetention) ?? 7 * 86_400_000;
  const now = deps.clock.now();
  let pruned = 0;
  for (const task of deps.store.list()) {
    if (task.state !== 'done' || !task.merge || task.branchPrunedAt) continue;
    if (now - Date.parse(task.merge.at) < keepMs) continue;
    let repo: Repo;
    try {
      ({ repo } = await ctx.locate(task));
    } catch (err) {
      deps.log(`could not prune ns/${task.id} (tried again next cycle): ${coerceError(err).describe()}`);
      continue;
    }
    await repo.deleteBranch(`ns/${task.id}`);
    let everywhere = true;
    for (const worker of ctx.attemptHosts(task)) {
      try {
        await worker.deleteTaskRefs(task.spec.repo, task.id);
      } catch (err) {
        everywhere = false;
        deps.log(
          `could not delete the refs of ${task.id} on ${worker.name} (tried again next cycle): ${coerceError(err).describe()}`,
        );
      }
    }
    if (!everywhere) continue;
    ctx.update(
      task.id,
      `branch ns/${task.id} deleted: merged more than ${deps.config.defaults.branchRetention} ago`,
      { branchPrunedAt: new Date(now).toISOString() },
    );
    pruned += 1;
  }
  return pruned;
}
