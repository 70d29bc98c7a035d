/**
 * The watcher: running attempts' exits, output and liveness. Each host's runners signal their exits
 * (watchExits), a batched status poll per host reads them (poll), and a liveness check on fresh signals
 * ends attempts past their timeout or silent too long (checkLiveness, decided by liveness.ts).
 */
import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { LinkError } from '../hosts/runner.js';
import type { AttemptStatus, ExitRecord } from '../hosts/worker.js';
import type { HostPort } from './host-port.js';
import { liveFailure, noteProgress, type LiveAttempt } from './attempts.js';
import { saveScreen } from './log-mirror.js';
import { failAttempt, isoNow, type DaemonContext } from './context.js';
import { giveUpAttempt, killAttempt, killWithAfterRun, mirrorAttempt } from './ending.js';
import { judgeLiveness, type BreakerEpisode } from './liveness.js';

/** How long one wait for an exit signal lasts before it is renewed (a bound, not a poll). */
const EXIT_WAIT_MS = 60_000;

export interface Running {
  live: LiveAttempt;
  worker: HostPort;
}

export class Watcher {
  /** Per host, the loop that waits for runners' exit signals while attempts run there. */
  private readonly exitWaits = new Map<string, Promise<void>>();
  private episode: BreakerEpisode | null = null;
  /** The last poll failure per host, so that the same one is not logged every second. */
  private readonly pollFailure = new Map<string, string>();

  constructor(
    private readonly ctx: DaemonContext,
    /** Hands an exited attempt to collection. */
    private readonly onExit: (live: LiveAttempt, worker: HostPort, exit: ExitRecord) => void,
  ) {}

