/**
 * The merge queue (DESIGN.md §8, docs/merge.md): one approved task at a time, in approval order — stage
 * it on the current main, re-run the command gates on exactly that tree, move main with a
 * compare-and-swap, push without force. A race lost to main moving (locally, or on the remote: behind,
 * or the ref's lock taken by a concurrent update) re-stages, bounded by merge-retry.ts. A merge that
 * must wait for the user's checkout of main parks until that checkout is clean (git/checkout.ts).
 */
import { coerceError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import type { GateName } from '../core/gates.js';
import { enterDone, type Review, type TaskRecord } from '../core/task.js';
import type { Repo } from '../git/repo.js';
import { checkoutStates, decideMove, moveBranch, readCheckout } from '../git/checkout.js';
import { removeGateCheckout } from '../git/gate-checkout.js';
import { enabledGates } from '../review/gates.js';
import { gateFindings, type JudgmentContext } from './judgment-context.js';
import { nextMergeTry, startMergeRetries } from './merge-retry.js';
import { PullRequests } from './pull-request.js';

/** An approved merge waits for the user's checkout of main to be clean (git/checkout.ts). */
const PARK_CHECKOUT = 'checkout-dirty';
/** How often the checkouts that merges wait for are looked at again. */
const CHECKOUT_RECHECK_MS = 5_000;
const COMMAND_GATES: readonly GateName[] = ['tests', 'lint'];

export class MergeQueue {
  private stopped = false;
  /** Waiting task id → what its checkout looked like when the merge had to wait (readCheckout). */
  private readonly waitedOn = new Map<TaskId, string>();
  private recheckTimer: NodeJS.Timeout | null = null;

  /** pr mode's half of the queue (pull-request.ts): approved tasks of a `merge.mode: pr` repo. */
  readonly prs: PullRequests;

  /** `recheck` is called when the checkouts merges wait for are due for another look. */
  constructor(
    private readonly ctx: JudgmentContext,
    private readonly recheck: () => void,
    wake: () => void = recheck,
  ) {
    this.prs = new PullRequests(ctx, wake, (task, located) => this.cleanup(task, located.repo));
  }

  stop(): void {
    this.stopped = true;
    this.prs.stop();
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
  }

  async merge(task: TaskRecord): Promise<void> {
    const { deps } = this.ctx;
    const located = await this.ctx.locate(task);
    if (located.repoCfg.merge.mode === 'pr') return this.prs.open(task, located);
    const { repo, base, tip, repoCfg } = located;
    if (!tip) {
      this.ctx.update(task.id, `branch ns/${task.id} is missing`, { parked: 'missing-branch' });
      return;
    }
    const mainRef = `refs/heads/${repoCfg.main}`;
    const staging = deps.paths.stagingWorktree(task.spec.repo);
    // A dirty checkout of main would make the move wait anyway: do not stage and gate for nothing.
    const before = decideMove(repoCfg.main, await checkoutStates(repo.dir, repoCfg.main));
    if (before.kind === 'wait') return this.waitForCheckout(task, before.worktree, before.reason);
    let retries = startMergeRetries(deps.clock.now());
    for (;;) {
      let main = await repo.revParse(mainRef);
      if (!main) {
        this.ctx.update(task.id, `${repoCfg.main} does not exist in ${repo.dir}`, { parked: 'no-main' });
        return;
      }
      if (repoCfg.remote) {
        const remoteTip = await repo.fetchRemote(repoCfg.remote, repoCfg.main);
        if (remoteTip && remoteTip !== main) {
          if (await repo.isAncestor(main, remoteTip)) {
            const moved = await moveBranch(repo.dir, repoCfg.main, remoteTip, main, 'nightshift: fetch');
            if (!moved.ok && !moved.moved) return this.waitForCheckout(task, moved.worktree, moved.reason);
            // Someone else moved main meanwhile: look again.
            if (!moved.ok) continue;
            main = remoteTip;
          } else if (!(await repo.isAncestor(remoteTip, main))) {
            this.ctx.update(
              task.id,
              `${repoCfg.remote}/${repoCfg.main} and local ${repoCfg.main} have diverged; reconcile them by hand`,
              { parked: 'diverged' },
            );
            return;
          }
        }
      }
      const next = nextMergeTry(retries, main, deps.clock.now());
      if (!next.go) {
        this.ctx.update(task.id, `${repoCfg.main} kept moving: ${next.reason}`, { parked: 'merge-retries' });
        return;
      }
      retries = next.state;
      const message = `${task.title} (nightshift ${task.id})`;
      const staged =
        repoCfg.merge.strategy === 'rebase'
          ? await repo.rebase(staging, main, base, tip)
          : await repo.merge(staging, main, tip, message, repoCfg.merge.strategy === 'squash');
      if ('conflict' in staged) {
        this.sendBack(task, main, {
          summary: `Merging into ${repoCfg.main} conflicts in ${staged.conflict.join(', ')}. Rebase this branch onto refs/nightshift/base/${task.id} (the current ${repoCfg.main}) and resolve the conflicts.`,
          findings: staged.conflict.map((f) => ({
            file: f,
            line: null,
            severity: 'major',
            text: 'merge conflict',
          })),
        });
        return;
      }
      const commandGates = enabledGates(deps.config, deps.toggles.read(), task.spec).filter((g) =>
        COMMAND_GATES.includes(g),
      );
      if (commandGates.length) {
        const gates = await this.ctx.runGates({
          task,
          repo,
          stage: 'staging',
          commit: staged.tip,
          base: main,
          enabled: commandGates,
        });
        if (!gates) return;
        const failed = gates.filter((g) => !g.passed);
        if (failed.length) {
          this.sendBack(task, main, {
            summary: `On top of the current ${repoCfg.main}, ${failed.map((g) => g.name).join(', ')} failed. Fix this branch so it passes after ${repoCfg.main}'s latest changes.`,
            findings: gateFindings(failed),
          });
          return;
        }
      }
      // rebase fast-forwards main to the rebased tip, which puts every rebased commit on main: each tree
      // must pass the command gates too, or the work lands as one commit of the tip's (gated) tree.
      const landing =
        repoCfg.merge.strategy === 'rebase' && commandGates.length
          ? await this.gateRebased(task, repo, main, staged.tip, commandGates, message)
          : staged.tip;
      if (landing === null) return;
      const moved = await moveBranch(repo.dir, repoCfg.main, landing, main, 'nightshift: merge');
      if (!moved.ok && !moved.moved) return this.waitForCheckout(task, moved.worktree, moved.reason);
      if (!moved.ok) {
        deps.log(`merge of ${task.id}: ${repoCfg.main} moved while staging; re-staging`);
        continue;
      }
      if (repoCfg.remote) {
        const pushed = await repo.push(repoCfg.remote, landing, repoCfg.main);
        if (!pushed.ok) {
          // Put main back (a checkout of it follows) and start again from whatever the remote has now.
          const back = await moveBranch(repo.dir, repoCfg.main, main, landing, 'nightshift: push failed');
          if (!back.ok && !back.moved) {
            deps.log(`merge of ${task.id}: could not put ${repoCfg.main} back: ${back.reason}`);
            this.ctx.update(
              task.id,
              `push to ${repoCfg.remote} failed, and ${repoCfg.main} could not be put back (${back.reason}): ${pushed.message}`,
              { parked: 'push-failed' },
            );
            return;
          }
          if (pushed.rejected) {
            deps.log(
              pushed.lockLost
                ? `merge of ${task.id}: push lost a race for ${repoCfg.remote}'s ${repoCfg.main} (cannot lock ref: a concurrent update); re-staging from its ${repoCfg.main}`
                : `merge of ${task.id}: push rejected by ${repoCfg.remote}; re-staging from its ${repoCfg.main}`,
            );
            continue;
          }
          this.ctx.update(task.id, `push to ${repoCfg.remote} failed: ${pushed.message}`, {
            parked: 'push-failed',
          });
          return;
        }
      }
      deps.store.transition(task.id, (t) => enterDone(t, { now: deps.clock.now(), sha: landing }));
      await this.cleanup(task, repo);
      return;
    }
  }

  /** Back for another round (or to a person), with main as the new base. */
  private sendBack(task: TaskRecord, main: string, review: Pick<Review, 'summary' | 'findings'>): void {
    this.ctx.sendBack(
      task,
      { grade: task.review?.grade ?? null, verdict: 'changes', approvedBy: null, ...review },
      { baseSha: main },
    );
  }

  /**
   * The merge of `task` waits for the user's checkout of main (git/checkout.ts): the task stays approved,
   * parked with the reason, until retryWaiting sees that checkout clean and changed.
   */
  private async waitForCheckout(task: TaskRecord, worktree: string, reason: string): Promise<void> {
    const state = await readCheckout(worktree).catch(() => null);
    this.waitedOn.set(task.id, state?.fingerprint ?? '');
    this.ctx.deps.log(`merge of ${task.id} waits (repo ${task.spec.repo}): ${reason}`);
    this.ctx.update(task.id, `merge waits (repo ${task.spec.repo}): ${reason}`, { parked: PARK_CHECKOUT });
    this.recheckLater();
  }

  /** Nothing else wakes the judgment while merges only wait for a person's checkout: a timer does. */
  private recheckLater(): void {
    if (this.recheckTimer || this.stopped) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      this.recheck();
    }, CHECKOUT_RECHECK_MS);
    this.recheckTimer.unref();
  }

  /**
   * Merges waiting for a checkout go back to the queue once it is clean and has changed since (a file in
   * the way moved, changes committed or stashed): every CHECKOUT_RECHECK_MS while one waits, and at
   * once after the monitor cycle's retryParked, which retries those whose checkout is clean but
   * unchanged (`unchangedToo`).
   */
  async retryWaiting(unchangedToo: boolean): Promise<void> {
    let waiting = false;
    for (const task of this.ctx.deps.store.list()) {
      if (task.state !== 'review' || task.parked !== PARK_CHECKOUT) continue;
      try {
        const { repo, repoCfg } = await this.ctx.locate(task);
        const states = await checkoutStates(repo.dir, repoCfg.main);
        const decision = decideMove(repoCfg.main, states);
        const state = states[0]?.fingerprint ?? '';
        if (decision.kind === 'wait' || (!unchangedToo && this.waitedOn.get(task.id) === state)) {
          waiting = true;
          continue;
        }
        this.waitedOn.delete(task.id);
        this.ctx.update(task.id, `the checkout of ${repoCfg.main} changed: merge retried`, { parked: null });
      } catch (err) {
        waiting = true;
        this.ctx.deps.log(`could not look at the checkout for ${task.id}: ${coerceError(err).describe()}`);
      }
    }
    if (waiting) this.recheckLater();
  }

  /**
   * rebase mode, once the rebased tip's tree has passed `gates` in staging: runs them on every other
   * rebased commit's tree too, oldest first, in the staging gate checkout (a tree already gated is not
   * run again). Returns the tip when all pass. When one fails, the branch's history cannot go on main as
   * it is, but its end result passed: returns one new commit on `main` with the tip's tree, whose message
   * lists the commits it replaces, and records why. Null when a run changed the supervisor's refs (the
   * task has failed).
   */
  private async gateRebased(
    task: TaskRecord,
    repo: Repo,
    main: string,
    tip: string,
    gates: readonly GateName[],
    message: string,
  ): Promise<string | null> {
    const { deps } = this.ctx;
    const commits = await repo.commits(main, tip);
    const tipTree = await repo.treeOf(tip);
    const gated = new Set([tipTree]);
    for (const commit of commits) {
      if (gated.has(commit.tree)) continue;
      const results = await this.ctx.runGates({
        task,
        repo,
        stage: 'staging',
        commit: commit.sha,
        base: main,
        enabled: gates,
      });
      if (!results) return null;
      const failed = results.filter((g) => !g.passed).map((g) => g.name);
      if (!failed.length) {
        gated.add(commit.tree);
        continue;
      }
      const why = `rebased commit ${commit.line} fails ${failed.join(', ')} in staging`;
      const squash = await repo.commitTree(
        tipTree,
        main,
        [
          message,
          '',
          `Squashed by nightshift: the ${why}, so the branch lands as one commit of its tip's tree, which passed.`,
          '',
          ...commits.map((c) => `- ${c.line}`),
        ].join('\n'),
      );
      // The subject is the executor's text: redacted like everything else the supervisor logs.
      deps.log(`merge of ${task.id}: ${deps.redact(why)}; landing one squash commit instead`);
      this.ctx.update(
        task.id,
        `merge: ${deps.redact(why)}; the ${commits.length} commits land squashed into one whose tree passed the gates`,
        {},
      );
      return squash;
    }
    return tip;
  }

  /** After a merge: the gate checkout, and the worktree on every host an attempt ran on. */
  private async cleanup(task: TaskRecord, repo: Repo): Promise<void> {
    const { deps } = this.ctx;
    await removeGateCheckout(repo.dir, deps.paths.gateCheckout(task.spec.repo, task.id)).catch(
      () => undefined,
    );
    for (const worker of this.ctx.attemptHosts(task)) {
      await worker.removeWorktree(task.spec.repo, task.id).catch((err: unknown) => {
        deps.log(
          `could not remove the worktree of ${task.id} on ${worker.name}: ${coerceError(err).describe()}`,
        );
      });
    }
  }
}
