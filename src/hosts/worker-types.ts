/**
 * What a worker host's modules share: the records a host reports (facts, exit records, statuses, moved
 * refs), the launch request, BranchError, and HostContext, the narrow view of a WorkerHost (its name,
 * runner, tmux and paths) that launch.ts, attempt-status.ts, protected-refs.ts, branch-transfer.ts and
 * salvage.ts take, so they need not import the class that composes them.
 */
import { ErrorCode, NightshiftError, type ErrorContext } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import type { HooksConfig } from '../config/schema.js';
import type { CommandRunner } from './runner.js';
import type { PaneInfo, Tmux } from './tmux.js';

export interface HostFacts {
  home: string;
  path: string;
  uid: number;
  cores: number;
  workdir: string;
}

export interface ExitRecord {
  attempt: number;
  exitCode: number;
  startedAt: string;
  endedAt: string;
  /** Whether the attempt moved HEAD (absent in records of runner scripts older than this field). */
  committed?: boolean;
  /** The runner failed before the executor started (no worktree, no command): the worker's fault. */
  runnerFailed?: boolean;
  /** A setup hook stopped the attempt before the executor started (hooks.ts hookExitOf reads it). */
  hook?: unknown;
  /** The afterCreate cache: "stored:<key>:<digest>" or "restored:<key>:<digest>" (hooks.ts cacheNoteOf). */
  cache?: unknown;
}

export interface AttemptStatus {
  pane: PaneInfo | null;
  exit: ExitRecord | null;
  logBytes: number;
  /** Tip of ns/<id> in the host's mirror (new commits = progress). */
  head: string | null;
}

export interface LaunchSpec {
  taskId: TaskId;
  attempt: number;
  repo: string;
  /** Executor argv (may hold the prompt tokens; never secrets, never spec text). */
  argv: string[];
  /** Executor environment, secrets included: shipped in a 0600 file the runner deletes. */
  env: Record<string, string>;
  /** Names of the `env` entries whose values are secrets: the runner redacts them from the output. */
  secretKeys?: readonly string[];
  stdin: 'null' | 'prompt';
  prompt: string;
  /**
   * The repo's worker-side setup hooks (config repos.<name>.hooks), and the afterCreate cache entry the
   * supervisor trusts on this host ("<key>:<digest>", or null).
   */
  hooks?: { config: HooksConfig; cacheExpect: string | null };
}

export type { MovedRef } from './ref-guard.js';

/** A WorkerHost as its modules see it (WorkerHost implements it). */
export interface HostContext {
  readonly name: string;
  readonly runner: CommandRunner;
  readonly tmux: Tmux;
  /** The host's facts; throws before prepare(). */
  readonly info: HostFacts;
  /** A path in this workspace's directory on the host (`<workdir>/ws/<workspace id>/…`). */
  dir(...parts: string[]): string;
  /** This workspace's tmux session of task `id`. */
  session(id: TaskId): string;
  mirror(repo: string): string;
  taskDir(id: TaskId): string;
  worktree(id: TaskId): string;
  logPath(id: TaskId, attempt: number): string;
  /** The refs the mirror of `repo` guards. */
  protectedRefs(repo: string): string[];
}

/** The task's branch is unusable through the executor's doing: gone from the mirror, or not on its base. */
export class BranchError extends NightshiftError {
  override readonly name = 'BranchError';
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.branchUnusable, message, context);
  }
}

/** An io error naming the host (and the task, when given). */
export function hostError(host: { name: string }, message: string, taskId?: string): NightshiftError {
  return new NightshiftError(ErrorCode.io, message, { host: host.name, ...(taskId ? { taskId } : {}) });
}

/** Runs `argv` on the host, throwing CommandError when it exits non-zero. */
export function must(
  host: { runner: CommandRunner },
  argv: string[],
  opts: { input?: string | Uint8Array } = {},
) {
  return host.runner.run(argv, { ...opts, check: true });
}
