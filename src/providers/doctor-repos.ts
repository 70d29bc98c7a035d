/**
 * `nightshift doctor`'s checks of the user's side: each configured repository (exists, is a git
 * repository, has its main branch, whether main is checked out and whether that checkout is dirty, for
 * the merges move it: git/checkout.ts), and whether the workspace itself lies inside a git repository.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { resolveRepoPath } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { checkoutStates, decideMove, dirtyReason, enclosingWorktree } from '../git/checkout.js';
import { runGit } from '../git/run.js';
import type { DoctorCheck } from './doctor-check.js';

async function gitOk(dir: string, args: string[]): Promise<boolean> {
  return runGit(dir, args).then(
    () => true,
    () => false,
  );
}

/**
 * The workspace inside a git repository: nightshift never commits there, but its queue, logs and
 * reports (and any secret a log holds) sit in that repository's `git status`, one `git add -A` away.
 */
export async function workspaceChecks(root: string): Promise<DoctorCheck[]> {
  const top = await enclosingWorktree(root);
  return [
    {
      scope: 'workspace',
      name: root,
      host: '',
      check: 'outside git repositories',
      ok: top === null,
      level: 'warning',
      detail: top === null ? `${root} is in no git repository` : workspaceInRepo(root, top),
      fix: top === null ? null : workspaceInRepoFix(top),
    },
  ];
}

export function workspaceInRepo(root: string, top: string): string {
  return `the workspace ${root} is inside the git repository ${top}: its queue, logs and reports show in that repository's git status, and a \`git add -A\` or \`commit -a\` there takes them in`;
}

export function workspaceInRepoFix(top: string): string {
  return `move the workspace out of ${top} (nightshift init ~/nightshift-work, then move your config and specs), or list its directory in ${top}/.git/info/exclude`;
}

/** For each configured repository: exists, is a git repository, has main, and main's checkout. */
export async function repoChecks(config: Config, root: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const [name, cfg] of Object.entries(config.repos)) {
    const add = (
      check: string,
      ok: boolean,
      detail: string,
      fix: string | null,
      level: DoctorCheck['level'],
    ) => checks.push({ scope: 'repo', name, host: '', check, ok, level, detail, fix });
    const dir = resolveRepoPath(root, cfg.path, os.homedir());
    if (!existsSync(dir)) {
      add(
        'exists',
        false,
        `${dir} does not exist`,
        `clone the repository there (git clone --bare <url> ${dir}), or set repos.${name}.path to where it is`,
        'error',
      );
      continue;
    }
    if (!(await gitOk(dir, ['rev-parse', '--git-dir']))) {
      add(
        'git repository',
        false,
        `${dir} is not a git repository`,
        `repos.${name}.path must be a clone or a bare repository (git clone --bare <url> ${dir})`,
        'error',
      );
      continue;
    }
    add('git repository', true, dir, null, 'error');
    if (!(await gitOk(dir, ['rev-parse', '--verify', '-q', `refs/heads/${cfg.main}^{commit}`]))) {
      add(
        'main branch',
        false,
        `branch ${cfg.main} does not exist in ${dir}`,
        `create it (git -C ${dir} branch ${cfg.main} <commit>), or set repos.${name}.main to the branch nightshift merges into`,
        'error',
      );
      continue;
    }
    add('main branch', true, `${cfg.main} exists`, null, 'error');
    const states = await checkoutStates(dir, cfg.main);
    const decision = decideMove(cfg.main, states);
    const alone = `a dedicated clone or a bare repository keeps your own work apart (docs/configuration.md)`;
    if (decision.kind === 'ref') {
      add('checkout', true, `${cfg.main} is not checked out: merges move the branch alone`, null, 'warning');
    } else if (decision.kind === 'follow') {
      add(
        'checkout',
        true,
        `${cfg.main} is checked out in ${decision.worktree}, clean: merges update its files as they land (docs/merge.md); ${alone}`,
        null,
        'warning',
      );
    } else {
      const dirty = states.find((s) => s.dirty.length);
      add(
        'checkout',
        false,
        dirty && states.length === 1 ? dirtyReason(cfg.main, dirty) : decision.reason,
        `merges into ${name} wait until then; ${alone}`,
        'warning',
      );
    }
  }
  return checks;
}
