/**
 * The judgment pipeline (DESIGN.md §8): gates in an isolated checkout of the fetched branch (one that
 * holds no ref of the supervisor's repo: gate-runs.ts), then the architect (or the gates alone, or a
 * person), then the merge queue — one merge at a time, in approval order: stage on the current main,
 * re-run the command gates on exactly that tree, move main with a compare-and-swap, push without force.
 * A gate run that changed the supervisor's refs fails the task: they are put back, it is never merged.
 * It runs beside the dispatch loop, never inside it, so a long test suite never delays exit detection.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coerceError } from '../core/errors.js';
import { FatalIoError } from '../queue/fsx.js';
import { parseDuration } from '../core/duration.js';
import type { GateName } from '../core/gates.js';
import type { TaskId } from '../core/ids.js';
import {
  approvalTime,
  enterChanges,
  enterDone,
  enterFailed,
  updateTask,
  type Review,
  type TaskRecord,
} from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import { resolveRepoPath, type WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { namedSecretRedactor } from '../config/secrets.js';
import { Repo } from '../git/repo.js';
import { checkoutStates, decideMove, moveBranch, readCheckout } from '../git/checkout.js';
import type { WorkerHost } from '../hosts/worker.js';
import type { EventSink } from '../queue/eventlog.js';
import type { QueueStore } from '../queue/store.js';
import type { ToggleStore } from '../queue/toggles.js';
import { prepareGateCheckout, removeGateCheckout } from '../git/gate-checkout.js';
import { Architect, resolveArchitectMode, wholeFiles } from '../review/architect.js';
import { enabledGates } from '../review/gates.js';
import { GateRuns, type GateRunResult } from './gate-runs.js';

export interface JudgmentDeps {
  paths: WorkspacePaths;
  config: Config;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  store: QueueStore;
  toggles: ToggleStore;
  events: EventSink;
  hosts: Map<string, WorkerHost>;
  log: (line: string) => void;
  /** Removes known secret values from anything sent to the architect. */
  redact: (text: string) => string;
  /** A graded verdict is in the task records (grade feedback is rebuilt from them: grades.ts). */
  onGraded: () => void;
  /** Something changed that may unblock dispatch (a merge, a task back to pending). */
  wake: () => void;
  /** An fsync failed: the queue may have lost data. The loop stops; the owner stops the process. */
  onFatal?: (err: FatalIoError) => void;
}

const PARK_MANUAL = 'awaiting-approval';
const PARK_HUMAN = 'needs-human';
const PARK_ARCHITECT = 'architect-unavailable';
/** An approved merge waits for the user's checkout of main to be clean (git/checkout.ts). */
const PARK_CHECKOUT = 'checkout-dirty';
/** How often the checkouts that merges wait for are looked at again. */
const CHECKOUT_RECHECK_MS = 5_000;
const COMMAND_GATES: readonly GateName[] = ['tests', 'lint'];

export class Judgment {
  readonly mode: 'llm' | 'gates' | 'manual';
  private readonly architect: Architect | null;
  private readonly gateRuns: GateRuns;
  /** For the diff shown to people and the architect: each secret says `[secret: NAME]` where it was. */
  private readonly show: (text: string) => string;
  private running = false;
  private again = false;
  private stopped = false;
  /** Waiting task id → what its checkout looked like when the merge had to wait (readCheckout). */
  private readonly waitedOn = new Map<string, string>();
  /** Look at the checkouts merges wait for at the next pass (at start, after a restart, too). */
  private checkoutsDue = true;
  private recheckTimer: NodeJS.Timeout | null = null;
  /** The monitor cycle retries every waiting merge whose checkout is clean, changed or not. */
  private retryUnchanged = false;

  constructor(private readonly deps: JudgmentDeps) {
    const named = namedSecretRedactor(deps.config, deps.env);
    // Named first, so a reader sees which secret was there; then whatever else the supervisor hides.
    this.show = (text) => deps.redact(named(text));
    const resolved = resolveArchitectMode(deps.config.architect, deps.env);
    this.mode = resolved.mode;
    if (resolved.note) deps.log(`architect: ${resolved.note}`);
    this.architect =
      this.mode === 'llm'
        ? new Architect(deps.config.architect, deps.env, { log: (l) => deps.log(`architect: ${l}`) })
        : null;
    this.gateRuns = new GateRuns({ config: deps.config, env: deps.env, log: deps.log });
  }

