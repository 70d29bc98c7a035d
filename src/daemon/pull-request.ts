/**
 * pr mode (`repos.<name>.merge.mode: pr`, docs/merge.md#pull-requests): the merge queue hands an
 * approved, gated task here instead of merging it. The supervisor pushes the gated commit of ns/<id>
 * from its own repository to the configured remote as nightshift/<id> (without force; the executor's
 * host never pushes anything), then opens a pull request with gh, unless one for that branch exists
 * already (a re-run, or a try whose answer was lost): the task ends `done` with the pull request's URL
 * on its record (`pullRequest`). Nothing lands on main here.
 *
 * A push or gh that fails is the remote's or the supervisor's problem, never the spec's: no attempt is
 * charged. The task parks as `pr-retry` and is tried again by itself with a doubling delay
 * (defaults.retryInitial … retryMax), and after PR_MAX_TRIES as `pr-failed` with a reason naming the
 * remote and what to do; `nightshift approve <id>` starts it again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDuration } from '../core/duration.js';
import type { TaskId } from '../core/ids.js';
import { enterPrOpened, type TaskRecord } from '../core/task.js';
import { runGh, type GhResult } from '../git/gh.js';
import { specSource } from '../spec/parse.js';
import type { JudgmentContext, Located } from './judgment-context.js';
import {
  createdPrUrl,
  existingPr,
  prBody,
  prBranch,
  prCreateArgs,
  prListArgs,
  prNumber,
  prRetry,
  type PrRetryPolicy,
} from './pull-request-text.js';

export const PR_MAX_TRIES = 5;

/** Runs gh (git/gh.ts); a port so a test can count the calls. */
export type GhPort = (args: readonly string[], cwd: string) => Promise<GhResult>;

/** Why one try failed, in words for the park reason and what a person can do about it. */
interface TryFailure {
  why: string;
  /** Retrying cannot help (the remote holds other commits under the branch's name). */
  final?: boolean;
}

export class PullRequests {
  /** Failed tries so far, per task, since its last approval or restart. */
  private readonly tries = new Map<TaskId, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly gh: GhPort;

