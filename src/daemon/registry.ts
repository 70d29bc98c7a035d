/**
 * The daemon's one registry of attempts: every task the daemon has in hand, in exactly one phase of the
 * attempt state machine (core/attempt.ts). It replaces what used to be seven collections (live,
 * launching, exitWaits, collecting, deferred, prepared, waiting); each method is one edge and asserts it.
 */
import {
  AttemptPhaseError,
  edge,
  holdsSlot,
  inFlight,
  type AttemptEnd,
  type AttemptPhase,
} from '../core/attempt.js';
import type { TaskId } from '../core/ids.js';
import type { ExitRecord } from '../hosts/worker.js';
import type { LiveAttempt } from './attempts.js';

/** A worktree prepared ahead of dispatch, so the launch after a freed slot only stages and starts. */
export interface Prepared {
  round: number;
  atMono: number;
  /** The base commit it was prepared on, once known. */
  base: { sha: string | null };
  /** Whether the preparation succeeded. */
  ready: Promise<boolean>;
}

export interface AttemptEntry {
  readonly taskId: TaskId;
  phase: AttemptPhase;
  host: string;
  /** Null while preparing. */
  provider: string | null;
  /** The executor's liveness record, from `running` on (and while launching, once known). */
  live: LiveAttempt | null;
  /** The runner's exit record, from `exited` on. */
  exit: ExitRecord | null;
  /** The preparation under way or done (preparing only). */
  prepared: Prepared | null;
  /** The collection under way (collecting only). */
  work: Promise<void> | null;
}

export class AttemptRegistry {
  private readonly entries = new Map<TaskId, AttemptEntry>();

  get(taskId: TaskId): AttemptEntry | undefined {
    return this.entries.get(taskId);
  }

  phase(taskId: TaskId): AttemptPhase | null {
    return this.entries.get(taskId)?.phase ?? null;
  }

  /** Entries, optionally only those in one of `phases`. */
  list(...phases: AttemptPhase[]): AttemptEntry[] {
    const all = [...this.entries.values()];
    return phases.length ? all.filter((e) => phases.includes(e.phase)) : all;
  }

  /** Running executors (their liveness records). */
  running(): LiveAttempt[] {
    return this.list('running').flatMap((e) => (e.live ? [e.live] : []));
  }

  /** Tasks with an attempt under way: dispatch must not start them again. */
  inFlight(): Set<TaskId> {
    return new Set(
      this.list()
        .filter((e) => inFlight(e.phase))
        .map((e) => e.taskId),
    );
  }

  /** Slots held, by provider or by host (launching, running and ending attempts hold one each). */
  slots(by: 'provider' | 'host'): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) {
      const key = by === 'provider' ? e.provider : e.host;
      if (key !== null && holdsSlot(e.phase)) out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }

  /** Whether anything but a preparation is in hand (polls and liveness checks are due). */
  busy(): boolean {
    return this.list().some((e) => inFlight(e.phase));
  }

  /** Whether any attempt runs on `host` (its exit signal is worth waiting on). */
  runsOn(host: string): boolean {
    return this.list('running').some((e) => e.host === host);
  }

  /** Work that stop() waits for: collections and preparations under way. */
  pending(): Promise<unknown>[] {
    return this.list().flatMap((e) => [e.work, e.prepared?.ready].filter((p) => p != null));
  }

  // ---- edges ---------------------------------------------------------------------------------

  /** (nothing) → preparing. */
  enterPreparing(taskId: TaskId, host: string, prepared: Prepared): AttemptEntry {
    edge(taskId, this.phase(taskId), 'preparing');
    const entry: AttemptEntry = {
      taskId,
      phase: 'preparing',
      host,
      provider: null,
      live: null,
      exit: null,
      prepared,
      work: null,
    };
    this.entries.set(taskId, entry);
    return entry;
  }

  /** (nothing) | preparing → launching. A preparation for another host is dropped. */
  enterLaunching(taskId: TaskId, host: string, provider: string): AttemptEntry {
    const from = this.phase(taskId);
    edge(taskId, from, 'launching');
    const entry: AttemptEntry = {
      taskId,
      phase: 'launching',
      host,
      provider,
      live: null,
      exit: null,
      prepared: null,
      work: null,
    };
    this.entries.set(taskId, entry);
    return entry;
  }

  /** launching → running (or an adopted session: nothing → running through launching). */
  enterRunning(live: LiveAttempt): AttemptEntry {
    const entry = this.entries.get(live.taskId) ?? this.enterLaunching(live.taskId, live.host, live.provider);
    entry.phase = edge(live.taskId, entry.phase, 'running');
    entry.live = live;
    return entry;
  }

  /** running → exited (or an adopted attempt that had already exited: nothing → running → exited). */
  enterExited(live: LiveAttempt, exit: ExitRecord): AttemptEntry {
    const entry = this.entries.get(live.taskId) ?? this.enterRunning(live);
    entry.phase = edge(live.taskId, entry.phase, 'exited');
    entry.live = live;
    entry.exit = exit;
    live.ending = true;
    return entry;
  }

  /** exited | deferred → collecting. */
  enterCollecting(taskId: TaskId, work: Promise<void>): void {
    const entry = this.must(taskId);
    entry.phase = edge(taskId, entry.phase, 'collecting');
    entry.work = work;
  }

  /** collecting → deferred: a dropped link interrupted collection. */
  enterDeferred(taskId: TaskId): void {
    const entry = this.must(taskId);
    entry.phase = edge(taskId, entry.phase, 'deferred');
    entry.work = null;
  }

  /** running → ending: a kill is under way. */
  enterEnding(taskId: TaskId): void {
    const entry = this.must(taskId);
    entry.phase = edge(taskId, entry.phase, 'ending');
    if (entry.live) entry.live.ending = true;
  }

  /** An ending attempt's last work (the repo's afterRun after a kill): stop() waits for it. */
  endingWork(taskId: TaskId, work: Promise<void>): void {
    const entry = this.must(taskId);
    if (entry.phase !== 'ending') throw new AttemptPhaseError(taskId, entry.phase, 'ending');
    entry.work = work;
  }

  /** Leaves the registry by one of the terminal edges. */
  end(taskId: TaskId, how: AttemptEnd): void {
    const entry = this.must(taskId);
    edge(taskId, entry.phase, how);
    if (entry.live) entry.live.ending = true;
    this.entries.delete(taskId);
  }

  private must(taskId: TaskId): AttemptEntry {
    const entry = this.entries.get(taskId);
    if (!entry) throw new Error(`no attempt of ${taskId} in the daemon's registry (a bug in the daemon)`);
    return entry;
  }
}
