/**
 * Fetches into the supervisor's repository while the judgment adds and removes worktrees there. Unlocked,
 * `git worktree add` briefly leaves a HEAD that names no commit and a concurrent fetch's connectivity
 * check fails on it (measured: 16 of 158 fetches in 15 s); withRepoLock keeps them apart in-process.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Repo, withRepoLock } from '../../src/git/repo.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { git, makeRepo } from '../../src/testing/git.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('lets no fetch fail on a worktree being added or removed in the same repository', async () => {
  const repo = makeRepo();
  const upstream = makeRepo({ 'a.txt': 'a\n' });
  dirs.push(repo, upstream);
  const tips: string[] = [];
  for (let i = 0; i < 12; i++) {
    git(upstream, 'commit', '-q', '--allow-empty', '-m', `c${i}`);
    git(upstream, 'branch', '-f', `b${i}`);
    tips.push(git(upstream, 'rev-parse', 'HEAD'));
  }
  const r = new Repo(repo);
  const base = git(repo, 'rev-parse', 'HEAD');
  const local = new LocalRunner();
  let churning = true;
  const churn = (async () => {
    for (let i = 0; i < 40; i++) {
      const wt = path.join(repo, '..', `${path.basename(repo)}-wt-${i % 3}`);
      dirs.push(wt);
      await r.worktreeAt(wt, base);
      await r.removeWorktree(wt);
    }
    churning = false;
  })();
  // Fetches one after another for as long as the worktrees churn (each fetch moves one branch).
  const failures: string[] = [];
  let fetched = 0;
  const fetches = (async () => {
    while (churning) {
      const i = fetched++ % tips.length;
      const x = await withRepoLock(repo, () =>
        local.run([
          'git',
          '-C',
          repo,
          'fetch',
          '-q',
          '--no-tags',
          upstream,
          `+refs/heads/b${i}:refs/heads/b${i}`,
        ]),
      );
      if (x.exitCode !== 0) failures.push(x.stderr.trim());
    }
  })();
  await Promise.all([churn, fetches]);
  expect(fetched).toBeGreaterThan(tips.length);
  expect(failures).toEqual([]);
  expect(tips.map((_, i) => git(repo, 'rev-parse', `refs/heads/b${i}`))).toEqual(tips);
});
