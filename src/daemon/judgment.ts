/**
 * The judgment (DESIGN.md §8): the review pipeline (review-pipeline.ts: gates in an isolated checkout
 * of the fetched branch, then the architect, the gates alone, or a person) and the merge queue
 * (merge-queue.ts: one merge at a time, in approval order, gated again on exactly the staged tree),
 * worked through one task at a time: approved merges first, then fresh reviews, oldest first. A gate run
 * that changed the supervisor's refs fails the task: they are put back, it is never merged
 * (judgment-context.ts). It runs beside the dispatch loop, never inside it, so a long test suite never
 * delays exit detection.
 */
import { coerceError } from '../core/errors.js';
import type { TaskRecord } from '../core/task.js';
import { FatalIoError } from '../queue/fsx.js';
import { JudgmentContext, type JudgmentDeps } from './judgment-context.js';
import { pruneMergedBranches, removeEndedWorktrees } from './judgment-tidy.js';
import { MergeQueue } from './merge-queue.js';
import { ReviewPipeline } from './review-pipeline.js';

export type { JudgmentDeps } from './judgment-context.js';

export class Judgment {
  private readonly ctx: JudgmentContext;
  private readonly review: ReviewPipeline;
  private readonly queue: MergeQueue;
  private running = false;
  private again = false;
  private stopped = false;
  /** Look at the checkouts merges wait for at the next pass (at start, after a restart, too). */
  private checkoutsDue = true;
  /** The monitor cycle retries every waiting merge whose checkout is clean, changed or not. */
  private retryUnchanged = false;

  constructor(private readonly deps: JudgmentDeps) {
    this.ctx = new JudgmentContext(deps);
    this.review = new ReviewPipeline(this.ctx);
    this.queue = new MergeQueue(
      this.ctx,
      () => {
        this.checkoutsDue = true;
        this.kick();
      },
      () => this.kick(),
    );
  }

  get mode(): 'llm' | 'claude-code' | 'gates' | 'manual' {
    return this.review.mode;
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
    this.queue.stop();
    await this.review.stop();
    while (this.running) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * Parked-because-the-architect-failed tasks get another try (from the monitor cycle), and merges that
   * wait for a checkout look at it again at once.
   */
  retryParked(): void {
    this.checkoutsDue = true;
    this.retryUnchanged = true;
    this.review.retryParked();
    this.kick();
  }

  /** The monitor cycle's housekeeping: ended tasks' gate checkouts, then merged branches past retention. */
  async tidy(): Promise<void> {
    await this.removeEndedWorktrees();
    await this.pruneMergedBranches();
  }

  /** Removes the gate checkout (work/<repo>/<id>) of every task that is done or failed. */
  removeEndedWorktrees(): Promise<number> {
    return removeEndedWorktrees(this.ctx);
  }

  /** Deletes ns/<id> of tasks merged longer ago than the retention period (judgment-tidy.ts). */
  pruneMergedBranches(): Promise<number> {
    return pruneMergedBranches(this.ctx);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.checkoutsDue) {
        this.checkoutsDue = false;
        const unchangedToo = this.retryUnchanged;
        this.retryUnchanged = false;
        await this.queue.retryWaiting(unchangedToo);
      }
      // pr mode: pull requests whose retry came due go back to the queue.
      try {
        this.queue.prs.unparkDue();
      } catch (err) {
        if (err instanceof FatalIoError) return this.fatal(err);
        this.deps.log(`pull request retries: ${coerceError(err).describe()}`);
      }
      for (;;) {
        if (this.stopped) return;
        const next = nextToJudge(this.deps.store.list());
        if (!next) break;
        try {
          if (next.review?.verdict === 'approve') await this.queue.merge(next);
          else await this.review.judge(next);
        } catch (err) {
          if (err instanceof FatalIoError) return this.fatal(err);
          const reason = coerceError(err).describe();
          this.deps.log(`judgment of ${next.id} failed: ${reason}`);
          try {
            this.ctx.update(next.id, `judgment failed (supervisor): ${reason}`, { parked: 'judgment-error' });
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
    this.queue.stop();
    if (this.deps.onFatal) this.deps.onFatal(err);
    else this.deps.log(`fatal: ${err.describe()}; judgment stops`);
  }
}

/** The oldest approval merges first; otherwise the oldest task in review without a verdict is judged. */
function nextToJudge(tasks: readonly TaskRecord[]): TaskRecord | undefined {
  const open = tasks.filter((t) => t.state === 'review' && !t.parked);
  const approved = open
    .filter((t) => t.review?.verdict === 'approve')
    .sort((a, b) => (a.review?.approvedAt ?? a.updatedAt).localeCompare(b.review?.approvedAt ?? b.updatedAt));
  const fresh = open
    .filter((t) => !t.review || t.review.verdict === null)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return approved[0] ?? fresh[0];
}
