/**
 * Moving a branch that a user's working tree has checked out (git/checkout.ts), against real git repos:
 * clean → the working tree follows; dirty → the move waits with the reason; bare or not checked out →
 * the ref alone moves, as before.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutStates, checkoutsOf, decideMove, moveBranch } from '../../src/git/checkout.js';
import { git, makeRepo } from '../../src/testing/git.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const dir = makeRepo({ 'README.md': '# app\n', 'a.txt': 'one\n' });
  dirs.push(dir);
  return dir;
}

/** A commit on top of main made elsewhere (main itself does not move): what nightshift merges. */
function commitAside(dir: string, files: Record<string, string>): string {
  const aside = mkdtempSync(path.join(os.tmpdir(), 'ns-aside-'));
  git(dir, 'worktree', 'add', '-q', '--detach', aside, 'main');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(aside, name), text);
  git(aside, 'add', '-A');
  git(aside, 'commit', '-q', '-m', 'next');
  const sha = git(aside, 'rev-parse', 'HEAD');
  git(dir, 'worktree', 'remove', '--force', aside);
  return sha;
}

/** Everything a user could lose: HEAD, the index's entries, status with untracked files, file bytes. */
function snapshot(dir: string, files: string[]) {
  return {
    head: git(dir, 'rev-parse', 'HEAD'),
    index: git(dir, 'ls-files', '-s'),
    status: git(dir, 'status', '--porcelain', '--untracked-files=all'),
    files: files.map((f) => readFileSync(path.join(dir, f), 'utf8')),
  };
}

describe('decideMove', () => {
  it('moves the ref alone with no checkout, follows one clean checkout, waits for a dirty one or two', () => {
    expect(decideMove('main', [])).toEqual({ kind: 'ref' });
    expect(decideMove('main', [{ worktree: '/src/app', dirty: [] }])).toEqual({
      kind: 'follow',
      worktree: '/src/app',
    });
    const dirty = decideMove('main', [{ worktree: '/src/app', dirty: ['a.txt', 'b.txt'] }]);
    expect(dirty).toMatchObject({ kind: 'wait', worktree: '/src/app' });
    expect(dirty.kind === 'wait' && dirty.reason).toBe(
      'main is checked out in /src/app with uncommitted changes (a.txt, b.txt); the merge waits until that checkout is clean: commit or stash them (git -C /src/app stash)',
    );
    const two = decideMove('main', [
      { worktree: '/a', dirty: [] },
      { worktree: '/b', dirty: [] },
    ]);
    expect(two.kind).toBe('wait');
  });
});

