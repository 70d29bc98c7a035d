/**
 * Errors are types with stable codes. Every error says what is at fault (file, line, field, task,
 * host) and what to do about it; the CLI maps `exitCode` straight to the process exit status.
 */

/** Who a failure is charged to. Provider failures never use up a spec's attempts. */
export const Attribution = {
  spec: 'spec',
  provider: 'provider',
  worker: 'worker',
  supervisor: 'supervisor',
} as const;
export type Attribution = (typeof Attribution)[keyof typeof Attribution];

export const ErrorCode = {
  usage: 'usage',
  invalidSpec: 'invalid-spec',
  invalidConfig: 'invalid-config',
  noWorkspace: 'no-workspace',
  duplicateSpec: 'duplicate-spec',
  idTaken: 'id-taken',
  unknownTask: 'unknown-task',
  invalidTransition: 'invalid-transition',
  unsafeFile: 'unsafe-file',
  corruptTask: 'corrupt-task',
  locked: 'locked',
  io: 'io',
  /** The link to a worker host failed (ssh exit 255, a timeout, a killed client): the worker's fault. */
  linkDown: 'link-down',
  /** The task's branch is gone from the mirror or not on its base: the executor's doing. */
  branchUnusable: 'branch-unusable',
  /** The prompt fits no input of the provider's command. */
  promptTooLarge: 'prompt-too-large',
  /**
   * A launch found a live session by the very name it was to create, though this workspace runs no
   * attempt of that task: names are per workspace, so this is nightshift's bug (or a squatter), never
   * the spec's fault (hosts/launch.ts).
   */
  sessionTaken: 'session-taken',
  /** A git command on one of the supervisor's own repositories failed (git/run.ts). */
  git: 'git',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Exit status per code: 2 for usage and invalid input, 1 for everything else. */
const EXIT_CODES: Record<ErrorCode, 1 | 2> = {
  usage: 2,
  'invalid-spec': 2,
  'invalid-config': 2,
  'no-workspace': 2,
  'duplicate-spec': 2,
  'id-taken': 2,
  'unknown-task': 2,
  'invalid-transition': 1,
  'unsafe-file': 2,
  'corrupt-task': 1,
  locked: 1,
  io: 1,
  'link-down': 1,
  'branch-unusable': 1,
  'prompt-too-large': 2,
  'session-taken': 1,
  git: 1,
  internal: 1,
};

export interface ErrorContext {
  file?: string;
  line?: number;
  field?: string;
  taskId?: string;
  host?: string;
  provider?: string;
  /** What the user should do next. */
  hint?: string;
}

export class NightshiftError extends Error {
  override readonly name: string = 'NightshiftError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): 1 | 2 {
    return EXIT_CODES[this.code];
  }

  /** One line for humans: `file:line: field: message (hint)`. */
  describe(): string {
    const where = [
      this.context.file &&
        (this.context.line ? `${this.context.file}:${this.context.line}` : this.context.file),
      this.context.taskId && `task ${this.context.taskId}`,
      this.context.host && `host ${this.context.host}`,
      this.context.provider && `provider ${this.context.provider}`,
      this.context.field && `field "${this.context.field}"`,
    ].filter(Boolean);
    const hint = this.context.hint ? ` — ${this.context.hint}` : '';
    return `${where.length ? `${where.join(', ')}: ` : ''}${this.message}${hint}`;
  }
}

/** One problem found in a spec; a spec can have several. */
export interface SpecIssue {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

export function formatIssue(issue: SpecIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}` : issue.file;
  return `${where}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`;
}

/** A spec (or config file) that cannot be accepted. Carries every problem found, not just the first. */
export class SpecError extends NightshiftError {
  override readonly name = 'SpecError';
  constructor(
    readonly issues: readonly SpecIssue[],
    readonly warnings: readonly SpecIssue[] = [],
    code: ErrorCode = ErrorCode.invalidSpec,
  ) {
    const first = issues[0];
    super(
      code,
      issues.map(formatIssue).join('\n') || 'invalid spec',
      first ? { file: first.file, ...(first.line ? { line: first.line } : {}) } : {},
    );
  }
  override describe(): string {
    return this.message;
  }
}

/** Turns anything thrown into a NightshiftError, keeping the original as `cause`. */
export function coerceError(err: unknown): NightshiftError {
  if (err instanceof NightshiftError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return new NightshiftError(ErrorCode.io, err.message, {}, { cause: err });
    }
    return new NightshiftError(ErrorCode.internal, err.message, {}, { cause: err });
  }
  return new NightshiftError(ErrorCode.internal, String(err));
}