  /**
   * `wake` runs the judgment again (a retry came due); `cleanup` removes a finished task's gate
   * checkout and worktrees, as after a merge.
   */
  constructor(
    private readonly ctx: JudgmentContext,
    private readonly wake: () => void,
    private readonly cleanup: (task: TaskRecord, located: Located) => Promise<void>,
    gh?: GhPort,
  ) {
    this.gh = gh ?? ((args, cwd) => runGh(args, { cwd, env: ctx.deps.env }));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private get policy(): PrRetryPolicy {
    const d = this.ctx.deps.config.defaults;
    return {
      maxTries: PR_MAX_TRIES,
      initialMs: parseDuration(d.retryInitial) ?? 60_000,
      maxMs: parseDuration(d.retryMax) ?? 15 * 60_000,
    };
  }

  /** Pushes the task's branch and opens (or finds) its pull request; `located` is the merge queue's. */
  async open(task: TaskRecord, located: Located): Promise<void> {
    const { deps } = this.ctx;
    const { repo, repoCfg, tip } = located;
    const cfg = repoCfg.merge;
    if (!tip) {
      this.ctx.update(task.id, `branch ns/${task.id} is missing`, { parked: 'missing-branch' });
      return;
    }
    const head = prBranch(task);
    const base = cfg.base ?? repoCfg.main;
    const pushed = await repo.push(cfg.remote, tip, head);
    if (!pushed.ok) {
      const message = deps.redact(pushed.message);
      return this.failed(
        task,
        pushed.rejected
          ? {
              why: `${cfg.remote} already has a branch ${head} with other commits (${message}); delete it there (git push ${cfg.remote} --delete ${head}) and run nightshift approve ${task.id}`,
              final: true,
            }
          : {
              why: `pushing ${head} to ${cfg.remote} failed: ${message}; check the remote and your git credentials for it (git push ${cfg.remote} works by hand?)`,
            },
      );
    }
    const listed = await this.gh(prListArgs(head), repo.dir);
    if (!listed.ok) return this.failed(task, ghFailure(listed, cfg.remote, 'list pull requests'));
    let pr = existingPr(listed.stdout);
    if (pr) {
      deps.log(`pull request for ${task.id} exists already: ${pr.url}`);
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-pr-'));
      try {
        const bodyFile = path.join(dir, 'body.md');
        const specText = deps.store.specText(task.id);
        const body = prBody({
          task,
          specText,
          source: specSource(specText),
          sha: tip,
          redact: deps.redact,
        });
        writeFileSync(bodyFile, body, { mode: 0o600 });
        const title = deps.redact(task.title);
        const args = prCreateArgs({ title, bodyFile, base, head, labels: cfg.labels, draft: cfg.draft });
        const created = await this.gh(args, repo.dir);
        if (!created.ok) return this.failed(task, ghFailure(created, cfg.remote, 'create the pull request'));
        const url = createdPrUrl(created.stdout);
        if (!url) {
          return this.failed(task, {
            why: `gh pr create printed no pull request URL (${deps.redact(created.stdout.trim().slice(0, 200)) || 'nothing'}); the next try looks for it with gh pr list`,
          });
        }
        pr = { url, number: prNumber(url) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    this.tries.delete(task.id);
    const at = new Date(deps.clock.now()).toISOString();
    deps.store.transition(task.id, (t) =>
      enterPrOpened(t, {
        now: deps.clock.now(),
        pr: { url: pr.url, number: pr.number, remote: cfg.remote, branch: head, base, sha: tip, at },
      }),
    );
    deps.log(`pull request for ${task.id}: ${pr.url}`);
    await this.cleanup(task, located);
  }

  /** Parks the task for a retry, or for a person once the tries are used up (or cannot help). */
  private failed(task: TaskRecord, failure: TryFailure): void {
    const { deps } = this.ctx;
    // gh's and git's messages can quote anything from the environment: never a secret in a record.
    failure = { ...failure, why: deps.redact(failure.why) };
    const tries = (this.tries.get(task.id) ?? 0) + 1;
    const next = failure.final ? { retry: false as const } : prRetry(tries, deps.clock.now(), this.policy);
    deps.log(`pull request for ${task.id}, try ${tries}: ${failure.why}`);
    if (next.retry) {
      this.tries.set(task.id, tries);
      const when = new Date(next.at).toISOString();
      this.ctx.update(
        task.id,
        `pull request not opened (try ${tries} of ${PR_MAX_TRIES}, no attempt charged): ${failure.why}; tried again at ${when}`,
        { parked: 'pr-retry', retryAt: when },
      );
      this.schedule(next.at);
      return;
    }
    this.tries.delete(task.id);
    this.ctx.update(
      task.id,
      `pull request not opened${failure.final ? '' : ` after ${tries} tries`} (no attempt charged): ${failure.why}; then nightshift approve ${task.id}`,
      { parked: 'pr-failed', retryAt: null },
    );
  }

  /**
   * Un-parks every `pr-retry` task whose retry time has come (so the merge queue takes it again) and
   * sets a timer for the next one. Called at each judgment pass: after a restart too.
   */
  unparkDue(): void {
    const { deps } = this.ctx;
    const now = deps.clock.now();
    let next = Infinity;
    for (const task of deps.store.list()) {
      if (task.state !== 'review' || task.parked !== 'pr-retry') continue;
      const at = task.retryAt ? Date.parse(task.retryAt) : NaN;
      if (Number.isNaN(at) || at <= now) {
        this.ctx.update(task.id, 'pull request: trying again', { parked: null, retryAt: null });
      } else {
        next = Math.min(next, at);
      }
    }
    if (next < Infinity) this.schedule(next);
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(0, at - this.ctx.deps.clock.now()),
    );
    this.timer.unref();
  }
}

/** A failed gh call in words: gh's own message, and what to do (log in, set the default repo). */
function ghFailure(result: GhResult, remote: string, doing: string): TryFailure {
  const said = `${result.stderr}\n${result.stdout}`;
  const hint =
    result.status === null && /not installed/.test(result.why)
      ? 'install gh (https://cli.github.com) on the supervisor'
      : /auth|login|token|credential|401|403/i.test(said)
        ? 'run gh auth login (or set GH_TOKEN) for the supervisor, with the repo scope'
        : /multiple remotes|set-default|no git remotes|not a git repository/i.test(said)
          ? `run gh repo set-default in the repository so gh uses the GitHub repository of ${remote}`
          : `check that gh can reach the GitHub repository of ${remote} (gh pr list works there?)`;
  return { why: `gh could not ${doing} on ${remote}: ${result.why}; ${hint}` };
}
