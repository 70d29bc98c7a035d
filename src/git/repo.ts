/**
 * The supervisor's own repositories, through runGit (git/run.ts: argv arrays, never a shell): the staging
 * worktree, diffs, rebases and merges, the protected refs a gate run must not move, and pushes that never
 * force. Main itself moves through git/checkout.ts (moveBranch), which a checkout of it follows.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KeyedSerial } from '../lib/serial.js';
import { GitError, runGit } from './run.js';

const repoLocks = new KeyedSerial();

/**
 * Runs `fn` alone among this process's worktree changes and fetches in the repository at `repoDir`:
 * `git worktree add` first writes a HEAD that names no commit, which fails a concurrent fetch's
 * connectivity check ("bad object worktrees/<name>/HEAD"), and `worktree prune` can drop a worktree
 * that is being added.
 */
export function withRepoLock<T>(repoDir: string, fn: () => Promise<T>): Promise<T> {
  return repoLocks.run(path.resolve(repoDir), fn);
}

/**
 * `rejected`: the push lost a race (the remote's branch moved first), so re-staging on its new tip can
 * succeed; `lockLost` when it lost the ref's lock to a concurrent update rather than being behind.
 */
export type PushResult = { ok: true } | { ok: false; rejected: boolean; lockLost: boolean; message: string };

/** git in one directory, its stdout trimmed; any exit but 0 throws a GitError (git/run.ts). */
interface Git {
  raw(args: readonly string[]): Promise<string>;
}

function gitAt(dir: string): Git {
  return { raw: (args) => runGit(dir, args) };
}

export class Repo {
  private readonly git: Git;

  constructor(readonly dir: string) {
    this.git = gitAt(dir);
  }

  private at(dir: string): Git {
    return gitAt(dir);
  }

