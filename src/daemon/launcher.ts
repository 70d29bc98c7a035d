/**
 * The launcher: each tick, asks dispatch (pure) what may start where, prepares the worktrees of the next
 * tasks ahead of a free slot, and launches attempts. A launch moves its task to running first (the record
 * is the truth if the daemon dies mid-launch: adoption then finds an attempt that never started).
 */
import os from 'node:os';
import type { TaskId } from '../core/ids.js';
import { enterFailed, enterRunning, type TaskRecord } from '../core/task.js';
import { resolveRepoPath } from '../config/paths.js';
import { Repo } from '../git/repo.js';
import { LinkError } from '../hosts/runner.js';
import type { HostPort } from './host-port.js';
import { PromptTooLargeError } from '../providers/common.js';
import { coerceError, ErrorCode } from '../core/errors.js';
import { launchAttempt, newLiveAttempt, prepareWorktree } from './attempts.js';
import { failAttempt, type DaemonContext } from './context.js';
import { chooseDispatches, type HostView, type ProviderView } from './dispatch.js';
import { initialHealth } from './health.js';
import { checkBudgets } from './spend.js';
import type { Prepared } from './registry.js';

/** How many tasks that wait only for a free slot get their worktree prepared ahead of dispatch. */
const LOOKAHEAD = 4;
/** A worktree prepared longer ago than this is prepared again at dispatch (its base may be stale). */
const PREPARED_TTL_MS = 60_000;

export class Launcher {
  /** Why each pending task waits, from the last dispatch (published for `ls` and the TUI). */
  readonly waiting = new Map<TaskId, string>();
  /** The last dispatch left a task waiting only for a host with room (dispatch.ts hostBound). */
  hostBound = false;

  constructor(
    private readonly ctx: DaemonContext,
    /** Called once an attempt runs on `worker` (the watcher starts waiting for its exit signal). */
    private readonly onLaunched: (worker: HostPort) => void,
    /** Why nothing new may start now (the night window: night-window.ts), or null. */
    private readonly closed: () => string | null = () => null,
  ) {}

  async dispatch(): Promise<void> {
    const { ctx } = this;
    const tasks = ctx.store.list();
    const closed = this.closed();
    if (closed !== null) {
      this.hostBound = false;
      this.waiting.clear();
      for (const t of tasks) if (t.state === 'pending') this.waiting.set(t.id, closed);
      return;
    }
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const toggles = ctx.toggles.read();
    const running = ctx.attempts.slots('provider');
    const budgets = checkBudgets(ctx);
    const hostRunning = ctx.attempts.slots('host');
    const providers: ProviderView[] = Object.entries(ctx.config.providers).map(([name, cfg]) => ({
      name,
      health: ctx.fleet.health.get(name) ?? initialHealth(name, cfg.concurrency, ctx.clock.monotonic()),
      hosts: cfg.hosts,
      running: running.get(name) ?? 0,
      frozen: toggles.frozenProviders.includes(name),
      budget: budgets.providers.get(name) ?? null,
      grade: ctx.fleet.averageGrade(name),
    }));
    const hosts = new Map<string, HostView>(
      [...ctx.hosts.keys()].map((name) => [
        name,
        { name, over: ctx.fleet.over(name), running: hostRunning.get(name) ?? 0 },
      ]),
    );
    // A repo whose setup hooks keep failing starts nothing until a reload (setup-hooks.ts).
    const held = new Map<TaskId, string>();
    for (const t of tasks) {
      const why = t.state === 'pending' ? ctx.setupHooks.held(t.spec.repo) : null;
      if (why) held.set(t.id, why);
    }
    const notBefore = new Map<TaskId, number>();
    for (const t of tasks) if (t.retryAt) notBefore.set(t.id, Date.parse(t.retryAt));
    const result = chooseDispatches({
      now: ctx.clock.now(),
      frozen: toggles.frozen,
      budget: budgets.night,
      pending: tasks.filter((t) => t.state === 'pending' && !held.has(t.id)),
      tasks: byId,
      providers,
      hosts,
      live: ctx.attempts.inFlight(),
      notBefore,
      lookahead: LOOKAHEAD,
    });
    this.waiting.clear();
    this.hostBound = result.hostBound;
    for (const [id, why] of [...result.waiting, ...held]) this.waiting.set(id, why);
    for (const d of result.doomed) {
      ctx.store.transition(d.task, (t) =>
        enterFailed(t, {
          now: ctx.clock.now(),
          code: 'dependency-failed',
          attribution: 'spec',
          reason: d.reason,
        }),
      );
    }
    // A preparation for a task that is no longer pending is forgotten once it is done.
    for (const e of ctx.attempts.list('preparing')) {
      if (byId.get(e.taskId)?.state !== 'pending') ctx.attempts.end(e.taskId, 'dropped');
    }
    for (const u of result.upcoming) {
      const task = byId.get(u.task);
      const worker = ctx.hosts.get(u.host);
      if (task && worker) this.prepareAhead(task, worker);
    }
    // Launches run side by side: each is a handful of round trips to its host, and a slot that waits
    // for another task's launch is a slot wasted.
    await Promise.all(
      result.decisions.map(async (d) => {
        const task = byId.get(d.task);
        const worker = ctx.hosts.get(d.host);
        if (task && worker) await this.start(task, d.provider, worker);
      }),
    );
  }

