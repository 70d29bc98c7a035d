/**
 * The supervisor: one per workspace (it holds the workspace lock for its whole life). A short composition
 * of single-job modules around one registry of attempts (registry.ts, the machine in core/attempt.ts):
 * the loop (loop.ts: wake, tick, schedule, stop), the launcher (dispatch and launches), the watcher
 * (exits, polls, liveness), the collector, adoption, the judgment (review and merge queue) and the
 * monitor cycle. Every collaborator is injected or built here once; executors live in tmux and survive
 * the supervisor, and a new one adopts them.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import { coerceError, ErrorCode, NightshiftError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { Clock } from '../lib/clock.js';
import type { Redactor } from '../lib/redact.js';
import type { WorkspacePaths } from '../config/paths.js';
import { secretRedactor } from '../config/secrets.js';
import type { Config } from '../config/schema.js';
import type { WorkerHost } from '../hosts/worker.js';
import { EventLog } from '../queue/eventlog.js';
import { sweepInbox } from '../queue/inbox.js';
import { WorkspaceLock } from '../queue/lock.js';
import { applyPendingRequests, type RequestHooks } from '../queue/requests.js';
import { replaceConfig } from '../config/reload.js';
import type { FatalIoError } from '../queue/fsx.js';
import { QueueStore } from '../queue/store.js';
import { ToggleStore } from '../queue/toggles.js';
import { QueueWatcher } from '../queue/watcher.js';
import { adopt } from './adoption.js';
import { Collector } from './collector.js';
import type { DaemonContext } from './context.js';
import { describeEvent } from './describe.js';
import { killForRequest } from './ending.js';
import { Fleet } from './fleet.js';
import { Judgment } from './judgment.js';
import { Launcher } from './launcher.js';
import { settleWhenIdle } from './idle.js';
import { reconfiguredHealth } from './control.js';
import { realTimers, TickLoop, type TickFailure, type Timers } from './loop.js';
import { monitorCycle } from './monitor.js';
import { startTriage, type Triage } from './triage.js';
import { AttemptRegistry } from './registry.js';
import { publishState } from './publish.js';
import type { PublishedState } from './state-file.js';
import { backoffOf, classifyFailure } from './stopping.js';
import { Watcher, type Running } from './watcher.js';

export interface SupervisorOptions {
  paths: WorkspacePaths;
  config: Config;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  hosts: Map<string, WorkerHost>;
  random?: () => number;
  /** How often running attempts are polled for exits and progress (default 1 s). */
  pollMs?: number;
  /** How often hosts' load is sampled while work waits (default 30 s). */
  loadEveryMs?: number;
  /** Half-open probe schedule (default 30 s → 15 min); tests compress it. */
  probeBackoff?: { initialMs: number; maxMs: number };
  /** Watch the workspace for changes (off for --once). */
  watch?: boolean;
  /** One line per event for logs/daemon.log. */
  log?: (line: string) => void;
  /**
   * Called once when the daemon stops for good on its own (an fsync error, a full disk, its workspace
   * gone), after it has stopped: the composition root exits with `code`. Without it the daemon only stops.
   */
  exit?: (code: number, message: string) => void;
  /** Timers for the loop (tests inject manual ones). */
  timers?: Timers;
  /** Applies stop and reload requests (daemon/control.ts); without it they are refused. */
  control?: Pick<RequestHooks, 'stop' | 'reload'>;
}

export class Supervisor {
  readonly store: QueueStore;
  readonly toggles: ToggleStore;
  readonly events: EventLog;
  readonly fleet: Fleet;
  readonly attempts = new AttemptRegistry();
  judgment: Judgment | null = null;
  /** The triage log (architect.triage), when on. */
  triage: Triage | null = null;
  /** Why the daemon stopped on its own, once it has (null otherwise). */
  haltMessage: string | null = null;
  private readonly ctx: DaemonContext;
  private readonly launcher: Launcher;
  private readonly watcher: Watcher;
  private readonly collector: Collector;
  private readonly loop: TickLoop;
  private readonly redact: Redactor;
  private lock: WorkspaceLock | null = null;
  private queueWatcher: QueueWatcher | null = null;
  /** The workspace's own directory: its removal wakes the loop, which then stops (classify). */
  private rootWatcher: FSWatcher | null = null;
  private stopping = false;
  private started = false;
  private nextPollMono = 0;
  private nextLivenessMono = 0;
  private nextMonitorMono = 0;
  /** When an inbox file that was still changing may be taken (Infinity: none is waiting). */
  private nextInboxMono = Infinity;
  private inboxSettling = false;
  private idleWaiters: (() => void)[] = [];
  private published: PublishedState | null = null;
  private readonly startedAt: number;

