/**
 * What the TUI reads and asks for, as one small interface: the read model of a workspace followed live.
 * The real one reads a workspace (workspace-source.ts); the TUI's tests pass a fake built from plain
 * records (tui/data/memory-source.ts), so components and keys are tested without a disk, a daemon or a
 * terminal. The TUI imports nothing from daemon/ or queue/: the types it needs are re-exported here.
 */
import type { DraftsPort } from '../drafts.js';
import type { GateName } from '../../core/gates.js';
import type { NightshiftEvent } from '../../core/events.js';
import type { TaskId } from '../../core/ids.js';
import type { TaskRecord } from '../../core/task.js';
import type { DaemonState } from '../../daemon/state-file.js';
import type { Clock } from '../../lib/clock.js';
import type { LockInfo } from '../../queue/lock.js';
import type { Request, RequestOutcome } from '../../queue/requests.js';
import type { Toggles } from '../../queue/toggles.js';
import type { ArchitectStarted } from '../architect.js';
import type { ProviderConfigView } from '../providers.js';

export type { ArchitectStarted, DaemonState, LockInfo, ProviderConfigView, Request, RequestOutcome, Toggles };

export interface HostConfigView {
  name: string;
  kind: 'local' | 'ssh';
}

export interface GateConfigView {
  name: GateName;
  /** The config's `enabled` before any toggle. */
  enabled: boolean;
  /** Whether it can run at all (tests and lint need a command). */
  runnable: boolean;
}

/** Everything the screen shows, read at one moment. Replaced (never mutated) on each change. */
export interface TuiSnapshot {
  version: number;
  workspace: string;
  tasks: readonly TaskRecord[];
  toggles: Toggles;
  /** The live daemon holding the workspace lock, if any. */
  daemon: LockInfo | null;
  /** queue/state/daemon.json: breakers, limits, hosts over their thresholds, waiting reasons. */
  daemonState: DaemonState | null;
  providers: readonly ProviderConfigView[];
  hosts: readonly HostConfigView[];
  gates: readonly GateConfigView[];
  /** The most recent events (oldest first). */
  events: readonly NightshiftEvent[];
  /** Why the last read failed (the previous data stays on screen). */
  error: string | null;
}

export type SubmitOutcome = RequestOutcome & { queued?: boolean };

/** The executor attempt a live view follows. */
export interface LiveTarget {
  taskId: TaskId;
  attempt: number;
  host: string;
  /** Only a running attempt has a tmux session worth attaching to; others show their log. */
  running: boolean;
}

export interface LiveFrame {
  mode: 'tmux' | 'log' | 'none';
  /** What is shown, e.g. "tmux ns-x on oci (read-only)" or "log logs/x/attempt-1.log". */
  title: string;
  /** Why the view fell back, if it did. */
  note: string | null;
  lines: readonly string[];
}

/** A live view of one attempt: an external store the Executor tab subscribes to. */
export interface LiveView {
  subscribe(listener: () => void): () => void;
  frame(): LiveFrame;
  resize(cols: number, rows: number): void;
  dispose(): void;
}

export interface TuiSource {
  readonly clock: Clock;
  /** Properties, not methods: React calls them unbound (useSyncExternalStore). */
  readonly getSnapshot: () => TuiSnapshot;
  /** Listeners are called at most a few times a second (throttled at the source). */
  readonly subscribe: (listener: () => void) => () => void;
  /** Re-read now (after a request), still through the throttle. */
  refresh(): void;
  specText(taskId: TaskId): string | null;
  /** The diff a review round judged (`text` null when the supervisor left none), and where it is. */
  diff(taskId: string, round: number): { label: string; text: string | null };
  /** The mirrored executor log of an attempt, when it exists. */
  attemptLog(taskId: string, attempt: number): string | null;
  submit(request: Request): Promise<SubmitOutcome>;
  /** The argv that hands the terminal to the attempt's tmux session; throws with the reason it cannot. */
  attachArgv(target: LiveTarget, readOnly: boolean): string[];
  startDaemon(): { ok: boolean; message: string };
  /** Writes the morning report of the last 24 hours under reports/ (Markdown); its path and one-line sum. */
  morningReport(): Promise<{ path: string; summary: string }>;
  openLive(target: LiveTarget, size: { cols: number; rows: number }): LiveView;
  /**
   * The Architect view's live view of a review in progress: the file its answer streams to (llm mode)
   * or its tmux session on the supervisor's host (claude-code mode), as the event names them.
   */
  openArchitectLive(started: ArchitectStarted, size: { cols: number; rows: number }): LiveView;
  /** The argv that hands the terminal to the architect's tmux session; throws with the reason it cannot. */
  architectAttachArgv(session: string, readOnly: boolean): string[];
  close(): Promise<void>;
  /** specs/drafts/ for the Drafts view (client/drafts.ts); absent where there are none (the demo). */
  readonly drafts?: DraftsPort;
}
