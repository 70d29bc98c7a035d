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
import { makeRedactor, type Redactor } from '../lib/redact.js';
import { resolveRepoPath, type WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { LocalRunner } from '../hosts/runner.js';
import { sessionName, SESSION_PREFIX } from '../hosts/tmux.js';
import type { WorkerHost } from '../hosts/worker.js';
import { resolveSecrets } from '../providers/index.js';
import { EventLog } from '../queue/eventlog.js';
import { sweepInbox } from '../queue/inbox.js';
import { WorkspaceLock } from '../queue/lock.js';
import { applyPendingRequests } from '../queue/requests.js';
import { QueueStore } from '../queue/store.js';
import { ToggleStore } from '../queue/toggles.js';
import { QueueWatcher } from '../queue/watcher.js';
import {
  launchAttempt,
  localLog,
  mirrorLog,
  noteProgress,
  readAttemptOutput,
  type LiveAttempt,
} from './attempts.js';
import { chooseDispatches, type HostView, type ProviderView } from './dispatch.js';
import { attemptSucceeded, initialHealth, providerFailed } from './health.js';
import { decideFailure } from './outcomes.js';
import { writeDaemonState } from './state-file.js';
import { Fleet } from './fleet.js';
import { Judgment } from './judgment.js';
import { describeEvent } from './describe.js';

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
  private nextPollMono = 0;
  private nextLivenessMono = 0;
  private nextMonitorMono = 0;
  private idleWaiters: (() => void)[] = [];
  private published = '';
  private readonly startedAt: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.random = opts.random ?? Math.random;
    this.events = new EventLog(opts.paths.events);
    this.store = new QueueStore(opts.paths, opts.clock, this.events);
    this.toggles = new ToggleStore(opts.paths);
    const secrets = Object.entries(opts.config.providers).flatMap(([name, cfg]) => {
      try {
        return Object.values(resolveSecrets(name, cfg, opts.env));
      } catch {
        return [];
      }
    });
    this.redact = makeRedactor(secrets);
    this.events.redact = this.redact;
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
      onGrade: (provider, points) => this.fleet.noteGrade(provider, points),
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
    await this.judgment?.stop();
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
    if (this.stopping) return;
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
      this.opts.log?.(`tick failed: ${coerceError(err).describe()}`);
    } finally {
      this.ticking = false;
    }
    if (!this.stopping) this.schedule();
  }

  private async tick(forceMonitor: boolean): Promise<void> {
    const now = this.clock.monotonic();
    await applyPendingRequests({
      paths: this.opts.paths,
      config: this.opts.config,
      store: this.store,
      toggles: this.toggles,
      clock: this.clock,
      hooks: { beforeKill: (task) => this.killForRequest(task) },
    });
    sweepInbox({ paths: this.opts.paths, config: this.opts.config, store: this.store, clock: this.clock });
    if (this.live.size && now >= this.nextPollMono) {
      this.nextPollMono = now + (this.opts.pollMs ?? 1000);
      await this.poll();
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
    if (forceMonitor || now >= this.nextMonitorMono) {
      this.nextMonitorMono = now + (parseDuration(this.opts.config.defaults.monitorEvery) ?? 900_000);
      await this.monitorCycle();
    }
    this.publish();
    this.checkIdle();
  }

  private schedule(): void {
    const now = this.clock.monotonic();
    const due: number[] = [this.nextMonitorMono];
    if (this.live.size || this.launching.size) due.push(this.nextPollMono, this.nextLivenessMono);
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
    for (const d of result.decisions) {
      const task = byId.get(d.task);
      const worker = this.opts.hosts.get(d.host);
      if (!task || !worker) continue;
      await this.startAttempt(task, d.provider, worker);
    }
  }

  private async startAttempt(task: TaskRecord, provider: string, worker: WorkerHost): Promise<void> {
    const repoCfg = this.opts.config.repos[task.spec.repo];
    const localRepo = resolveRepoPath(this.opts.paths.root, repoCfg?.path ?? '.', os.homedir());
    let baseSha = task.baseSha ?? null;
    if (!baseSha) {
      const r = await new LocalRunner().run([
        'git',
        '-C',
        localRepo,
        'rev-parse',
        '--verify',
        '-q',
        `${task.spec.base}^{commit}`,
      ]);
      baseSha = r.exitCode === 0 ? r.stdout.trim() : null;
      if (!baseSha) {
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
    }
    const sha = baseSha;
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
        this.store.specText(task.id),
        localRepo,
        sha,
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
    } catch (err) {
      const e = coerceError(err);
      const code = e.name === 'LinkError' ? 'link-down' : 'launch-failed';
      this.fail(
        this.store.get(task.id),
        code,
        `launch on ${worker.name} failed: ${e.describe()}`,
        'failed',
        null,
      );
    } finally {
      this.launching.delete(task.id);
    }
  }

  // ---- watching attempts -------------------------------------------------------------------

  private async poll(): Promise<void> {
    await Promise.all([...this.live.values()].map((live) => this.pollOne(live)));
  }

  private async pollOne(live: LiveAttempt): Promise<void> {
    if (live.ending) return;
    const worker = this.opts.hosts.get(live.host);
    if (!worker) return;
    let status;
    try {
      status = await worker.status(live.repo, live.taskId, live.attempt);
    } catch (err) {
      // A dropped link is not the executor's failure: keep the attempt and try again next poll.
      this.opts.log?.(`poll of ${live.taskId} on ${live.host} failed: ${coerceError(err).describe()}`);
      return;
    }
    noteProgress(live, status, this.clock.monotonic());
    await mirrorLog(this.opts.paths, worker, live, this.redact).catch(() => undefined);
    if (status.exit) {
      await this.collect(live, worker, status.exit.exitCode);
      return;
    }
    if (!status.pane) {
      live.missing += 1;
      if (live.missing >= 2) {
        this.live.delete(live.taskId);
        this.fail(
          this.store.get(live.taskId),
          'session-lost',
          `session ${sessionName(live.taskId)} vanished on ${live.host} without an exit record`,
          'lost',
          null,
        );
      }
    } else live.missing = 0;
  }

  private async collect(live: LiveAttempt, worker: WorkerHost, exitCode: number): Promise<void> {
    live.ending = true;
    await mirrorLog(this.opts.paths, worker, live, this.redact, true).catch(() => undefined);
    this.live.delete(live.taskId);
    await worker.tmux.kill(sessionName(live.taskId)).catch(() => false);
    const task = this.store.get(live.taskId);
    if (task.state !== 'running') return;
    const touched = await worker.mainTouched(live.repo, live.taskId).catch(() => []);
    if (touched.length) {
      this.fail(
        task,
        'main-touched',
        `the executor tried to update ${touched[0]?.split(' ')[0] ?? 'main'}; main is unchanged`,
        'failed',
        exitCode,
      );
      return;
    }
    const reading = readAttemptOutput(
      this.opts.config,
      live.provider,
      localLog(this.opts.paths, live.taskId, live.attempt),
      exitCode,
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
    const repoCfg = this.opts.config.repos[live.repo];
    const localRepo = resolveRepoPath(this.opts.paths.root, repoCfg?.path ?? '.', os.homedir());
    try {
      await worker.fetchBranch(localRepo, live.repo, live.taskId, task.baseSha ?? task.spec.base);
    } catch (err) {
      const e = coerceError(err);
      this.fail(
        task,
        e.name === 'LinkError' ? 'link-down' : 'not-descendant',
        e.describe(),
        'failed',
        exitCode,
      );
      return;
    }
    this.fleet.update(live.provider, (h) => attemptSucceeded(h, this.clock.monotonic()));
    this.store.transition(task.id, (t) => enterReview(t, { now: this.clock.now(), exitCode }));
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
    for (const d of doomed) await this.killAttempt(d.live, d.code, d.reason);
  }

  private async killAttempt(live: LiveAttempt, code: 'timeout' | 'idle', reason: string): Promise<void> {
    const worker = this.opts.hosts.get(live.host);
    live.ending = true;
    this.events.emit({
      type: 'task.killing',
      time: this.iso(),
      task: live.taskId,
      host: live.host,
      attempt: live.attempt,
      reason,
    });
    if (worker) {
      await mirrorLog(this.opts.paths, worker, live, this.redact, true).catch(() => undefined);
      await worker.kill(live.repo, live.taskId, live.attempt).catch(() => null);
    }
    this.live.delete(live.taskId);
    this.fail(this.store.get(live.taskId), code, reason, code, null);
  }

  private async killForRequest(task: TaskRecord): Promise<void> {
    const live = this.live.get(task.id);
    if (!live) return;
    live.ending = true;
    const worker = this.opts.hosts.get(live.host);
    if (worker) await worker.kill(live.repo, live.taskId, live.attempt).catch(() => null);
    this.live.delete(task.id);
  }

  // ---- adoption and the monitor cycle ------------------------------------------------------

  /** Running tasks: adopt live sessions, resolve finished ones from exit.json, retry vanished ones. */
  private async adopt(): Promise<void> {
    for (const task of this.store.list().filter((t) => t.state === 'running')) {
      if (this.live.has(task.id)) continue;
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
      live.mirroredBytes = localLog(this.opts.paths, task.id, attempt.n).length;
      if (status.exit) {
        await this.collect(live, worker, status.exit.exitCode);
      } else if (status.pane && !status.pane.dead) {
        this.live.set(task.id, live);
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
      ?.pruneMergedBranches()
      .catch((err: unknown) => this.opts.log?.(`branch pruning failed: ${coerceError(err).describe()}`));
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
        waiting: Object.fromEntries(this.waiting),
      },
      this.published,
    );
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.live.size || this.launching.size) return;
    const tasks = this.store.list();
    if (tasks.some((t) => t.state === 'running')) return;
    // Reviews in progress, or waiting for the judgment loop, can progress; parked ones wait for a person.
    if (tasks.some((t) => t.state === 'review' && !t.parked)) return;
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