  constructor(private readonly opts: SupervisorOptions) {
    const random = opts.random ?? Math.random;
    // Every provider secret and the architect's key: none reaches a record, an event or a log line.
    this.redact = secretRedactor(opts.config, opts.env);
    this.events = new EventLog(opts.paths.events);
    this.events.redact = this.redact;
    this.store = new QueueStore(opts.paths, opts.clock, this.events, { redact: this.redact });
    this.toggles = new ToggleStore(opts.paths);
    this.startedAt = opts.clock.now();
    this.fleet = new Fleet({
      config: opts.config,
      clock: opts.clock,
      env: opts.env,
      hosts: opts.hosts,
      events: this.events,
      random,
      wake: () => this.wake(),
      ...(opts.loadEveryMs !== undefined ? { loadEveryMs: opts.loadEveryMs } : {}),
      ...(opts.probeBackoff ? { probeBackoff: opts.probeBackoff } : {}),
    });
    this.events.subscribe((e) => opts.log?.(this.redact(describeEvent(e))));
    // An event that cannot be written (a full disk) stops the daemon once, wherever it was emitted.
    this.events.onWriteError = (err) => {
      const verdict = this.classify(err);
      this.halted(
        verdict.stop ? verdict.message : `the event log cannot be written: ${coerceError(err).describe()}`,
        1,
      );
    };
    this.ctx = {
      paths: opts.paths,
      config: opts.config,
      clock: opts.clock,
      env: opts.env,
      hosts: opts.hosts,
      store: this.store,
      toggles: this.toggles,
      events: this.events,
      fleet: this.fleet,
      attempts: this.attempts,
      redact: this.redact,
      random,
      backoff: backoffOf(opts.config),
      log: (line) => opts.log?.(this.redact(line)),
      wake: () => this.wake(),
      pollSoon: () => {
        this.nextPollMono = Math.min(this.nextPollMono, this.clock.monotonic());
      },
      stopping: () => this.stopping,
    };
    this.watcher = new Watcher(this.ctx, (live, worker, exit) => this.collector.exited(live, worker, exit));
    this.launcher = new Launcher(this.ctx, (worker) => this.watcher.watchExits(worker));
    this.collector = new Collector(
      this.ctx,
      (id) => this.launcher.localRepoOf(this.store.get(id)),
      (err) => this.halt(err),
    );
    this.loop = new TickLoop({
      timers: opts.timers ?? realTimers,
      now: () => this.clock.monotonic(),
      tick: (force) => this.tick(force),
      nextDue: () => this.nextDue(),
      classify: (err) => this.classify(err),
      halt: (message, code, reason) => this.halted(message, code, reason),
      log: (line) => this.ctx.log(line),
    });
  }

  private get clock(): Clock {
    return this.opts.clock;
  }
  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Takes the lock (or throws), recovers the queue, prepares hosts and adopts live sessions. */
  async start(): Promise<void> {
    this.store.ensureLayout();
    this.lock = WorkspaceLock.tryAcquire(this.opts.paths.lock, 'daemon', this.clock.now());
    if (!this.lock) {
      await WorkspaceLock.acquire(this.opts.paths.lock, 'daemon', () => this.clock.now(), 0);
    }
    this.store.recover();
    this.fleet.seedGrades(this.store.list());
    this.events.emit({
      type: 'daemon.started',
      time: this.iso(),
      reason: `pid ${process.pid} on ${os.hostname()}`,
    });
    await this.fleet.prepareAll();
    this.judgment = new Judgment({
      paths: this.opts.paths,
      config: this.opts.config,
      clock: this.clock,
      env: this.opts.env,
      store: this.store,
      toggles: this.toggles,
      events: this.events,
      hosts: this.opts.hosts,
      log: (line) => this.ctx.log(line),
      redact: this.redact,
      // From the records, as after a restart: live routing and `providers` always agree.
      onGraded: () => this.fleet.seedGrades(this.store.list()),
      onFatal: (err) => this.halt(err),
      wake: () => this.wake(),
    });
    this.triage = startTriage(this.ctx);
    await this.adopt();
    const now = this.clock.monotonic();
    this.nextMonitorMono = now + this.monitorEvery();
    this.nextLivenessMono = now + this.livenessEvery();
    if (this.opts.watch !== false) {
      // Inbox and requests only: the daemon writes the queue itself and needs no news of it.
      this.queueWatcher = new QueueWatcher(this.opts.paths, undefined, ['inbox', 'requests']);
      this.queueWatcher.subscribe(() => this.wake());
      await this.queueWatcher.ready();
      // Deleting the workspace sends no event the queue watcher reports; this does, at no cost otherwise.
      try {
        this.rootWatcher = watch(this.opts.paths.root, () => {
          if (!existsSync(this.opts.paths.queue)) this.wake();
        });
        this.rootWatcher.on('error', () => this.wake());
      } catch {
        // Gone already: the first tick finds it so and stops.
      }
    }
    this.started = true;
    this.wake();
  }

