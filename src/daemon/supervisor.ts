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
import { FollowUps } from './follow-ups.js';
import { architectWriter } from '../review/architect-writer.js';
import { Judgment } from './judgment.js';
import { Launcher } from './launcher.js';
import { settleWhenIdle } from './idle.js';
import { reconfiguredHealth } from './control.js';
import type { ActivitySnapshot } from './activity.js';
import { Deadlines } from './deadlines.js';
import { realTimers, TickLoop, type TickFailure, type Timers } from './loop.js';
import { monitorCycle } from './monitor.js';
import { NightWindowKeeper, type WindowEnd } from './night-window.js';
import { daemonNotifier, followEvents, windowEndNotices, type EventNotices } from './notices.js';
import type { Notifier } from './notify.js';
import { startTriage, type Triage } from './triage.js';
import { AttemptRegistry } from './registry.js';
import { Spend } from './spend-state.js';
import { publishState } from './publish.js';
import type { PublishedState } from './state-file.js';
import { backoffOf, classifyFailure } from './stopping.js';
import { SetupHooks } from './setup-hooks.js';
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
  /** Where notices go (default: the config's `notify` list over node's fetch). */
  notifier?: Notifier;
  /**
   * Writes the morning report at the window's end (the CLI's, which may read the report model) and
   * says where and in one line what it holds; without it no report is written.
   */
  report?: (end: WindowEnd) => { path: string; summary: string } | null;
}

/** How long the last notices may take when the daemon stops (on its own: it is about to exit). */
const STOP_NOTICE_MS = 10_000;
/** How long a stop waits for provider probes under way (fleet.ts settleProbes). */
const PROBE_SETTLE_MS = 10_000;
const HALT_NOTICE_MS = 5_000;
/** How long the watcher gathers file events into one wake (a burst of specs is one tick, not many). */
const INBOX_BATCH_MS = 5;

