/**
 * The task record as it is stored (one JSON file per task) and the types it is made of: the spec as
 * queued, the attempts, the gate results, the review, the history. The state machine that changes it is
 * core/task.ts, which re-exports these types.
 */
import type { Attribution } from './errors.js';
import type { NightshiftEvent } from './events.js';
import type { FailureCode } from './failures.js';
import type { GateName } from './gates.js';
import type { TaskId } from './ids.js';
import type { ParkReason } from './park.js';
import type { TaskState } from './state.js';
import type { Usage } from './usage.js';

/** Everything the spec asked for, resolved against the workspace defaults. Immutable once queued. */
export interface TaskSpec {
  title: string;
  repo: string;
  base: string;
  provider: string | null;
  priority: number;
  dependsOn: TaskId[];
  timeoutMs: number;
  idleMs: number;
  attempts: number;
  reviewRounds: number;
  tests: string[];
  stop: string | null;
  gates: GateName[] | null;
  /** File name the spec came from (for messages only). */
  source: string;
}

/**
 * `collecting`: the executor exited (endedAt and exitCode are its own) and its branch is being brought
 * back; the task is still `running` but the attempt holds no slot. `exited`: collected, went to review.
 */
export type AttemptOutcome =
  'running' | 'collecting' | 'exited' | 'failed' | 'timeout' | 'idle' | 'killed' | 'lost';

export interface Attempt {
  n: number;
  provider: string;
  host: string;
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  outcome: AttemptOutcome;
  attribution: Attribution | null;
  /** Failure code (core/failures.ts) when the attempt failed. */
  code?: FailureCode | null;
  reason: string | null;
  /** Tokens and cost read from the executor's output when the attempt was collected (docs/cost.md). */
  usage?: Usage | null;
}

/** One architect call's tokens and cost, on the task it judged (docs/cost.md). */
export interface ArchitectUsage {
  /** The review round (or the task's round when the call was not a review). */
  round: number;
  at: string;
  /** What the call was: `review`, or what another architect call names itself (`plan`, `triage`…). */
  kind: string;
  usage: Usage;
}

export interface GateResult {
  name: GateName;
  passed: boolean;
  durationMs: number;
  evidence: string;
}

export interface Review {
  grade: string | null;
  verdict: 'approve' | 'changes' | 'reject' | null;
  summary: string;
  findings: { file: string; line: number | null; severity: string; text: string }[];
  approvedBy: string | null;
  /** When the approval happened: the merge queue takes tasks in approval order. */
  approvedAt?: string | null;
  /** Which round this review judged. */
  round?: number;
  /**
   * Who is at fault when the review gave no verdict: `supervisor` when the architect's answer was
   * unusable (malformed twice, an error, a timeout) and the task waits for a person. Null otherwise.
   */
  attribution?: Attribution | null;
}

/** A pull request opened for a task's branch (pr mode, docs/merge.md#pull-requests). */
export interface PullRequestRecord {
  url: string;
  /** Its number on GitHub when the URL ends with one. */
  number: number | null;
  /** The remote and the branch pushed there (nightshift/<id>), and the commit it held. */
  remote: string;
  branch: string;
  base: string;
  sha: string;
  at: string;
}

export interface HistoryEntry {
  at: string;
  from: TaskState | null;
  to: TaskState;
  reason: string;
}

export interface Failure {
  code: FailureCode;
  attribution: Attribution;
  reason: string;
}

export interface TaskRecord {
  schemaVersion: 1;
  id: TaskId;
  state: TaskState;
  title: string;
  dedupKey: string;
  spec: TaskSpec;
  branch: string;
  createdAt: string;
  updatedAt: string;
  attempts: Attempt[];
  /** Review rounds used so far (architect "changes" and gate failures). */
  round: number;
  gates: GateResult[];
  review: Review | null;
  merge: { sha: string; at: string } | null;
  /** pr mode: the pull request the task ended with (src/daemon/pull-request.ts). */
  pullRequest?: PullRequestRecord | null;
  failure: Failure | null;
  /** Set while the task waits for a person in `review` (core/park.ts). */
  parked: ParkReason | null;
  /** Not to be started again before this time (retry backoff). */
  retryAt?: string | null;
  /** When the merged branch was deleted after its retention period. */
  branchPrunedAt?: string | null;
  /**
   * The claude-code architect's session for this task (docs/architect.md): a later review round resumes
   * it, so the architect remembers what it asked for.
   */
  architectSession?: string | null;
  /** The base commit, resolved at the first dispatch; every round continues from it. */
  baseSha?: string | null;
  history: HistoryEntry[];
  /** The architect's calls about this task, with their usage (docs/cost.md). */
  architectUsage?: ArchitectUsage[];
}

export interface Transition {
  task: TaskRecord;
  event: NightshiftEvent;
}
