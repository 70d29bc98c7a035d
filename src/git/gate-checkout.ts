/**
 * The checkout a branch's code runs in (the tests and lint gates: docs/gates.md#isolation). It is a
 * repository of its own, made afresh for every gate run: `git init` with no templates (so no hooks), the
 * supervisor's object directory borrowed read-only through `objects/info/alternates` (nothing copied),
 * HEAD detached at the commit to gate. It holds no ref of the supervisor's repository, so a test that
 * runs `git update-ref refs/heads/main HEAD` moves nothing but its own HEAD.
 *
 * Made afresh because the branch's code may have written anything under it last time, `.git/config`
 * and `.git/hooks` included, and our own git must never run a hook or a config the branch planted.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { withRepoLock } from './repo.js';
import { runGit } from './run.js';

export interface GateCheckout {
  /** The checkout (its git directory is `<dir>/.git`). */
  dir: string;
  /** The supervisor's object directory, which the checkout reads through its alternates. */
  objects: string;
}

/** The absolute object directory of the repository at `repoDir` (the common one, for a linked worktree). */
export async function objectDirectory(repoDir: string): Promise<string> {
  const common = await runGit(repoDir, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  return path.join(common, 'objects');
}

/**
 * Makes `dir` a fresh checkout of `commit`, which must be in the repository at `repoDir`. Whatever was
 * at `dir` is removed first: an earlier gate checkout, or a linked worktree of `repoDir` left by a
 * version of nightshift that ran gates in one.
 */
export async function prepareGateCheckout(
  repoDir: string,
  dir: string,
  commit: string,
): Promise<GateCheckout> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new NightshiftError(ErrorCode.internal, `not a commit id: ${JSON.stringify(commit)}`, {
      hint: 'the gate checkout is made at a resolved commit, never at a ref name',
    });
  }
  const objects = await objectDirectory(repoDir);
  await removeGateCheckout(repoDir, dir);
  mkdirSync(path.dirname(dir), { recursive: true });
  // --template= copies no template: no hooks, whatever init.templateDir says.
  await runGit(path.dirname(dir), ['init', '-q', '--template=', path.resolve(dir)]);
  mkdirSync(path.join(dir, '.git', 'objects', 'info'), { recursive: true });
  writeFileSync(path.join(dir, '.git', 'objects', 'info', 'alternates'), `${objects}\n`);
  await runGit(dir, ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit]);
  return { dir, objects };
}

/**
 * Removes a gate checkout. A directory that was a linked worktree of `repoDir` is also pruned from the
 * repository's worktree list, under the repository's lock (a fetch must not see it half gone).
 */
export async function removeGateCheckout(repoDir: string, dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const gitEntry = lstatSync(path.join(dir, '.git'), { throwIfNoEntry: false });
  removeTree(dir);
  if (gitEntry?.isFile()) {
    await withRepoLock(repoDir, () => runGit(repoDir, ['worktree', 'prune']).then(() => undefined));
  }
}

/**
 * `rm -rf`, also through directories the branch's code made unwritable (`chmod 0`); symbolic links
 * are removed, never followed.
 */
export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    return;
  } catch {
    makeWritable(dir);
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function makeWritable(dir: string): void {
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return;
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir)) makeWritable(path.join(dir, entry));
}
