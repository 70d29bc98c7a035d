/**
 * The supervisor: one per workspace (it holds the workspace lock for its whole life). Event-driven —
 * the watcher (inbox, requests), executor exits, probe results and timers wake it; with nothing running
 * and nothing due it sleeps. It dispatches with provider feedback, watches attempts for exits, timeouts
 * and idleness, retries by the failure table, and runs the monitor cycle. Executors live in tmux and
 * survive the supervisor; a new one adopts them.
 */
import os from 'node:os';
import { coerceError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../core/failures.js';
import { enterFailed, enterReview, enterRunning, type TaskRecord } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import type { Redactor } from '../lib/redact.js';
import { resolveRepoPath, type WorkspacePaths } from '../config/paths.js';
import { secretRedactor } from '../config/secrets.js';
import type { Config } from '../config/schema.js';
import { Repo } from '../git/repo.js';
import { sessionName, SESSION_PREFIX } from '../hosts/tmux.js';
import type { AttemptStatus, ExitRecord, WorkerHost } from '../hosts/worker.js';
import { EventLog } from '../queue/eventlog.js';
import { sweepInbox } from '../queue/inbox.js';
import { WorkspaceLock } from '../queue/lock.js';
import { applyPendingRequests } from '../queue/requests.js';
import { FatalIoError } from '../queue/fsx.js';
import { QueueStore } from '../queue/store.js';
import { ToggleStore } from '../queue/toggles.js';
import { QueueWatcher } from '../queue/watcher.js';
import {
  launchAttempt,
  prepareWorktree,
  localLog,
  liveFailure,
  mirrorLog,
  mirroredCut,
  mirroredOffset,
  noteProgress,
  readAttemptOutput,
  saveScreen,
  type LiveAttempt,
} from './attempts.js';
import { chooseDispatches, type HostView, type ProviderView } from './dispatch.js';
import { attemptSucceeded, initialHealth, providerFailed } from './health.js';
import { decideFailure } from './outcomes.js';
import { writeDaemonState, type PublishedState } from './state-file.js';
import { Fleet } from './fleet.js';
import { Judgment } from './judgment.js';
import { describeEvent } from './describe.js';

/** Lets a LinkError through (collection is deferred); any other failure of a best-effort step is ignored. */
function rethrowLinkError(err: unknown): undefined {
  if (coerceError(err).name === 'LinkError') throw err;
  return undefined;
}

/** How long one wait for an exit signal lasts before it is renewed (a bound, not a poll). */
const EXIT_WAIT_MS = 60_000;
/** How many tasks that wait only for a free slot get their worktree prepared ahead of dispatch. */
const LOOKAHEAD = 4;
/** A worktree prepared longer ago than this is prepared again at dispatch (its base may be stale). */
const PREPARED_TTL_MS = 60_000;

/**
 * A worktree prepared before its task was dispatched (mirror, base ref, worktree: prepareWorktree), so
 * the launch that follows a freed slot only stages the prompt and starts tmux.
 */
interface PreparedLaunch {
  host: string;
  round: number;
  atMono: number;
  /** The base commit it was prepared on, once known. */
  base: { sha: string | null };
  /** Whether the preparation succeeded. */
  ready: Promise<boolean>;
}

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
}

