/**
 * The user's checkouts of a branch nightshift moves. A branch checked out in a working tree is never
 * moved behind that tree's back: when the checkout is clean the working tree follows (git's
 * `receive.denyCurrentBranch=updateInstead` semantics), when it has uncommitted changes the move waits
 * and says why. A bare repository, or one whose branch is checked out nowhere, moves the ref alone.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { GitError, runGit } from './run.js';

/** A working tree whose HEAD is the branch, and its uncommitted changes to tracked files. */
export interface CheckoutState {
  worktree: string;
  /** Tracked paths with staged or unstaged changes (first few), empty when clean. */
  dirty: string[];
}

export type MoveDecision =
  /** Checked out nowhere (a bare repository, or another branch checked out): compare-and-swap the ref. */
  | { kind: 'ref' }
  /** Checked out in one clean working tree: its index and files follow the ref. */
  | { kind: 'follow'; worktree: string }
  /** The move would leave a working tree showing the move as uncommitted reversions: wait. */
  | { kind: 'wait'; worktree: string; reason: string };

/** How a branch with these checkouts may be moved (pure). */
export function decideMove(branch: string, checkouts: readonly CheckoutState[]): MoveDecision {
  const [first, ...more] = checkouts;
  if (!first) return { kind: 'ref' };
  if (more.length) {
    return {
      kind: 'wait',
      worktree: first.worktree,
      reason: `${branch} is checked out in ${checkouts.length} working trees (${checkouts.map((c) => c.worktree).join(', ')}); nightshift moves it under one at most: check out another branch in all but one`,
    };
  }
  if (first.dirty.length)
    return { kind: 'wait', worktree: first.worktree, reason: dirtyReason(branch, first) };
  return { kind: 'follow', worktree: first.worktree };
}

export function dirtyReason(branch: string, c: CheckoutState): string {
  const shown = c.dirty.slice(0, 5).join(', ') + (c.dirty.length > 5 ? ', …' : '');
  return `${branch} is checked out in ${c.worktree} with uncommitted changes (${shown}); the merge waits until that checkout is clean: commit or stash them (git -C ${c.worktree} stash)`;
}

/**
 * git in `dir` (git/run.ts), with `env` added to its clean environment; stdout trimmed, or as git wrote
 * it with `keep` (status lines start with a space).
 */
function git(dir: string, env?: Record<string, string>) {
  return {
    raw(args: string[], keep = false): Promise<string> {
      return runGit(dir, args, { ...(env ? { env } : {}), keepOutput: keep });
    },
  };
}

/** Working trees of the repository at `repoDir` (never its bare directory) with `branch` checked out. */
export async function checkoutsOf(repoDir: string, branch: string): Promise<string[]> {
  const out = await git(repoDir).raw(['worktree', 'list', '--porcelain']);
  const found: string[] = [];
  for (const block of out.split(/\n\s*\n/)) {
    const lines = block.split('\n');
    const tree = lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length);
    if (!tree || lines.includes('bare')) continue;
    // A linked worktree whose directory is gone has nothing to move under.
    if (lines.includes(`branch refs/heads/${branch}`) && existsSync(tree)) found.push(tree);
  }
  return found;
}

/**
 * The state of `worktree`, read without taking git's locks: tracked paths with uncommitted changes
 * (staged or not), and a fingerprint of everything `git status` shows (untracked files included) with
 * HEAD, to tell whether a checkout changed since a merge last had to wait for it.
 */
export async function readCheckout(worktree: string): Promise<{ dirty: string[]; fingerprint: string }> {
  const g = git(worktree);
  const out = await g.raw(
    [
      '--no-optional-locks',
      'status',
      '--porcelain=v1',
      '-z',
      '--untracked-files=all',
      '--ignore-submodules=all',
    ],
    true,
  );
  const head = await g.raw(['rev-parse', '-q', '--verify', 'HEAD']).catch(() => '');
  const dirty: string[] = [];
  const entries = out.split('\0');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] ?? '';
    if (!e || e.startsWith('?? ')) continue;
    dirty.push(e.slice(3));
    // A rename or copy is followed by its source path.
    if (/^[RC]/.test(e)) i += 1;
  }
  return { dirty, fingerprint: `${head}\0${out}` };
}

