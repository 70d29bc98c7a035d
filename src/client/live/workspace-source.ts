/**
 * The TUI's data source over a real workspace. It only reads and sends requests: tasks from the
 * queue (re-read from disk: the store's cache is off), toggles, the lock holder, the daemon's
 * published state and the tail of the event log. The chokidar watcher says which tasks changed; a
 * one-second poll catches the files it does not watch (the lock, daemon.json, toggles, events); a slow
 * full re-read is the safety net. Listeners hear of changes at most four times a second.
 */
import { workspaceDrafts, type DraftsPort } from '../drafts.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { architectAttachArgv, attachArgv, tmuxSocket } from '../attach.js';
import { diffPatchFile } from '../artifacts.js';
import { startDaemon } from '../daemon-start.js';
import { providerConfigViews } from '../providers.js';
import { WorkspaceClient } from '../workspace.js';
import type { Config } from '../../config/schema.js';
import type { NightshiftEvent } from '../../core/events.js';
import { GATE_NAMES } from '../../core/gates.js';
import { isTaskId, type TaskId } from '../../core/ids.js';
import { isTaskState, type TaskRecord } from '../../core/task.js';
import { readDaemonState } from '../../daemon/state-file.js';
import type { Clock } from '../../lib/clock.js';
import type { Request } from '../../queue/requests.js';
import { QueueWatcher, type WatchBatch } from '../../queue/watcher.js';
import { architectSocketPath } from '../../hosts/layout.js';
import { LivePane } from './live-pane.js';
import type {
  ArchitectStarted,
  GateConfigView,
  LiveTarget,
  LiveView,
  SubmitOutcome,
  TuiSnapshot,
  TuiSource,
} from './source.js';
import { readTail } from './tail.js';
import { throttle, UPDATE_INTERVAL_MS, type Throttled } from './throttle.js';

const EVENTS_TAIL_BYTES = 64 * 1024;
const EVENTS_KEEP = 200;
const MAX_DIFF_BYTES = 4 * 1024 * 1024;
/** The morning report's reach from the TUI (`m`): the last day, as `nightshift report`'s default. */
const REPORT_SPAN_MS = 24 * 3600_000;

export interface WorkspaceSourceOptions {
  root: string;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** How often the unwatched files are looked at (ms). */
  pollMs?: number;
  /** How often every task is re-read regardless of the watcher (ms). */
  fullReadMs?: number;
  /** Whether to start the chokidar watcher (tests of the loader alone pass false). */
  watch?: boolean;
  /**
   * Whether open() waits for the watcher's initial scan (default true). Its scan of a large queue takes
   * far longer than the first read (~0.5 s against ~60 ms for 1,000 tasks), so the TUI does not wait: it
   * reads every task again once the watcher is ready, for what changed during the scan.
   */
  waitForWatcher?: boolean;
}

export class WorkspaceSource implements TuiSource {
  readonly clock: Clock;
  private readonly listeners = new Set<() => void>();
  private readonly tasks = new Map<TaskId, TaskRecord>();
  private dirty: Set<TaskId> | 'all' = 'all';
  private snapshot: TuiSnapshot;
  private eventsSize = -1;
  private events: NightshiftEvent[] = [];
  private readonly notify: Throttled;
  private readonly timers: NodeJS.Timeout[] = [];
  private watcher: QueueWatcher | null = null;
  private closed = false;

  private constructor(
    private readonly client: WorkspaceClient,
    private readonly opts: WorkspaceSourceOptions,
  ) {
    this.clock = opts.clock;
    this.notify = throttle(() => this.reload(), UPDATE_INTERVAL_MS);
    this.snapshot = this.read(0);
  }

  /** Opens the workspace (throws a clear error without a valid config) and starts following it. */
  static async open(opts: WorkspaceSourceOptions): Promise<WorkspaceSource> {
    const client = WorkspaceClient.open(opts.root, opts.clock, { cache: false });
    const source = new WorkspaceSource(client, opts);
    if (opts.watch !== false) {
      source.watcher = new QueueWatcher(client.paths);
      source.watcher.subscribe((batch) => source.onBatch(batch));
      const ready = source.watcher.ready();
      if (opts.waitForWatcher === false) void ready.then(() => source.closed || source.markAll());
      else await ready;
      source.timers.push(setInterval(() => source.notify(), opts.pollMs ?? 1000));
      source.timers.push(setInterval(() => source.markAll(), opts.fullReadMs ?? 15_000));
    }
    return source;
  }

  get config(): Config {
    return this.client.config;
  }