  localRepoOf(task: TaskRecord): string {
    const repoCfg = this.ctx.config.repos[task.spec.repo];
    return resolveRepoPath(this.ctx.paths.root, repoCfg?.path ?? '.', os.homedir());
  }

  /** The commit a task starts from: its recorded base, else its spec's base as it is now. */
  private async resolveBase(task: TaskRecord, localRepo: string): Promise<string | null> {
    if (task.baseSha) return task.baseSha;
    return new Repo(localRepo).revParse(task.spec.base);
  }

  /** Prepares the worktree of a task that will start when a slot frees (in the background). */
  private prepareAhead(task: TaskRecord, worker: HostPort): void {
    const { ctx } = this;
    const have = ctx.attempts.get(task.id);
    if (have && have.phase !== 'preparing') return;
    const now = ctx.clock.monotonic();
    const p = have?.prepared;
    if (p && have.host === worker.name && p.round === task.round && now - p.atMono < PREPARED_TTL_MS) return;
    // Never two preparations of one worktree at once: a stale one is replaced only once it is done.
    if (p && have.host === worker.name) {
      void p.ready.then(() => {
        if (ctx.attempts.get(task.id)?.prepared === p) ctx.attempts.end(task.id, 'dropped');
      });
      return;
    }
    if (have) ctx.attempts.end(task.id, 'dropped');
    const localRepo = this.localRepoOf(task);
    const base: { sha: string | null } = { sha: null };
    const ready = (async () => {
      base.sha = await this.resolveBase(task, localRepo);
      if (!base.sha) return false;
      await prepareWorktree({ config: ctx.config, env: ctx.env }, worker, task, localRepo, base.sha);
      return true;
    })().catch(() => false);
    const prepared: Prepared = { round: task.round, atMono: now, base, ready };
    ctx.attempts.enterPreparing(task.id, worker.name, prepared);
  }

  /**
   * The base of a worktree prepared ahead for this task on this host, if it is fresh and for this round;
   * null means the launch prepares it. A preparation still running there is waited for either way.
   */
  private async takePrepared(task: TaskRecord, worker: HostPort): Promise<string | null> {
    const entry = this.ctx.attempts.get(task.id);
    const p = entry?.phase === 'preparing' ? entry.prepared : null;
    if (!entry || !p) return null;
    this.ctx.attempts.end(task.id, 'dropped');
    if (entry.host !== worker.name) return null;
    const ok = await p.ready;
    const fresh = this.ctx.clock.monotonic() - p.atMono < PREPARED_TTL_MS;
    const sha = p.base.sha;
    if (!ok || !fresh || p.round !== task.round || !sha) return null;
    if (task.baseSha && task.baseSha !== sha) return null;
    return sha;
  }

  private async start(task: TaskRecord, provider: string, worker: HostPort): Promise<void> {
    const { ctx } = this;
    const localRepo = this.localRepoOf(task);
    // Taken before the awaits: no other tick may dispatch this task while its base is resolved.
    const preparedBase = this.takePrepared(task, worker);
    ctx.attempts.enterLaunching(task.id, worker.name, provider);
    const prepared = await preparedBase;
    const sha = prepared ?? (await this.resolveBase(task, localRepo));
    if (!sha) {
      ctx.attempts.end(task.id, 'launch-failed');
      ctx.store.transition(task.id, (t) =>
        enterFailed(t, {
          now: ctx.clock.now(),
          code: 'bad-base',
          attribution: 'spec',
          reason: `base ${task.spec.base} not found in ${localRepo}`,
        }),
      );
      return;
    }
    const started = ctx.store.transition(task.id, (t) => {
      const next = enterRunning(t, { now: ctx.clock.now(), provider, host: worker.name });
      return { ...next, task: { ...next.task, baseSha: sha } };
    });
    const attempt = started.attempts.length;
    try {
      await launchAttempt(
        {
          config: ctx.config,
          env: ctx.env,
          paths: ctx.paths,
          hooks: (host, repo) => ctx.setupHooks.launchHooks(host, repo),
        },
        worker,
        started,
        provider,
        attempt,
        // The executor reads the spec as written; every other reader gets it redacted.
        ctx.store.specText(task.id, { raw: true }),
        localRepo,
        sha,
        prepared !== null,
      );
    } catch (err) {
      ctx.attempts.end(task.id, 'launch-failed');
      const e = coerceError(err);
      const code =
        err instanceof LinkError
          ? 'link-down'
          : err instanceof PromptTooLargeError
            ? 'prompt-too-large'
            : e.code === ErrorCode.sessionTaken
              ? 'session-collision'
              : 'launch-failed';
      // Whatever the host lost (a mirror, the agent script) is set up again by the next launch.
      worker.forgetSetup();
      if (err instanceof LinkError) ctx.fleet.linkDown(worker.name, e.describe());
      failAttempt(
        ctx,
        ctx.store.get(task.id),
        code,
        // A refused prompt never reached the host: say what is wrong with it, not that a launch failed.
        code === 'prompt-too-large' ? e.describe() : `launch on ${worker.name} failed: ${e.describe()}`,
        'failed',
        null,
      );
      return;
    }
    const now = ctx.clock.monotonic();
    ctx.attempts.enterRunning(
      newLiveAttempt(
        { taskId: task.id, attempt, provider, host: worker.name, repo: task.spec.repo },
        now,
        now,
      ),
    );
    ctx.pollSoon();
    this.onLaunched(worker);
  }
}