/** Every checkout of `branch` in the repository, with its state. */
export async function checkoutStates(
  repoDir: string,
  branch: string,
): Promise<(CheckoutState & { fingerprint: string })[]> {
  const trees = await checkoutsOf(repoDir, branch);
  // A move that a killed supervisor left half done is finished first: its checkout is not the user's mess.
  for (const worktree of trees) await finishInterruptedMove(repoDir, worktree);
  return Promise.all(trees.map(async (worktree) => ({ worktree, ...(await readCheckout(worktree)) })));
}

/** What a move under a checkout records before it starts (beside the index), to be finished after a crash. */
interface MoveIntent {
  pid: number;
  ref: string;
  expected: string;
  next: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes a move under `worktree` that a killed supervisor left half done (its intent file is there and
 * its process is gone). The ref moves before any file does, so: the ref still at `expected` means no
 * file moved and only the lock is left to remove; the ref at `next` means the files and the index are
 * brought to `next` (the tree the move was landing) from the index as it was, and the lock goes. A
 * ref moved by someone else since is left for the dirty check to report.
 */
export async function finishInterruptedMove(repoDir: string, worktree: string): Promise<void> {
  const index = await git(worktree).raw(['rev-parse', '--path-format=absolute', '--git-path', 'index']);
  const intentFile = `${index}.nightshift-move`;
  let intent: MoveIntent;
  try {
    intent = JSON.parse(readFileSync(intentFile, 'utf8')) as MoveIntent;
  } catch {
    return; // no move was interrupted (or its intent never reached the disk: then it never started)
  }
  if (intent.pid !== process.pid && alive(intent.pid)) return; // still under way in another process
  const lock = `${index}.lock`;
  // Ours only if empty: git's own index.lock holds an index.
  const ourLock = existsSync(lock) && statSync(lock).size === 0;
  const copy = `${index}.nightshift`;
  const now = await git(repoDir)
    .raw(['rev-parse', '--verify', '-q', intent.ref])
    .catch(() => '');
  if (now === intent.next && ourLock) {
    if (existsSync(index)) copyFileSync(index, copy);
    const wt = git(worktree, { GIT_INDEX_FILE: copy });
    // From the index as it was (at `expected`): the files the move had not reached yet follow, those
    // it had reached already match `next`.
    await wt.raw(['read-tree', '-u', '--reset', intent.next]);
    renameSync(copy, lock);
    renameSync(lock, index);
  } else if (ourLock) {
    rmSync(lock, { force: true });
  }
  rmSync(copy, { force: true });
  rmSync(intentFile, { force: true });
}

export type MoveResult =
  | { ok: true; followed: string | null }
  /** The ref no longer points at `expected` (someone else moved it): nothing changed. */
  | { ok: false; moved: true }
  /** A checkout keeps the move from happening now: nothing changed; `reason` says what to do. */
  | { ok: false; moved: false; worktree: string; reason: string };

/**
 * Moves refs/heads/<branch> from `expected` to `next` only if it still points at `expected`, with any
 * working tree that has it checked out following (decideMove). Never overwrites a user's change: while
 * the tree follows, nightshift holds that tree's index.lock (so a `git commit` or `git add` there waits
 * or fails instead of racing), works on a copy of the index, and lets `git read-tree -u -m` refuse any
 * file that changed since the check or an untracked file in the way; on any refusal nothing is changed.
 */
export async function moveBranch(
  repoDir: string,
  branch: string,
  next: string,
  expected: string,
  message: string,
): Promise<MoveResult> {
  const ref = `refs/heads/${branch}`;
  const decision = decideMove(branch, await checkoutStates(repoDir, branch));
  if (decision.kind === 'wait') return { ok: false, moved: false, ...decision };
  if (decision.kind === 'ref') {
    return (await casRef(git(repoDir), ref, next, expected, message))
      ? { ok: true, followed: null }
      : { ok: false, moved: true };
  }
  return follow(repoDir, branch, decision.worktree, next, expected, message);
}

async function casRef(
  g: ReturnType<typeof git>,
  ref: string,
  next: string,
  expected: string,
  message: string,
) {
  try {
    await g.raw(['update-ref', '-m', message, ref, next, expected]);
    return true;
  } catch {
    return false;
  }
}

async function follow(
  repoDir: string,
  branch: string,
  worktree: string,
  next: string,
  expected: string,
  message: string,
): Promise<MoveResult> {
  const ref = `refs/heads/${branch}`;
  const wait = (why: string): MoveResult => ({
    ok: false,
    moved: false,
    worktree,
    reason: `${branch} is checked out in ${worktree} and ${why}`,
  });
  /** read-tree refused: git's first lines say which files are in the way. */
  const cannotFollow = (err: unknown): MoveResult => {
    const text = err instanceof GitError ? err.stderr || err.message : String(err);
    const said = text.trim().split('\n').slice(0, 4).join('; ');
    return wait(
      `its files cannot follow the merge (${said}); the merge waits: move those files away or commit them (git -C ${worktree} status)`,
    );
  };
  const index = await git(worktree).raw(['rev-parse', '--path-format=absolute', '--git-path', 'index']);
  const lock = `${index}.lock`;
  const intentFile = `${index}.nightshift-move`;
  // Recorded before the lock, so a crash anywhere after leaves what finishInterruptedMove needs.
  const intent: MoveIntent = { pid: process.pid, ref, expected, next };
  const ifd = openSync(intentFile, 'w', 0o644);
  try {
    writeSync(ifd, JSON.stringify(intent));
    fsyncSync(ifd);
  } finally {
    closeSync(ifd);
  }
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o644);
  } catch {
    rmSync(intentFile, { force: true });
    return wait(
      `git is busy there (${lock} exists); the merge waits: if no git command is running in it, remove that file`,
    );
  }
  const copy = `${index}.nightshift`;
  let locked = true;
  try {
    closeSync(fd);
    if (
      (await git(repoDir)
        .raw(['rev-parse', '--verify', '-q', ref])
        .catch(() => '')) !== expected
    ) {
      return { ok: false, moved: true };
    }
    if (existsSync(index)) copyFileSync(index, copy);
    else rmSync(copy, { force: true });
    const wt = git(worktree, { GIT_INDEX_FILE: copy });
    await wt.raw(['update-index', '-q', '--refresh']).catch(() => undefined);
    const staged = await wt.raw(['diff-index', '--cached', '--name-only', expected, '--']);
    const changed = await wt.raw(['diff-files', '--name-only']);
    const dirty = [...new Set([...staged.split('\n'), ...changed.split('\n')].filter(Boolean))];
    if (dirty.length)
      return { ok: false, moved: false, worktree, reason: dirtyReason(branch, { worktree, dirty }) };
    // Would the files follow? A dry run on the index copy: it touches no file but checks every one.
    try {
      await wt.raw(['read-tree', '-n', '-u', '-m', expected, next]);
    } catch (err) {
      return cannotFollow(err);
    }
    // The ref moves first, the files after: a crash in between is finished by finishInterruptedMove.
    if (!(await casRef(git(repoDir), ref, next, expected, message))) return { ok: false, moved: true };
    if (existsSync(index)) copyFileSync(index, copy);
    else rmSync(copy, { force: true });
    await wt.raw(['update-index', '-q', '--refresh']).catch(() => undefined);
    try {
      await wt.raw(['read-tree', '-u', '-m', expected, next]);
    } catch (err) {
      // Something came in the way since the check (git checks every file before it writes one): the
      // ref goes back and no file moved.
      await casRef(git(repoDir), ref, expected, next, `${message} (undone)`);
      return cannotFollow(err);
    }
    // Git's own way to replace the index: the new contents become index.lock, then index.lock → index.
    renameSync(copy, lock);
    renameSync(lock, index);
    locked = false;
    return { ok: true, followed: worktree };
  } finally {
    rmSync(copy, { force: true });
    if (locked) rmSync(lock, { force: true });
    rmSync(intentFile, { force: true });
  }
}

/** The top directory of the git working tree that contains `dir` (or is it), or null when there is none. */
export async function enclosingWorktree(dir: string): Promise<string | null> {
  try {
    const top = await git(dir).raw(['rev-parse', '--show-toplevel']);
    return top || null;
  } catch {
    return null;
  }
}
