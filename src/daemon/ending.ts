/**
 * Bringing an attempt's output home and ending an attempt before its time: the log mirror within
 * defaults.logCap, the last screen kept before a kill, the kill itself (which salvages the worktree, then
 * runs the repo's afterRun hook: the runner that would have run it died with the session).
 */
import type { HostPort } from './host-port.js';
import type { FailureCode } from '../core/failures.js';
import type { TaskId } from '../core/ids.js';
import type { LiveAttempt } from './attempts.js';
import { mirrorLog, saveScreen } from './log-mirror.js';
import { failAttempt, isoNow, type DaemonContext } from './context.js';
import { recordUsageFromLog } from './spend.js';
import type { Abandoned } from './fleet.js';

/** Mirrors an attempt's new output within defaults.logCap; each cut is an attempt.log-cut event. */
export function mirrorAttempt(
  ctx: DaemonContext,
  worker: HostPort,
  live: LiveAttempt,
  opts: { force?: boolean; onText?: (text: string) => void },
): Promise<number> {
  const cap = ctx.config.defaults.logCap;
  return mirrorLog(ctx.paths, worker, live, ctx.redact, {
    ...opts,
    onText: (text) => {
      ctx.spend.noteOutput(ctx.config, live.taskId, live.provider, live.attempt, text);
      opts.onText?.(text);
    },
    cap,
    onCut: (cutBytes) =>
      ctx.events.emit({
        type: 'attempt.log-cut',
        time: isoNow(ctx),
        task: live.taskId,
        host: live.host,
        attempt: live.attempt,
        cutBytes,
        cap,
        reason: `the log of attempt ${live.attempt} passed defaults.logCap (${cap} bytes): ${cutBytes} bytes of output left out between its head and its tail`,
      }),
  });
}

/**
 * The repo's afterRun hook, from the supervisor's config (never the branch), for an attempt whose runner
 * died with its session: WorkerHost.kill runs it after the salvage and the kill.
 */
export function afterRunOf(ctx: DaemonContext, repo: string) {
  return ctx.config.repos[repo]?.hooks.afterRun;
}

/**
 * Kills an attempt that is no longer in the registry (its session lost, or given up with its host),
 * salvaging first, then runs the repo's afterRun, awaited: nothing else keeps its task out of that
 * worktree meanwhile. Throws what the kill or the hook's link throws.
 */
export async function killWithAfterRun(
  ctx: DaemonContext,
  worker: HostPort,
  repo: string,
  id: TaskId,
  attempt: number,
): Promise<void> {
  await worker.kill(repo, id, attempt);
  const hook = afterRunOf(ctx, repo);
  if (hook) await worker.afterRun(id, attempt, hook);
}

/**
 * Ends a running attempt before its time: keeps its last screen and the rest of its log, says why
 * (task.killing), kills it (salvaging the worktree) and leaves the registry. The record is the caller's.
 */
export async function endSession(ctx: DaemonContext, live: LiveAttempt, reason: string): Promise<void> {
  if (ctx.attempts.phase(live.taskId) === 'running') ctx.attempts.enterEnding(live.taskId);
  // Live attempts only ever run on configured hosts (dispatch and adoption check), so this is found.
  const worker = ctx.hosts.get(live.host);
  const screen = worker ? await saveScreen(ctx.paths, worker, live, ctx.redact) : null;
  ctx.events.emit({
    type: 'task.killing',
    time: isoNow(ctx),
    task: live.taskId,
    host: live.host,
    attempt: live.attempt,
    reason: screen ? `${reason}; last screen kept in ${screen}` : reason,
    ...(screen ? { screen } : {}),
  });
  if (worker) {
    await mirrorAttempt(ctx, worker, live, { force: true }).catch(() => undefined);
    await worker.kill(live.repo, live.taskId, live.attempt).catch(() => null);
  }
  recordUsageFromLog(ctx, live);
  const afterRun = afterRunOf(ctx, live.repo);
  if (worker && afterRun && ctx.attempts.phase(live.taskId) === 'ending') {
    // The hook may take up to its timeout (10 minutes by default): it runs beside the daemon's ticks,
    // never inside one. Until it is done the attempt stays `ending`, in flight and holding its slot, so
    // its task cannot launch again into the worktree the hook works in.
    const work = worker
      .afterRun(live.taskId, live.attempt, afterRun)
      .catch(() => undefined)
      // What the hook printed, into logs/ too.
      .then(() => mirrorAttempt(ctx, worker, live, { force: true }).catch(() => undefined))
      .then(() => {
        if (ctx.attempts.phase(live.taskId) === 'ending') ctx.attempts.end(live.taskId, 'killed');
        // Its slot is free and its task may launch again.
        ctx.wake();
      });
    ctx.attempts.endingWork(live.taskId, work);
    return;
  }
  if (ctx.attempts.phase(live.taskId) === 'ending') ctx.attempts.end(live.taskId, 'killed');
}

/** Kills a running attempt and fails its task with `code`. */
export async function killAttempt(
  ctx: DaemonContext,
  live: LiveAttempt,
  code: FailureCode,
  reason: string,
  outcome: 'timeout' | 'idle' | 'failed',
): Promise<void> {
  await endSession(ctx, live, reason);
  failAttempt(ctx, ctx.store.get(live.taskId), code, reason, outcome, null);
}

/** A kill request: the running session ends; a deferred collection is dropped. The applier fails the task. */
export async function killForRequest(ctx: DaemonContext, taskId: TaskId): Promise<void> {
  const entry = ctx.attempts.get(taskId);
  if (entry?.phase === 'deferred') ctx.attempts.end(taskId, 'killed');
  if (entry?.phase === 'running' && entry.live) await endSession(ctx, entry.live, 'killed by request');
}

/**
 * An attempt lost with its host (watcher's liveness check, or adoption after a restart): its task is
 * retried on another host (the worker's failure: no attempt used), and its session is ended, its result
 * discarded, once the host answers again (Watcher.reapAbandoned). It is never collected, so never merged.
 * The caller has taken it out of the registry, if it was there.
 */
export function giveUpAttempt(ctx: DaemonContext, lost: Abandoned, reason: string): void {
  ctx.fleet.abandoned.push(lost);
  const why = `attempt ${lost.attempt} on ${lost.host} given up: ${reason}; retried on another host, and its session there is ended when the host answers`;
  failAttempt(ctx, ctx.store.get(lost.id), 'link-down', why, 'lost', null);
}