export class Supervisor {
  readonly store: QueueStore;
  readonly toggles: ToggleStore;
  readonly events: EventLog;
  readonly fleet: Fleet;
  readonly notifier: Notifier;
  readonly window: NightWindowKeeper;
  readonly attempts = new AttemptRegistry();
  judgment: Judgment | null = null;
  /** The architect's follow-up specs for tasks that fail or park (follow-ups.ts). */
  readonly followUps: FollowUps;
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
  private readonly notices: EventNotices;
  private lock: WorkspaceLock | null = null;
  private queueWatcher: QueueWatcher | null = null;
  /** The workspace's own directory: its removal wakes the loop, which then stops (classify). */
  private rootWatcher: FSWatcher | null = null;
  private stopping = false;
  private started = false;
  private inboxSettling = false;
  private idleWaiters: (() => void)[] = [];
  private published: PublishedState | null = null;
  private readonly startedAt: number;
  /** When each thing is due next, and what woke each tick (deadlines.ts). */
  private readonly deadlines: Deadlines;

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
    this.notifier =
      opts.notifier ??
      daemonNotifier({
        config: opts.config,
        env: opts.env,
        clock: opts.clock,
        events: this.events,
        redact: this.redact,
        log: (line) => opts.log?.(line),
      });
    // A breaker opening, a task parked for a person: each is a notice (notices.ts).
    this.notices = followEvents(this.events, this.notifier, this.store, this.fleet);
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
      spend: new Spend(this.startedAt),
      redact: this.redact,
      random,
      setupHooks: new SetupHooks({
        config: opts.config,
        clock: opts.clock,
        log: (line) => opts.log?.(this.redact(line)),
      }),
      backoff: backoffOf(opts.config),
      log: (line) => opts.log?.(this.redact(line)),
      wake: () => this.wake(),
      pollSoon: () => this.deadlines.pollSoon(),
      stopping: () => this.stopping,
      notify: (n) => this.notifier.send(n),
    };
    this.followUps = new FollowUps(
      this.ctx,
      architectWriter(opts.config.architect, opts.env, (line) => this.ctx.log(line), opts.paths),
    );
    this.events.subscribe((e) => this.followUps.onEvent(e));
    this.watcher = new Watcher(this.ctx, (live, worker, exit) => this.collector.exited(live, worker, exit));
    this.window = new NightWindowKeeper(this.ctx, (end) =>
      windowEndNotices(this.ctx, this.notifier, end, opts.report),
    );
    this.launcher = new Launcher(
      this.ctx,
      (worker) => this.watcher.watchExits(worker),
      () => this.window.waitReason(),
    );
    this.collector = new Collector(
      this.ctx,
      (id) => this.launcher.localRepoOf(this.store.get(id)),
      (err) => this.halt(err),
    );
    this.deadlines = new Deadlines(this.ctx, {
      pollMs: opts.pollMs ?? 1000,
      windowAt: () => this.window.nextDue(),
      windowClosed: () => this.window.waitReason(),
      hostBound: () => this.launcher.hostBound,
    });
    this.loop = new TickLoop({
      timers: opts.timers ?? realTimers,
      now: () => this.clock.monotonic(),
      tick: (force) => this.tick(force),
      nextDue: () => this.deadlines.next(),
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
    this.notices.seed(this.store.list(), this.fleet.health.values());
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
    this.deadlines.started();
    if (this.opts.watch !== false) {
      // Inbox and requests only: the daemon writes the queue itself and needs no news of it. No settling
      // in the watcher: the inbox sweep judges a half-written spec itself (queue/inbox.ts), so a spec
      // dropped whole wakes the daemon in ~5 ms, not after 200 ms of polling its size.
      this.queueWatcher = new QueueWatcher(this.opts.paths, INBOX_BATCH_MS, ['inbox', 'requests'], {
        awaitWriteFinish: false,
      });
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
    // A clock set by hand or a DST change moves the window's edges and retry times (deadlines.ts).
    this.deadlines.watchClock(this.opts.timers ?? realTimers, () => this.wake());
    this.wake();
  }

  /** Stops dispatching and leaves executors running in tmux; state is already on disk. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.lock) return; // never started
    this.deadlines.unwatchClock();
    await this.loop.stop();
    await this.queueWatcher?.close();
    this.rootWatcher?.close();
    await Promise.all(this.attempts.pending());
    await this.fleet.settleProbes(PROBE_SETTLE_MS);
    await this.judgment?.stop();
    // A follow-up being drafted is written while the lock is still held (bounded by architect.timeout).
    await this.followUps.settle();
    this.triage?.stop();
    await this.watcher.stop();
    // Notices still queued (the window's report, say) get a bounded last chance; then no more retries.
    await this.notifier.flush(this.haltMessage === null ? STOP_NOTICE_MS : HALT_NOTICE_MS);
    this.notifier.close();
    // The last words go to the event log unless the disk is what stopped us.
    try {
      this.deadlines.report('stopping');
      this.events.emit({ type: 'daemon.stopped', time: this.iso(), reason });
    } catch (err) {
      this.ctx.log(`could not record the stop: ${coerceError(err).describe()}`);
    }
    if (this.lock) this.store.closeIndex(); // every commit has its index entry (queue/task-index.ts)
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

  /** Resolves at the night window's next end, once its work is parked and its report written. */
  untilWindowEnd(): Promise<void> {
    return this.window.untilEnd();
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
    this.ctx.setupHooks.reset();
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
    this.notifier.send({
      kind: 'daemon-stopped',
      title: 'nightshift: the daemon stopped on its own',
      text: `${message}\nExecutors keep running in tmux; a new daemon adopts them.`,
    });
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
    this.deadlines.ticked(now, forceMonitor);
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
    this.inboxSettling = inbox.settling.length > 0;
    this.deadlines.inboxSettling(now, inbox.settling);
    let running: Running[] = [];
    if (this.deadlines.takePoll(now)) {
      this.collector.retryDeferred();
      running = await this.watcher.poll();
    }
    if (this.deadlines.takeLiveness(now)) {
      await this.watcher.checkLiveness();
    }
    this.fleet.startDueProbes();
    // Hosts are sampled (when their sample is stale) only if a launch could follow, while an attempt
    // given up there waits for its session to be ended (the host answering again is what ends it), or
    // while a probe waits for a host to run on (schedule.ts wantsLoadSample).
    await this.fleet.sampleHosts(false, this.deadlines.loadWanted());
    // Reviews first: kick() only starts the judgment loop, which must not wait for this tick's launches.
    this.judgment?.kick();
    // The night window's end parks what still runs (night-window.ts); outside it nothing launches.
    await this.window.check();
    // Sessions of attempts given up on a host that answers again end before anything launches there.
    if (this.fleet.abandoned.length) await this.watcher.reapAbandoned();
    await this.launcher.dispatch();
    // The running attempts' logs after the launches: a freed slot must not wait for them.
    await Promise.all(running.map((r) => this.watcher.mirrorRunning(r)));
    if (this.deadlines.takeMonitor(now, forceMonitor)) {
      await monitorCycle(this.ctx, {
        judgment: this.judgment,
        adopt: () => this.adopt(),
        poll: () => this.watcher.poll(),
        triage: this.triage,
      });
      this.deadlines.report('monitor cycle');
    }
    this.publish();
    this.checkIdle();
  }

  /** Ticks and processes since the last daemon.activity event (bench/idle.js reads it). */
  activitySoFar(): ActivitySnapshot {
    return this.deadlines.activitySoFar();
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
      { startedAt: this.startedAt, waiting: this.launcher.waiting, window: this.window.describe() },
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
