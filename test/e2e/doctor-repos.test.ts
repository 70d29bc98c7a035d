/**
 * The user's side, through the real CLI: `doctor` checks every configured repository (exists, git, main,
 * main's checkout and whether it is dirty) and warns, like `init`, when the workspace is inside a git
 * repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { runCli } from '../../src/testing/workspace.js';

const socket = `ns-doctor-repos-${process.pid}`;
const env = { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket };
const dirs: string[] = [];
afterAll(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* none */
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  dirs.push(d);
  return d;
}

function repo(): string {
  const d = realpathSync(makeRepo());
  dirs.push(d);
  return d;
}

const HOSTS = 'hosts:\n  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\n';

interface Check {
  scope: string;
  name: string;
  check: string;
  ok: boolean;
  level: string;
  detail: string;
  fix: string | null;
}

async function doctor(root: string) {
  const r = await runCli(['doctor', '--no-probe', '--json'], { cwd: root, clock: systemClock, env });
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  const by = (name: string, check: string) => report.checks.find((c) => c.name === name && c.check === check);
  return { code: r.code, report, by };
}

describe('doctor checks every repository', () => {
  it('passes a bare repo and a clean checkout, warns on a dirty one, fails missing, non-git and no-main', async () => {
    const clean = repo();
    const dirty = repo();
    writeFileSync(path.join(dirty, 'README.md'), '# my edit\n');
    const bare = tmp('ns-bare-');
    git(bare, 'clone', '-q', '--bare', clean, bare);
    const notGit = tmp('ns-plain-');
    const trunk = repo();
    const root = tmp('ns-ws-');
    writeFileSync(
      path.join(root, 'nightshift.config.yaml'),
      [
        'repos:',
        `  clean: { path: ${JSON.stringify(clean)} }`,
        `  dirty: { path: ${JSON.stringify(dirty)} }`,
        `  bare: { path: ${JSON.stringify(bare)} }`,
        `  gone: { path: ${JSON.stringify(path.join(notGit, 'nothing-here'))} }`,
        `  plain: { path: ${JSON.stringify(notGit)} }`,
        `  trunk: { path: ${JSON.stringify(trunk)}, main: trunk }`,
        HOSTS,
        'providers:\n  sim: { kind: scripted, hosts: [local] }\n',
      ].join('\n'),
    );
    const { code, report, by } = await doctor(root);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(by('bare', 'checkout')).toMatchObject({ ok: true });
    expect(by('bare', 'checkout')?.detail).toMatch(/not checked out/);
    expect(by('clean', 'main branch')).toMatchObject({ ok: true });
    expect(by('clean', 'checkout')).toMatchObject({ ok: true });
    expect(by('clean', 'checkout')?.detail).toContain(`main is checked out in ${clean}, clean`);
    expect(by('dirty', 'checkout')).toMatchObject({
      ok: false,
      level: 'warning',
      detail: `main is checked out in ${dirty} with uncommitted changes (README.md); the merge waits until that checkout is clean: commit or stash them (git -C ${dirty} stash)`,
    });
    expect(by('dirty', 'checkout')?.fix).toContain('a dedicated clone or a bare repository');
    expect(by('gone', 'exists')).toMatchObject({ ok: false, level: 'error' });
    expect(by('gone', 'exists')?.fix).toContain('set repos.gone.path');
    expect(by('plain', 'git repository')).toMatchObject({
      ok: false,
      level: 'error',
      detail: `${notGit} is not a git repository`,
    });
    expect(by('trunk', 'main branch')).toMatchObject({
      ok: false,
      level: 'error',
      detail: `branch trunk does not exist in ${trunk}`,
    });
    expect(by('trunk', 'main branch')?.fix).toContain('repos.trunk.main');
    // Only the three errors fail the doctor; the dirty checkout is a warning.
    expect(
      report.checks
        .filter((c) => !c.ok && c.level === 'error')
        .map((c) => c.name)
        .sort(),
    ).toEqual(['gone', 'plain', 'trunk']);
    expect(by(root, 'outside git repositories')).toMatchObject({ ok: true });

    const text = await runCli(['doctor', '--no-probe'], { cwd: root, clock: systemClock, env });
    expect(text.stdout).toContain(
      `warn repo dirty: checkout: main is checked out in ${dirty} with uncommitted`,
    );
    expect(text.stdout).toMatch(
      /FAIL repo trunk: main branch: branch trunk does not exist[^\n]*\n\s+fix: create it/,
    );
  });
});

describe('a workspace inside a git repository', () => {
  it('init and doctor warn, naming the repository, why it matters and what to do', async () => {
    const clone = repo();
    const app = repo();
    const init = await runCli(['init', 'night'], { cwd: clone, clock: systemClock, env });
    expect(init.code).toBe(0);
    const root = path.join(clone, 'night');
    expect(init.stderr).toContain(`warning: the workspace ${root} is inside the git repository ${clone}`);
    expect(init.stderr).toContain(`fix: move the workspace out of ${clone}`);
    expect(init.stderr).toContain(`${clone}/.git/info/exclude`);
    writeFileSync(
      path.join(root, 'nightshift.config.yaml'),
      `repos:\n  app: { path: ${JSON.stringify(app)} }\n${HOSTS}providers:\n  sim: { kind: scripted, hosts: [local] }\n`,
    );
    const { code, by } = await doctor(root);
    const inside = by(root, 'outside git repositories');
    expect(inside).toMatchObject({ ok: false, level: 'warning' });
    expect(inside?.detail).toContain(`is inside the git repository ${clone}: its queue, logs and reports`);
    expect(inside?.fix).toContain(`move the workspace out of ${clone}`);
    expect(code).toBe(0);

    const outside = tmp('ns-out-');
    const quiet = await runCli(['init', 'w2'], { cwd: outside, clock: systemClock, env });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('warning');
  });
});
