import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { enterReview, enterRunning, updateTask } from '../../src/core/task.js';
import { Judgment } from '../../src/daemon/judgment.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { waitFor } from '../../src/testing/wait.js';

const dirs: string[] = [];
const judgments: Judgment[] = [];
afterEach(async () => {
  for (const j of judgments.splice(0)) await j.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { remote?: boolean; testCommand: string }) {
  const repo = makeRepo({ 'README.md': '# app\n', 'test.sh': 'exit 0\n' });
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-mq-'));
  dirs.push(repo, root);
  let remote: string | null = null;
  if (opts.remote) {
    remote = mkdtempSync(path.join(os.tmpdir(), 'ns-remote-'));
    dirs.push(remote);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote]);
    execFileSync('git', ['-C', remote, 'config', 'core.logAllRefUpdates', 'true']);
    git(repo, 'remote', 'add', 'origin', remote);
    git(repo, 'push', '-q', 'origin', 'main');
  }
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main${remote ? ', remote: origin' : ''} }`,
    'providers:',
    '  p: { kind: scripted }',
    'architect: { mode: gates }',
    'gates:',
    `  tests: { enabled: true, command: ${JSON.stringify(opts.testCommand)} }`,
    '  diff: { enabled: true }',
    '  deletions: { enabled: true }',
    '  commits: { enabled: true, max: 15 }',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text);
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'cfg');
  const events = new EventLog(paths.events);
  const store = new QueueStore(paths, systemClock, events);
  store.ensureLayout();
  const toggles = new ToggleStore(paths);
  const judgment = new Judgment({
    paths,
    config,
    clock: systemClock,
    env: {},
    store,
    toggles,
    events,
    hosts: new Map(),
    log: () => undefined,
    redact: (t: string) => t,
    onGrade: () => undefined,
    wake: () => undefined,
  });
  judgments.push(judgment);
  /** A task in review whose branch adds one file, as if an executor had run. */
  const reviewed = (id: string, file = `${id}.txt`) => {
    const spec = parseSpec(
      Buffer.from(
        `---\ntitle: Add ${file}\nid: ${id}\ntests: [test_x]\nstop: stop.\n---\nTask ${id}: add the file ${file} with one line in it; nothing else, and keep everything else as it is today.\n`,
      ),
      { file: `${id}.md`, config },
    );
    store.enqueue(spec);
    const base = git(repo, 'rev-parse', 'main');
    git(repo, 'branch', '-q', `ns/${id}`, base);
    const wt = mkdtempSync(path.join(os.tmpdir(), 'ns-wt-'));
    dirs.push(wt);
    git(repo, 'worktree', 'add', '-q', '-f', wt, `ns/${id}`);
    writeFileSync(path.join(wt, file), `${id}\n`);
    git(wt, 'add', '-A');
    git(wt, 'commit', '-q', '-m', `add ${file}`);
    git(repo, 'worktree', 'remove', '--force', wt);
    store.transition(id, (t) => {
      const r = enterRunning(t, { now: Date.now(), provider: 'p', host: 'local' });
      return { ...r, task: { ...r.task, baseSha: base } };
    });
    store.transition(id, (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
  };
  return { repo, remote, store, judgment, reviewed, paths };
}

describe('the merge queue', () => {
  it('merges 50 racing approvals exactly once each, and every main commit passed the gates in staging', async () => {
    // The tests gate records each tree it passes, so we can check main's history against it.
    const seen = path.join(os.tmpdir(), `ns-seen-${process.pid}-${Date.now()}`);
    dirs.push(seen);
    const env = setup({ testCommand: `git rev-parse HEAD^{tree} >> ${seen}` });
    for (let i = 0; i < 50; i++) env.reviewed(`t${String(i).padStart(2, '0')}`);
    env.judgment.kick();
    await waitFor(
      '50 merged',
      () => env.store.list().filter((t) => t.state === 'done').length === 50,
      170_000,
      200,
    );
    const mainLog = git(env.repo, 'rev-list', '--first-parent', 'main').split('\n');
    expect(mainLog).toHaveLength(51);
    const passed = new Set(execFileSync('cat', [seen]).toString().trim().split('\n'));
    for (const sha of mainLog.slice(0, 50))
      expect(passed.has(git(env.repo, 'rev-parse', `${sha}^{tree}`))).toBe(true);
    const merges = env.store.list().map((t) => t.merge?.sha);
    expect(new Set(merges).size).toBe(50);
    for (let i = 0; i < 50; i++)
      expect(git(env.repo, 'show', `main:t${String(i).padStart(2, '0')}.txt`)).toMatch(/^t\d\d$/);
  }, 200_000);

  it('re-stages when the remote moves between test and push, and never forces', async () => {
    const flag = path.join(os.tmpdir(), `ns-flag-${process.pid}-${Date.now()}`);
    dirs.push(flag);
    // The first time the tests gate runs in staging, someone else pushes to the remote's main.
    const sneak = [
      `if [ ! -e ${flag} ]; then touch ${flag};`,
      'r=$(git remote get-url origin); d=$(mktemp -d); git clone -q "$r" "$d";',
      'echo other > "$d/other.txt"; git -C "$d" add -A;',
      'git -C "$d" -c user.name=o -c user.email=o@o commit -q -m other; git -C "$d" push -q origin main; fi',
    ].join(' ');
    const env = setup({ remote: true, testCommand: sneak });
    env.reviewed('feature');
    env.judgment.kick();
    await waitFor('merged', () => env.store.list().find((t) => t.id === 'feature')?.state === 'done', 60_000);
    const remoteMain = git(env.remote ?? '', 'rev-parse', 'main');
    expect(remoteMain).toBe(git(env.repo, 'rev-parse', 'main'));
    expect(git(env.repo, 'show', 'main:other.txt')).toBe('other');
    expect(git(env.repo, 'show', 'main:feature.txt')).toBe('feature');
    // The remote's reflog shows only fast-forwards: every entry's new value descends from the old.
    const reflog = git(env.remote ?? '', 'reflog', 'show', '--format=%H', 'main').split('\n');
    for (let i = 0; i + 1 < reflog.length; i++) {
      expect(
        execFileSync('git', [
          '-C',
          env.remote ?? '',
          'merge-base',
          '--is-ancestor',
          reflog[i + 1] ?? '',
          reflog[i] ?? '',
        ]).toString(),
      ).toBe('');
    }
  });

  it('sends a conflicting branch back as a round with the new base', async () => {
    const env = setup({ testCommand: 'true' });
    env.reviewed('left', 'same.txt');
    env.reviewed('right', 'same.txt');
    env.judgment.kick();
    await waitFor('one merged, one back', () => {
      const t = env.store.list();
      return t.some((x) => x.state === 'done') && t.some((x) => x.state === 'pending') ? t : null;
    });
    const back = env.store.list().find((t) => t.state === 'pending');
    expect(back?.review?.summary).toMatch(
      /conflicts in same\.txt.*Rebase this branch onto refs\/nightshift\/base\//,
    );
    expect(back?.baseSha).toBe(git(env.repo, 'rev-parse', 'main'));
    expect(back?.round).toBe(1);
  });

  it('approves by gates, and parks a branch that fails them once its rounds are used up', async () => {
    const env = setup({ testCommand: 'test ! -e broken.txt' });
    env.reviewed('broken', 'broken.txt');
    env.store.transition('broken', (t) =>
      updateTask(t, Date.now(), 'no rounds', { spec: { ...t.spec, reviewRounds: 0 } }),
    );
    env.judgment.kick();
    await waitFor('parked', () => env.store.list().find((t) => t.id === 'broken')?.parked);
    const t = env.store.get('broken');
    expect(t).toMatchObject({ state: 'review', parked: 'needs-human' });
    expect(t.gates.find((g) => g.name === 'tests')?.passed).toBe(false);
    expect(git(env.repo, 'ls-tree', '--name-only', 'main')).not.toContain('broken.txt');
  });
});

describe('branch retention', () => {
  it('deletes a merged branch only after the retention period, and never an unmerged one', async () => {
    const env = setup({ testCommand: 'true' });
    env.reviewed('kept');
    env.reviewed('merged-long-ago');
    env.judgment.kick();
    await waitFor('both merged', () => env.store.list().every((t) => t.state === 'done'));
    env.reviewed('unmerged');
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    env.store.transition('merged-long-ago', (t) =>
      updateTask(t, Date.now(), 'backdate', { merge: { sha: t.merge?.sha ?? '', at: old } }),
    );
    expect(await env.judgment.pruneMergedBranches()).toBe(1);
    const branches = git(env.repo, 'branch', '--list', 'ns/*');
    expect(branches).toContain('ns/kept');
    expect(branches).toContain('ns/unmerged');
    expect(branches).not.toContain('ns/merged-long-ago');
    expect(env.store.get('merged-long-ago').branchPrunedAt).toBeTruthy();
  });
});
