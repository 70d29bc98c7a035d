/**
 * runGit (git/run.ts), the one way nightshift runs its own git, against real repositories: a failing
 * command is a GitError naming the repository and the subcommand; the caller's GIT_* and editor
 * variables never reach git; stdout is trimmed unless kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { GitError, gitEnvironment, runGit, subcommandOf } from '../../src/git/run.js';
import { git, makeRepo } from '../../src/testing/git.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const dir = makeRepo({ 'README.md': '# app\n' });
  dirs.push(dir);
  return dir;
}

async function failure(p: Promise<unknown>): Promise<GitError> {
  const err: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof GitError)) throw new Error(`expected a GitError, got ${String(err)}`);
  return err;
}

describe('runGit', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('a failing command is a GitError with code git, naming the repository, the subcommand and what git said', async () => {
    const dir = repo();
    const err = await failure(runGit(dir, ['show', 'no-such-ref:README.md']));
    expect(err.code).toBe(ErrorCode.git);
    expect(err.repo).toBe(dir);
    expect(err.subcommand).toBe('show');
    expect(err.status).toBe(128);
    expect(err.message).toMatch(new RegExp(`^git show failed in ${dir}: exit 128: fatal: .*no-such-ref`));
    expect(err.stderr).toMatch(/no-such-ref/);
    expect(err.describe()).toContain(`git -C ${dir} show no-such-ref:README.md`);
  });

  it('an exit 1 with nothing on stderr is a failure too (merge-base --is-ancestor answering no)', async () => {
    const dir = repo();
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'second');
    await runGit(dir, ['merge-base', '--is-ancestor', 'HEAD~1', 'HEAD']);
    const err = await failure(runGit(dir, ['merge-base', '--is-ancestor', 'HEAD', 'HEAD~1']));
    expect(err).toMatchObject({ subcommand: 'merge-base', status: 1, stderr: '' });
    expect(err.message).toBe(`git merge-base failed in ${dir}: exit 1`);
  });

  it('names the subcommand past global options, and says so when git is not there to run', async () => {
    expect(subcommandOf(['-c', 'advice.detachedHead=false', 'checkout', '-q'])).toBe('checkout');
    expect(subcommandOf(['--no-optional-locks', 'status', '-z'])).toBe('status');
    const missing = path.join(os.tmpdir(), 'ns-no-such-dir-for-git');
    const err = await failure(runGit(missing, ['status']));
    expect(err.message).toMatch(
      new RegExp(`^git status failed in ${missing}: exit 128: fatal: cannot change to`),
    );
  });

  it('stops a git that runs past its timeout, and says so', async () => {
    const dir = repo();
    // An alias that runs a shell command: git waits on it, and the timeout stops git.
    const err = await failure(runGit(dir, ['-c', 'alias.hang=!sleep 1', 'hang'], { timeoutMs: 100 }));
    expect(err.status).toBeNull();
    expect(err.message).toBe(`git hang failed in ${dir}: timed out after 100ms`);
  });

  it('runs in the repository it is given, whatever GIT_DIR, GIT_INDEX_FILE or GIT_WORK_TREE the caller has', async () => {
    const mine = repo();
    const other = repo();
    process.env['GIT_DIR'] = path.join(other, '.git');
    process.env['GIT_WORK_TREE'] = other;
    process.env['GIT_INDEX_FILE'] = path.join(other, '.git', 'index');
    expect(await runGit(mine, ['rev-parse', '--absolute-git-dir'])).toBe(path.join(mine, '.git'));
    expect(await runGit(mine, ['rev-parse', '--show-toplevel'])).toBe(mine);
  });

  it('never starts the caller’s editor, and commits as nightshift whatever identity the caller has', async () => {
    const dir = repo();
    process.env['EDITOR'] = 'my-editor';
    process.env['VISUAL'] = 'my-visual';
    process.env['GIT_EDITOR'] = 'my-git-editor';
    process.env['GIT_COMMITTER_NAME'] = 'someone-else';
    process.env['GIT_AUTHOR_NAME'] = 'someone-else';
    expect(await runGit(dir, ['var', 'GIT_EDITOR'])).toBe(':');
    await runGit(dir, ['commit', '-q', '--allow-empty', '-m', 'by nightshift']);
    expect(git(dir, 'log', '-1', '--format=%an|%cn|%ce')).toBe('nightshift|nightshift|nightshift@localhost');
  });

  it('passes the variables the caller names, and trims stdout unless asked to keep it', async () => {
    const dir = repo();
    const index = path.join(mkdtempSync(path.join(os.tmpdir(), 'ns-index-')), 'index');
    dirs.push(path.dirname(index));
    await runGit(dir, ['read-tree', 'HEAD'], { env: { GIT_INDEX_FILE: index } });
    expect(await runGit(dir, ['ls-files'], { env: { GIT_INDEX_FILE: index } })).toBe('README.md');
    expect(await runGit(dir, ['ls-files'], { keepOutput: true })).toBe('README.md\n');
    expect(await runGit(dir, ['log', '-1', '--format=  %s  '])).toBe('initial');
  });
});

describe('gitEnvironment', () => {
  it('drops GIT_* but the transport variables, and the editors; sets prompts off; adds the extras last', () => {
    const env = gitEnvironment(
      {
        PATH: '/bin',
        HOME: '/home/u',
        SSH_AUTH_SOCK: '/tmp/agent',
        GIT_DIR: '/elsewhere/.git',
        GIT_CONFIG_GLOBAL: '/elsewhere/config',
        GIT_SSH_COMMAND: 'ssh -i key',
        EDITOR: 'vi',
        VISUAL: 'vi',
        PAGER: 'less',
        UNSET: undefined,
      },
      { GIT_OPTIONAL_LOCKS: '0' },
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/u',
      SSH_AUTH_SOCK: '/tmp/agent',
      GIT_SSH_COMMAND: 'ssh -i key',
      GIT_TERMINAL_PROMPT: '0',
      GIT_EDITOR: ':',
      GIT_PAGER: 'cat',
      GIT_OPTIONAL_LOCKS: '0',
    });
  });
});