  /** specs/drafts/, for the TUI's Drafts view. */
  get drafts(): DraftsPort {
    return workspaceDrafts(this.client.paths, this.client.config);
  }

  getSnapshot = (): TuiSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  refresh(): void {
    this.notify();
  }

  /** Re-reads everything now, synchronously (for tests and the first frame). */
  reloadNow(): TuiSnapshot {
    this.dirty = 'all';
    this.reload();
    return this.snapshot;
  }

  specText(taskId: TaskId): string | null {
    try {
      return this.client.store.specText(taskId);
    } catch {
      return null;
    }
  }

  diff(taskId: string, round: number): { label: string; text: string | null } {
    const file = diffPatchFile(this.client.paths, taskId, round);
    const label = path.relative(this.client.paths.root, file);
    try {
      if (statSync(file).size > MAX_DIFF_BYTES) return { label, text: `(larger than 4 MiB: open ${label})` };
      return { label, text: readFileSync(file, 'utf8') };
    } catch {
      return { label, text: null };
    }
  }

  attemptLog(taskId: string, attempt: number): string | null {
    const file = this.client.paths.attemptLog(taskId, attempt);
    return existsSync(file) ? file : null;
  }

  submit(request: Request): Promise<SubmitOutcome> {
    return this.client.submit(request).finally(() => this.notify());
  }

  attachArgv(target: LiveTarget, readOnly: boolean): string[] {
    return attachArgv(this.client.config, this.client.paths, target.host, target.taskId, {
      socket: tmuxSocket(this.opts.env),
      purpose: 'person',
      readOnly,
    });
  }

  startDaemon(): { ok: boolean; message: string } {
    return startDaemon({
      root: this.client.paths.root,
      socket: tmuxSocket(this.opts.env),
      env: this.opts.env,
    });
  }

  async morningReport(): Promise<{ path: string; summary: string }> {
    // Loaded on demand: the report's code stays out of the TUI's start.
    const { writeMorningReport } = await import('../report/write.js');
    const until = this.clock.now();
    return writeMorningReport({
      paths: this.client.paths,
      config: this.client.config,
      env: this.opts.env,
      tasks: this.client.store.list(),
      since: until - REPORT_SPAN_MS,
      until,
    });
  }

  openLive(target: LiveTarget, size: { cols: number; rows: number }): LiveView {
    const logFile = this.client.paths.attemptLog(target.taskId, target.attempt);
    let argv: string[] | null = null;
    let reason: string | null = `attempt ${target.attempt} is not running: its mirrored log`;
    if (target.running) {
      try {
        argv = attachArgv(this.client.config, this.client.paths, target.host, target.taskId, {
          socket: tmuxSocket(this.opts.env),
          purpose: 'view',
          readOnly: true,
        });
      } catch (err) {
        reason = (err as Error).message;
      }
    }
    return new LivePane({
      tmuxTitle: `tmux ns-${target.taskId} on ${target.host} (read-only)`,
      argv,
      reason,
      logFile,
      logLabel: path.relative(this.client.paths.root, logFile),
      rows: size.rows,
      env: this.opts.env,
    });
  }

  openArchitectLive(started: ArchitectStarted, size: { cols: number; rows: number }): LiveView {
    const root = this.client.paths.root;
    const own = path.join(this.client.paths.logs, 'architect');
    // The event names a workspace-relative file; one outside logs/architect/ is not followed.
    const file = started.stream ? path.resolve(root, started.stream) : null;
    const inside = file !== null && file.startsWith(own + path.sep);
    let argv: string[] | null = null;
    let reason: string | null =
      started.stream && !inside ? `${started.stream} is not under logs/architect/` : null;
    if (started.session) {
      try {
        argv = this.architectArgv(started.session, 'view', true);
      } catch (err) {
        reason = (err as Error).message;
      }
    }
    return new LivePane({
      tmuxTitle: `tmux ${started.session ?? '?'} (the architect, read-only)`,
      argv,
      reason,
      logFile: inside ? file : path.join(own, `${started.task}-r${started.round}.log`),
      logLabel: inside ? path.relative(root, file) : `logs/architect/${started.task}-r${started.round}.log`,
      rows: size.rows,
      env: this.opts.env,
    });
  }

  architectAttachArgv(session: string, readOnly: boolean): string[] {
    return this.architectArgv(session, 'person', readOnly);
  }

  private architectArgv(session: string, purpose: 'view' | 'person', readOnly: boolean): string[] {
    return architectAttachArgv(session, architectSocketPath(this.client.paths), { purpose, readOnly });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify.cancel();
    for (const t of this.timers) clearInterval(t);
    this.listeners.clear();
    await this.watcher?.close();
  }