  /** Starts working through reviews and merges if not already doing so. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  /** True while a review or merge is in progress. */
  get busy(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    while (this.running) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * Parked-because-the-architect-failed tasks get another try (from the monitor cycle), and merges that
   * wait for a checkout look at it again at once.
   */
  retryParked(): void {
    this.checkoutsDue = true;
    this.retryUnchanged = true;
    for (const t of this.deps.store.list()) {
      if (t.state === 'review' && t.parked === PARK_ARCHITECT) {
        this.update(t.id, 'architect retry', { parked: null, review: null });
      }
    }
    this.kick();
  }

  /** The monitor cycle's housekeeping: ended tasks' gate checkouts, then merged branches past retention. */
  async tidy(): Promise<void> {
    await this.removeEndedWorktrees();
    await this.pruneMergedBranches();
  }

  /** Removes the gate checkout (work/<repo>/<id>) of every task that is done or failed. */
  async removeEndedWorktrees(): Promise<number> {
    let removed = 0;
    for (const task of this.deps.store.list()) {
      if (task.state !== 'done' && task.state !== 'failed') continue;
      const checkout = this.deps.paths.gateCheckout(task.spec.repo, task.id);
      if (!existsSync(checkout)) continue;
      try {
        const { repo } = await this.locate(task);
        await removeGateCheckout(repo.dir, checkout);
        removed += 1;
      } catch (err) {
        // One repo that cannot be opened must not keep the others' checkouts; tried again next cycle.
        this.deps.log(`could not remove the gate checkout of ${task.id}: ${coerceError(err).describe()}`);
      }
    }
    return removed;
  }

  /**
   * Deletes ns/<id> of tasks merged longer ago than the retention period (from the monitor cycle): in the
   * supervisor's repo and, with refs/nightshift/base/<id>, in the mirror of every host an attempt ran on.
   * A host that cannot be reached now is tried again next cycle; unmerged branches are never deleted.
   */
  async pruneMergedBranches(): Promise<number> {
    const keepMs = parseDuration(this.deps.config.defaults.branchRetention) ?? 7 * 86_400_000;
    const now = this.deps.clock.now();
    let pruned = 0;
    for (const task of this.deps.store.list()) {
      if (task.state !== 'done' || !task.merge || task.branchPrunedAt) continue;
      if (now - Date.parse(task.merge.at) < keepMs) continue;
      let repo: Repo;
      try {
        ({ repo } = await this.locate(task));
      } catch (err) {
        this.deps.log(
          `could not prune ns/${task.id} (tried again next cycle): ${coerceError(err).describe()}`,
        );
        continue;
      }
      await repo.deleteBranch(`ns/${task.id}`);
      let everywhere = true;
      for (const worker of this.attemptHosts(task)) {
        try {
          await worker.deleteTaskRefs(task.spec.repo, task.id);
        } catch (err) {
          everywhere = false;
          this.deps.log(
            `could not delete the refs of ${task.id} on ${worker.name} (tried again next cycle): ${coerceError(err).describe()}`,
          );
        }
      }
      if (!everywhere) continue;
      this.update(
        task.id,
        `branch ns/${task.id} deleted: merged more than ${this.deps.config.defaults.branchRetention} ago`,
        {
          branchPrunedAt: new Date(now).toISOString(),
        },
      );
      pruned += 1;
    }
    return pruned;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.checkoutsDue) {
        this.checkoutsDue = false;
        await this.retryWaitingMerges();
      }
      for (;;) {
        if (this.stopped) return;
        const tasks = this.deps.store.list().filter((t) => t.state === 'review' && !t.parked);
        const fresh = tasks.filter((t) => !t.review || t.review.verdict === null).sort(byCreated);
        const approved = tasks
          .filter((t) => t.review?.verdict === 'approve')
          .sort((a, b) =>
            (a.review?.approvedAt ?? a.updatedAt).localeCompare(b.review?.approvedAt ?? b.updatedAt),
          );
        const next = approved[0] ?? fresh[0];
        if (!next) break;
        try {
          if (next.review?.verdict === 'approve') await this.merge(next);
          else await this.judge(next);
        } catch (err) {
          if (err instanceof FatalIoError) return this.fatal(err);
          const reason = coerceError(err).describe();
          this.deps.log(`judgment of ${next.id} failed: ${reason}`);
          try {
            this.update(next.id, `judgment failed (supervisor): ${reason}`, { parked: 'judgment-error' });
          } catch (again) {
            if (again instanceof FatalIoError) return this.fatal(again);
            // The task itself is gone or unreadable: nothing left to park; stop rather than spin on it.
            this.deps.log(`could not park ${next.id}: ${coerceError(again).describe()}`);
            return;
          }
        }
        this.deps.wake();
      }
    } while (this.again && !this.stopped);
  }

  /** Never a parked task and a next one: the disk may have lost data. */
  private fatal(err: FatalIoError): void {
    this.stopped = true;
    if (this.deps.onFatal) this.deps.onFatal(err);
    else this.deps.log(`fatal: ${err.describe()}; judgment stops`);
  }

  // ---- review ----------------------------------------------------------------------------

  private async judge(task: TaskRecord): Promise<void> {
    const { repo, base, tip } = await this.locate(task);
    if (!tip) {
      this.update(task.id, `branch ns/${task.id} is missing from the supervisor's repo`, {
        parked: 'missing-branch',
      });
      return;
    }
    await this.saveDiff(task, repo, base, tip);
    const enabled = enabledGates(this.deps.config, this.deps.toggles.read(), task.spec);
    const specText = this.deps.store.specText(task.id);
    const run = await this.gateRuns.run({
      task,
      repo,
      watched: this.reviewBranches(task),
      dir: this.deps.paths.gateCheckout(task.spec.repo, task.id),
      commit: tip,
      base,
      enabled,
      specText,
      baseSuite: {
        // The base's suite runs in an isolated checkout of the base, the way the head's runs, inside the
        // same refs check.
        checkout: async (commit) =>
          (await prepareGateCheckout(repo.dir, this.deps.paths.baseWorktree(task.spec.repo), commit)).dir,
        cacheFile: this.deps.paths.baseTestCounts,
      },
    });
    if (this.refsTouched(task, run, 'the review')) return;
    const gates = run.results;
    const failed = gates.filter((g) => !g.passed);
    this.update(
      task.id,
      `gates: ${gates.map((g) => `${g.name} ${g.passed ? 'pass' : 'FAIL'}`).join(', ') || 'none enabled'}`,
      { gates },
    );
    if (failed.length) {
      this.verdict(task.id, {
        grade: null,
        verdict: 'changes',
        summary: `Gates failed: ${failed.map((g) => g.name).join(', ')}. Fix them on this branch.`,
        findings: failed.map((g) => ({
          file: '(gate)',
          line: null,
          severity: 'major',
          text: `${g.name}: ${g.evidence}`,
        })),
        approvedBy: null,
      });
      return;
    }
    if (this.mode === 'gates') {
      this.verdict(task.id, {
        grade: null,
        verdict: 'approve',
        summary: 'All enabled gates passed.',
        findings: [],
        approvedBy: 'gates',
      });
      return;
    }
    if (this.mode === 'manual' || !this.architect) {
      this.update(task.id, 'gates passed; waiting for a person to approve or reject', {
        parked: PARK_MANUAL,
      });
      return;
    }
    const diff = await repo.diff(base, tip);
    // A small change also goes with its changed files whole, so the architect sees their context.
    const files = await wholeFiles(repo, base, tip, diff.length, this.deps.config.architect.wholeFiles);
    const answer = await this.architect.review({
      title: task.title,
      specText: this.deps.redact(specText),
      gates,
      diff: this.show(diff),
      files: files.map((f) => ({ path: this.show(f.path), content: this.show(f.content) })),
      round: task.round,
      reviewRounds: task.spec.reviewRounds,
    });
    if (!answer.ok) {
      // Never an approval by default: the task waits for a person, and the record says whose fault it is.
      this.update(task.id, `architect unavailable (supervisor): ${answer.reason}`, {
        parked: PARK_ARCHITECT,
        review: {
          grade: null,
          verdict: null,
          summary: `The architect gave no usable verdict: ${answer.reason}`,
          findings: [],
          approvedBy: null,
          round: task.round,
          attribution: answer.attribution,
        },
      });
      return;
    }
    const v = answer.verdict;
    this.verdict(task.id, { ...v, approvedBy: v.verdict === 'approve' ? 'architect' : null });
    if (v.grade) this.deps.onGraded();
  }

  private verdict(id: TaskId, review: Review): void {
    const now = this.deps.clock.now();
    const task = this.deps.store.get(id);
    if (task.state !== 'review') return;
    const stamped: Review = {
      ...review,
      round: task.round,
      approvedAt: review.verdict === 'approve' ? approvalTime(now, this.deps.store.list()) : null,
    };
    if (review.verdict === 'approve') {
      this.update(
        id,
        `approved by ${review.approvedBy ?? '?'}${review.grade ? ` (${review.grade})` : ''}: ${review.summary}`,
        { review: stamped },
      );
      return;
    }
    if (review.verdict === 'reject') {
      this.deps.store.transition(id, (t) =>
        enterFailed(
          { ...t, review: stamped },
          {
            now,
            code: 'rejected',
            attribution: 'spec',
            reason: `rejected by the architect: ${review.summary}`,
          },
        ),
      );
      return;
    }
    this.sendBack(task, stamped);
  }

  /** `changes`: another round on the same branch, or parked for a person when the rounds are used up. */
  private sendBack(task: TaskRecord, review: Review, patch: Partial<TaskRecord> = {}): void {
    const now = this.deps.clock.now();
    if (task.round < task.spec.reviewRounds) {
      this.deps.store.transition(task.id, (t) =>
        enterChanges({ ...t, ...patch, review }, { now, reason: review.summary.slice(0, 200) }),
      );
    } else {
      this.update(task.id, `review rounds used up (${task.spec.reviewRounds}): ${review.summary}`, {
        ...patch,
        review,
        parked: PARK_HUMAN,
      });
    }
  }

  // ---- merge queue -------------------------------------------------------------------------

  private async merge(task: TaskRecord): Promise<void> {
    const { repo, base, tip, repoCfg } = await this.locate(task);
    if (!tip) {
      this.update(task.id, `branch ns/${task.id} is missing`, { parked: 'missing-branch' });
      return;
    }
    const mainRef = `refs/heads/${repoCfg.main}`;
    const staging = this.deps.paths.stagingWorktree(task.spec.repo);
    // A dirty checkout of main would make the move wait anyway: do not stage and gate for nothing.
    const before = decideMove(repoCfg.main, await checkoutStates(repo.dir, repoCfg.main));
    if (before.kind === 'wait') return this.waitForCheckout(task, before.worktree, before.reason);
    for (let attempt = 0; attempt < 3; attempt++) {
      let main = await repo.revParse(mainRef);
      if (!main) {
        this.update(task.id, `${repoCfg.main} does not exist in ${repo.dir}`, { parked: 'no-main' });
        return;
      }
      if (repoCfg.remote) {
        const remoteTip = await repo.fetchRemote(repoCfg.remote, repoCfg.main);
        if (remoteTip && remoteTip !== main) {
          if (await repo.isAncestor(main, remoteTip)) {
            const moved = await moveBranch(repo.dir, repoCfg.main, remoteTip, main, 'nightshift: fetch');
            if (!moved.ok && !moved.moved) return this.waitForCheckout(task, moved.worktree, moved.reason);
            if (!moved.ok) continue;
            main = remoteTip;
          } else if (!(await repo.isAncestor(remoteTip, main))) {
            this.update(
              task.id,
              `${repoCfg.remote}/${repoCfg.main} and local ${repoCfg.main} have diverged; reconcile them by hand`,
              { parked: 'diverged' },
            );
            return;
          }
        }
      }
      const message = `${task.title} (nightshift ${task.id})`;
      const staged =
        repoCfg.merge === 'rebase'
          ? await repo.rebase(staging, main, base, tip)
          : await repo.merge(staging, main, tip, message, repoCfg.merge === 'squash');
      if ('conflict' in staged) {
        this.sendBack(
          task,
          {
            grade: task.review?.grade ?? null,
            verdict: 'changes',
            summary: `Merging into ${repoCfg.main} conflicts in ${staged.conflict.join(', ')}. Rebase this branch onto refs/nightshift/base/${task.id} (the current ${repoCfg.main}) and resolve the conflicts.`,
            findings: staged.conflict.map((f) => ({
              file: f,
              line: null,
              severity: 'major',
              text: 'merge conflict',
            })),
            approvedBy: null,
          },
          { baseSha: main },
        );
        return;
      }
      const commandGates = enabledGates(this.deps.config, this.deps.toggles.read(), task.spec).filter((g) =>
        COMMAND_GATES.includes(g),
      );
      if (commandGates.length) {
        const run = await this.gateRuns.run({
          task,
          repo,
          watched: this.reviewBranches(task),
          dir: this.deps.paths.stagingGateCheckout(task.spec.repo),
          commit: staged.tip,
          base: main,
          enabled: commandGates,
          specText: this.deps.store.specText(task.id),
        });
        if (this.refsTouched(task, run, 'the merge queue')) return;
        const gates = run.results;
        const failed = gates.filter((g) => !g.passed);
        if (failed.length) {
          this.sendBack(
            task,
            {
              grade: task.review?.grade ?? null,
              verdict: 'changes',
              summary: `On top of the current ${repoCfg.main}, ${failed.map((g) => g.name).join(', ')} failed. Fix this branch so it passes after ${repoCfg.main}'s latest changes.`,
              findings: failed.map((g) => ({
                file: '(gate)',
                line: null,
                severity: 'major',
                text: `${g.name}: ${g.evidence}`,
              })),
              approvedBy: null,
            },
            { baseSha: main },
          );
          return;
        }
      }
      // rebase fast-forwards main to the rebased tip, which puts every rebased commit on main: each tree
      // must pass the command gates too, or the work lands as one commit of the tip's (gated) tree.
      const landing =
        repoCfg.merge === 'rebase' && commandGates.length
          ? await this.gateRebased(task, repo, main, staged.tip, commandGates, message)
          : staged.tip;
      if (landing === null) return;
      const moved = await moveBranch(repo.dir, repoCfg.main, landing, main, 'nightshift: merge');
      if (!moved.ok && !moved.moved) return this.waitForCheckout(task, moved.worktree, moved.reason);
      if (!moved.ok) {
        this.deps.log(`merge of ${task.id}: ${repoCfg.main} moved while staging; re-staging`);
        continue;
      }
      if (repoCfg.remote) {
        const pushed = await repo.push(repoCfg.remote, landing, repoCfg.main);
        if (!pushed.ok) {
          // Put main back (a checkout of it follows) and start again from whatever the remote has now.
          const back = await moveBranch(repo.dir, repoCfg.main, main, landing, 'nightshift: push failed');
          if (!back.ok && !back.moved) {
            this.deps.log(`merge of ${task.id}: could not put ${repoCfg.main} back: ${back.reason}`);
            this.update(
              task.id,
              `push to ${repoCfg.remote} failed, and ${repoCfg.main} could not be put back (${back.reason}): ${pushed.message}`,
              { parked: 'push-failed' },
            );
            return;
          }
          if (pushed.rejected) {
            this.deps.log(
              `merge of ${task.id}: push rejected by ${repoCfg.remote}; re-staging from its ${repoCfg.main}`,
            );
            continue;
          }
          this.update(task.id, `push to ${repoCfg.remote} failed: ${pushed.message}`, {
            parked: 'push-failed',
          });
          return;
        }
      }
      this.deps.store.transition(task.id, (t) => enterDone(t, { now: this.deps.clock.now(), sha: landing }));
      await this.cleanup(task, repo);
      return;
    }
    this.update(task.id, `${repoCfg.main} kept moving; merge gave up after 3 tries`, {
      parked: 'merge-retries',
    });
  }

  /**
   * The merge of `task` waits for the user's checkout of main (git/checkout.ts): the task stays approved,
   * parked with the reason, until retryWaitingMerges sees that checkout clean and changed.
   */
  private async waitForCheckout(task: TaskRecord, worktree: string, reason: string): Promise<void> {
    const state = await readCheckout(worktree).catch(() => null);
    this.waitedOn.set(task.id, state?.fingerprint ?? '');
    this.deps.log(`merge of ${task.id} waits (repo ${task.spec.repo}): ${reason}`);
    this.update(task.id, `merge waits (repo ${task.spec.repo}): ${reason}`, { parked: PARK_CHECKOUT });
    this.recheckLater();
  }

  /** Nothing else wakes the judgment while merges only wait for a person's checkout: a timer does. */
  private recheckLater(): void {
    if (this.recheckTimer || this.stopped) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      this.checkoutsDue = true;
      this.kick();
    }, CHECKOUT_RECHECK_MS);
    this.recheckTimer.unref();
  }

  /**
   * Merges waiting for a checkout go back to the queue once it is clean and has changed since (a file in
   * the way moved, changes committed or stashed): every CHECKOUT_RECHECK_MS while one waits, and at
   * once after the monitor cycle's retryParked, which retries those whose checkout is clean but unchanged.
   */
  private async retryWaitingMerges(): Promise<void> {
    let waiting = false;
    const unchangedToo = this.retryUnchanged;
    this.retryUnchanged = false;
    for (const task of this.deps.store.list()) {
      if (task.state !== 'review' || task.parked !== PARK_CHECKOUT) continue;
      try {
        const { repo, repoCfg } = await this.locate(task);
        const states = await checkoutStates(repo.dir, repoCfg.main);
        const decision = decideMove(repoCfg.main, states);
        const state = states[0]?.fingerprint ?? '';
        if (decision.kind === 'wait' || (!unchangedToo && this.waitedOn.get(task.id) === state)) {
          waiting = true;
          continue;
        }
        this.waitedOn.delete(task.id);
        this.update(task.id, `the checkout of ${repoCfg.main} changed: merge retried`, { parked: null });
      } catch (err) {
        waiting = true;
        this.deps.log(`could not look at the checkout for ${task.id}: ${coerceError(err).describe()}`);
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
    const commits = await repo.commits(main, tip);
    const tipTree = await repo.treeOf(tip);
    const gated = new Set([tipTree]);
    const specText = this.deps.store.specText(task.id);
    for (const commit of commits) {
      if (gated.has(commit.tree)) continue;
      const run = await this.gateRuns.run({
        task,
        repo,
        watched: this.reviewBranches(task),
        dir: this.deps.paths.stagingGateCheckout(task.spec.repo),
        commit: commit.sha,
        base: main,
        enabled: gates,
        specText,
      });
      if (this.refsTouched(task, run, 'the merge queue')) return null;
      const failed = run.results.filter((g) => !g.passed).map((g) => g.name);
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
      this.deps.log(`merge of ${task.id}: ${this.deps.redact(why)}; landing one squash commit instead`);
      this.update(
        task.id,
        `merge: ${this.deps.redact(why)}; the ${commits.length} commits land squashed into one whose tree passed the gates`,
        {},
      );
      return squash;
    }
    return tip;
  }

  /** After a merge: the gate checkout, and the worktree on every host an attempt ran on. */
  private async cleanup(task: TaskRecord, repo: Repo): Promise<void> {
    await removeGateCheckout(repo.dir, this.deps.paths.gateCheckout(task.spec.repo, task.id)).catch(
      () => undefined,
    );
    for (const worker of this.attemptHosts(task)) {
      await worker.removeWorktree(task.spec.repo, task.id).catch((err: unknown) => {
        this.deps.log(
          `could not remove the worktree of ${task.id} on ${worker.name}: ${coerceError(err).describe()}`,
        );
      });
    }
  }

  /** The configured hosts the task's attempts ran on, each once. */
  private attemptHosts(task: TaskRecord): WorkerHost[] {
    return [...new Set(task.attempts.map((a) => a.host))].flatMap((h) => this.deps.hosts.get(h) ?? []);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * The branches a gate run must not move besides the protected refs: ns/<id> of every task of this
   * repo in review, this one's included, as each merges what its branch holds when its turn comes. Other
   * ns/ branches may be fetched meanwhile (running tasks' collection).
   */
  private reviewBranches(task: TaskRecord): string[] {
    return this.deps.store
      .list()
      .filter((t) => t.state === 'review' && t.spec.repo === task.spec.repo)
      .map((t) => `refs/heads/ns/${t.id}`);
  }

  /**
   * A gate run that changed the supervisor's refs: each change (already put back) is recorded as a
   * `main.restored` event, and the task fails as `main-touched`, charged to the spec. True if so.
   */
  private refsTouched(task: TaskRecord, run: GateRunResult, during: string): boolean {
    if (run.touched.length === 0) return false;
    const time = new Date(this.deps.clock.now()).toISOString();
    for (const c of run.touched) {
      this.deps.events.emit({
        type: 'main.restored',
        time,
        task: task.id,
        host: 'supervisor',
        ref: c.ref,
        old: c.from,
        new: c.to,
        attributed: true,
        reason: `${c.ref} in the supervisor's repo changed from ${c.from ?? 'absent'} to ${c.to ?? 'absent'} while the gates of ${task.id} ran in ${during}: the branch's code did it; ${c.restored ? 'restored' : 'could not be restored: set it back by hand'}`,
      });
    }
    const [first] = run.touched;
    const more = run.touched.length > 1 ? ` and ${run.touched.length - 1} more ref(s)` : '';
    const reason = `the branch's code changed the supervisor's refs while its gates ran (${first?.ref}${more}, in ${during}); ${run.touched.every((c) => c.restored) ? 'restored' : 'NOT all restored: see the main.restored events'}; the branch is never merged`;
    this.deps.log(`${task.id}: ${reason}`);
    this.deps.store.transition(task.id, (t) =>
      enterFailed(t, { now: this.deps.clock.now(), code: 'main-touched', attribution: 'spec', reason }),
    );
    return true;
  }

  /** logs/<id>/diff-round-<n>.patch, each secret named in its place (`[secret: NAME]`), for the TUI's Review tab. */
  private async saveDiff(task: TaskRecord, repo: Repo, base: string, tip: string): Promise<void> {
    try {
      const diff = await repo.diff(base, tip, ['--stat', '--patch']);
      const file = this.deps.paths.diffPatch(task.id, task.round);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, this.show(diff.slice(0, 2_010_000)).slice(0, 2_000_000), { mode: 0o600 });
    } catch (err) {
      this.deps.log(`could not save the diff of ${task.id}: ${coerceError(err).describe()}`);
    }
  }

  private async locate(task: TaskRecord) {
    const repoCfg = this.deps.config.repos[task.spec.repo] ?? {
      path: '.',
      main: 'main',
      remote: null,
      merge: 'rebase' as const,
    };
    const repo = new Repo(resolveRepoPath(this.deps.paths.root, repoCfg.path, os.homedir()));
    const tip = await repo.revParse(`refs/heads/ns/${task.id}`);
    const base = task.baseSha ?? (await repo.revParse(task.spec.base)) ?? task.spec.base;
    return { repo, repoCfg, tip, base };
  }

  private update(id: TaskId, reason: string, patch: Partial<TaskRecord>): void {
    this.deps.store.transition(id, (t) => updateTask(t, this.deps.clock.now(), reason, patch));
  }
}

function byCreated(a: TaskRecord, b: TaskRecord): number {
  return a.createdAt.localeCompare(b.createdAt);
}