  /** Stops dispatching and leaves executors running in tmux; state is already on disk. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.lock) return; // never started
    await this.loop.stop();
    await this.queueWatcher?.close();
    this.rootWatcher?.close();
    await Promise.all(this.attempts.pending());
    await this.judgment?.stop();
    this.triage?.stop();
    await this.watcher.stop();
    // The last words go to the event log unless the disk is what stopped us.
    try {
      this.events.emit({ type: 'daemon.stopped', time: this.iso(), reason });
    } catch (err) {
      this.ctx.log(`could not record the stop: ${coerceError(err).describe()}`);
    }
    this.lock?.release();
    this.lock = null;
    for (const w of this.opts.hosts.values()) await w.runner.close().catch(() => undefined);
    for (const resolve of this.idleWaiters) resolve();
  }

  /** Resolves when nothing is pending, running or in review that can still progress. */
  untilIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  /** One monitor cycle now (for --once and on demand). */
  async monitorNow(): Promise<void> {
    await this.loop.runNow(true);
  }

  /**
   * A reloaded config (daemon/control.ts decided what may change live): the shared config object takes
   * its values, providers' live limits follow their concurrency, and dispatch runs again.
   */
  reload(next: Config): void {
    replaceConfig(this.opts.config, next);
    for (const [name, cfg] of Object.entries(next.providers))
      this.fleet.update(name, (h) => reconfiguredHealth(h, cfg.concurrency, this.clock.monotonic()));
    this.ctx.backoff = backoffOf(next);
    this.wake();
  }

  wake(): void {
    // Nothing ticks before start() is done: an exit signal heard while adopting must not run a tick
    // (a monitor cycle, another adoption) beside it. start() wakes once at its end.
    if (this.stopping || !this.started) return;
    this.loop.wake();
  }

  // ---- stopping on its own -----------------------------------------------------------------

  /** A failure no retry can fix stops the daemon; anything else is retried with a growing pause. */
  private classify(err: unknown): TickFailure {
    return classifyFailure(this.opts.paths, err);
  }

  /** An fsync failed (in a collection, a review or a merge): stop, never retry. */
  private halt(err: FatalIoError): void {
    const verdict = this.classify(err);
    if (verdict.stop) this.halted(verdict.message, verdict.exitCode, verdict.reason);
  }

  private halted(message: string, exitCode: number, reason = message): void {
    if (this.stopping) return;
    this.haltMessage = message;
    this.ctx.log(message);
    void this.stop(reason)
      .catch((err: unknown) => this.ctx.log(`stopping failed: ${coerceError(err).describe()}`))
      .finally(() => this.opts.exit?.(exitCode, message));
  }

  // ---- the tick ----------------------------------------------------------------------------

