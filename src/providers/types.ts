/**
 * An executor profile knows how to build its command line and environment, how to probe the provider
 * with the exact same command, and how to read completion, usage and failures from its output.
 * Profiles are pure: they build data; hosts/ runs it.
 */
import type { Attribution } from '../core/errors.js';
import type { FailureCode } from '../core/failures.js';
import type { ProviderConfig } from '../config/schema.js';
import type { ReadUsage } from '../core/usage.js';

/** Replaced by the runner script with the prompt file's contents (one argv word). */
export const PROMPT_TOKEN = '{{nightshift:prompt}}';
/** Replaced by the runner script with the prompt file's path. */
export const PROMPT_FILE_TOKEN = '{{nightshift:prompt-file}}';

export interface ExecutorCommand {
  /** argv (never a shell string); may contain PROMPT_TOKEN / PROMPT_FILE_TOKEN. */
  argv: string[];
  /** The whole environment of the executor (the runner starts from an empty one, plus PATH/HOME/LANG). */
  env: Record<string, string>;
  /** Names of env entries whose values are secrets: redacted everywhere, shipped only in a 0600 file. */
  secretKeys: string[];
  /** What the executor reads on stdin. */
  stdin: 'null' | 'prompt';
  /**
   * How this agent takes a prompt too long for one argv word (over PROMPT_ARG_MAX_BYTES): the same
   * command reading it from its file or stdin instead. Absent when the agent has no such input;
   * fitPrompt then refuses the launch rather than let the kernel refuse the exec.
   */
  largePrompt?: { argv: string[]; stdin: 'null' | 'prompt' };
  /**
   * Probes only: the prompt to substitute for PROMPT_TOKEN / write to PROMPT_FILE_TOKEN's file (a run's
   * prompt is the task's). Probes keep the tokens so their argv has the run's exact shape.
   */
  prompt?: string;
}

export interface LaunchContext {
  taskId: string;
  attempt: number;
  /** Absolute path of the worktree on the host. */
  worktree: string;
  /** Absolute path of a per-provider state directory on the host (e.g. CLAUDE_CONFIG_DIR). */
  stateDir: string;
  /** A UUID for agents that keep a session (claude --session-id). */
  sessionId: string;
  /** Resume this session instead of starting one (a later review round on the same branch). */
  resumeSessionId?: string;
  /** Where the scripted agent lives on the host. */
  scriptedAgent: string;
  /** Whether the host runs us as root (claude needs IS_SANDBOX=1 then). */
  root: boolean;
}

export interface ProbeResultInput {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The probe timeout that applied, for the "no answer within Ns" reason. */
  timeoutMs?: number;
}

export interface ProbeVerdict {
  ok: boolean;
  /** Short reason shown in `providers`, `doctor` and events. */
  reason: string;
}

/** How an attempt ended, from its exit record (hosts/worker.ts ExitRecord). */
export interface RunFacts {
  exitCode: number;
  /** Wall-clock run time, or null when unknown. */
  durationMs: number | null;
  /** Whether the attempt moved HEAD (its commits, or the runner's leftovers commit); null when unknown. */
  committed: boolean | null;
}

export interface OutputReading {
  /** The executor says it finished its turn (not a crash or a cut-off stream). */
  completed: boolean;
  /** Final text answer, if the format has one. */
  result: string | null;
  /** Tokens and the cost the CLI reported, from its own output (untrusted: core/usage.ts cleans). */
  usage: ReadUsage | null;
  /** A failure recognised in the output (auth, quota, empty answer…). */
  failure: { code: FailureCode; attribution: Attribution; reason: string } | null;
  /** The session a later round can resume (claude's `session_id`), for executors that keep one. */
  sessionId?: string | null;
}

export interface ProviderProfile {
  readonly kind: ProviderConfig['kind'];
  /** Executable whose presence and version `doctor` checks (null for `command` without one). */
  binary(cfg: ProviderConfig): string | null;
  versionArgv(cfg: ProviderConfig): string[] | null;
  /** The run command. `secrets` are values resolved from the supervisor's environment. */
  buildRun(cfg: ProviderConfig, ctx: LaunchContext, secrets: Record<string, string>): ExecutorCommand;
  /** The same command and environment with a tiny prompt asking for `nonce`. */
  buildProbe(
    cfg: ProviderConfig,
    ctx: LaunchContext,
    secrets: Record<string, string>,
    nonce: string,
  ): ExecutorCommand;
  judgeProbe(result: ProbeResultInput, nonce: string): ProbeVerdict;
  /** Reads a finished attempt's log (the executor's stdout+stderr) and its exit code. */
  readOutput(log: string, exitCode: number): OutputReading;
  /**
   * Reads complete lines of a running attempt's output as they arrive. A failure here is one no amount
   * of waiting fixes (a refused credential, say); the supervisor kills the attempt at once.
   */
  liveFailure?(lines: string): OutputReading['failure'];
}
