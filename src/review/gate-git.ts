/**
 * What the gates read from git, for one gate run: the `base..head` range, the diff, its numstat and the
 * commit count, each read once and shared between gates.
 *
 * Every git command is an argv (`git -C <worktree> …`) through runGit (git/run.ts), never a shell, and
 * gates.ts reads everything it needs before the first gate command runs: the branch's code may rewrite
 * the checkout's `.git` (a hook, a config), and our git must never run what it planted.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import { GitError, runGit } from '../git/run.js';
import { parseUnifiedDiff, type DiffFile } from './unified-diff.js';

/** git answers in milliseconds; this only stops a wedged git from holding up judgment forever. */
const GIT_TIMEOUT_MS = 5 * 60_000;

export class GateGit {
  private revs?: Promise<string>;
  private diff?: Promise<DiffFile[]>;
  private numstat?: Promise<string>;
  private count?: Promise<number>;

  /** `worktree`: the gate checkout, holding both the `base` and the `head` commit. */
  constructor(
    private readonly worktree: string,
    private readonly base: string,
    private readonly head: string,
    private readonly taskId: TaskId,
  ) {}

  /** git in the gate checkout, its output as git wrote it (diffs and logs are parsed whole). */
  async run(args: readonly string[]): Promise<string> {
    try {
      return await runGit(this.worktree, ['-c', 'core.quotePath=false', ...args], {
        timeoutMs: GIT_TIMEOUT_MS,
        env: { GIT_OPTIONAL_LOCKS: '0' },
        keepOutput: true,
      });
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      throw new NightshiftError(
        ErrorCode.git,
        err.message,
        {
          taskId: this.taskId,
          hint: 'the gate worktree must be a git checkout holding both the base and the head commit',
        },
        { cause: err },
      );
    }
  }

  private async resolve(rev: string): Promise<string> {
    if (!rev || rev.startsWith('-')) {
      throw new NightshiftError(ErrorCode.internal, `not a revision: ${JSON.stringify(rev)}`, {
        taskId: this.taskId,
      });
    }
    return (await this.run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
  }

  /** `<base sha>..<head sha>`, resolved once (so no later argument can look like an option). */
  range(): Promise<string> {
    return (this.revs ??= Promise.all([this.resolve(this.base), this.resolve(this.head)]).then(
      ([base, head]) => `${base}..${head}`,
    ));
  }

  diffFiles(): Promise<DiffFile[]> {
    return (this.diff ??= this.range().then(async (range) =>
      parseUnifiedDiff(
        await this.run([
          'diff',
          '-U0',
          '--no-color',
          '--no-ext-diff',
          '--no-textconv',
          '--find-renames',
          '--src-prefix=a/',
          '--dst-prefix=b/',
          range,
          '--',
        ]),
      ),
    ));
  }

  numstatText(): Promise<string> {
    return (this.numstat ??= this.range().then((range) =>
      this.run(['diff', '--numstat', '--no-color', '--no-ext-diff', '--find-renames', range, '--']),
    ));
  }

  commitCount(): Promise<number> {
    return (this.count ??= this.range().then(async (range) =>
      Number((await this.run(['rev-list', '--count', range, '--'])).trim()),
    ));
  }
}