  private async tick(forceMonitor: boolean): Promise<void> {
    // A workspace deleted under the daemon stops it (classify says so), rather than every tick failing.
    if (!existsSync(this.opts.paths.queue))
      throw new NightshiftError(ErrorCode.io, `the workspace's queue ${this.opts.paths.queue} is gone`);
    const now = this.clock.monotonic();
    await applyPendingRequests({
      paths: this.opts.paths,
      config: this.opts.config,
      store: this.store,
      toggles: this.toggles,
      clock: this.clock,
      hooks: {
        beforeKill: (task) => killForRequest(this.ctx, task.id),
        probe: (provider) => this.fleet.requestProbe(provider),
        ...this.opts.control,
      },
    });
    const inbox = sweepInbox({
      paths: this.opts.paths,
      config: this.opts.config,
      store: this.store,
      clock: this.clock,
    });
    // Files still being written are looked at again once they may have settled (no watcher event comes).
    this.inboxSettling = inbox.settling.length > 0;
    this.nextInboxMono = inbox.settling.length
      ? now + Math.min(...inbox.settling.map((f) => f.readyInMs))
      : Infinity;
    let running: Running[] = [];
    if (this.attempts.busy() && now >= this.nextPollMono) {
      this.nextPollMono = now + (this.opts.pollMs ?? 1000);
      this.collector.retryDeferred();
      running = await this.watcher.poll();
    }
    if (now >= this.nextLivenessMono) {
      this.nextLivenessMono = now + this.livenessEvery();
      await this.watcher.checkLiveness();
    }
    this.fleet.startDueProbes();
    // Hosts are sampled while work waits for them, or while an attempt given up there waits for its
    // session to be ended (the host answering again is what ends it).
    await this.fleet.sampleHosts(
      false,
      this.fleet.abandoned.length > 0 || this.store.list().some((t) => t.state === 'pending'),
    );
    // Reviews first: kick() only starts the judgment loop, which must not wait for this tick's launches.
    this.judgment?.kick();
    // Sessions of attempts given up on a host that answers again end before anything launches there.
    if (this.fleet.abandoned.length) await this.watcher.reapAbandoned();
    await this.launcher.dispatch();
    // The running attempts' logs after the launches: a freed slot must not wait for them.
    await Promise.all(running.map((r) => this.watcher.mirrorRunning(r)));
    if (forceMonitor || now >= this.nextMonitorMono) {
      this.nextMonitorMono = now + this.monitorEvery();
      await monitorCycle(this.ctx, {
        judgment: this.judgment,
        adopt: () => this.adopt(),
        poll: () => this.watcher.poll(),
        triage: this.triage,
      });
    }
    this.publish();
    this.checkIdle();
  }

  private nextDue(): number {
    const now = this.clock.monotonic();
    const due: number[] = [this.nextMonitorMono, this.nextInboxMono];
    if (this.attempts.busy()) due.push(this.nextPollMono, this.nextLivenessMono);
    if (this.fleet.abandoned.length) due.push(now + (this.opts.loadEveryMs ?? 30_000));
    for (const h of this.fleet.health.values())
      if (!h.probeInFlight && h.breaker !== 'closed') due.push(h.nextProbeAt);
    for (const t of this.store.list()) {
      if (t.state === 'pending' && t.retryAt)
        due.push(now + Math.max(0, Date.parse(t.retryAt) - this.clock.now()));
    }
    return Math.min(...due);
  }

  private livenessEvery(): number {
    return parseDuration(this.opts.config.defaults.livenessEvery) ?? 60_000;
  }

  private monitorEvery(): number {
    return parseDuration(this.opts.config.defaults.monitorEvery) ?? 900_000;
  }

  private adopt(): Promise<void> {
    return adopt(this.ctx, this.collector, (host) => {
      const worker = this.opts.hosts.get(host);
      if (worker) this.watcher.watchExits(worker);
    });
  }

  private publish(): void {
    this.published = publishState(
      this.ctx,
      { startedAt: this.startedAt, waiting: this.launcher.waiting },
      this.published,
    );
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.attempts.busy()) return;
    const tasks = this.store.list();
    if (tasks.some((t) => t.state === 'running')) return;
    // Reviews in progress, or waiting for the judgment loop, can progress; parked ones wait for a person.
    if (tasks.some((t) => t.state === 'review' && !t.parked)) return;
    // A spec still settling in the inbox is work about to arrive.
    if (this.inboxSettling) return;
    // Pending work can progress unless dispatch is frozen or it waits on something that will never
    // come (an unconfigured pinned provider, a dependency never queued or in a cycle: daemon/idle.ts).
    const idle = { store: this.store, toggles: this.toggles, config: this.opts.config, clock: this.clock };
    if (!settleWhenIdle(idle)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
