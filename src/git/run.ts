/**
 * The one way nightshift runs git on its own side (the supervisor's repositories, their worktrees, the
 * gate checkouts, the repositories doctor checks): `git -C <dir> <args…>` through node's execFile, an
 * argv array and never a shell, in an environment built here rather than inherited whole, failing with a
 * GitError that names the repository and the subcommand. Worker hosts run their git through their command
 * runner (hosts/), which may be ssh.
 *
 * Not simple-git: we used only its `raw()`, it treats a non-zero exit with nothing on stderr as success
 * (so `merge-base --is-ancestor` answered yes to every question), and it refuses an environment that
 * holds EDITOR, which sent the checkout code around it. Not execa, which the runners use: git is spawned
 * dozens of times per merge on the daemon's one thread, and execa cost ~5 ms of its CPU per call where
 * execFile costs ~2.3 (simple-git ~2.6), measured on `git rev-parse HEAD` (docs/benchmarks.md).
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { formatDuration } from '../core/duration.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { noteSpawn } from '../lib/activity.js';

/** Committer identity for commits nightshift itself makes (rebased, merge and squash commits). */
export const IDENTITY_ARGS = ['-c', 'user.name=nightshift', '-c', 'user.email=nightshift@localhost'];

/**
 * The GIT_* variables of the caller's environment that reach git: the ones that say how to reach a
 * remote (a push or fetch to the user's remote), none that says which repository, index, object store,
 * config or identity to use.
 */
const TRANSPORT_VARIABLES = new Set([
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_ASKPASS',
  'GIT_PROXY_COMMAND',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
]);

/** Editors and pagers git could start: it must never wait on one. */
const INTERACTIVE_VARIABLES = new Set(['EDITOR', 'VISUAL', 'PAGER']);

export interface GitOptions {
  /** Variables on top of the clean environment (GIT_INDEX_FILE, GIT_OPTIONAL_LOCKS). */
  env?: Readonly<Record<string, string>>;
  /** Stop git (SIGTERM) after this long; a timeout is a GitError. */
  timeoutMs?: number;
  /**
   * Keep stdout as git wrote it. By default it is trimmed at both ends, as simple-git did; output whose
   * first character matters (`status --porcelain` lines start with a space) or that is parsed whole
   * (diffs, `-z` lists) is kept.
   */
  keepOutput?: boolean;
}

/**
 * The environment git runs in: the caller's, without any GIT_* variable that could redirect it (a
 * GIT_DIR or GIT_INDEX_FILE inherited from a hook, GIT_CONFIG_*, an author identity) and without
 * editors or pagers; prompts off and the editor a no-op, so git fails rather than waits; then `extra`.
 */
export function gitEnvironment(
  from: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined || INTERACTIVE_VARIABLES.has(name)) continue;
    if (name.startsWith('GIT_') && !TRANSPORT_VARIABLES.has(name)) continue;
    env[name] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: ':', GIT_PAGER: 'cat', ...extra };
}

/** The git subcommand in `args` (past the global options: `-c x=y`, `--no-optional-locks`). */
export function subcommandOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '-c' || arg === '-C') i += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return '(none)';
}

/** A git command that had to succeed did not: `repo` and `subcommand` say which, `stderr` why. */
export class GitError extends NightshiftError {
  override readonly name = 'GitError';
  readonly subcommand: string;
  constructor(
    readonly repo: string,
    readonly args: readonly string[],
    /** git's exit status; null when it did not exit by itself (not started, timed out, killed). */
    readonly status: number | null,
    readonly stdout: string,
    readonly stderr: string,
    why: string,
  ) {
    const subcommand = subcommandOf(args);
    super(ErrorCode.git, `git ${subcommand} failed in ${repo}: ${why}`, {
      hint: `run it by hand to see all it says: git -C ${repo} ${args.join(' ').slice(0, 200)}`,
    });
    this.subcommand = subcommand;
  }
}

/** First lines of what git said, for a message. */
function said(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  const shown = lines.slice(0, 4).join('; ');
  return (shown.length > 500 ? `${shown.slice(0, 500)}…` : shown) + (lines.length > 4 ? ' …' : '');
}

/**
 * Runs `git -C <dir> <args>` with nightshift's identity and the environment of gitEnvironment; returns
 * its stdout (trimmed unless `keepOutput`). Any exit but 0 throws a GitError.
 */
export async function runGit(dir: string, args: readonly string[], opts: GitOptions = {}): Promise<string> {
  const { err, stdout, stderr } = await new Promise<{
    err: ExecFileException | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    noteSpawn();
    const child = execFile(
      'git',
      ['-C', dir, ...IDENTITY_ARGS, ...args],
      {
        env: gitEnvironment(process.env, opts.env),
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        windowsHide: true,
        // SIGTERM (the default): git removes its lock files on the way out.
        ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
      },
      (e, out, errOut) => resolve({ err: e, stdout: out, stderr: errOut }),
    );
    child.stdin?.end();
  });
  if (!err) return opts.keepOutput ? stdout : stdout.trim();
  const status = typeof err.code === 'number' ? err.code : null;
  const why =
    opts.timeoutMs && err.killed
      ? `timed out after ${formatDuration(opts.timeoutMs)}`
      : status === null
        ? `git did not run to its end (${err.signal ? `killed by ${err.signal}` : String(err.code ?? err.message)})`
        : `exit ${status}${said(stderr || stdout) ? `: ${said(stderr || stdout)}` : ''}`;
  throw new GitError(dir, args, status, stdout, stderr, why);
}
