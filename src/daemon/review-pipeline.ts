/**
 * The review pipeline (DESIGN.md §8): a fresh task in review gets its gates, run in an isolated checkout
 * of the fetched branch (gate-runs.ts), then a verdict — from the architect, the gates alone, or a
 * person — that approves it for the merge queue (merge-queue.ts), sends it back for another round, or
 * rejects it. It never touches main.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { TaskId } from '../core/ids.js';
import path from 'node:path';
import { coerceError } from '../core/errors.js';
import { approvalTime, enterFailed, type Review, type TaskRecord } from '../core/task.js';
import { namedSecretRedactor } from '../config/secrets.js';
import type { Repo } from '../git/repo.js';
import { prepareGateCheckout } from '../git/gate-checkout.js';
import { Architect, resolveArchitectMode, wholeFiles } from '../review/architect.js';
import { enabledGates } from '../review/gates.js';
import { ClaudeArchitectReview } from './claude-architect-review.js';
import { startArchitectWatch } from './architect-watch.js';
import { gateFindings, type JudgmentContext } from './judgment-context.js';
import { recordArchitectUsage } from './spend.js';

const PARK_MANUAL = 'awaiting-approval';
export const PARK_ARCHITECT = 'architect-unavailable';

export class ReviewPipeline {
  readonly mode: 'llm' | 'claude-code' | 'gates' | 'manual';
  private readonly architect: Architect | null;
  private readonly claude: ClaudeArchitectReview | null;
  /** For the diff shown to people and the architect: each secret says `[secret: NAME]` where it was. */
  private readonly show: (text: string) => string;

  constructor(private readonly ctx: JudgmentContext) {
    const { deps } = ctx;
    const named = namedSecretRedactor(deps.config, deps.env);
    // Named first, so a reader sees which secret was there; then whatever else the supervisor hides.
    this.show = (text) => deps.redact(named(text));
    const resolved = resolveArchitectMode(deps.config.architect, deps.env);
    this.mode = resolved.mode;
    if (resolved.note) deps.log(`architect: ${resolved.note}`);
    this.architect =
      this.mode === 'llm'
        ? new Architect(deps.config.architect, deps.env, {
            log: (l) => deps.log(`architect: ${l}`),
            // Streamed, so the Architect view shows the answer as it arrives (architect-watch.ts).
            stream: true,
          })
        : null;
    this.claude = this.mode === 'claude-code' ? new ClaudeArchitectReview(ctx) : null;
  }

  /** The daemon stops: a claude-code session in progress ends now instead of at its timeout. */
  async stop(): Promise<void> {
    await this.claude?.stop();
  }

  /** Parked-because-the-architect-failed tasks get another try. */
  retryParked(): void {
    for (const t of this.ctx.deps.store.list()) {
      if (t.state === 'review' && t.parked === PARK_ARCHITECT) {
        this.ctx.update(t.id, 'architect retry', { parked: null, review: null });
      }
    }
  }

  /** Gates, then a verdict, for a task in review that has none yet. */
  async judge(task: TaskRecord): Promise<void> {
    const { deps } = this.ctx;
    const { repo, base, tip } = await this.ctx.locate(task);
    if (!tip) {
      this.ctx.update(task.id, `branch ns/${task.id} is missing from the supervisor's repo`, {
        parked: 'missing-branch',
      });
      return;
    }
    await this.saveDiff(task, repo, base, tip);
    const gates = await this.ctx.runGates({
      task,
      repo,
      stage: 'review',
      commit: tip,
      base,
      enabled: enabledGates(deps.config, deps.toggles.read(), task.spec),
      baseSuite: {
        // The base's suite runs in an isolated checkout of the base, the way the head's runs, inside the
        // same refs check.
        checkout: async (commit) =>
          (await prepareGateCheckout(repo.dir, deps.paths.baseWorktree(task.spec.repo), commit)).dir,
        cacheFile: deps.paths.baseTestCounts,
      },
    });
    if (!gates) return;
    const failed = gates.filter((g) => !g.passed);
    this.ctx.update(
      task.id,
      `gates: ${gates.map((g) => `${g.name} ${g.passed ? 'pass' : 'FAIL'}`).join(', ') || 'none enabled'}`,
      { gates },
    );
    if (failed.length) {
      this.verdict(task.id, {
        grade: null,
        verdict: 'changes',
        summary: `Gates failed: ${failed.map((g) => g.name).join(', ')}. Fix them on this branch.`,
        findings: gateFindings(failed),
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
    if (this.mode === 'manual' || (!this.architect && !this.claude)) {
      this.ctx.update(task.id, 'gates passed; waiting for a person to approve or reject', {
        parked: PARK_MANUAL,
      });
      return;
    }
    const diff = await repo.diff(base, tip);
    // A small change also goes with its changed files whole, so the architect sees their context.
    const files = await wholeFiles(repo, base, tip, diff.length, deps.config.architect.wholeFiles);
    const input = {
      title: task.title,
      specText: deps.redact(deps.store.specText(task.id)),
      gates,
      diff: this.show(diff),
      files: files.map((f) => ({ path: this.show(f.path), content: this.show(f.content) })),
      round: task.round,
      reviewRounds: task.spec.reviewRounds,
    };
    let answer;
    if (this.claude) {
      // The claude-code architect announces its session and verdict itself (claude-architect-review.ts).
      answer = await this.claude.review(task, repo, tip, input);
    } else {
      const watch = startArchitectWatch(deps, task, this.architect!.model);
      answer = await this.architect!.review(input, { onText: watch.onText });
      watch.end(answer.ok ? answer.verdict : null, answer.ok ? '' : answer.reason);
    }
    // The architect's session moved the supervisor's refs (the task has failed), or the daemon stopped it.
    if (!answer) return;
    // The review's tokens count whatever its verdict (spend.ts: the architect's share of the night).
    if (answer.usage)
      recordArchitectUsage(deps, task.id, answer.usage, { kind: 'review', round: task.round });
    if (!answer.ok) {
      // Never an approval by default: the task waits for a person, and the record says whose fault it is.
      this.ctx.update(task.id, `architect unavailable (supervisor): ${answer.reason}`, {
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
    if (v.grade) deps.onGraded();
  }

  private verdict(id: TaskId, review: Review): void {
    const { deps } = this.ctx;
    const now = deps.clock.now();
    const task = deps.store.get(id);
    if (task.state !== 'review') return;
    const stamped: Review = {
      ...review,
      round: task.round,
      approvedAt: review.verdict === 'approve' ? approvalTime(now, deps.store.list()) : null,
    };
    if (review.verdict === 'approve') {
      this.ctx.update(
        id,
        `approved by ${review.approvedBy ?? '?'}${review.grade ? ` (${review.grade})` : ''}: ${review.summary}`,
        { review: stamped },
      );
      return;
    }
    if (review.verdict === 'reject') {
      deps.store.transition(id, (t) =>
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
    this.ctx.sendBack(task, stamped);
  }

  /** logs/<id>/diff-round-<n>.patch, each secret named in its place (`[secret: NAME]`), for the TUI's Review tab. */
  private async saveDiff(task: TaskRecord, repo: Repo, base: string, tip: string): Promise<void> {
    try {
      const diff = await repo.diff(base, tip, ['--stat', '--patch']);
      const file = this.ctx.deps.paths.diffPatch(task.id, task.round);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, this.show(diff.slice(0, 2_010_000)).slice(0, 2_000_000), { mode: 0o600 });
    } catch (err) {
      this.ctx.deps.log(`could not save the diff of ${task.id}: ${coerceError(err).describe()}`);
    }
  }
}
