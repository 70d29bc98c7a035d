/**
 * Repo's answers (git/repo.ts) against real repositories, where a git command's exit status is the
 * answer: an exit 1 with nothing on stderr is "no", never "yes".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Repo } from '../../src/git/repo.js';
import { git, makeRepo } from '../../src/testing/git.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** main, and a branch `side` one commit ahead of it. */
function twoCommits(): { dir: string; main: string; side: string } {
  const dir = makeRepo({ 'README.md': '# app\n' });
  dirs.push(dir);
  const main = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'side');
  writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'a');
  const side = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', 'main');
  return { dir, main, side };
}

/** A path for the staging worktree (made by Repo itself). */
function staging(): string {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'ns-staging-'));
  dirs.push(parent);
  return path.join(parent, 'wt');
}

describe('Repo', () => {
  it('isAncestor says no when the commit is not an ancestor (local main ahead of its remote is not "behind")', async () => {
    const { dir, main, side } = twoCommits();
    const repo = new Repo(dir);
    expect(await repo.isAncestor(main, side)).toBe(true);
    expect(await repo.isAncestor(side, main)).toBe(false);
  });

  it('revParse answers null, not an empty string, for a ref that does not exist', async () => {
    const { dir, main } = twoCommits();
    const repo = new Repo(dir);
    expect(await repo.revParse('refs/heads/main')).toBe(main);
    expect(await repo.revParse('refs/heads/no-such-branch')).toBeNull();
  });

  it('a squash merge of a head already in main lands nothing: the tip is main', async () => {
    const { dir, side } = twoCommits();
    git(dir, 'merge', '-q', '--ff-only', 'side');
    const repo = new Repo(dir);
    const wt = staging();
    expect(await repo.merge(wt, side, side, 'nothing', true)).toEqual({ tip: side });
    expect(await repo.merge(wt, side, side, 'nothing', false)).toEqual({ tip: side });
  });

  it('a squash merge makes one commit by nightshift on top of main', async () => {
    const { dir, main, side } = twoCommits();
    const repo = new Repo(dir);
    const merged = await repo.merge(staging(), main, side, 'squashed', true);
    if (!('tip' in merged)) throw new Error(`no tip: ${JSON.stringify(merged)}`);
    expect(git(dir, 'log', '-1', '--format=%P|%cn|%s', merged.tip)).toBe(`${main}|nightshift|squashed`);
  });

  it('a conflicting merge or rebase is a conflict naming its files, never main as the tip', async () => {
    const { dir, main, side } = twoCommits();
    git(dir, 'checkout', '-q', '-b', 'other', main);
    writeFileSync(path.join(dir, 'a.txt'), 'b\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'b');
    const other = git(dir, 'rev-parse', 'HEAD');
    const repo = new Repo(dir);
    const wt = staging();
    expect(await repo.merge(wt, other, side, 'clash', false)).toEqual({ conflict: ['a.txt'] });
    expect(await repo.merge(wt, other, side, 'clash', true)).toEqual({ conflict: ['a.txt'] });
    expect(await repo.rebase(wt, other, main, side)).toEqual({ conflict: ['a.txt'] });
  });
});
