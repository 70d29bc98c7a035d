/**
 * For the "nothing outside nightshift is touched" tests: a user's clone with work in progress, a
 * snapshot of everything in it a user could lose, and a whole night whose workspace lives inside it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, makeRepo } from './git.js';
import { makeNight, type Night } from './night.js';

/**
 * A clone in the middle of a user's work: a modified tracked file, a staged new file, untracked files
 * (one in a subdirectory), as someone following the README from inside their project would have.
 */
export function userClone(): string {
  const dir = makeRepo({ 'README.md': '# app\n', 'src.txt': 'v1\n' });
  writeFileSync(path.join(dir, 'src.txt'), 'v1 + my unsaved idea\n');
  writeFileSync(path.join(dir, 'staged.txt'), 'staged by me\n');
  git(dir, 'add', 'staged.txt');
  writeFileSync(path.join(dir, 'notes.txt'), 'my notes\n');
  mkdirSync(path.join(dir, 'scratch'));
  writeFileSync(path.join(dir, 'scratch', 'draft.md'), 'draft\n');
  return dir;
}

/**
 * What a user could lose in `dir`: HEAD, every ref, the index's entries, `git status` (untracked
 * directories collapsed, so a workspace inside shows as one line however it grows), the bytes of every
 * file that is modified or untracked outside `ignoreDir`, and the number of commits anywhere.
 */
export function repoSnapshot(dir: string, ignoreDir?: string) {
  const others = git(dir, 'ls-files', '--others', '--exclude-standard', '--modified', '-z')
    .split('\0')
    .filter((f) => f && !(ignoreDir && f.startsWith(`${ignoreDir}/`)))
    .sort();
  return {
    head: git(dir, 'rev-parse', 'HEAD'),
    refs: git(dir, 'for-each-ref', '--format=%(refname) %(objectname)'),
    commits: git(dir, 'rev-list', '--all', '--count'),
    index: git(dir, 'ls-files', '--stage'),
    status: git(dir, 'status', '--porcelain'),
    files: Object.fromEntries(others.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')])),
  };
}

/** makeNight (night.ts), with the workspace at `root` (created), for a workspace inside a clone. */
export function makeNightAt(root: string, opts: { providers: string; extra?: string }): Night {
  return makeNight({ ...opts, root });
}
