/**
 * The collector: an exited attempt's log, session, main guard and branch, brought home off the tick (its
 * slot is free at once). The attempt's record says `collecting` from the exit on, with the executor's own
 * end time; a dropped link defers the collection to a later poll without blaming anyone.
 */
import { coerceError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import { enterCollecting, enterReview } from '../core/task.js';
import { LinkError } from '../hosts/runner.js';
import { BranchError, type ExitRecord } from '../hosts/worker.js';
import type { HostPort } from './host-port.js';
import { FatalIoError } from '../queue/fsx.js';
import { readAttemptOutput, type LiveAttempt } from './attempts.js';
import { localLog } from './log-mirror.js';
import { failAttempt, isoNow, providerSucceeded, type DaemonContext } from './context.js';
import { mirrorAttempt } from './ending.js';
import { recordUsageFromLog } from './spend.js';

/** Lets a LinkError through (collection is deferred); any other failure of a best-effort step is ignored. */
function rethrowLinkError(err: unknown): undefined {
  if (err instanceof LinkError) throw err;
  return undefined;
}

export class Collector {
  /** Exited attempts whose collection a dropped link interrupted, with what they need to resume. */
  private readonly parked = new Map<TaskId, { live: LiveAttempt; worker: HostPort; exit: ExitRecord }>();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly localRepoOf: (taskId: TaskId) => string,
    /** An fsync failed during a collection: the daemon stops. */
    private readonly fatal: (err: FatalIoError) => void,
  ) {}

  /**
   * An attempt's runner wrote its exit record: the attempt leaves `running` (its slot frees), its record
   * says `collecting` with the executor's end time, and collection starts without holding up the tick.
   */
  exited(live: LiveAttempt, worker: HostPort, exit: ExitRecord): void {
    const { ctx } = this;
    ctx.attempts.enterExited(live, exit);
    const task = ctx.store.get(live.taskId);
    if (task.state === 'running' && task.attempts.at(-1)?.outcome === 'running') {
      ctx.store.transition(task.id, (t) =>
        enterCollecting(t, { now: ctx.clock.now(), endedAt: exit.endedAt, exitCode: exit.exitCode }),
      );
    }
    this.start(live, worker, exit);
  }

  /** Collects an exited attempt now (adoption, at start-up): waits for it. */
  async collectNow(live: LiveAttempt, worker: HostPort, exit: ExitRecord): Promise<void> {
    this.exited(live, worker, exit);
    await this.ctx.attempts.get(live.taskId)?.work;
  }

  /** Collections a dropped link deferred, tried again (at each poll while any wait). */
  retryDeferred(): void {
    for (const [id, d] of [...this.parked]) {
      this.parked.delete(id);
      if (this.ctx.attempts.phase(id) === 'deferred') this.start(d.live, d.worker, d.exit);
    }
  }

  /** Whether any collection waits for a link. */
  hasDeferred(): boolean {
    return this.ctx.attempts.list('deferred').length > 0;
  }

  private start(live: LiveAttempt, worker: HostPort, exit: ExitRecord): void {
    const { ctx } = this;
    const done = this.collect(live, worker, exit)
      .catch((err: unknown) => {
        if (ctx.attempts.phase(live.taskId) === 'collecting') ctx.attempts.end(live.taskId, 'collected');
        if (err instanceof FatalIoError) this.fatal(err);
        else ctx.log(`collecting ${live.taskId} failed: ${coerceError(err).describe()}`);
      })
      .finally(() => ctx.wake());
    ctx.attempts.enterCollecting(live.taskId, done);
  }

  /**
   * Collects an exited attempt: its log, the main guard, the branch. A link that drops on the way fails
   * nothing: exit.json and the branch wait on the host, so collection is deferred to a later poll
   * (retryDeferred) and the task stays running — never re-dispatched, never blamed.
   */
  private async collect(live: LiveAttempt, worker: HostPort, exit: ExitRecord): Promise<void> {
    const at = { step: 'the log' };
    // Never inside the promise that enterCollecting records: start() records it after this returns.
    await Promise.resolve();
    try {
      await this.collectExited(live, worker, exit, at);
      this.ctx.attempts.end(live.taskId, 'collected');
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      this.ctx.attempts.enterDeferred(live.taskId);
      this.parked.set(live.taskId, { live, worker, exit });
      this.ctx.log(
        `collecting ${live.taskId} on ${live.host} deferred at ${at.step} (link down): ${coerceError(err).describe()}`,
      );
    }
  }

  /**
   * Collection proper; a LinkError from any step leaves the task running for collect() to defer.
   * `at.step` names the step under way.
   */
  private async collectExited(
    live: LiveAttempt,
    worker: HostPort,
    exit: ExitRecord,
    at: { step: string },
  ): Promise<void> {
    const { ctx } = this;
    const exitCode = exit.exitCode;
    await mirrorAttempt(ctx, worker, live, { force: true }).catch(rethrowLinkError);
    // Tokens were used whatever comes of the branch: recorded before the main guard can fail it.
    recordUsageFromLog(ctx, live);
    at.step = 'the session';
    // The runner reaped what the executor started before it wrote exit.json; this also reaps what a
    // runner killed before its end (or one older than the reaper) left behind.
    await worker.closeSession(live.taskId, live.attempt).catch(rethrowLinkError);
    const task = ctx.store.get(live.taskId);
    if (task.state !== 'running') return;
    at.step = 'the main guard';
    // The guard hook's record of refused updates, then the protected refs themselves against their
    // record from the launch: an executor can switch hooks off (`git -c core.hooksPath=…`). mainMoved
    // puts back every ref that changed; only a change this task's branch explains fails the task.
    const touched = await worker.mainTouched(live.repo, live.taskId);
    const moved = await worker.mainMoved(live.repo, live.taskId, live.attempt);
    for (const m of moved) {
      const what = `${m.ref} in the mirror on ${live.host} moved from ${m.from ?? 'absent'} to ${m.to ?? 'absent'} during attempt ${live.attempt} of ${live.taskId}`;
      ctx.events.emit({
        type: 'main.restored',
        time: isoNow(ctx),
        task: live.taskId,
        host: live.host,
        ref: m.ref,
        old: m.from,
        new: m.to,
        attributed: m.attributed,
        reason: `${what}; ${m.attributed ? "the task's branch held the new commit" : "no value of the task's branch holds the new commit, so the task is not blamed: find who moved it"}; ${m.restored ? (m.earlier ? 'restored at an earlier collection' : 'restored') : 'could not be restored (the recorded commit is gone): set it back by hand'}`,
      });
    }
    const ours = moved.filter((m) => m.attributed);
    if (touched.length || ours.length) {
      const [first] = ours;
      failAttempt(
        ctx,
        task,
        'main-touched',
        first
          ? `the executor moved ${first.ref} in the mirror on ${live.host} around the guard (to ${first.to?.slice(0, 12) ?? 'nothing'}); ${first.restored ? 'restored' : 'could not restore it'} to ${first.from?.slice(0, 12) ?? 'absent'}; the supervisor's main is unchanged`
          : `the executor tried to update ${touched[0]?.split(' ')[0] ?? 'main'}; main is unchanged`,
        'failed',
        exitCode,
      );
      return;
    }
    const hooked = ctx.setupHooks.collected(live, exit);
    if (hooked) {
      failAttempt(ctx, task, hooked.code, hooked.reason, 'failed', exitCode);
      return;
    }
    const reading = readAttemptOutput(
      ctx.config,
      live.provider,
      localLog(ctx.paths, live.taskId, live.attempt),
      exit,
    );
    if (exitCode !== 0 || reading.failure) {
      const code = reading.failure?.code ?? 'exit-nonzero';
      failAttempt(
        ctx,
        task,
        code,
        reading.failure?.reason ?? `executor exited with ${exitCode}`,
        'failed',
        exitCode,
      );
      return;
    }
    at.step = 'the branch fetch';
    try {
      await worker.fetchBranch(
        this.localRepoOf(task.id),
        live.repo,
        live.taskId,
        task.baseSha ?? task.spec.base,
      );
    } catch (err) {
      if (err instanceof LinkError) throw err;
      // Only a branch that arrived and is not on its base (or is gone) is the spec's doing.
      const code = err instanceof BranchError ? 'not-descendant' : 'fetch-failed';
      failAttempt(ctx, task, code, coerceError(err).describe(), 'failed', exitCode);
      return;
    }
    providerSucceeded(ctx, live.provider);
    // A kill request may have ended the task while its branch was fetched.
    if (ctx.store.get(task.id).state !== 'running') return;
    ctx.store.transition(task.id, (t) => enterReview(t, { now: ctx.clock.now(), exitCode }));
  }
}
