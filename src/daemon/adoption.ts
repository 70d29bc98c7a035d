/**
 * Adoption: the running tasks of the queue that this daemon has not in hand (at start-up, after a
 * restart, and at each monitor cycle). A live session is adopted, an exited one collected, a vanished
 * one retried — blamed only if its executor ever started.
 */
import { parseDuration } from '../core/duration.js';
import { newLiveAttempt } from './attempts.js';
import { mirroredCut, mirroredOffset } from './log-mirror.js';
import type { Collector } from './collector.js';
import { failAttempt, isoNow, type DaemonContext } from './context.js';
import { giveUpAttempt, killWithAfterRun } from './ending.js';

export async function adopt(
  ctx: DaemonContext,
  collector: Collector,
  watchExits: (host: string) => void,
): Promise<void> {
  for (const task of ctx.store.list().filter((t) => t.state === 'running')) {
    if (ctx.attempts.get(task.id)) continue;
    const attempt = task.attempts.at(-1);
    const worker = attempt ? ctx.hosts.get(attempt.host) : undefined;
    if (attempt && worker && !ctx.fleet.isReady(worker.name)) {
      // Its host has not answered since this daemon started: past the grace, the attempt is given up
      // as lost with its host (the worker's failure) and its session ended when the host answers.
      const down = ctx.fleet.downFor(worker.name);
      const grace = parseDuration(ctx.config.defaults.hostLostGrace) ?? 600_000;
      if (down !== null && down > grace && attempt.outcome === 'running') {
        giveUpAttempt(
          ctx,
          { host: worker.name, repo: task.spec.repo, id: task.id, attempt: attempt.n },
          `its host has been unreachable for ${Math.round(down / 1000)} s (defaults.hostLostGrace)`,
        );
      }
      continue;
    }
    if (!attempt || !worker) {
      failAttempt(
        ctx,
        task,
        'session-lost',
        `host ${attempt?.host ?? '?'} is not configured any more`,
        'lost',
        null,
      );
      continue;
    }
    const now = ctx.clock.monotonic();
    const elapsed = Math.max(0, ctx.clock.now() - Date.parse(attempt.startedAt));
    const live = newLiveAttempt(
      {
        taskId: task.id,
        attempt: attempt.n,
        provider: attempt.provider,
        host: worker.name,
        repo: task.spec.repo,
      },
      now - elapsed,
      now,
    );
    let status;
    try {
      status = await worker.status(task.spec.repo, task.id, attempt.n);
    } catch {
      continue; // link down: try again at the next monitor cycle
    }
    // Another path (a request, an exit signal) may have taken the task while its status was read.
    if (ctx.attempts.get(task.id) || ctx.store.get(task.id).state !== 'running') continue;
    live.logBytes = status.logBytes;
    live.head = status.head;
    live.mirroredBytes = mirroredOffset(ctx.paths, task.id, attempt.n);
    live.cut = mirroredCut(ctx.paths, task.id, attempt.n);
    if (status.exit) {
      await collector.collectNow(live, worker, status.exit);
    } else if (attempt.outcome === 'running' && status.pane && !status.pane.dead) {
      ctx.attempts.enterRunning(live);
      watchExits(worker.name);
      ctx.events.emit({
        type: 'task.adopted',
        time: isoNow(ctx),
        task: task.id,
        host: worker.name,
        attempt: attempt.n,
        reason: 'session alive',
      });
    } else {
      // No session and no exit record. Without its log the executor never started: the last supervisor
      // died while launching it, which is not the task's failure and uses up none of its attempts.
      const started = await worker.attemptStarted(task.id, attempt.n).catch(() => true);
      // Whatever the executor left uncommitted in the worktree is kept before the next attempt.
      if (started) await killWithAfterRun(ctx, worker, task.spec.repo, task.id, attempt.n).catch(() => null);
      failAttempt(
        ctx,
        ctx.store.get(task.id),
        started ? 'session-lost' : 'launch-interrupted',
        started
          ? `session ${worker.session(task.id)} is gone and left no exit record`
          : `the supervisor stopped while launching attempt ${attempt.n}; its executor never started`,
        'lost',
        null,
      );
    }
  }
}