  async revParse(ref: string): Promise<string | null> {
    try {
      return await this.git.raw(['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    } catch {
      return null;
    }
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    try {
      await this.git.raw(['merge-base', '--is-ancestor', ancestor, descendant]);
      return true;
    } catch {
      return false;
    }
  }

  /** A detached worktree at `ref`, created or reset (clean, no leftovers). */
  async worktreeAt(dir: string, ref: string): Promise<void> {
    if (existsSync(path.join(dir, '.git'))) {
      const wt = this.at(dir);
      await wt.raw(['rebase', '--abort']).catch(() => undefined);
      await wt.raw(['merge', '--abort']).catch(() => undefined);
      await wt.raw(['checkout', '-q', '--detach', '-f', ref]);
      await wt.raw(['clean', '-q', '-fdx']);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    await withRepoLock(this.dir, async () => {
      await this.git.raw(['worktree', 'prune']);
      await this.git.raw(['worktree', 'add', '-q', '--detach', dir, ref]);
    });
  }

  async removeWorktree(dir: string): Promise<void> {
    await withRepoLock(this.dir, async () => {
      await this.git.raw(['worktree', 'remove', '--force', dir]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      await this.git.raw(['worktree', 'prune']).catch(() => undefined);
    });
  }

  async diff(base: string, head: string, args: string[] = []): Promise<string> {
    return this.git.raw(['diff', ...args, `${base}..${head}`]);
  }

  async changedFiles(base: string, head: string): Promise<string[]> {
    const out = await this.git.raw(['diff', '--name-only', `${base}..${head}`]);
    return out.split('\n').filter(Boolean);
  }

  async show(ref: string, file: string): Promise<string | null> {
    try {
      return await this.git.raw(['show', `${ref}:${file}`]);
    } catch {
      return null;
    }
  }

  /** Every file of `ref`'s tree with its size in bytes (`ls-tree -r -l`): nothing is checked out or run. */
  async files(ref: string): Promise<{ path: string; size: number }[]> {
    const out = await this.git.raw(['ls-tree', '-r', '-l', '-z', '--full-tree', ref]);
    return out
      .split('\0')
      .filter(Boolean)
      .flatMap((line) => {
        const m = /^\d+ blob [0-9a-f]+ +(\d+|-)\t(.*)$/s.exec(line);
        return m ? [{ path: m[2]!, size: m[1] === '-' ? 0 : Number(m[1]) }] : [];
      });
  }

  /**
   * Replays base..head onto `onto` in the worktree `dir` (detached). Returns the new tip, or the
   * conflicting files (the rebase is aborted and the worktree left clean).
   */
  async rebase(
    dir: string,
    onto: string,
    base: string,
    head: string,
  ): Promise<{ tip: string } | { conflict: string[] }> {
    await this.worktreeAt(dir, head);
    const wt = this.at(dir);
    try {
      await wt.raw(['rebase', '-q', '--onto', onto, base]);
      return { tip: await wt.raw(['rev-parse', 'HEAD']) };
    } catch {
      const files = (await wt.raw(['diff', '--name-only', '--diff-filter=U']).catch(() => ''))
        .split('\n')
        .filter(Boolean);
      await wt.raw(['rebase', '--abort']).catch(() => undefined);
      return { conflict: files.length ? files : ['(unknown)'] };
    }
  }

  /** Merges `head` into `onto` with a merge commit, or as one squashed commit. */
  async merge(
    dir: string,
    onto: string,
    head: string,
    message: string,
    squash: boolean,
  ): Promise<{ tip: string } | { conflict: string[] }> {
    await this.worktreeAt(dir, onto);
    const wt = this.at(dir);
    try {
      if (squash) {
        await wt.raw(['merge', '-q', '--squash', head]);
        // Nothing staged (the head is in `onto` already): nothing to commit, and `onto` is the tip.
        const staged = await wt.raw(['diff', '--cached', '--quiet']).then(
          () => false,
          (err: unknown) => {
            if (err instanceof GitError && err.status === 1) return true;
            throw err;
          },
        );
        if (staged) await wt.raw(['commit', '-q', '--no-verify', '-m', message]);
      } else {
        await wt.raw(['merge', '-q', '--no-ff', '--no-verify', '-m', message, head]);
      }
      return { tip: await wt.raw(['rev-parse', 'HEAD']) };
    } catch {
      const files = (await wt.raw(['diff', '--name-only', '--diff-filter=U']).catch(() => ''))
        .split('\n')
        .filter(Boolean);
      await wt.raw(['merge', '--abort']).catch(() => undefined);
      await wt.raw(['reset', '-q', '--hard', onto]).catch(() => undefined);
      return { conflict: files.length ? files : ['(unknown)'] };
    }
  }

  /**
   * The commits of base..head, oldest first, each with its tree and a one-line `<short sha> <subject>`
   * (for messages). Merge commits included.
   */
  async commits(base: string, head: string): Promise<{ sha: string; tree: string; line: string }[]> {
    const out = await this.git.raw(['log', '--reverse', '--format=%H%x00%T%x00%h %s', `${base}..${head}`]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((row) => {
        const [sha = '', tree = '', line = ''] = row.split('\0');
        return { sha, tree, line };
      });
  }

  async treeOf(ref: string): Promise<string> {
    return this.git.raw(['rev-parse', '--verify', `${ref}^{tree}`]);
  }

  /** A new commit of `tree` whose only parent is `parent` (no worktree involved). */
  async commitTree(tree: string, parent: string, message: string): Promise<string> {
    return this.git.raw(['commit-tree', tree, '-p', parent, '-m', message]);
  }

  /** Pushes a commit to a remote branch without force. */
  async push(remote: string, sha: string, branch: string): Promise<PushResult> {
    try {
      await this.git.raw(['push', '-q', '--porcelain', remote, `${sha}:refs/heads/${branch}`]);
      return { ok: true };
    } catch (err) {
      // What git said, stdout first (the --porcelain lines name the refused ref and why), then stderr.
      const message = err instanceof GitError ? err.stdout + err.stderr : String(err);
      // A concurrent update of the remote's ref: receive-pack's compare-and-swap found it moved (or its
      // lock taken) and says `[remote rejected] (failed to update ref)` with "cannot lock ref".
      const lockLost = /cannot lock ref/i.test(message);
      return {
        ok: false,
        // `[rejected]` (fetch first, non-fast-forward) and a lost ref lock are lost races: re-stage on
        // the new tip. Any other `[remote rejected]` is the server saying no (a hook, a protected
        // branch): re-staging cannot help.
        rejected:
          lockLost ||
          /\[rejected\]/.test(message) ||
          (!/\[remote rejected\]/.test(message) && /non-fast-forward|fetch first/.test(message)),
        lockLost,
        message: message.trim().slice(0, 500),
      };
    }
  }

  /** Fetches the remote's branch; returns its tip. */
  async fetchRemote(remote: string, branch: string): Promise<string | null> {
    try {
      await this.git.raw(['fetch', '-q', remote, `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`]);
      return await this.revParse(`refs/remotes/${remote}/${branch}`);
    } catch {
      return null;
    }
  }

  async commitCount(base: string, head: string): Promise<number> {
    return Number(await this.git.raw(['rev-list', '--count', `${base}..${head}`])) || 0;
  }

  /**
   * The refs a gate run must not change (docs/gates.md#isolation), by name: every ref outside
   * refs/heads/ns/ (collection updates those while gates run) and refs/remotes/ (the merge queue's
   * fetch does), and the refs named in `also` wherever they are (the ns/ branches no fetch may move
   * now). A ref file that holds no valid value is not listed (git ignores it).
   */
  async protectedRefs(also: readonly string[] = []): Promise<Map<string, string>> {
    const extra = new Set(also);
    const out = await this.git.raw(['for-each-ref', '--format=%(objectname) %(refname)']);
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const name = line.slice(space + 1);
      const busy = name.startsWith('refs/heads/ns/') || name.startsWith('refs/remotes/');
      if (busy && !extra.has(name)) continue;
      refs.set(name, line.slice(0, space));
    }
    return refs;
  }

  /**
   * Sets `ref` back to `value` (null: deletes it) if it still holds `found` (null: absent), never
   * following a symbolic ref. A ref file the branch's code filled with something that is not a commit id
   * (`found` null while the file exists) is overwritten. True when the ref holds `value` afterwards.
   */
  async restoreRef(ref: string, value: string | null, found: string | null): Promise<boolean> {
    const zero = '0'.repeat(40);
    try {
      if (value === null)
        await this.git.raw(['update-ref', '--no-deref', '-d', ref, ...(found ? [found] : [])]);
      else {
        const why = 'nightshift: restored after a gate run';
        await this.git.raw(['update-ref', '--no-deref', '-m', why, ref, value, found ?? zero]);
      }
    } catch {
      if (value === null || found !== null || !/^refs\/[^.][\w./-]*$/.test(ref) || ref.includes('..'))
        return false;
      // Not listed, yet not absent: a loose ref file holding something that is not a commit id, which
      // git refuses to update. Remove the file, then create the ref anew with its recorded value.
      const common = await this.git.raw(['rev-parse', '--path-format=absolute', '--git-common-dir']);
      rmSync(path.join(common, ref), { force: true });
      await this.git.raw(['update-ref', '--no-deref', ref, value, zero]).catch(() => undefined);
    }
    const now = await this.git.raw(['rev-parse', '--verify', '-q', ref]).catch(() => null);
    return (now || null) === value;
  }

  async deleteBranch(branch: string): Promise<void> {
    await this.git.raw(['branch', '-q', '-D', branch]).catch(() => undefined);
  }
}