  /**
   * While attempts run on `worker`, waits on its runners' exit signal and polls at once when one comes,
   * so an exit reaches review in the time of one poll instead of up to pollMs later. The poll stays the
   * source of truth (and the fallback when the wait fails: no tmux server yet, a dropped link, a runner
   * older than the signal); a failed wait is retried with a growing pause.
   */
  watchExits(worker: HostPort): void {
    const { ctx } = this;
    if (this.exitWaits.has(worker.name) || ctx.stopping()) return;
    const loop = async () => {
      let failures = 0;
      while (!ctx.stopping() && ctx.attempts.runsOn(worker.name)) {
        const woke = await worker.waitForExit(EXIT_WAIT_MS);
        if (ctx.stopping()) return;
        if (woke === 'signalled') {
          failures = 0;
          ctx.pollSoon();
          ctx.wake();
        } else if (woke === 'failed') {
          failures += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 10_000)));
        }
      }
    };
    this.exitWaits.set(
      worker.name,
      loop().finally(() => this.exitWaits.delete(worker.name)),
    );
  }

  /** Ends the exit waits now (as the daemon stops), not at their timeout; never waits on them long. */
  async stop(): Promise<void> {
    const waits = [...this.exitWaits.values()];
    for (const name of this.exitWaits.keys()) await this.ctx.hosts.get(name)?.wakeExitWaiters();
    await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  }

  /**
   * Every running attempt, host by host: one batched status read per host (WorkerHost.statuses). Exits
   * are handed to collection at once; returns the attempts still running, whose logs the tick mirrors
   * after its launches.
   */
  async poll(): Promise<Running[]> {
    const { ctx } = this;
    const byHost = new Map<string, LiveAttempt[]>();
    for (const live of ctx.attempts.running())
      byHost.set(live.host, [...(byHost.get(live.host) ?? []), live]);
    const running: Running[] = [];
    await Promise.all(
      [...byHost].map(async ([host, lives]) => {
        const worker = ctx.hosts.get(host);
        if (!worker) return;
        let statuses: AttemptStatus[];
        try {
          statuses = await worker.statuses(
            lives.map((l) => ({ repo: l.repo, id: l.taskId, attempt: l.attempt })),
          );
        } catch (err) {
          // A dropped link is not the executors' failure: keep the attempts and try again next poll.
          // The link's change of state is logged once (host.status), not every poll.
          const why = coerceError(err).describe();
          if (err instanceof LinkError) ctx.fleet.linkDown(host, why);
          else if (this.pollFailure.get(host) !== why)
            ctx.log(`poll of ${lives.map((l) => l.taskId).join(', ')} on ${host} failed: ${why}`);
          this.pollFailure.set(host, why);
          return;
        }
        this.pollFailure.delete(host);
        ctx.fleet.linkUp(host);
        await Promise.all(
          lives.map(async (live, i) => {
            const status = statuses[i];
            if (status && (await this.judge(live, worker, status))) running.push({ live, worker });
          }),
        );
      }),
    );
    return running;
  }

  /** Judges one attempt's status; true when it is still running. */
  private async judge(live: LiveAttempt, worker: HostPort, status: AttemptStatus): Promise<boolean> {
    const { ctx } = this;
    if (ctx.attempts.get(live.taskId)?.live !== live || ctx.attempts.phase(live.taskId) !== 'running')
      return false;
    noteProgress(live, status, ctx.clock.monotonic());
    if (status.exit) {
      this.onExit(live, worker, status.exit);
      return false;
    }
    // No exit record, and no live pane: the runner is gone without recording its end (killed, or its
    // session removed). status() reads the pane before exit.json, so a dead pane here is conclusive;
    // a second poll must agree all the same. Waiting for the idle timeout would hold the slot for nothing.
    if (status.pane && !status.pane.dead) {
      live.missing = 0;
      return true;
    }
    live.missing += 1;
    if (live.missing < 2) return true;
    ctx.attempts.end(live.taskId, 'lost');
    await mirrorAttempt(ctx, worker, live, { force: true }).catch(() => undefined);
    // A dead pane still shows what the runner printed last: keep it beside the log.
    const screen = status.pane ? await saveScreen(ctx.paths, worker, live, ctx.redact) : null;
    const why = `${
      status.pane
        ? `the runner in session ${worker.session(live.taskId)} on ${live.host} ended${status.pane.exitStatus === null ? '' : ` (status ${status.pane.exitStatus})`} without an exit record`
        : `session ${worker.session(live.taskId)} vanished on ${live.host} without an exit record`
    }${screen ? `; last screen kept in ${screen}` : ''}`;
    // Keep what the executor left in the worktree (it is there whether or not a pane is left), and
    // clear a dead pane for the next attempt.
    await killWithAfterRun(ctx, worker, live.repo, live.taskId, live.attempt).catch(() => null);
    await mirrorAttempt(ctx, worker, live, { force: true }).catch(() => undefined);
    failAttempt(ctx, ctx.store.get(live.taskId), 'session-lost', why, 'lost', null);
    return false;
  }

  /** Timeouts and idleness, judged on fresh signals (liveness.ts decides; the breaker holds idle kills). */
  async checkLiveness(): Promise<void> {
    const { ctx } = this;
    // Fresh signals first: a stale poll must never be the reason for a kill.
    await this.poll();
    const now = ctx.clock.monotonic();
    const running = ctx.attempts.running();
    const byId = new Map(running.map((l) => [l.taskId, l]));
    const verdict = judgeLiveness(
      running.map((l) => {
        const spec = ctx.store.get(l.taskId).spec;
        return {
          id: l.taskId,
          startedMono: l.startedMono,
          progressMono: l.progressMono,
          timeoutMs: spec.timeoutMs,
          idleMs: spec.idleMs,
          hostDownMs: ctx.fleet.downFor(l.host),
        };
      }),
      now,
      this.episode,
      parseDuration(ctx.config.defaults.monitorEvery) ?? 900_000,
      parseDuration(ctx.config.defaults.hostLostGrace) ?? 600_000,
    );
    for (const d of verdict.lost) {
      const live = byId.get(d.id);
      if (!live || ctx.attempts.phase(d.id) !== 'running') continue;
      ctx.attempts.end(live.taskId, 'lost');
      giveUpAttempt(
        ctx,
        { host: live.host, repo: live.repo, id: live.taskId, attempt: live.attempt },
        d.reason,
      );
    }
    this.episode = verdict.episode;
    if (verdict.freeze) ctx.toggles.setFrozen(true, null);
    if (verdict.report)
      ctx.events.emit({ type: 'monitor.breaker', time: isoNow(ctx), reason: verdict.report });
    for (const d of verdict.kill) {
      const live = byId.get(d.id);
      if (live && ctx.attempts.phase(d.id) === 'running')
        await killAttempt(ctx, live, d.code, d.reason, d.code);
    }
  }

  /** Ends the sessions of attempts given up while their host was down, once it answers (each tick). */
  async reapAbandoned(): Promise<void> {
    const { ctx } = this;
    for (const a of [...ctx.fleet.abandoned]) {
      const worker = ctx.hosts.get(a.host);
      if (!worker) {
        ctx.fleet.abandoned.splice(ctx.fleet.abandoned.indexOf(a), 1);
        continue;
      }
      if (!ctx.fleet.isReady(a.host)) continue;
      // A later attempt of the task launched there since: the host had no session of the old one left
      // (a launch is refused while one exists), and the session name now is the new attempt's.
      const now = ctx.attempts.get(a.id);
      if (now && now.phase !== 'preparing' && now.host === a.host) {
        ctx.fleet.abandoned.splice(ctx.fleet.abandoned.indexOf(a), 1);
        continue;
      }
      try {
        await killWithAfterRun(ctx, worker, a.repo, a.id, a.attempt);
      } catch {
        continue; // tried again at the next tick
      }
      ctx.fleet.abandoned.splice(ctx.fleet.abandoned.indexOf(a), 1);
      ctx.events.emit({
        type: 'session.stray',
        time: isoNow(ctx),
        host: a.host,
        session: worker.session(a.id),
        reason: `attempt ${a.attempt} of ${a.id} was given up while ${a.host} was unreachable: its session is ended and its result discarded`,
      });
    }
  }

  /** Mirrors a running attempt's new output; a failure the provider sees in it (a refused key) kills it now. */
  async mirrorRunning({ live, worker }: Running): Promise<void> {
    const { ctx } = this;
    const seen: { fatal: ReturnType<typeof liveFailure> } = { fatal: null };
    await mirrorAttempt(ctx, worker, live, {
      onText: (text) => {
        seen.fatal ??= liveFailure(ctx.config, live, text);
      },
    }).catch(() => null);
    const fatal = seen.fatal;
    if (
      !fatal ||
      ctx.attempts.get(live.taskId)?.live !== live ||
      ctx.attempts.phase(live.taskId) !== 'running'
    )
      return;
    await killAttempt(
      ctx,
      live,
      fatal.code,
      `${fatal.reason} (killed at once: retrying cannot fix it)`,
      'failed',
    );
  }
}