export class Supervisor {
  readonly store: QueueStore;
  readonly toggles: ToggleStore;
  readonly events: EventLog;
  readonly fleet: Fleet;
  judgment: Judgment | null = null;
  readonly live = new Map<string, LiveAttempt>();
  private readonly launching = new Set<string>();
  /** Per host, the loop that waits for runners' exit signals while attempts run there. */
  private readonly exitWaits = new Map<string, Promise<void>>();
  /** Attempts whose exit is being collected (log, main guard, fetch) off the tick, by task id. */
  private readonly collecting = new Map<string, Promise<void>>();
  /** Exited attempts whose collection a dropped link interrupted, by task id: retried at each poll. */
  private readonly deferred = new Map<string, { live: LiveAttempt; worker: WorkerHost; exit: ExitRecord }>();
  private readonly prepared = new Map<string, PreparedLaunch>();
  private readonly waiting = new Map<string, string>();
  private readonly random: () => number;
  private readonly redact: Redactor;
  private readonly backoff: BackoffPolicy;
  private lock: WorkspaceLock | null = null;
  private watcher: QueueWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private again = false;
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
    this.random = opts.random ?? Math.random;
    // Every provider secret and the architect's key: none reaches a record, an event or a log line.
    this.redact = secretRedactor(opts.config, opts.env);
    this.events = new EventLog(opts.paths.events);
    this.events.redact = this.redact;
    this.store = new QueueStore(opts.paths, opts.clock, this.events, { redact: this.redact });
    this.toggles = new ToggleStore(opts.paths);
    this.backoff = {
      ...DEFAULT_BACKOFF,
      initialMs: parseDuration(opts.config.defaults.retryInitial) ?? DEFAULT_BACKOFF.initialMs,
      maxMs: parseDuration(opts.config.defaults.retryMax) ?? DEFAULT_BACKOFF.maxMs,
    };
    this.startedAt = opts.clock.now();
    this.fleet = new Fleet({
      config: opts.config,
      clock: opts.clock,
      env: opts.env,
      hosts: opts.hosts,
      events: this.events,
      random: this.random,
      wake: () => this.wake(),
      ...(opts.loadEveryMs !== undefined ? { loadEveryMs: opts.loadEveryMs } : {}),
      ...(opts.probeBackoff ? { probeBackoff: opts.probeBackoff } : {}),
    });
    this.events.subscribe((e) => opts.log?.(this.redact(describeEvent(e))));
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
      log: (line) => this.opts.log?.(this.redact(line)),
      redact: this.redact,
      // From the records, as after a restart: live routing and `providers` always agree.
      onGraded: () => this.fleet.seedGrades(this.store.list()),
      onFatal: (err) => this.fatal(err),
      wake: () => this.wake(),
    });
    await this.adopt();
    const now = this.clock.monotonic();
    this.nextMonitorMono = now + (parseDuration(this.opts.config.defaults.monitorEvery) ?? 900_000);
    this.nextLivenessMono = now + this.livenessEvery();
    if (this.opts.watch !== false) {
      // Inbox and requests only: the daemon writes the queue itself and needs no news of it.
      this.watcher = new QueueWatcher(this.opts.paths, undefined, ['inbox', 'requests']);
      this.watcher.subscribe(() => this.wake());
      await this.watcher.ready();
    }
    this.started = true;
    this.wake();
  }

  /** Stops dispatching and leaves executors running in tmux; state is already on disk. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.lock) return; // never started
    while (this.ticking) await new Promise((r) => setTimeout(r, 20));
    await this.watcher?.close();
    await Promise.all([...this.collecting.values(), ...[...this.prepared.values()].map((p) => p.ready)]);
    await this.judgment?.stop();
    // Wake our exit waits so they end now, not at their timeout (never wait on them long).
    const waits = [...this.exitWaits.values()];
    for (const name of this.exitWaits.keys()) await this.opts.hosts.get(name)?.wakeExitWaiters();
    await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    this.events.emit({ type: 'daemon.stopped', time: this.iso(), reason });
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
    await this.runTick(true);
  }

  wake(): void {
    // Nothing ticks before start() is done: an exit signal heard while adopting must not run a tick
    // (a monitor cycle, another adoption) beside it. start() wakes once at its end.
    if (this.stopping || !this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runTick(false), 0);
  }

  private async runTick(forceMonitor: boolean): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        await this.tick(forceMonitor);
        forceMonitor = false;
      } while (this.again && !this.stopping);
    } catch (err) {
      if (err instanceof FatalIoError) this.fatal(err);
      else this.opts.log?.(`tick failed: ${coerceError(err).describe()}`);
    } finally {
      this.ticking = false;
    }
    if (!this.stopping) this.schedule();
  }

  /**
   * An fsync failed (in a tick, a collection, a review or a merge): the disk may have dropped queue
   * state. Stop, never retry; exit non-zero.
   */
  private fatal(err: FatalIoError): void {
    if (this.stopping) return;
    this.opts.log?.(`fatal: ${err.describe()}; the daemon stops (exit 1)`);
    void this.stop(`fatal I/O error: ${err.message}`).finally(() => process.exit(1));
  }

  private async tick(forceMonitor: boolean): Promise<void> {
    const now = this.clock.monotonic();
    await applyPendingRequests({
      paths: this.opts.paths,
      config: this.opts.config,
      store: this.store,
      toggles: this.toggles,
      clock: this.clock,
      hooks: {
        beforeKill: (task) => this.killForRequest(task),
        probe: (provider) => this.fleet.requestProbe(provider),
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
    let running: { live: LiveAttempt; worker: WorkerHost }[] = [];
    if ((this.live.size || this.deferred.size) && now >= this.nextPollMono) {
      this.nextPollMono = now + (this.opts.pollMs ?? 1000);
      this.retryDeferred();
      running = await this.poll();
    }
    if (now >= this.nextLivenessMono) {
      this.nextLivenessMono = now + this.livenessEvery();
      await this.checkLiveness();
    }
    this.fleet.startDueProbes();
    await this.fleet.sampleHosts(
      false,
      this.store.list().some((t) => t.state === 'pending'),
    );
    // Reviews first: kick() only starts the judgment loop, which must not wait for this tick's launches.
    this.judgment?.kick();
    await this.dispatch();
    // The running attempts' logs after the launches: a freed slot must not wait for them.
    await Promise.all(running.map(({ live, worker }) => this.mirrorRunning(live, worker)));
    if (forceMonitor || now >= this.nextMonitorMono) {
      this.nextMonitorMono = now + (parseDuration(this.opts.config.defaults.monitorEvery) ?? 900_000);
      await this.monitorCycle();
    }
    this.publish();
    this.checkIdle();
  }

  private schedule(): void {
    const now = this.clock.monotonic();
    const due: number[] = [this.nextMonitorMono, this.nextInboxMono];
    if (this.live.size || this.launching.size || this.deferred.size)
      due.push(this.nextPollMono, this.nextLivenessMono);
    for (const h of this.fleet.health.values())
      if (!h.probeInFlight && h.breaker !== 'closed') due.push(h.nextProbeAt);
    for (const t of this.store.list()) {
      if (t.state === 'pending' && t.retryAt)
        due.push(now + Math.max(0, Date.parse(t.retryAt) - this.clock.now()));
    }
    const next = Math.max(0, Math.min(...due) - now);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runTick(false), Math.min(next, 2_147_000_000));
  }

  private livenessEvery(): number {
    return parseDuration(this.opts.config.defaults.livenessEvery) ?? 60_000;
  }

  // ---- dispatch ----------------------------------------------------------------------------

  private async dispatch(): Promise<void> {
    const tasks = this.store.list();
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const toggles = this.toggles.read();
    const running = new Map<string, number>();
    for (const l of this.live.values()) running.set(l.provider, (running.get(l.provider) ?? 0) + 1);
    const hostRunning = new Map<string, number>();
    for (const l of this.live.values()) hostRunning.set(l.host, (hostRunning.get(l.host) ?? 0) + 1);
    const providers: ProviderView[] = Object.entries(this.opts.config.providers).map(([name, cfg]) => ({
      name,
      health: this.fleet.health.get(name) ?? initialHealth(name, cfg.concurrency, this.clock.monotonic()),
      hosts: cfg.hosts,
      running: running.get(name) ?? 0,
      frozen: toggles.frozenProviders.includes(name),
      grade: this.fleet.averageGrade(name),
    }));
    const hosts = new Map<string, HostView>(
      [...this.opts.hosts.keys()].map((name) => [
        name,
        {
          name,
          over: this.fleet.over(name),
          running: hostRunning.get(name) ?? 0,
        },
      ]),
    );
    const notBefore = new Map<string, number>();
    for (const t of tasks) if (t.retryAt) notBefore.set(t.id, Date.parse(t.retryAt));
    const result = chooseDispatches({
      now: this.clock.now(),
      frozen: toggles.frozen,
      pending: tasks.filter((t) => t.state === 'pending'),
      tasks: byId,
      providers,
      hosts,
      live: new Set([...this.live.keys(), ...this.launching]),
      notBefore,
      lookahead: LOOKAHEAD,
    });
    this.waiting.clear();
    for (const [id, why] of result.waiting) this.waiting.set(id, why);
    for (const d of result.doomed) {
      this.store.transition(d.task, (t) =>
        enterFailed(t, {
          now: this.clock.now(),
          code: 'dependency-failed',
          attribution: 'spec',
          reason: `dependency ${d.dependency} failed`,
        }),
      );
    }
    for (const id of this.prepared.keys()) if (byId.get(id)?.state !== 'pending') this.prepared.delete(id);
    for (const u of result.upcoming) {
      const task = byId.get(u.task);
      const worker = this.opts.hosts.get(u.host);
      if (task && worker) this.prepareAhead(task, worker);
    }
    // Launches run side by side: each is a handful of round trips to its host, and a slot that waits
    // for another task's launch is a slot wasted.
    await Promise.all(
      result.decisions.map(async (d) => {
        const task = byId.get(d.task);
        const worker = this.opts.hosts.get(d.host);
        if (task && worker) await this.startAttempt(task, d.provider, worker);
      }),
    );
  }

  private localRepoOf(task: TaskRecord): string {
    const repoCfg = this.opts.config.repos[task.spec.repo];
    return resolveRepoPath(this.opts.paths.root, repoCfg?.path ?? '.', os.homedir());
  }

  /** The commit a task starts from: its recorded base, else its spec's base as it is now. */
  private async resolveBase(task: TaskRecord, localRepo: string): Promise<string | null> {
    if (task.baseSha) return task.baseSha;
    return new Repo(localRepo).revParse(task.spec.base);
  }

  /** Prepares the worktree of a task that will start when a slot frees (in the background). */
  private prepareAhead(task: TaskRecord, worker: WorkerHost): void {
    const have = this.prepared.get(task.id);
    const now = this.clock.monotonic();
    if (have && have.host === worker.name && have.round === task.round && now - have.atMono < PREPARED_TTL_MS)
      return;
    // Never two preparations of one worktree at once: a stale one is replaced only once it is done.
    if (have?.host === worker.name) {
      void have.ready.then(() => this.prepared.get(task.id) === have && this.prepared.delete(task.id));
      return;
    }
    const localRepo = this.localRepoOf(task);
    const base: { sha: string | null } = { sha: null };
    const ready = (async () => {
      base.sha = await this.resolveBase(task, localRepo);
      if (!base.sha) return false;
      await prepareWorktree(
        { config: this.opts.config, env: this.opts.env },
        worker,
        task,
        localRepo,
        base.sha,
      );
      return true;
    })().catch(() => false);
    const entry: PreparedLaunch = { host: worker.name, round: task.round, atMono: now, base, ready };
    this.prepared.set(task.id, entry);
  }

  /**
   * The base of a worktree prepared ahead for this task on this host, if it is fresh and for this round;
   * null means the launch prepares it. A preparation still running there is waited for either way.
   */
  private async takePrepared(task: TaskRecord, worker: WorkerHost): Promise<string | null> {
    const entry = this.prepared.get(task.id);
    if (!entry || entry.host !== worker.name) return null;
    this.prepared.delete(task.id);
    const ok = await entry.ready;
    const fresh = this.clock.monotonic() - entry.atMono < PREPARED_TTL_MS;
    const sha = entry.base.sha;
    if (!ok || !fresh || entry.round !== task.round || !sha) return null;
    if (task.baseSha && task.baseSha !== sha) return null;
    return sha;
  }

  private async startAttempt(task: TaskRecord, provider: string, worker: WorkerHost): Promise<void> {
    const localRepo = this.localRepoOf(task);
    const preparedBase = await this.takePrepared(task, worker);
    const sha = preparedBase ?? (await this.resolveBase(task, localRepo));
    if (!sha) {
      this.store.transition(task.id, (t) =>
        enterFailed(t, {
          now: this.clock.now(),
          code: 'bad-base',
          attribution: 'spec',
          reason: `base ${task.spec.base} not found in ${localRepo}`,
        }),
      );
      return;
    }
    const started = this.store.transition(task.id, (t) => {
      const next = enterRunning(t, { now: this.clock.now(), provider, host: worker.name });
      return { ...next, task: { ...next.task, baseSha: sha } };
    });
    const attempt = started.attempts.length;
    this.launching.add(task.id);
    try {
      await launchAttempt(
        { config: this.opts.config, env: this.opts.env },
        worker,
        started,
        provider,
        attempt,
        // The executor reads the spec as written; every other reader gets it redacted.
        this.store.specText(task.id, { raw: true }),
        localRepo,
        sha,
        preparedBase !== null,
      );
      const now = this.clock.monotonic();
      this.live.set(task.id, {
        taskId: task.id,
        attempt,
        provider,
        host: worker.name,
        repo: task.spec.repo,
        startedMono: now,
        progressMono: now,
        logBytes: 0,
        mirroredBytes: 0,
        head: null,
        missing: 0,
        ending: false,
      });
      this.nextPollMono = Math.min(this.nextPollMono, now + (this.opts.pollMs ?? 1000));
      this.watchExits(worker);
    } catch (err) {
      const e = coerceError(err);
      const code =
        e.name === 'LinkError'
          ? 'link-down'
          : e.name === 'PromptTooLargeError'
            ? 'prompt-too-large'
            : 'launch-failed';
      // Whatever the host lost (a mirror, the agent script) is set up again by the next launch.
      worker.forgetSetup();
      this.fail(
        this.store.get(task.id),
        code,
        // A refused prompt never reached the host: say what is wrong with it, not that a launch failed.
        code === 'prompt-too-large' ? e.describe() : `launch on ${worker.name} failed: ${e.describe()}`,
        'failed',
        null,
      );
    } finally {
      this.launching.delete(task.id);
    }
  }

  // ---- watching attempts -------------------------------------------------------------------

  /**
   * While attempts run on `worker`, waits on its runners' exit signal and polls at once when one comes,
   * so an exit reaches review in the time of one poll instead of up to pollMs later. The poll stays the
   * source of truth (and the fallback when the wait fails: no tmux server yet, a dropped link, a runner
   * older than the signal); a failed wait is retried with a growing pause.
   */
  private watchExits(worker: WorkerHost): void {
    if (this.exitWaits.has(worker.name) || this.stopping) return;
    const runsThere = () => [...this.live.values()].some((l) => l.host === worker.name);
    const loop = async () => {
      let failures = 0;
      while (!this.stopping && runsThere()) {
        const woke = await worker.waitForExit(EXIT_WAIT_MS);
        if (this.stopping) return;
        if (woke === 'signalled') {
          failures = 0;
          this.nextPollMono = this.clock.monotonic();
          this.wake();
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

  /**
   * Every live attempt, host by host: one batched status read per host (WorkerHost.statuses). Exits are
   * handed to collection at once; returns the attempts still running, whose logs the tick mirrors after
   * its launches.
   */
  private async poll(): Promise<{ live: LiveAttempt; worker: WorkerHost }[]> {
    const byHost = new Map<string, LiveAttempt[]>();
    for (const live of this.live.values())
      if (!live.ending) byHost.set(live.host, [...(byHost.get(live.host) ?? []), live]);
    const running: { live: LiveAttempt; worker: WorkerHost }[] = [];
    await Promise.all(
      [...byHost].map(async ([host, lives]) => {
        const worker = this.opts.hosts.get(host);
        if (!worker) return;
        let statuses: AttemptStatus[];
        try {
          statuses = await worker.statuses(
            lives.map((l) => ({ repo: l.repo, id: l.taskId, attempt: l.attempt })),
          );
        } catch (err) {
          // A dropped link is not the executors' failure: keep the attempts and try again next poll.
          const why = coerceError(err).describe();
          for (const live of lives) this.opts.log?.(`poll of ${live.taskId} on ${host} failed: ${why}`);
          return;
        }
        await Promise.all(
          lives.map(async (live, i) => {
            const status = statuses[i];
            if (status && (await this.pollOne(live, worker, status))) running.push({ live, worker });
          }),
        );
      }),
    );
    return running;
  }

  /** Judges one attempt's status; true when it is still running. */
  private async pollOne(live: LiveAttempt, worker: WorkerHost, status: AttemptStatus): Promise<boolean> {
    if (live.ending) return false;
    noteProgress(live, status, this.clock.monotonic());
    if (status.exit) {
      this.collectLater(live, worker, status.exit);
      return false;
    }
    // No exit record, and no live pane: the runner is gone without recording its end (killed, or its
    // session removed). status() reads the pane before exit.json, so a dead pane here is conclusive;
    // a second poll must agree all the same. Waiting for the idle timeout would hold the slot for nothing.
    if (!status.pane || status.pane.dead) {
      live.missing += 1;
      if (live.missing >= 2) {
        live.ending = true;
        this.live.delete(live.taskId);
        await this.mirror(worker, live, { force: true }).catch(() => undefined);
        // A dead pane still shows what the runner printed last: keep it beside the log.
        const screen = status.pane ? await saveScreen(this.opts.paths, worker, live, this.redact) : null;
        const why = `${
          status.pane
            ? `the runner in session ${sessionName(live.taskId)} on ${live.host} ended${status.pane.exitStatus === null ? '' : ` (status ${status.pane.exitStatus})`} without an exit record`
            : `session ${sessionName(live.taskId)} vanished on ${live.host} without an exit record`
        }${screen ? `; last screen kept in ${screen}` : ''}`;
        // Keep what the executor left in the worktree (it is there whether or not a pane is left), and
        // clear a dead pane for the next attempt.
        await worker.kill(live.repo, live.taskId, live.attempt).catch(() => null);
        this.fail(this.store.get(live.taskId), 'session-lost', why, 'lost', null);
        return false;
      }
    } else live.missing = 0;
    return true;
  }

  /**
   * Collects an exited attempt without holding up the tick: its slot is free at once, so this tick's
   * dispatch can start the next task while the branch is fetched. The tick runs again when it is done.
   */
  private collectLater(live: LiveAttempt, worker: WorkerHost, exit: ExitRecord): void {
    live.ending = true;
    this.live.delete(live.taskId);
    const done = this.collect(live, worker, exit)
      .catch((err: unknown) => {
        if (err instanceof FatalIoError) this.fatal(err);
        else this.opts.log?.(`collecting ${live.taskId} failed: ${coerceError(err).describe()}`);
      })
      .finally(() => {
        this.collecting.delete(live.taskId);
        this.wake();
      });
    this.collecting.set(live.taskId, done);
  }

  /**
   * Collects an exited attempt: its log, the main guard, the branch. A link that drops on the way fails
   * nothing: exit.json and the branch wait on the host, so collection is deferred to a later poll
   * (retryDeferred) and the task stays running — never re-dispatched, never blamed.
   */
  private async collect(live: LiveAttempt, worker: WorkerHost, exit: ExitRecord): Promise<void> {
    live.ending = true;
    this.live.delete(live.taskId);
    this.deferred.delete(live.taskId);
    const at = { step: 'the log' };
    try {
      await this.collectExited(live, worker, exit, at);
    } catch (err) {
      const e = coerceError(err);
      if (e.name !== 'LinkError') throw err;
      this.deferred.set(live.taskId, { live, worker, exit });
      this.opts.log?.(
        `collecting ${live.taskId} on ${live.host} deferred at ${at.step} (link down): ${e.describe()}`,
      );
    }
  }

  /**
   * Collection proper; a LinkError from any step leaves the task running for collect() to defer.
   * `at.step` names the step under way.
   */
  private async collectExited(
    live: LiveAttempt,
    worker: WorkerHost,
    exit: ExitRecord,
    at: { step: string },
  ): Promise<void> {
    const exitCode = exit.exitCode;
    await this.mirror(worker, live, { force: true }).catch(rethrowLinkError);
    at.step = 'the session';
    // The runner reaped what the executor started before it wrote exit.json; this also reaps what a
    // runner killed before its end (or one older than the reaper) left behind.
    await worker.closeSession(live.taskId, live.attempt).catch(rethrowLinkError);
    const task = this.store.get(live.taskId);
    if (task.state !== 'running') return;
    at.step = 'the main guard';
    // The guard hook's record of refused updates, then the protected refs themselves against their
    // record from the launch: an executor can switch hooks off (`git -c core.hooksPath=…`). mainMoved
    // puts back every ref that changed; only a change this task's branch explains fails the task.
    const touched = await worker.mainTouched(live.repo, live.taskId);
    const moved = await worker.mainMoved(live.repo, live.taskId, live.attempt);
    for (const m of moved) {
      const what = `${m.ref} in the mirror on ${live.host} moved from ${m.from ?? 'absent'} to ${m.to ?? 'absent'} during attempt ${live.attempt} of ${live.taskId}`;
      this.events.emit({
        type: 'main.restored',
        time: this.iso(),
        task: live.taskId,
        host: live.host,
        ref: m.ref,
        old: m.from,
        new: m.to,
        attributed: m.attributed,
        reason: `${what}; ${m.attributed ? "the task's branch held the new commit" : "no value of the task's branch holds the new commit, so the task is not blamed: find who moved it"}; ${m.restored ? 'restored' : 'could not be restored (the recorded commit is gone): set it back by hand'}`,
      });
    }
    const ours = moved.filter((m) => m.attributed);
    if (touched.length || ours.length) {
      const [first] = ours;
      this.fail(
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
    const reading = readAttemptOutput(
      this.opts.config,
      live.provider,
      localLog(this.opts.paths, live.taskId, live.attempt),
      exit,
    );
    if (exitCode !== 0 || reading.failure) {
      const code = reading.failure?.code ?? 'exit-nonzero';
      this.fail(
        task,
        code,
        reading.failure?.reason ?? `executor exited with ${exitCode}`,
        'failed',
        exitCode,
      );
      return;
    }
    const localRepo = this.localRepoOf(task);
    at.step = 'the branch fetch';
    try {
      await worker.fetchBranch(localRepo, live.repo, live.taskId, task.baseSha ?? task.spec.base);
    } catch (err) {
      const e = coerceError(err);
      if (e.name === 'LinkError') throw err;
      // Only a branch that arrived and is not on its base (or is gone) is the spec's doing.
      this.fail(
        task,
        e.name === 'BranchError' ? 'not-descendant' : 'fetch-failed',
        e.describe(),
        'failed',
        exitCode,
      );
      return;
    }
    this.fleet.update(live.provider, (h) => attemptSucceeded(h, this.clock.monotonic()));
    // A kill request may have ended the task while its branch was fetched.
    if (this.store.get(task.id).state !== 'running') return;
    this.store.transition(task.id, (t) => enterReview(t, { now: this.clock.now(), exitCode }));
  }

  /** Collections a dropped link deferred, tried again (at each poll while any wait). */
  private retryDeferred(): void {
    for (const [id, d] of [...this.deferred]) {
      if (this.collecting.has(id)) continue;
      this.deferred.delete(id);
      this.collectLater(d.live, d.worker, d.exit);
    }
  }

  private fail(
    task: TaskRecord,
    code: string,
    reason: string,
    outcome: 'failed' | 'timeout' | 'idle' | 'lost',
    exitCode: number | null,
  ): void {
    if (task.state !== 'running') return;
    const decision = decideFailure(
      task,
      { code, reason, outcome, exitCode, now: this.clock.now() },
      this.backoff,
      this.random,
    );
    const provider = task.attempts.at(-1)?.provider;
    this.store.transition(task.id, () => decision.transition);
    if (decision.providerFault && provider) {
      const next = this.fleet.update(provider, (h) => providerFailed(h, reason, this.clock.monotonic()));
      if (next) {
        this.events.emit({
          type: 'provider.health',
          time: this.iso(),
          provider,
          reason: next.reason,
          breaker: next.breaker,
          limit: next.limit,
        });
      }
    }
  }

  /** Timeouts and idleness, judged from several signals; a cycle that would kill most work freezes instead. */
  private async checkLiveness(): Promise<void> {
    // Fresh signals first: a stale poll must never be the reason for a kill.
    await this.poll();
    const now = this.clock.monotonic();
    const doomed: { live: LiveAttempt; code: 'timeout' | 'idle'; reason: string }[] = [];
    for (const live of this.live.values()) {
      if (live.ending) continue;
      const task = this.store.get(live.taskId);
      if (now - live.startedMono > task.spec.timeoutMs) {
        doomed.push({
          live,
          code: 'timeout',
          reason: `ran longer than its timeout (${Math.round(task.spec.timeoutMs / 1000)} s)`,
        });
      } else if (now - live.progressMono > task.spec.idleMs) {
        doomed.push({
          live,
          code: 'idle',
          reason: `no output and no commits for ${Math.round((now - live.progressMono) / 1000)} s`,
        });
      }
    }
    if (doomed.length === 0) return;
    if (this.live.size >= 2 && doomed.length > this.live.size / 2) {
      this.toggles.setFrozen(true, null);
      this.events.emit({
        type: 'monitor.breaker',
        time: this.iso(),
        reason: `would kill ${doomed.length} of ${this.live.size} running tasks (${doomed.map((d) => d.live.taskId).join(', ')}); froze dispatch instead — check the hosts, then thaw`,
      });
      return;
    }
    for (const d of doomed) await this.killAttempt(d.live, d.code, d.reason, d.code);
  }

  /** Mirrors an attempt's new output within defaults.logCap; each cut is an attempt.log-cut event. */
  private mirror(
    worker: WorkerHost,
    live: LiveAttempt,
    opts: { force?: boolean; onText?: (text: string) => void },
  ): Promise<number> {
    const cap = this.opts.config.defaults.logCap;
    return mirrorLog(this.opts.paths, worker, live, this.redact, {
      ...opts,
      cap,
      onCut: (cutBytes) =>
        this.events.emit({
          type: 'attempt.log-cut',
          time: this.iso(),
          task: live.taskId,
          host: live.host,
          attempt: live.attempt,
          cutBytes,
          cap,
          reason: `the log of attempt ${live.attempt} passed defaults.logCap (${cap} bytes): ${cutBytes} bytes of output left out between its head and its tail`,
        }),
    });
  }

  /** Mirrors a running attempt's new output; a failure the provider sees in it (a refused key) kills it now. */
  private async mirrorRunning(live: LiveAttempt, worker: WorkerHost): Promise<void> {
    const seen: { fatal: ReturnType<typeof liveFailure> } = { fatal: null };
    await this.mirror(worker, live, {
      onText: (text) => {
        seen.fatal ??= liveFailure(this.opts.config, live, text);
      },
    }).catch(() => null);
    const fatal = seen.fatal;
    if (!fatal || live.ending || this.live.get(live.taskId) !== live) return;
    await this.killAttempt(
      live,
      fatal.code,
      `${fatal.reason} (killed at once: retrying cannot fix it)`,
      'failed',
    );
  }

  private async killAttempt(
    live: LiveAttempt,
    code: string,
    reason: string,
    outcome: 'timeout' | 'idle' | 'failed',
  ): Promise<void> {
    await this.endSession(live, reason);
    this.fail(this.store.get(live.taskId), code, reason, outcome, null);
  }

  private async killForRequest(task: TaskRecord): Promise<void> {
    this.deferred.delete(task.id);
    const live = this.live.get(task.id);
    if (live) await this.endSession(live, 'killed by request');
  }

  /**
   * Ends a live attempt's session before its time: keeps its last screen and the rest of its log, says
   * why (task.killing), kills it (salvaging the worktree), and forgets it.
   */
  private async endSession(live: LiveAttempt, reason: string): Promise<void> {
    live.ending = true;
    // Live attempts only ever run on configured hosts (dispatch and adopt check), so this is found.
    const worker = this.opts.hosts.get(live.host);
    const screen = worker ? await saveScreen(this.opts.paths, worker, live, this.redact) : null;
    this.emitKilling(live, reason, screen);
    if (worker) {
      await this.mirror(worker, live, { force: true }).catch(() => undefined);
      await worker.kill(live.repo, live.taskId, live.attempt).catch(() => null);
    }
    this.live.delete(live.taskId);
  }

  /** The task.killing event, naming the file that keeps the attempt's last screen (if one was taken). */
  private emitKilling(live: LiveAttempt, reason: string, screen: string | null): void {
    this.events.emit({
      type: 'task.killing',
      time: this.iso(),
      task: live.taskId,
      host: live.host,
      attempt: live.attempt,
      reason: screen ? `${reason}; last screen kept in ${screen}` : reason,
      ...(screen ? { screen } : {}),
    });
  }

  // ---- adoption and the monitor cycle ------------------------------------------------------

  /** Running tasks: adopt live sessions, resolve finished ones from exit.json, retry vanished ones. */
  private async adopt(): Promise<void> {
    for (const task of this.store.list().filter((t) => t.state === 'running')) {
      if (this.live.has(task.id) || this.collecting.has(task.id) || this.deferred.has(task.id)) continue;
      const attempt = task.attempts.at(-1);
      const worker = attempt ? this.opts.hosts.get(attempt.host) : undefined;
      if (!attempt || !worker || !this.fleet.isReady(worker.name)) {
        if (!attempt || !worker)
          this.fail(
            task,
            'session-lost',
            `host ${attempt?.host ?? '?'} is not configured any more`,
            'lost',
            null,
          );
        continue;
      }
      const now = this.clock.monotonic();
      const elapsed = Math.max(0, this.clock.now() - Date.parse(attempt.startedAt));
      const live: LiveAttempt = {
        taskId: task.id,
        attempt: attempt.n,
        provider: attempt.provider,
        host: worker.name,
        repo: task.spec.repo,
        startedMono: now - elapsed,
        progressMono: now,
        logBytes: 0,
        mirroredBytes: 0,
        head: null,
        missing: 0,
        ending: false,
      };
      let status;
      try {
        status = await worker.status(task.spec.repo, task.id, attempt.n);
      } catch {
        continue; // link down: try again at the next monitor cycle
      }
      live.logBytes = status.logBytes;
      live.head = status.head;
      live.mirroredBytes = mirroredOffset(this.opts.paths, task.id, attempt.n);
      live.cut = mirroredCut(this.opts.paths, task.id, attempt.n);
      if (status.exit) {
        await this.collect(live, worker, status.exit);
      } else if (status.pane && !status.pane.dead) {
        this.live.set(task.id, live);
        this.watchExits(worker);
        this.events.emit({
          type: 'task.adopted',
          time: this.iso(),
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
        if (started) await worker.kill(task.spec.repo, task.id, attempt.n).catch(() => null);
        this.fail(
          task,
          started ? 'session-lost' : 'launch-interrupted',
          started
            ? `session ${sessionName(task.id)} is gone and left no exit record`
            : `the supervisor stopped while launching attempt ${attempt.n}; its executor never started`,
          'lost',
          null,
        );
      }
    }
  }

  private async monitorCycle(): Promise<void> {
    this.judgment?.retryParked();
    await this.judgment
      ?.tidy()
      .catch((err: unknown) =>
        this.opts.log?.(`worktree and branch cleanup failed: ${coerceError(err).describe()}`),
      );
    await this.adopt();
    await this.poll();
    await this.fleet.sampleHosts(true, true);
    const runningIds = new Set(
      this.store
        .list()
        .filter((t) => t.state === 'running')
        .map((t) => t.id),
    );
    for (const [name, worker] of this.opts.hosts) {
      if (!this.fleet.isReady(name)) continue;
      const panes = await worker.tmux.list().catch(() => []);
      for (const p of panes) {
        if (p.session.startsWith(SESSION_PREFIX) && !runningIds.has(p.session.slice(SESSION_PREFIX.length))) {
          this.events.emit({
            type: 'session.stray',
            time: this.iso(),
            host: name,
            session: p.session,
            reason: 'no running task owns this session; left alone',
          });
        }
      }
    }
    const counts = { pending: 0, running: 0, review: 0, done: 0, failed: 0 };
    for (const t of this.store.list()) counts[t.state] += 1;
    this.events.emit({
      type: 'monitor.cycle',
      time: this.iso(),
      reason: `${this.live.size} attempt(s) live`,
      ...counts,
    });
  }

  private publish(): void {
    this.published = writeDaemonState(
      this.opts.paths,
      {
        pid: process.pid,
        host: os.hostname(),
        startedAt: new Date(this.startedAt).toISOString(),
        updatedAt: this.iso(),
        providers: [...this.fleet.health.values()].map((h) => ({
          name: h.name,
          breaker: h.breaker,
          reason: h.reason,
          limit: h.limit,
          ceiling: h.ceiling,
          running: [...this.live.values()].filter((l) => l.provider === h.name).length,
          lastProbe: h.lastProbe ? { ok: h.lastProbe.ok, reason: h.lastProbe.reason } : null,
          limitHistory: h.limitHistory.map((x) => ({ limit: x.limit, reason: x.reason })),
          grade: this.fleet.averageGrade(h.name),
        })),
        hosts: [...this.opts.hosts.keys()].map((name) => ({
          name,
          over: this.fleet.hostState.get(name)?.over ?? [],
        })),
        waiting: this.waiting,
      },
      this.published,
    );
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.live.size || this.launching.size || this.collecting.size || this.deferred.size) return;
    const tasks = this.store.list();
    if (tasks.some((t) => t.state === 'running')) return;
    // Reviews in progress, or waiting for the judgment loop, can progress; parked ones wait for a person.
    if (tasks.some((t) => t.state === 'review' && !t.parked)) return;
    // A spec still settling in the inbox is work about to arrive.
    if (this.inboxSettling) return;
    const toggles = this.toggles.read();
    const pending = tasks.filter((t) => t.state === 'pending');
    // Pending work can progress unless dispatch is frozen or it waits on something that will never come.
    const canProgress =
      !toggles.frozen && pending.some((t) => !this.waiting.get(t.id)?.startsWith('pinned provider'));
    if (canProgress) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