describe('moveBranch against real repositories', () => {
  it('a clean checkout of main follows the move: status clean, files and index at the new tip', async () => {
    const dir = repo();
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n', 'b.txt': 'new\n' });
    const r = await moveBranch(dir, 'main', next, old, 'test: merge');
    expect(r).toEqual({ ok: true, followed: dir });
    expect(git(dir, 'rev-parse', 'main')).toBe(next);
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('two\n');
    expect(readFileSync(path.join(dir, 'b.txt'), 'utf8')).toBe('new\n');
    expect(git(dir, 'diff', '--cached', '--name-only', 'HEAD')).toBe('');
  });

  it('untracked files the move does not touch stay, and the checkout still follows', async () => {
    const dir = repo();
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    expect(await moveBranch(dir, 'main', next, old, 'test: merge')).toEqual({ ok: true, followed: dir });
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('?? notes.txt');
  });

  it('a dirty checkout makes the move wait with the reason, and nothing changes', async () => {
    const dir = repo();
    writeFileSync(path.join(dir, 'README.md'), '# my edit\n');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    const before = snapshot(dir, ['README.md', 'a.txt']);
    const r = await moveBranch(dir, 'main', next, old, 'test: merge');
    expect(r).toMatchObject({ ok: false, moved: false, worktree: dir });
    expect(!r.ok && !r.moved && r.reason).toContain(`uncommitted changes (README.md)`);
    expect(!r.ok && !r.moved && r.reason).toContain(`git -C ${dir} stash`);
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(snapshot(dir, ['README.md', 'a.txt'])).toEqual(before);
  });

  it('a staged change counts as dirty too', async () => {
    const dir = repo();
    writeFileSync(path.join(dir, 'c.txt'), 'staged\n');
    git(dir, 'add', 'c.txt');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    const r = await moveBranch(dir, 'main', next, old, 'test: merge');
    expect(r).toMatchObject({ ok: false, moved: false });
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(git(dir, 'diff', '--cached', '--name-only')).toBe('c.txt');
  });

  it('an untracked file the merge would overwrite makes it wait, and the file is kept', async () => {
    const dir = repo();
    writeFileSync(path.join(dir, 'b.txt'), 'my own b\n');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'b.txt': 'theirs\n' });
    const before = snapshot(dir, ['b.txt', 'a.txt']);
    const r = await moveBranch(dir, 'main', next, old, 'test: merge');
    expect(r).toMatchObject({ ok: false, moved: false, worktree: dir });
    expect(!r.ok && !r.moved && r.reason).toMatch(/b\.txt/);
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(snapshot(dir, ['b.txt', 'a.txt'])).toEqual(before);
  });

  it('a git command holding the index lock makes it wait; the lock is left alone', async () => {
    const dir = repo();
    const lock = path.join(dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    const r = await moveBranch(dir, 'main', next, old, 'test: merge');
    expect(r).toMatchObject({ ok: false, moved: false });
    expect(!r.ok && !r.moved && r.reason).toContain('index.lock');
    expect(readFileSync(lock, 'utf8')).toBe('');
    rmSync(lock);
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\n');
  });

  it('a lost compare-and-swap changes nothing, files included', async () => {
    const dir = repo();
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    const other = commitAside(dir, { 'a.txt': 'three\n' });
    expect(await moveBranch(dir, 'main', next, other, 'test: merge')).toEqual({ ok: false, moved: true });
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\n');
  });

  it('a bare repository and a checkout of another branch move the ref alone, as before', async () => {
    const dir = repo();
    const bare = mkdtempSync(path.join(os.tmpdir(), 'ns-bare-'));
    dirs.push(bare);
    git(bare, 'clone', '-q', '--bare', dir, bare);
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    git(bare, 'fetch', '-q', dir, `${next}:refs/x`);
    expect(await checkoutsOf(bare, 'main')).toEqual([]);
    expect(await moveBranch(bare, 'main', next, old, 'test: merge')).toEqual({ ok: true, followed: null });
    expect(git(bare, 'rev-parse', 'main')).toBe(next);

    git(dir, 'checkout', '-q', '-b', 'topic');
    writeFileSync(path.join(dir, 'README.md'), '# work on topic\n');
    expect(await moveBranch(dir, 'main', next, old, 'test: merge')).toEqual({ ok: true, followed: null });
    expect(git(dir, 'rev-parse', 'main')).toBe(next);
    expect(git(dir, 'status', '--porcelain')).toBe('M README.md');
  });

  it('a linked worktree with main checked out is found and follows', async () => {
    const dir = repo();
    git(dir, 'checkout', '-q', '-b', 'topic');
    const linked = mkdtempSync(path.join(os.tmpdir(), 'ns-linked-'));
    dirs.push(linked);
    git(dir, 'worktree', 'add', '-q', linked, 'main');
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    const real = git(linked, 'rev-parse', '--show-toplevel');
    expect(await checkoutsOf(dir, 'main')).toEqual([real]);
    expect(await moveBranch(dir, 'main', next, old, 'test: merge')).toEqual({ ok: true, followed: real });
    expect(readFileSync(path.join(linked, 'a.txt'), 'utf8')).toBe('two\n');
    expect(git(linked, 'status', '--porcelain')).toBe('');
  });
});

describe('a move the supervisor was killed in the middle of', () => {
  /** The state a SIGKILL leaves: the intent beside the index, nightshift's empty index.lock, a dead pid. */
  function crashed(dir: string, expected: string, next: string, pid: number): void {
    const index = path.join(dir, '.git', 'index');
    writeFileSync(
      `${index}.nightshift-move`,
      JSON.stringify({ pid, ref: 'refs/heads/main', expected, next }),
    );
    writeFileSync(`${index}.lock`, '');
  }
  const deadPid = () => spawnSync('true').pid;

  it('after the ref moved: the files and the index are brought to the new tip, the lock and intent go', async () => {
    const dir = repo();
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n', 'new.txt': 'new\n' });
    git(dir, 'update-ref', 'refs/heads/main', next, old); // the ref moves first, then the kill
    crashed(dir, old, next, deadPid());
    const [state] = await checkoutStates(dir, 'main');
    expect(state?.dirty).toEqual([]);
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('two\n');
    expect(readFileSync(path.join(dir, 'new.txt'), 'utf8')).toBe('new\n');
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(false);
    expect(existsSync(path.join(dir, '.git', 'index.nightshift-move'))).toBe(false);
    // And the next move goes ahead as usual.
    const after = commitAside(dir, { 'a.txt': 'three\n' });
    expect(await moveBranch(dir, 'main', after, next, 'test: merge')).toEqual({ ok: true, followed: dir });
  });

  it('before the ref moved: nothing moved, so only the lock and the intent go', async () => {
    const dir = repo();
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    crashed(dir, old, next, deadPid());
    const before = git(dir, 'ls-files', '-s');
    const [state] = await checkoutStates(dir, 'main');
    expect(state?.dirty).toEqual([]);
    expect(git(dir, 'rev-parse', 'main')).toBe(old);
    expect(git(dir, 'ls-files', '-s')).toBe(before);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(false);
  });

  it('a move still under way in a live process is left alone', async () => {
    const dir = repo();
    const old = git(dir, 'rev-parse', 'main');
    const next = commitAside(dir, { 'a.txt': 'two\n' });
    crashed(dir, old, next, process.ppid); // the test runner's parent: alive

    await checkoutStates(dir, 'main');
    expect(existsSync(path.join(dir, '.git', 'index.lock'))).toBe(true);
    expect(existsSync(path.join(dir, '.git', 'index.nightshift-move'))).toBe(true);
  });
});