  private markAll(): void {
    this.dirty = 'all';
    this.notify();
  }

  private onBatch(batch: WatchBatch): void {
    if (!batch.topics.has('queue')) return;
    for (const changed of batch.paths) {
      const [state, id] = path.relative(this.client.paths.queue, changed).split(path.sep);
      if (this.dirty !== 'all' && state && isTaskState(state) && id && isTaskId(id)) this.dirty.add(id);
    }
    this.notify();
  }

  private reload(): void {
    const next = this.read(this.snapshot.version + 1);
    if (!sameSnapshot(next, this.snapshot)) {
      this.snapshot = next;
      for (const listener of this.listeners) listener();
    }
  }

  /**
   * Re-reads the dirty tasks (or all of them); whether any record differs from the one held. A record
   * read again unchanged keeps its identity, so the safety-net re-read and a watcher event for a file
   * rewritten with the same content redraw nothing.
   */
  private readTasks(): boolean {
    const dirty = this.dirty;
    this.dirty = new Set();
    if (dirty === 'all') {
      const before = new Map(this.tasks);
      this.tasks.clear();
      let changed = false;
      for (const t of this.client.store.list()) {
        const kept = keepIfSame(before.get(t.id), t);
        if (kept !== before.get(t.id)) changed = true;
        this.tasks.set(t.id, kept);
      }
      return changed || before.size !== this.tasks.size;
    }
    let changed = false;
    for (const id of dirty) {
      const held = this.tasks.get(id);
      try {
        const kept = keepIfSame(held, this.client.store.get(id));
        if (kept !== held) changed = true;
        this.tasks.set(id, kept);
      } catch {
        if (this.client.store.locate(id) === null) changed = this.tasks.delete(id) || changed;
        else this.dirty = 'all'; // caught mid-move: read everything next time
      }
    }
    return changed;
  }

  private readEvents(): boolean {
    let size: number;
    try {
      size = statSync(this.client.paths.events).size;
    } catch {
      size = 0;
    }
    if (size === this.eventsSize) return false;
    this.eventsSize = size;
    const tail = readTail(this.client.paths.events, EVENTS_TAIL_BYTES);
    const events: NightshiftEvent[] = [];
    for (const line of (tail?.text ?? '').split('\n').slice(-EVENTS_KEEP - 1)) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as NightshiftEvent);
      } catch {
        /* a torn last line: the next read has it whole */
      }
    }
    this.events = events.slice(-EVENTS_KEEP);
    return true;
  }

  private read(version: number): TuiSnapshot {
    const previous = this.snapshot as TuiSnapshot | undefined;
    const config = this.client.config;
    try {
      const tasksChanged = this.readTasks();
      const eventsChanged = this.readEvents();
      const daemon = this.client.daemon();
      return {
        version,
        workspace: this.client.paths.root,
        tasks: tasksChanged || !previous ? [...this.tasks.values()] : previous.tasks,
        toggles: this.client.toggles.read(),
        daemon,
        daemonState: daemon ? readDaemonState(this.client.paths) : null,
        providers: previous?.providers ?? providerConfigViews(config),
        hosts: previous?.hosts ?? Object.entries(config.hosts).map(([name, h]) => ({ name, kind: h.kind })),
        gates: previous?.gates ?? gateViews(config),
        events: eventsChanged || !previous ? this.events : previous.events,
        error: null,
      };
    } catch (err) {
      if (!previous) throw err;
      return { ...previous, version, error: (err as Error).message };
    }
  }
}

/** The record held when the one read again has the same content (records are plain JSON). */
function keepIfSame(held: TaskRecord | undefined, read: TaskRecord): TaskRecord {
  return held && JSON.stringify(held) === JSON.stringify(read) ? held : read;
}

function gateViews(config: Config): GateConfigView[] {
  return GATE_NAMES.map((name) => {
    const cfg = config.gates[name];
    return {
      name,
      enabled: cfg?.enabled ?? false,
      runnable: name === 'tests' || name === 'lint' ? !!cfg : true,
    };
  });
}

/** Same data (ignoring the version): nothing to redraw. */
function sameSnapshot(a: TuiSnapshot, b: TuiSnapshot): boolean {
  return (
    a.tasks === b.tasks &&
    a.events === b.events &&
    a.error === b.error &&
    JSON.stringify([a.toggles, a.daemon, a.daemonState]) ===
      JSON.stringify([b.toggles, b.daemon, b.daemonState])
  );
}
